"""TF-IDF from per-document term counts that a later run updates instead of recounting.

Counting (tokenising, stop words, n-grams) is most of a TF-IDF fit: 8 of 12 s on the
45,000-item corpus. :class:`TermCounts` keeps each document's counts over a sorted vocabulary,
keyed by a hash of the document, so a run after a few documents changed analyses only those and
reuses the other rows. :func:`tfidf_matrix` then prunes by document frequency and weights with
scikit-learn's ``TfidfTransformer``, as ``TfidfVectorizer`` would.

The matrix is canonical: vocabulary in sorted order, indices sorted within each row. Counts
updated from an earlier run's and counts made from scratch are the same arrays, so the TF-IDF
matrix (and every cosine computed from it) does not depend on which run came before.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from pipeline.utils.sqlite_cache import text_hash

__all__ = ["TermCounts", "count_terms", "document_keys", "tfidf_matrix"]


@dataclass(frozen=True)
class TermCounts:
    """Term counts of ``n`` documents.

    ``keys``: (n,) object, sha256 of each document; ``terms``: the sorted vocabulary (every term
    of some document, none other); ``counts``: (n, len(terms)) float32 CSR, sorted indices.
    """

    keys: np.ndarray
    terms: list[str]
    counts: sp.csr_matrix


def count_terms(
    docs: Sequence[str],
    analyzer: Callable[[str], list[str]],
    previous: TermCounts | None = None,
    keys: Sequence[str] | None = None,
) -> TermCounts:
    """Counts of ``analyzer(doc)`` per document; documents found in ``previous`` (same text,
    hence same hash) are not analysed again. The result does not depend on ``previous``.
    ``keys``: :func:`document_keys` of ``docs`` when the caller has them already."""
    keys = np.asarray(document_keys(docs) if keys is None else list(keys), dtype=object)
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    if previous is None:
        return _count_from_scratch(docs, analyzer, keys, first)
    known = {str(k): i for i, k in enumerate(previous.keys)}
    fresh_keys = [k for k in first if k not in known]
    fresh = [Counter(analyzer(docs[first[k]])) for k in fresh_keys]
    old_terms = previous.terms
    added = sorted(set().union(*fresh) - set(old_terms)) if fresh else []
    # The sorted union without sorting the old vocabulary again: old term j moves right by the
    # number of added terms that sort before it.
    insert_at = np.array([bisect.bisect_left(old_terms, t) for t in added], dtype=np.int64)
    old_to_new = np.arange(len(old_terms), dtype=np.int64) + np.searchsorted(
        insert_at, np.arange(len(old_terms)), side="right"
    )
    terms = list(heapq.merge(old_terms, added))
    old = previous.counts.copy()
    old.indices = old_to_new[old.indices]
    old.resize((old.shape[0], len(terms)))
    index = {t: i for i, t in enumerate(terms)} if fresh else {}
    stacked = sp.vstack([old, _rows(fresh, index, len(terms))], format="csr")
    # Row of each document in ``stacked``: its old row, or its place after the old rows.
    fresh_at = {k: old.shape[0] + i for i, k in enumerate(fresh_keys)}
    order = np.array([known[k] if k in known else fresh_at[k] for k in keys], dtype=np.int64)
    return _drop_unused(keys, terms, sp.csr_matrix(stacked[order], dtype=np.float32))


def _count_from_scratch(
    docs: Sequence[str],
    analyzer: Callable[[str], list[str]],
    keys: np.ndarray,
    first: dict[str, int],
) -> TermCounts:
    """scikit-learn's counting (faster than counters when every document is new), made
    canonical: its vocabulary is sorted, the indices within its rows are not."""
    unique = list(first)
    counter = CountVectorizer(analyzer=analyzer, dtype=np.float32)
    try:
        matrix = sp.csr_matrix(counter.fit_transform([docs[first[k]] for k in unique]))
        # vocabulary_ maps term -> column (sorted order); inverting it is 10x faster than
        # get_feature_names_out, which sorts the 900,000 terms once more.
        terms = [""] * len(counter.vocabulary_)
        for term, column in counter.vocabulary_.items():
            terms[column] = term
    except ValueError:  # empty vocabulary
        matrix, terms = sp.csr_matrix((len(unique), 0), dtype=np.float32), []
    row_of = {k: i for i, k in enumerate(unique)}
    matrix = sp.csr_matrix(matrix[[row_of[k] for k in keys]], dtype=np.float32)
    return _drop_unused(keys, terms, matrix)


def document_keys(docs: Sequence[str]) -> list[str]:
    """sha256 of each document: what :class:`TermCounts` rows are found by."""
    return [text_hash(d) for d in docs]


def _rows(counters: list[Counter[str]], index: dict[str, int], width: int) -> sp.csr_matrix:
    """One CSR row per counter, columns sorted."""
    indptr = [0]
    cols: list[int] = []
    vals: list[int] = []
    for counter in counters:
        for col, n in sorted((index[t], n) for t, n in counter.items()):
            cols.append(col)
            vals.append(n)
        indptr.append(len(cols))
    return sp.csr_matrix(
        (np.array(vals, dtype=np.float32), np.array(cols, dtype=np.int32), np.array(indptr)),
        shape=(len(counters), width),
    )


def _drop_unused(keys: np.ndarray, terms: list[str], counts: sp.csr_matrix) -> TermCounts:
    """Without the terms no document has any more (they were only in changed documents)."""
    used = np.bincount(counts.indices, minlength=len(terms)) > 0
    if not used.all():
        counts = counts[:, np.flatnonzero(used)]
        terms = [t for t, u in zip(terms, used.tolist(), strict=True) if u]
    counts.sort_indices()
    return TermCounts(keys, terms, counts)


def tfidf_matrix(
    counts: TermCounts, min_df: float, max_df: float, sublinear_tf: bool = True
) -> sp.csr_matrix:
    """(n, kept terms) float32 TF-IDF, rows L2-normalised, sorted indices: the terms in at
    least ``min_df`` and at most ``max_df`` documents (an int is a count, a float a share, as
    in scikit-learn), weighted with smoothed idf by ``TfidfTransformer``. Raises ValueError
    when no term is left."""
    matrix = counts.counts
    n = matrix.shape[0]
    high = max_df if isinstance(max_df, Integral) else max_df * n
    low = min_df if isinstance(min_df, Integral) else min_df * n
    if high < low:
        raise ValueError("max_df corresponds to < documents than min_df")
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    keep = np.flatnonzero((df <= high) & (df >= low))
    if len(keep) == 0:
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    pruned = sp.csr_matrix(matrix[:, keep], dtype=np.float32)
    weights = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=sublinear_tf)
    out = sp.csr_matrix(weights.fit_transform(pruned), dtype=np.float32)
    out.sort_indices()
    return out
