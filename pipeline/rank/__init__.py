"""Rank: every candidate pair and every committee pair gets a score from explainable signals and
a Resolution 7 category.

- :mod:`~pipeline.rank.evidence`: declared and explicit evidence per pair (joins, no loop);
- :mod:`~pipeline.rank.signals`: semantic, lexical, title, activity, early stage, recency;
- :mod:`~pipeline.rank.score`: similarity mix, priority, category, score;
- :mod:`~pipeline.rank.explain`: shared keyphrases and the one-line reason;
- :mod:`~pipeline.rank.pairs`: :func:`rank_candidate_pairs`, the composition of the above;
- :mod:`~pipeline.rank.families`: number families, indirect common texts;
- :mod:`~pipeline.rank.overlaps`: :func:`group_overlaps`, one row per overlap and the flag;
- :mod:`~pipeline.rank.committee_features`: the documented features of a committee pair;
- :mod:`~pipeline.rank.committee_model`: the versioned linear model (package data) that
  combines them;
- :mod:`~pipeline.rank.committees`: :func:`rank_committee_pairs`, the Committee pairs sheet.

Everything is deterministic: stable sorts with ties broken on uids; nothing here is random.
"""

from pipeline.rank.committees import committee_profiles, rank_committee_pairs
from pipeline.rank.overlaps import OverlapParams, group_overlaps, title_only_uids
from pipeline.rank.pairs import rank_candidate_pairs
from pipeline.rank.params import CommitteeParams, RankParams

__all__ = [
    "CommitteeParams",
    "OverlapParams",
    "RankParams",
    "committee_profiles",
    "group_overlaps",
    "rank_candidate_pairs",
    "rank_committee_pairs",
    "title_only_uids",
]
