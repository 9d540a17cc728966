"""Judged precision of a run's whole Short list (issue 9; not part of the product).

Usage: python list_precision.py RUN_DIR [short-list-2026-12.csv]
Looks up every flagged short-list overlap's best pair (itu_uid, other_uid) in the judgements
file; a pair counts (judge_1 yes + judge_2 yes) / 2, "yes" = strong or partial. Prints the
precision over the judged overlaps, how many are judged, and the figure per sample and per
study group.
"""

import sys
from pathlib import Path

import pandas as pd

run = Path(sys.argv[1])
judged_path = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name(
    "short-list-2026-12.csv"
)
overlaps = pd.read_csv(run / "overlaps.csv", dtype=str, keep_default_na=False)
pairs = pd.read_csv(
    run / "candidate_pairs.csv", dtype=str, keep_default_na=False,
    usecols=["pair_id", "itu_uid", "other_uid"],
)  # fmt: skip
short = overlaps[
    (overlaps["flagged"].str.lower() == "true")
    & overlaps["category"].isin(["new-overlap", "liaison-channel"])
]
short = short.merge(pairs, left_on="best_pair_id", right_on="pair_id", how="left")
judged = pd.read_csv(judged_path, dtype=str, keep_default_na=False)
yes = judged[["judge_1", "judge_2"]].isin(["strong", "partial"]).astype(int)
judged["yes"] = yes.sum(axis=1) / 2
judged = judged.drop_duplicates(["itu_uid", "other_uid"])
m = short.merge(judged[["itu_uid", "other_uid", "sample", "yes"]], on=["itu_uid", "other_uid"],
                how="left")  # fmt: skip
n = m["yes"].notna().sum()
print(f"short list: {len(m)} overlaps, {n} judged, precision {m['yes'].mean():.3f}")
print(m.groupby("sample")["yes"].agg(["size", "mean"]).round(3).to_string())
print(m.groupby("itu_sg")["yes"].agg(["size", "mean"]).round(3).to_string())
