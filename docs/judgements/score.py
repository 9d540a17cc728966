import sys
KEYDIR, JDIR = sys.argv[1], sys.argv[2]
import pandas as pd
key = pd.read_csv(KEYDIR + "/key.csv")
j1 = pd.read_csv(JDIR + "/judge-1.csv"); j2 = pd.read_csv(JDIR + "/judge-2.csv")
d = key.merge(j1[["case", "judgement"]].rename(columns={"judgement": "j1"}), on="case").merge(
    j2[["case", "judgement"]].rename(columns={"judgement": "j2"}), on="case")
assert len(d) == len(key), (len(d), len(key))  # every case judged by both
pos = lambda s: s.isin(["strong", "partial"])
d["p1"], d["p2"] = pos(d.j1), pos(d.j2)
print("agreement (overlap yes/no):", round((d.p1 == d.p2).mean(), 3), " exact 3-way:", round((d.j1 == d.j2).mean(), 3))
from sklearn.metrics import cohen_kappa_score
print("kappa yes/no", round(cohen_kappa_score(d.p1, d.p2), 3))
for s, g in d.groupby("stratum"):
    print(s, len(g), "judge1", round(g.p1.mean(), 3), "judge2", round(g.p2.mean(), 3), "both", round((g.p1 & g.p2).mean(), 3), "either", round((g.p1 | g.p2).mean(), 3), "mean", round((g.p1.mean()+g.p2.mean())/2, 3))
d["yes"] = (d.p1.astype(int) + d.p2.astype(int)) / 2
sl = d[d.stratum == "short-list"].copy()
sl["band"] = pd.cut(sl.score, [0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 1.0])
print(sl.groupby("band", observed=True).yes.agg(["count", "mean"]))
uf = d[d.stratum == "unflagged"].copy()
uf["band"] = pd.qcut(uf.score, 4)
print(uf.groupby("band", observed=True).yes.agg(["count", "mean"]))
print(sl.groupby("category").yes.agg(["count", "mean"]))
for t in [0.25, 0.3, 0.35, 0.4, 0.45, 0.5]:
    g = sl[sl.score >= t]; print("short-list score >=", t, len(g), round(g.yes.mean(), 3))
d.to_csv(KEYDIR + "/scored.csv", index=False)
