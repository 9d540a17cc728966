"""Exact cosine nearest neighbours over unit vectors: blocked, shape-independent, incremental.

A pair's score is its *canonical* cosine: the float64 inner product of its two float32 rows,
rounded to float32. A BLAS product's last bit depends on where a row sits in the block (on this
project's machines, rows of a 2048 x 2048 product and of a 500 x 2048 slice of it differ by up
to 4e-7), so neighbour lists built by different products would disagree on near-ties; canonical
scores do not. Candidates are found with float32 block products (``k + MARGIN`` per row),
rescored canonically and ordered by ``(-score, index)``.

:func:`neighbour_lists` and :func:`self_neighbour_lists` compute lists from scratch;
:func:`update_neighbour_lists` reuses an earlier run's lists for the rows whose vector has not
changed and recomputes only what the changed rows touch, with the same result as from scratch.
The lists carry a ``bound`` per row (no corpus row outside the list scores above it), which is
what makes the update exact.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.utils.state_store import StateStore

log = logging.getLogger(__name__)

__all__ = [
    "MARGIN",
    "NeighbourLists",
    "NeighbourState",
    "RunningTopK",
    "both_ways_top_k",
    "canonical_cosines",
    "cross_neighbour_lists",
    "neighbour_lists",
    "row_digests",
    "select_top_k",
    "self_neighbour_lists",
    "stored_cross_neighbours",
    "stored_self_neighbours",
    "update_neighbour_lists",
]

#: Extra float32 candidates kept per row before canonical rescoring. It covers rows whose true
#: neighbours are reordered by float32 rounding: more than ``MARGIN`` corpus rows within 1e-6 of
#: the cut. The corpus' largest group of identical vectors has 6 rows.
MARGIN = 8

# Float32 block products are within this of the canonical score (384-d unit vectors: < 1e-6).
_TOLERANCE = np.float32(1e-5)
# Pairs rescored per step: two (chunk, d) float64 gathers, 25 MiB at d = 384.
_PAIR_CHUNK = 4096
# Sort key of a missing entry (index -1): after every real column.
_MISSING = np.iinfo(np.int64).max


def _missing_last(indices: np.ndarray) -> np.ndarray:
    """``indices`` as a sort key in which -1 (no entry) comes after every real index."""
    return np.where(indices >= 0, indices, _MISSING)


@dataclass(frozen=True)
class NeighbourLists:
    """Each query row's nearest corpus rows, best first.

    ``indices``: (n_queries, width) int64 corpus row positions, -1 after the end of a row's
    list; ``scores``: (n_queries, width) float32 canonical cosines (-inf where the index is -1);
    ``bound``: (n_queries,) float32, no corpus row missing from a row's list scores above it
    (-inf: the list holds the whole corpus). Rows are ordered by ``(-score, index)``.
    """

    indices: np.ndarray
    scores: np.ndarray
    bound: np.ndarray

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``k`` columns ``(indices, scores)``, as :func:`neighbour_lists` with ``k``."""
        return self.indices[:, :k], self.scores[:, :k]


