"""Blind judgement sample for issue 9 (not part of the product).

Usage: python make_sample.py RUN_DIR OUT_DIR KEY_DIR
Writes OUT_DIR/sample.md (what judges see: two texts per case, shuffled, no score, rank,
category or flag) and OUT_DIR/key.csv (case -> pair, stratum, score, flagged).
Strata: every Short-list overlap's best pair (or a random 150 of them), 60 unflagged
new-overlap/liaison-channel candidate pairs spread over score bands (to place the floor),
25 random cross-body non-candidate pairs (controls, expected unrelated).
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

run, out, keydir = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
keydir.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(20261203)
pairs = pd.read_csv(run / "candidate_pairs.csv", dtype=str, keep_default_na=False)
pairs["score"] = pairs["score"].astype(float)
pairs["flagged"] = pairs["flagged"].str.lower() == "true"
ovl = pd.read_csv(run / "overlaps.csv", dtype=str, keep_default_na=False)
ovl["flagged"] = ovl["flagged"].str.lower() == "true"
items = pd.read_parquet(run / "items.parquet", columns=["uid", "body", "reference", "title", "text"])
items = items.set_index("uid")
short_cats = ["new-overlap", "liaison-channel"]
short = ovl[ovl["flagged"] & ovl["category"].isin(short_cats)]
best = pairs.set_index("pair_id").loc[short["best_pair_id"]].reset_index()
seen = set()
if len(sys.argv) > 4:  # earlier key files: judge only pairs not judged before
    for f in sys.argv[4:]:
        k = pd.read_csv(f, dtype=str, keep_default_na=False)
        seen |= set(zip(k["itu_uid"], k["other_uid"]))
best = best[[(a, b) not in seen for a, b in zip(best["itu_uid"], best["other_uid"])]]
pairs = pairs[[(a, b) not in seen for a, b in zip(pairs["itu_uid"], pairs["other_uid"])]]
if len(best) > 150:
    best = best.sample(150, random_state=1)
best["stratum"] = "short-list"
unfl = pairs[~pairs["flagged"] & pairs["category"].isin(short_cats)]
bands = pd.qcut(unfl["score"].rank(method="first"), 6, labels=False)
below = unfl.groupby(bands, group_keys=False).apply(lambda g: g.sample(min(10, len(g)), random_state=2))
below = below.assign(stratum="unflagged")
itu = items.index[items["body"] == "ITU-T"].to_numpy()
oth = items.index[items["body"] != "ITU-T"].to_numpy()
known = set(zip(pairs["itu_uid"], pairs["other_uid"]))
ctrl = []
while len(ctrl) < 25:
    a, b = rng.choice(itu), rng.choice(oth)
    if (a, b) not in known:
        ctrl.append({"pair_id": "", "itu_uid": a, "other_uid": b, "score": np.nan, "flagged": False,
                     "stratum": "control", "category": ""})
cases = pd.concat([best, below, pd.DataFrame(ctrl)], ignore_index=True)
cases = cases.sample(frac=1.0, random_state=3).reset_index(drop=True)
cases["case"] = [f"C{i + 1:03d}" for i in range(len(cases))]
cases[["case", "pair_id", "itu_uid", "other_uid", "stratum", "category", "score", "flagged"]].to_csv(
    keydir / "key.csv", index=False)


def side(uid: str) -> str:
    r = items.loc[uid]
    text = " ".join(str(r["text"] or "").split())
    if len(text) > 700:
        text = text[:700] + " ..."
    return f"{r['reference']}: {r['title']}\n  {text}"


lines = []
for c in cases.itertuples():
    lines.append(f"## {c.case}\nA) {side(c.itu_uid)}\nB) {side(c.other_uid)}\n")
(out / "sample.md").write_text("\n".join(lines), encoding="utf-8")
print(len(cases), cases["stratum"].value_counts().to_dict())
