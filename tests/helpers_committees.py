"""Candidate pairs for committee-pair tests."""

from __future__ import annotations

import pandas as pd


def committee_pairs_frame(
    spec: dict[str, list[float]], sg: str = "SG17", series: str = "X"
) -> pd.DataFrame:
    """Candidate pairs of study group ``sg``: per counterpart committee, one pair per score,
    the n-th between Recommendation ``<series>.<n>`` and ``<committee> <n>``; Questions
    alternate between Q1 and Q2 of the study group."""
    rows = []
    for cp, scores in spec.items():
        for n, s in enumerate(scores):
            rows.append(
                dict(
                    itu_uid=f"ITU-T:{series}.{n}",
                    other_uid=f"ISO:{cp} {n}",
                    itu_committee=sg,
                    itu_group=f"Q{n % 2 + 1}/{sg.removeprefix('SG')}",
                    other_committee=cp,
                    itu_reference=f"{series}.{n}",
                    other_reference=f"{cp} {n}",
                    score=s,
                    category="new-overlap",
                    declared_relation="",
                    shared_keyphrases="security",
                )
            )
    return pd.DataFrame(rows)
