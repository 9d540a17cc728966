"""The explainable signals of a candidate pair, each (m,) float32 in 0..1 for m pairs
``(ii[r], oo[r])`` of row positions in the items."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.match import pair_cosine
from pipeline.stages import EARLY_STAGE_GROUPS
from pipeline.utils.frames import str_col

__all__ = [
    "activity_signals",
    "lexical_similarity",
    "local_semantic",
    "recency",
    "semantic_similarity",
    "title_similarity",
]


def semantic_similarity(vectors: np.ndarray, ii: np.ndarray, oo: np.ndarray) -> np.ndarray:
    """Embedding cosine of each pair, clipped at 0. ``vectors``: (n, d) L2-normalised."""
    return np.clip(pair_cosine(vectors, ii, oo), 0.0, 1.0)


def local_semantic(
    semantic: np.ndarray,
    hubs: np.ndarray | None,
    ii: np.ndarray,
    oo: np.ndarray,
    weight: float,
) -> np.ndarray:
    """``semantic - weight * ((hubs[ii] + hubs[oo]) / 2 - mean hub)`` clipped to 0..1, (m,).

    ``hubs``: (n,) per-item hubness (:func:`pipeline.match.hubness`); the mean is taken over
    items that have one (> 0), so the corrected values stay on the cosine's scale. ``None`` or
    ``weight == 0`` returns ``semantic`` unchanged.
    """
    if hubs is None or weight == 0 or len(semantic) == 0:
        return semantic
    measured = hubs[hubs > 0]
    centre = float(measured.mean()) if len(measured) else 0.0
    local = semantic - weight * ((hubs[ii] + hubs[oo]) / 2 - centre)
    return np.clip(local, 0.0, 1.0).astype(np.float32)


def lexical_similarity(lexical: sp.spmatrix, ii: np.ndarray, oo: np.ndarray) -> np.ndarray:
    """TF-IDF cosine over lemmas + keyphrases (``lexical``: (n, n_terms), rows normalised)."""
    if lexical.shape[1] == 0:
        return np.zeros(len(ii), dtype=np.float32)
    return np.clip(pair_cosine(lexical, ii, oo), 0.0, 1.0)


def title_similarity(items: pd.DataFrame, ii: np.ndarray, oo: np.ndarray) -> np.ndarray:
    """TF-IDF cosine (words and bigrams, tokens starting with a letter) of the two titles."""
    titles = str_col(items, "title").tolist()
    try:
        m = TfidfVectorizer(
            token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b",
            ngram_range=(1, 2),
            sublinear_tf=True,
            dtype=np.float32,
        ).fit_transform(titles)
    except ValueError:  # no word in any title
        return np.zeros(len(ii), dtype=np.float32)
    return np.clip(pair_cosine(m, ii, oo), 0.0, 1.0)


def activity_signals(
    items: pd.DataFrame, ii: np.ndarray, oo: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(active_itu, active_other, activity, early)`` per pair.

    ``activity``: 1.0 both sides in development, 0.5 one side, 0 none; ``early``: 1.0 when an
    active side is at proposal, preparatory, committee or under-study stage (resolve 2: act
    early). The first two are bool arrays.
    """
    if "active" in items:
        active = items["active"].fillna(False).astype(bool).to_numpy()
    else:
        active = np.zeros(len(items), dtype=bool)
    stage_group = str_col(items, "stage_group")
    a_i, a_o = active[ii], active[oo]
    activity = (a_i.astype(np.float32) + a_o.astype(np.float32)) / 2.0
    early_set = list(EARLY_STAGE_GROUPS)
    early = (
        (np.isin(stage_group[ii], early_set) & a_i) | (np.isin(stage_group[oo], early_set) & a_o)
    ).astype(np.float32)
    return a_i, a_o, activity, early


def _year_fraction(date: str) -> float:
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", date or "")
    if not m:
        return math.nan
    y, mo, d = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        day = dt.date(y, mo, d).timetuple().tm_yday
    except ValueError:
        day = 1
    return y + (day - 1) / 365.25


def recency(
    items: pd.DataFrame,
    ii: np.ndarray,
    oo: np.ndarray,
    half_life_years: float,
    reference_date: str = "",
) -> np.ndarray:
    """Mean of both sides' ``0.5 ** (age / half_life_years)``; an undated side counts 0.

    Ages are counted back from ``reference_date`` (``""``: the newest ``updated`` date in the
    items, so a re-run on the same data gives the same value).
    """
    years = np.array([_year_fraction(d) for d in str_col(items, "updated")], dtype=np.float64)
    ref = _year_fraction(reference_date) if reference_date else np.nanmax(np.append(years, -np.inf))
    if not np.isfinite(ref):
        return np.zeros(len(ii), dtype=np.float32)
    age = np.clip(ref - years, 0, None)
    item_rec = np.where(np.isnan(years), 0.0, 0.5 ** (age / max(half_life_years, 1e-6)))
    return ((item_rec[ii] + item_rec[oo]) / 2).astype(np.float32)
