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
    relation: np.ndarray, explicit: np.ndarray, active_itu: np.ndarray, active_other: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(category, out_of_step)`` per pair.

    ``common-text``: a declared equivalent; ``coordinated``: a declared liaison/relationship
    or an explicit reference; ``new-overlap`` otherwise. ``out_of_step``: a common text with
    one side being revised and the other not (resolve 8: realign).
    """
    category = np.where(
        relation == "equivalent",
        "common-text",
        np.where((relation != "") | (explicit > 0), "coordinated", "new-overlap"),
    )
    out_of_step = (category == "common-text") & (active_itu != active_other)
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
    factor = np.where(
        category == "common-text",
        p.common_text_factor,
        np.where(category == "coordinated", p.coordinated_factor, 1.0),
    )
    return similarity * prio * factor + p.out_of_step_bonus * out_of_step