def canonical_cosines(
    queries: np.ndarray, corpus: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """(len(rows),) float32: ``queries[rows[i]] . corpus[cols[i]]`` summed in float64, rounded
    once, so the value does not depend on which product computed it."""
    out = np.empty(len(rows), dtype=np.float32)
    for s in range(0, len(rows), _PAIR_CHUNK):
        a = queries[rows[s : s + _PAIR_CHUNK]].astype(np.float64)
        b = corpus[cols[s : s + _PAIR_CHUNK]].astype(np.float64)
        out[s : s + _PAIR_CHUNK] = np.einsum("ij,ij->i", a, b)
    return out


def row_digests(vectors: np.ndarray) -> np.ndarray:
    """(n,) uint64: a digest of each row's bytes (which rows changed between two runs)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    out = np.empty(vectors.shape[0], dtype=np.uint64)
    for i, row in enumerate(vectors):
        out[i] = int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
    return out


def select_top_k(cand_i: np.ndarray, cand_s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` candidates with the highest score, ties broken by lower index,
    sorted. Exact: rows with ties at the k-th score take the (slow) full lexsort path."""
    width = cand_s.shape[1]
    kk = min(k, width)
    if width > kk:
        # k-th largest score per row; candidates strictly above it plus ties at it.
        kth = -np.partition(-cand_s, kk - 1, axis=1)[:, kk - 1]
        mask = cand_s >= kth[:, None]
        counts = mask.sum(axis=1)
        fast = counts == kk
        sel_i = np.empty((cand_s.shape[0], kk), dtype=cand_i.dtype)
        sel_s = np.empty((cand_s.shape[0], kk), dtype=cand_s.dtype)
        if fast.any():
            rows = np.flatnonzero(fast)
            sub_mask = mask[rows]
            sel_i[rows] = cand_i[rows][sub_mask].reshape(len(rows), kk)
            sel_s[rows] = cand_s[rows][sub_mask].reshape(len(rows), kk)
        if not fast.all():
            rows = np.flatnonzero(~fast)
            order = np.lexsort((cand_i[rows], -cand_s[rows]), axis=1)[:, :kk]
            sel_i[rows] = np.take_along_axis(cand_i[rows], order, axis=1)
            sel_s[rows] = np.take_along_axis(cand_s[rows], order, axis=1)
        cand_i, cand_s = sel_i, sel_s
    # Sort the k survivors by (-score, index): deterministic and independent of block order.
    order = np.lexsort((cand_i, -cand_s), axis=1)
    return np.take_along_axis(cand_i, order, axis=1), np.take_along_axis(cand_s, order, axis=1)


class RunningTopK:
    """The best ``width`` corpus columns so far for each of ``n`` query rows, fed block by block.

    A block is screened against each row's current ``width``-th best score first, so after the
    first blocks only the few products at or above it are merged: selecting from every product
    of every block costs as much as the products themselves. ``exact_ties``: ties at the cut
    go to the lower column index (:func:`select_top_k`); without it any of them may be kept
    (callers rescore with a margin). ``min_score``: products below it never enter; slots never
    filled keep index -1 and score -inf.
    """

    def __init__(
        self, n: int, width: int, *, exact_ties: bool = False, min_score: float = -np.inf
    ) -> None:
        self.width = width
        self.exact_ties = exact_ties
        self.min_score = np.float32(min_score)
        self.idx = np.full((n, width), -1, dtype=np.int64)
        self.sc = np.full((n, width), -np.inf, dtype=np.float32)

    def add(self, rows: slice, cols: np.ndarray, sims: np.ndarray, by_column: bool = False) -> None:
        """Merge products for corpus columns ``cols`` into query rows ``rows``: ``sims`` is
        (len(rows), len(cols)), or (len(cols), len(rows)) when ``by_column`` (a product read
        the other way, never copied)."""
        floor = np.maximum(self.sc[rows].min(axis=1), self.min_score)
        above = sims >= (floor[None, :] if by_column else floor[:, None])
        if np.count_nonzero(above) > above.size // 8:  # rows not filled yet: take the block's best
            block = sims.T if by_column else sims
            keep = block >= self.min_score
            col_idx = np.where(keep, np.broadcast_to(cols, block.shape), -1)
            self._merge(rows, col_idx, np.where(keep, block, -np.inf).astype(np.float32))
            return
        # flatnonzero + divmod: 10x faster than 2-d nonzero on a mostly-False block.
        hit_a, hit_b = np.divmod(np.flatnonzero(above), above.shape[1])
        if len(hit_a) == 0:
            return
        r, c = (hit_b, hit_a) if by_column else (hit_a, hit_b)
        score = sims[hit_a, hit_b]
        touched, count = np.unique(r, return_counts=True)
        order = np.argsort(r, kind="stable")
        r, c, score = r[order], c[order], score[order]
        slot = np.arange(len(r)) - np.repeat(np.cumsum(count) - count, count)
        add_i = np.full((len(touched), int(count.max())), -1, dtype=np.int64)
        add_s = np.full(add_i.shape, -np.inf, dtype=np.float32)
        local = np.searchsorted(touched, r)
        add_i[local, slot], add_s[local, slot] = cols[c], score
        self._merge(touched + (rows.start or 0), add_i, add_s)

    def _merge(self, rows: slice | np.ndarray, add_i: np.ndarray, add_s: np.ndarray) -> None:
        cand_i = np.concatenate([self.idx[rows], add_i], axis=1)
        cand_s = np.concatenate([self.sc[rows], add_s], axis=1)
        if self.exact_ties:
            # -1 (empty) sorts after every real column among equal (-inf) scores.
            top_key, top_s = select_top_k(_missing_last(cand_i), cand_s, self.width)
            self.idx[rows] = np.where(top_key == _MISSING, -1, top_key)
            self.sc[rows] = top_s
            return
        keep = np.argpartition(-cand_s, self.width - 1, axis=1)[:, : self.width]
        self.idx[rows] = np.take_along_axis(cand_i, keep, axis=1)
        self.sc[rows] = np.take_along_axis(cand_s, keep, axis=1)


def both_ways_top_k(
    a: Any,
    b: Any,
    found: tuple[RunningTopK, RunningTopK],
    product: Callable[[Any, Any], np.ndarray],
    block_size: int = 2048,
) -> None:
    """Feed ``found[0]`` (a's rows against b) and ``found[1]`` (b's rows against a) from one
    ``product(a_block, b_block) -> dense (rows, cols)`` per pair of blocks, read by rows and by
    columns: half the products of two one-way passes. ``a``/``b``: anything sliceable by rows."""
    n_a, n_b = a.shape[0], b.shape[0]
    block_size = max(1, block_size)
    for i0 in range(0, n_a, block_size):
        rows_a = slice(i0, i0 + block_size)
        a_blk = a[rows_a]
        cols_a = np.arange(i0, i0 + a_blk.shape[0])
        for j0 in range(0, n_b, block_size):
            rows_b = slice(j0, j0 + block_size)
            sims = product(a_blk, b[rows_b])
            found[0].add(rows_a, np.arange(j0, j0 + sims.shape[1]), sims)
            found[1].add(rows_b, cols_a, sims, by_column=True)


def _finish(
    queries: np.ndarray, corpus: np.ndarray, cand: np.ndarray, width: int
) -> NeighbourLists:
    """Canonical scores of the candidates, each row sorted by (-score, index), cut to
    ``width``; the bound is the first score cut off (-inf when the whole corpus is listed)."""
    n, w = cand.shape
    rows = np.repeat(np.arange(n), w)
    flat = cand.ravel()
    scores = np.full(n * w, -np.inf, dtype=np.float32)
    valid = flat >= 0
    scores[valid] = canonical_cosines(queries, corpus, rows[valid], flat[valid])
    scores = scores.reshape(n, w)
    # -1 (missing) sorts last: its score is -inf and its key index is past every real one.
    order = np.lexsort((_missing_last(cand), -scores), axis=1)
    cand = np.take_along_axis(cand, order, axis=1)
    scores = np.take_along_axis(scores, order, axis=1)
    # More candidates than the width exist only when the corpus has more rows than the width.
    bound = scores[:, width].copy() if w > width else np.full(n, -np.inf, dtype=np.float32)
    width = min(width, w)
    return NeighbourLists(cand[:, :width].copy(), scores[:, :width].copy(), bound)


def neighbour_lists(
    queries: np.ndarray, corpus: np.ndarray, width: int, block_size: int = 2048
) -> NeighbourLists:
    """Each query row's ``width`` nearest corpus rows (all of them when the corpus is smaller).

    Shapes: ``queries`` (q, d), ``corpus`` (c, d), float32 unit rows. Memory: one
    ``block_size x block_size`` product plus (q, width + MARGIN) candidates.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    corpus = np.ascontiguousarray(corpus, dtype=np.float32)
    n_q, n_c = queries.shape[0], corpus.shape[0]
    found = RunningTopK(n_q, min(width + MARGIN, n_c) or 1)
    block_size = max(1, block_size)
    for c0 in range(0, n_c, block_size):
        cols = np.arange(c0, min(c0 + block_size, n_c))
        block = corpus[c0 : c0 + block_size]
        for r0 in range(0, n_q, block_size):
            rows = slice(r0, r0 + block_size)
            found.add(rows, cols, queries[rows] @ block.T)
    return _finish(queries, corpus, found.idx, width)


def self_neighbour_lists(vectors: np.ndarray, width: int, block_size: int = 2048) -> NeighbourLists:
    """:func:`neighbour_lists` of ``vectors`` against themselves (a row is its own nearest),
    computing each pair of blocks once: half the products of the general case."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = vectors.shape[0]
    found = RunningTopK(n, min(width + MARGIN, n) or 1)
    block_size = max(1, block_size)
    starts = range(0, n, block_size)
    for i0 in starts:
        rows_i = slice(i0, i0 + block_size)
        cols_i = np.arange(i0, min(i0 + block_size, n))
        for j0 in starts:
            if j0 < i0:
                continue
            rows_j = slice(j0, j0 + block_size)
            cols_j = np.arange(j0, min(j0 + block_size, n))
            sims = vectors[rows_i] @ vectors[rows_j].T
            found.add(rows_i, cols_j, sims)
            if j0 != i0:
                found.add(rows_j, cols_i, sims, by_column=True)
    return _finish(vectors, vectors, found.idx, width)


def cross_neighbour_lists(
    a: np.ndarray, b: np.ndarray, width: int, block_size: int = 2048
) -> tuple[NeighbourLists, NeighbourLists]:
    """:func:`neighbour_lists` of ``a`` against ``b`` and of ``b`` against ``a``, computing each
    block product once (:func:`both_ways_top_k`)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    n_a, n_b = a.shape[0], b.shape[0]
    found = (
        RunningTopK(n_a, min(width + MARGIN, n_b) or 1),
        RunningTopK(n_b, min(width + MARGIN, n_a) or 1),
    )
    both_ways_top_k(a, b, found, lambda x, y: x @ y.T, block_size)
    return _finish(a, b, found[0].idx, width), _finish(b, a, found[1].idx, width)


# ------------------------------------------------------------------------------ incremental


@dataclass(frozen=True)
class NeighbourState:
    """Lists with the identity of their rows: a key (uid) and a digest of the vector per query
    and corpus row, so a later run can tell which rows changed."""

    query_keys: np.ndarray
    query_digests: np.ndarray
    corpus_keys: np.ndarray
    corpus_digests: np.ndarray
    lists: NeighbourLists

    @property
    def keys(self) -> np.ndarray:
        """The query keys (what :class:`StateStore` matches a later run's rows by)."""
        return self.query_keys


def _positions(keys: np.ndarray, digests: np.ndarray) -> dict[tuple[str, int], int]:
    out = {(str(k), int(d)): i for i, (k, d) in enumerate(zip(keys, digests, strict=True))}
    if len(out) != len(keys):
        raise ValueError("neighbour keys must be unique")
    return out


def update_neighbour_lists(
    previous: NeighbourState | None,
    query_keys: np.ndarray,
    queries: np.ndarray,
    corpus_keys: np.ndarray,
    corpus: np.ndarray,
    width: int,
    min_width: int,
    *,
    same_rows: bool = False,
    block_size: int = 2048,
    digests: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[NeighbourState, dict[str, int]]:
    """The lists :func:`neighbour_lists` would give, reusing ``previous`` where it can.

    A query row whose key and vector are unchanged keeps its earlier list, less the corpus rows
    that changed or left, plus the changed corpus rows that score above its bound; a row left
    with fewer than ``min_width`` certain entries, and every new or changed row, is recomputed
    against the whole corpus. ``*_keys``: unique ids (uids) per row; ``same_rows``: queries and
    corpus are the same rows (a from-scratch run then computes each block pair once);
    ``digests``: :func:`row_digests` of queries and corpus when the caller has them. Returns
    the new state and counts (``reused``, ``recomputed``, ``changed_corpus``), which are logged.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    corpus = np.ascontiguousarray(corpus, dtype=np.float32)
    if digests is None:
        q_dig = row_digests(queries)
        digests = (q_dig, q_dig if same_rows else row_digests(corpus))
    q_dig, c_dig = digests
    n_q, n_c = queries.shape[0], corpus.shape[0]
    new_c = _positions(corpus_keys, c_dig)
    if previous is None or n_c <= width:
        lists = (
            self_neighbour_lists(corpus, width, block_size)
            if same_rows
            else neighbour_lists(queries, corpus, width, block_size)
        )
        state = NeighbourState(query_keys, q_dig, corpus_keys, c_dig, lists)
        return state, {"reused": 0, "recomputed": n_q, "changed_corpus": n_c}
    old_c = _positions(previous.corpus_keys, previous.corpus_digests)
    old_q = _positions(previous.query_keys, previous.query_digests)
    # Old corpus position -> new position; the extra last slot maps -1 (no entry) to -1.
    remap = np.full(len(old_c) + 1, -1, dtype=np.int64)
    for key, i in old_c.items():
        remap[i] = new_c.get(key, -1)
    changed = np.array(sorted(i for key, i in new_c.items() if key not in old_c), dtype=np.int64)
    prev_row = np.array(
        [old_q.get((str(k), int(d)), -1) for k, d in zip(query_keys, q_dig, strict=True)],
        dtype=np.int64,
    )
    idx = np.full((n_q, width), -1, dtype=np.int64)
    sc = np.full((n_q, width), -np.inf, dtype=np.float32)
    bound = np.full(n_q, np.inf, dtype=np.float32)
    ok = np.zeros(n_q, dtype=bool)
    reuse = np.flatnonzero(prev_row >= 0)
    if len(reuse):
        kept = _reuse_rows(
            previous.lists,
            prev_row[reuse],
            remap,
            queries,
            reuse,
            corpus,
            changed,
            width,
            block_size,
        )
        idx[reuse], sc[reuse], bound[reuse] = kept
        ok[reuse] = (idx[reuse] >= 0).sum(axis=1) >= min_width
    redo = np.flatnonzero(~ok)
    if len(redo):
        fresh = neighbour_lists(queries[redo], corpus, width, block_size)
        w = fresh.indices.shape[1]
        idx[redo] = -1
        sc[redo] = -np.inf
        idx[redo, :w], sc[redo, :w], bound[redo] = fresh.indices, fresh.scores, fresh.bound
    state = NeighbourState(query_keys, q_dig, corpus_keys, c_dig, NeighbourLists(idx, sc, bound))
    return state, {"reused": int(ok.sum()), "recomputed": len(redo), "changed_corpus": len(changed)}


def _changed_above_bound(
    queries: np.ndarray,
    reuse: np.ndarray,
    corpus: np.ndarray,
    changed: np.ndarray,
    bound: np.ndarray,
    block_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row in ``reuse``, corpus column, canonical score) for every changed column scoring
    strictly above the row's bound: screened by float32 product, then rescored."""
    rows: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    cols: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    if len(changed):
        block = corpus[changed]
        for r0 in range(0, len(reuse), block_size):
            sims = queries[reuse[r0 : r0 + block_size]] @ block.T
            r, c = np.nonzero(sims >= (bound[r0 : r0 + block_size, None] - _TOLERANCE))
            rows.append(r + r0)
            cols.append(changed[c])
    row, col = np.concatenate(rows), np.concatenate(cols)
    score = canonical_cosines(queries, corpus, reuse[row], col)
    above = score > bound[row]
    return row[above], col[above], score[above]


def _reuse_rows(
    old: NeighbourLists,
    old_rows: np.ndarray,
    remap: np.ndarray,
    queries: np.ndarray,
    reuse: np.ndarray,
    corpus: np.ndarray,
    changed: np.ndarray,
    width: int,
    block_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New lists for the query rows ``reuse`` (rows ``old_rows`` of ``old``): the old entries
    still in the corpus, plus changed columns above the bound, sorted by (-score, index); only
    entries above the bound are certain, the rest become -1. Returns (indices, scores, bound)."""
    n = len(old_rows)
    bound = old.bound[old_rows].astype(np.float32)
    o_idx = old.indices[old_rows]
    mapped = remap[np.where(o_idx >= 0, o_idx, len(remap) - 1)]
    o_sc = np.where(mapped >= 0, old.scores[old_rows], -np.inf).astype(np.float32)
    row, col, score = _changed_above_bound(queries, reuse, corpus, changed, bound, block_size)
    extra = np.bincount(row, minlength=n)
    add_i = np.full((n, int(extra.max()) if n else 0), -1, dtype=np.int64)
    add_s = np.full(add_i.shape, -np.inf, dtype=np.float32)
    order = np.argsort(row, kind="stable")
    row, col, score = row[order], col[order], score[order]
    slot = np.arange(len(row)) - np.repeat(np.cumsum(extra) - extra, extra)
    add_i[row, slot], add_s[row, slot] = col, score
    cand_i = np.concatenate([mapped, add_i], axis=1)
    cand_s = np.concatenate([o_sc, add_s], axis=1)
    order = np.lexsort((_missing_last(cand_i), -cand_s), axis=1)
    cand_i = np.take_along_axis(cand_i, order, axis=1)
    cand_s = np.take_along_axis(cand_s, order, axis=1)
    if cand_i.shape[1] > width:
        # What is cut off scores at most the first entry cut: that is the new bound.
        bound = np.maximum(bound, cand_s[:, width])
        cand_i, cand_s = cand_i[:, :width], cand_s[:, :width]
    certain = (cand_s > bound[:, None]) & (cand_i >= 0)
    cand_i = np.where(certain, cand_i, -1)
    cand_s = np.where(certain, cand_s, -np.inf).astype(np.float32)
    pad = width - cand_i.shape[1]
    if pad > 0:
        cand_i = np.pad(cand_i, ((0, 0), (0, pad)), constant_values=-1)
        cand_s = np.pad(cand_s, ((0, 0), (0, pad)), constant_values=-np.inf)
    return cand_i, cand_s, bound


#: Entries kept per row beyond the ``k`` asked for, so a row losing a few neighbours to changed
#: items is still complete at the next run without being recomputed.
SLACK = 10

# Part of every stored name: a change to what a stored list means (scores, margin, bound) bumps
# it, so a later version never updates lists of an earlier one.
_STATE_FORMAT = "lists1"


def stored_self_neighbours(
    store: StateStore | None,
    name: str,
    keys: np.ndarray,
    vectors: np.ndarray,
    k: int,
    block_size: int = 2048,
) -> NeighbourLists:
    """Each row's ``k`` nearest rows of ``vectors`` (itself included), updated from the lists
    ``store`` holds under ``name`` for the rows that did not change, then stored again."""
    if store is None:
        return self_neighbour_lists(vectors, k, block_size)
    name = f"{_STATE_FORMAT}-{name}"
    rows = (keys, vectors, row_digests(vectors))
    return _update_stored(store, name, store.load(name, keys, NeighbourState), rows, rows, k,
                          same_rows=True, block_size=block_size)  # fmt: skip


def stored_cross_neighbours(
    store: StateStore | None,
    name: str,
    keys: tuple[np.ndarray, np.ndarray],
    vectors: tuple[np.ndarray, np.ndarray],
    k: int,
    block_size: int = 2048,
) -> tuple[NeighbourLists, NeighbourLists]:
    """:func:`cross_neighbour_lists` (``a`` against ``b`` and back), each direction updated
    from ``store`` like :func:`stored_self_neighbours`. ``keys`` and ``vectors`` are
    ``(a's, b's)``."""
    if store is None:
        return cross_neighbour_lists(vectors[0], vectors[1], k, block_size)
    a = (keys[0], vectors[0], row_digests(vectors[0]))
    b = (keys[1], vectors[1], row_digests(vectors[1]))
    # Per direction: stored name, query rows, corpus rows (keys, vectors, digests).
    sides = [(f"{_STATE_FORMAT}-{name}-ab", a, b), (f"{_STATE_FORMAT}-{name}-ba", b, a)]
    previous = [store.load(n, q[0], NeighbourState) for n, q, _ in sides]
    if all(prev is None for prev in previous):
        lists = cross_neighbour_lists(a[1], b[1], k + SLACK, block_size)
        for (n, q, c), lst in zip(sides, lists, strict=True):
            store.save(n, NeighbourState(q[0], q[2], c[0], c[2], lst))
        return lists
    ab, ba = (
        _update_stored(store, n, prev, q, c, k, same_rows=False, block_size=block_size)
        for (n, q, c), prev in zip(sides, previous, strict=True)
    )
    return ab, ba


_Rows = tuple[np.ndarray, np.ndarray, np.ndarray]


def _update_stored(
    store: StateStore,
    name: str,
    previous: NeighbourState | None,
    query: _Rows,
    corpus: _Rows,
    k: int,
    *,
    same_rows: bool,
    block_size: int,
) -> NeighbourLists:
    """:func:`update_neighbour_lists` with ``k + SLACK`` entries per row, stored again under
    ``name``; ``query``/``corpus`` are (keys, vectors, digests). Keys that are not unique
    cannot match rows to a stored state: the lists are then computed from scratch."""
    try:
        state, stats = update_neighbour_lists(
            previous,
            query[0],
            query[1],
            corpus[0],
            corpus[1],
            k + SLACK,
            k,
            same_rows=same_rows,
            block_size=block_size,
            digests=(query[2], corpus[2]),
        )
    except ValueError as exc:
        log.warning("%s: neighbours computed from scratch (%s)", name, exc)
        if same_rows:
            return self_neighbour_lists(corpus[1], k, block_size)
        return neighbour_lists(query[1], corpus[1], k, block_size)
    store.save(name, state)
    log.info("%s neighbours: %s", name, stats)
    return state.lists
