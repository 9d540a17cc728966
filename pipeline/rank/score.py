"""From signals to a category and a score (Resolution 7)."""

from __future__ import annotations

import numpy as np

from pipeline.rank.params import RankParams

__all__ = ["categorise", "priority", "score_pairs", "text_similarity"]


def text_similarity(
    semantic: np.ndarray,
    lexical: np.ndarray,
    title: np.ndarray,
    explicit: np.ndarray,
    params: RankParams,
) -> np.ndarray:
    """``w_semantic * semantic_n + w_lexical * lexical_n + w_title * title + w_explicit *
    explicit`` clipped to 0..1 (see :class:`RankParams`); all inputs (m,), output (m,)."""
    p = params
    sem_n = np.clip(
        (semantic - p.semantic_floor) / max(p.semantic_ceiling - p.semantic_floor, 1e-6), 0, 1
    )
    lex_n = np.clip(lexical / max(p.lexical_ceiling, 1e-6), 0, 1)
    mix = p.w_semantic * sem_n + p.w_lexical * lex_n + p.w_title * title + p.w_explicit * explicit
    return np.clip(mix, 0.0, 1.0)


def priority(
    activity: np.ndarray, recency: np.ndarray, early: np.ndarray, params: RankParams
) -> np.ndarray:
    """Multiplier in (0, 1]: active, early and recent work first."""
    p = params
    num = 1 + p.w_activity * activity + p.w_recency * recency + p.early_stage_bonus * early
    return num / (1 + p.w_activity + p.w_recency + p.early_stage_bonus)


def categorise(
    relation: np.ndarray,
    explicit: np.ndarray,
    active_itu: np.ndarray,
    active_other: np.ndarray,
    *,
    channel_only: np.ndarray | None = None,
    self_declared: np.ndarray | None = None,
    family_common: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(category, out_of_step)`` per pair, all arrays (m,).

    - ``common-text``: a declared equivalent (``relation == "equivalent"``), or a text that
      declares itself a common text (``self_declared``), or another part/edition of a number
      family with a declared common text between the same two committees (``family_common``);
    - ``coordinated``: a relation declared on either item (or its Question/committee), or an
      explicit reference (``explicit > 0``);
    - ``liaison-channel``: the only relation is a committee-level liaison (``channel_only``);
    - ``new-overlap``: nothing known.

    ``out_of_step``: a declared or self-declared common text with one side being revised and
    the other not (resolve 8: realign); not for family members, which are other texts.
    """
    m = len(relation)
    none = np.zeros(m, dtype=bool)
    channel = none if channel_only is None else np.asarray(channel_only, dtype=bool)
    selfd = none if self_declared is None else np.asarray(self_declared, dtype=bool)
    family = none if family_common is None else np.asarray(family_common, dtype=bool)
    twin = (relation == "equivalent") | selfd
    known = (relation != "") & ~channel
    category = np.select(
        [twin | family, known | (explicit > 0), channel],
        ["common-text", "coordinated", "liaison-channel"],
        default="new-overlap",
    ).astype(object)
    out_of_step = twin & (active_itu != active_other)
    return category, out_of_step


def score_pairs(
    similarity: np.ndarray,
    prio: np.ndarray,
    category: np.ndarray,
    out_of_step: np.ndarray,
    params: RankParams,
) -> np.ndarray:
    """``similarity x priority x category factor (+ out-of-step bonus)``, shape (m,)."""
    p = params
    factor = np.select(
        [category == "common-text", category == "coordinated", category == "liaison-channel"],
        [p.common_text_factor, p.coordinated_factor, p.liaison_channel_factor],
        default=1.0,
    )
    return similarity * prio * factor + p.out_of_step_bonus * out_of_step
