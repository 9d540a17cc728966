"""Match: cross-body candidate pairs between ITU-T and ISO/IEC items.

The stage (:func:`match_candidates`) is the union of three generators, each giving a frame of
``itu_index``, ``other_index`` (row positions in the items):

- :func:`cross_body_neighbours`: exact cosine top-k over dense, L2-normalised embeddings;
- :func:`lexical_neighbours`: exact cosine top-k over a sparse TF-IDF matrix, so that one shared
  rare term (``"PON"``, ``"ASN.1"``) can bring in a pair the embedding misses;
- :func:`evidence_candidates`: pairs joined by a declared equivalent or a cited standard,
  whatever their text (skipped when declared evidence is hidden).

Both are computed with blocked matrix products, each block read by rows (ITU-T -> others) and
by columns (others -> ITU-T): memory is ``O(block_size ** 2)`` floats per step plus ``O(n * k)``
for the running top-k, never ``n x n``. Both are exact (no approximate index), so results are
reproducible and testable against brute force. Given a state store
(:mod:`pipeline.utils.state_store`), both start from an earlier run's neighbour lists and term
counts and redo only what the changed items touch, with the same result
(:mod:`pipeline.utils.knn`, :mod:`pipeline.utils.tfidf`).

Every pair has exactly one ITU-T side and one ISO, IEC or ISO/IEC side (Resolution 7 is about
ITU-T with ISO and IEC); pairs within one body are never produced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.contracts import ITU_BODY, OTHER_BODIES
from pipeline.evidence import own_keys, parse_declared
from pipeline.utils.frames import list_col, str_col
from pipeline.utils.knn import (
    RunningTopK,
    both_ways_top_k,
    stored_cross_neighbours,
)
from pipeline.utils.sqlite_cache import text_hash
from pipeline.utils.state_store import StateStore
from pipeline.utils.tfidf import TermCounts, count_terms, document_keys, tfidf_matrix

__all__ = [
    "Candidates",
    "MatchParams",
    "candidate_pairs",
    "cross_body_neighbours",
    "evidence_candidates",
    "hubness",
    "lexical_matrix",
    "lexical_neighbours",
    "match_candidates",
    "pair_cosine",
]

# Tokens must start with a letter: bare numbers ("27001", "2022") are explicit references or
# years, which the ``explicit`` signal handles (and ``hide_declared`` must be able to hide).
_TOKEN_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b"


@dataclass(frozen=True)
class MatchParams:
    """Candidate generation (``[match]`` in default_config.toml).

    - ``top_k`` (10): semantic neighbours kept per item, in each direction (ITU-T -> others and
      others -> ITU-T).
    - ``block_size`` (2048): rows (and columns) per matrix-product block; peak memory per block
      is ``block_size**2 * 4`` bytes (16 MiB at 2048).
    - ``lexical_top_k`` (5): TF-IDF neighbours kept per item, in each direction; 0 disables.
    - ``min_semantic`` (0.45): a semantic-only candidate below this cosine is dropped (lexical,
      explicit and declared candidates are kept on their own evidence).
    - ``min_lexical`` (0.2): a lexical-only candidate below this TF-IDF cosine is dropped.
    - ``max_df`` (0.3) / ``min_df`` (2): TF-IDF vocabulary: terms in more than 30 % of items are
      not distinctive; a term in a single item can never be shared.
    - ``ngram_max`` (2): word n-grams up to bigrams ("key distribution").
    """

    top_k: int = 10
    block_size: int = 2048
    lexical_top_k: int = 5
    min_semantic: float = 0.45
    min_lexical: float = 0.2
    max_df: float = 0.3
    min_df: int = 2
    ngram_max: int = 2


def _split_bodies(bodies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of ITU-T items and of ISO/IEC/ISO-IEC items (other bodies are ignored)."""
    arr = np.asarray(list(bodies), dtype=object)
    itu = np.flatnonzero(arr == ITU_BODY)
    other = np.flatnonzero(np.isin(arr, list(OTHER_BODIES)))
    return itu, other


def _dense_block(a: np.ndarray | sp.spmatrix, b: np.ndarray | sp.spmatrix) -> np.ndarray:
    """``a @ b.T`` as a dense float32 array for dense or sparse inputs."""
    prod = a @ b.T
    if sp.issparse(prod):
        prod = prod.toarray()
    return np.asarray(prod, dtype=np.float32)


def _cross_body(
    matrix: np.ndarray | sp.spmatrix,
    bodies: Sequence[str],
    k: int,
    block_size: int,
    column: str,
) -> pd.DataFrame:
    """Top-k in both directions between ITU-T rows and the other bodies' rows of ``matrix``
    (sparse), as :func:`neighbour_frame` builds it."""
    itu, other = _split_bodies(bodies)
    if k <= 0 or len(itu) == 0 or len(other) == 0:
        return _empty_pairs(column)
    a, b = matrix[itu], matrix[other]
    # Zero products (no shared term) never enter: lexical pairs need a shared term.
    found = (
        RunningTopK(
            len(itu), min(k, len(other)), exact_ties=True, min_score=np.finfo(np.float32).tiny
        ),
        RunningTopK(
            len(other), min(k, len(itu)), exact_ties=True, min_score=np.finfo(np.float32).tiny
        ),
    )
    both_ways_top_k(a, b, found, _dense_block, block_size)
    return neighbour_frame(
        itu, other, (found[0].idx, found[0].sc), (found[1].idx, found[1].sc), column
    )


def _empty_pairs(column: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "itu_index": np.array([], dtype=np.int64),
            "other_index": np.array([], dtype=np.int64),
            column: np.array([], dtype=np.float32),
        }
    )


def neighbour_frame(
    itu: np.ndarray,
    other: np.ndarray,
    from_itu: tuple[np.ndarray, np.ndarray],
    from_other: tuple[np.ndarray, np.ndarray],
    column: str,
) -> pd.DataFrame:
    """Pairs from per-row neighbour lists in both directions: ``from_itu`` = (indices into
    ``other``, scores), (len(itu), k); ``from_other`` = (indices into ``itu``, scores). The
    union without duplicates, sorted by ``(itu_index, other_index)``; -1 entries are skipped."""
    (idx_a, sc_a), (idx_b, sc_b) = from_itu, from_other
    ok_a, ok_b = idx_a.ravel() >= 0, idx_b.ravel() >= 0
    out = pd.concat(
        [
            pd.DataFrame(
                {
                    "itu_index": np.repeat(itu, idx_a.shape[1])[ok_a],
                    "other_index": other[idx_a.ravel()[ok_a]],
                    column: sc_a.ravel()[ok_a],
                }
            ),
            pd.DataFrame(
                {
                    "itu_index": itu[idx_b.ravel()[ok_b]],
                    "other_index": np.repeat(other, idx_b.shape[1])[ok_b],
                    column: sc_b.ravel()[ok_b],
                }
            ),
        ],
        ignore_index=True,
    )
    out = out.drop_duplicates(["itu_index", "other_index"], keep="first")
    out = out.sort_values(["itu_index", "other_index"], kind="mergesort").reset_index(drop=True)
    out[column] = out[column].astype(np.float32)
    return out


def cross_body_neighbours(
    vectors: np.ndarray,
    bodies: Sequence[str],
    k: int,
    block_size: int = 2048,
    *,
    uids: Sequence[str] | None = None,
    state_store: StateStore | None = None,
) -> pd.DataFrame:
    """Exact cosine top-k between ITU-T items and ISO/IEC/ISO-IEC items, in both directions.

    ``vectors``: (n, d) float32, rows L2-normalised. ``bodies``: (n,) body of each row. For
    every ITU-T item its ``k`` most similar non-ITU items and for every non-ITU item its ``k``
    most similar ITU-T items; the union, without duplicates. Cosines are canonical
    (:mod:`pipeline.utils.knn`): the same whatever the block size. ``state_store`` (with
    ``uids``, one per row): earlier runs' lists, reused for the items that did not change.

    Returns a DataFrame with ``itu_index``, ``other_index`` (row positions in ``vectors``) and
    ``semantic`` (cosine, float32), sorted by ``(itu_index, other_index)``.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(bodies):
        raise ValueError(f"{vectors.shape[0]} vectors but {len(bodies)} bodies")
    itu, other = _split_bodies(bodies)
    if k <= 0 or len(itu) == 0 or len(other) == 0:
        return _empty_pairs("semantic")
    keys = np.asarray(list(uids) if uids is not None else range(len(bodies)), dtype=object)
    store = state_store if uids is not None else None
    from_itu, from_other = stored_cross_neighbours(
        store,
        f"match-k{k}",
        (keys[itu], keys[other]),
        (vectors[itu], vectors[other]),
        k,
        block_size,
    )
    return neighbour_frame(itu, other, from_itu.top(k), from_other.top(k), "semantic")


def _lexical_documents(items: pd.DataFrame) -> list[str]:
    """Lemmatised text plus keyphrases (repeated once so a phrase weighs like its words);
    falls back to title + text when enrich has not run."""
    if "lemma_text" in items.columns:
        base = items["lemma_text"].fillna("").astype(str)
    else:
        base = items["title"].fillna("").astype(str) + " " + items["text"].fillna("").astype(str)
    if "keyphrases" in items.columns:
        kp = items["keyphrases"].apply(
            lambda v: " ".join(v) if isinstance(v, Iterable) and not isinstance(v, str) else ""
        )
        return (base + " " + kp).tolist()
    return base.tolist()


def lexical_matrix(
    items: pd.DataFrame,
    params: MatchParams | None = None,
    *,
    state_store: StateStore | None = None,
) -> sp.csr_matrix:
    """Sparse TF-IDF matrix (n_items, n_terms), rows L2-normalised, float32, sorted indices.

    Built over ``lemma_text`` + ``keyphrases`` (``title`` + ``text`` when those are missing);
    sublinear tf, English stop words, tokens starting with a letter (numbers are explicit
    evidence, not vocabulary), terms in at least ``min_df`` and at most ``max_df`` of the items.
    ``state_store``: an earlier run's term counts, so only new or changed documents are
    tokenised again (same matrix as without it).
    """
    params = params or MatchParams()
    docs = _lexical_documents(items)
    n = len(docs)
    if n == 0:
        return sp.csr_matrix((0, 0), dtype=np.float32)
    analyzer = TfidfVectorizer(
        lowercase=True,
        stop_words="english",
        token_pattern=_TOKEN_PATTERN,
        ngram_range=(1, params.ngram_max),
    ).build_analyzer()
    # Whatever decides the terms of a document names the stored counts.
    name = "terms1-" + text_hash(f"{_TOKEN_PATTERN}|{params.ngram_max}|{sklearn.__version__}")[:12]
    keys = document_keys(docs)
    previous = state_store.load(name, keys, TermCounts) if state_store is not None else None
    counts = count_terms(docs, analyzer, previous, keys)
    if state_store is not None:
        state_store.save(name, counts)
    try:
        return tfidf_matrix(
            counts, min_df=min(params.min_df, n), max_df=params.max_df if n > 20 else 1.0
        )
    except ValueError:  # empty vocabulary (tiny or empty corpus)
        return sp.csr_matrix((n, 0), dtype=np.float32)


def lexical_neighbours(
    matrix: sp.spmatrix, bodies: Sequence[str], k: int, block_size: int = 2048
) -> pd.DataFrame:
    """Exact TF-IDF cosine top-k between ITU-T and ISO/IEC/ISO-IEC items, both directions.

    ``matrix``: (n, n_terms) sparse, rows L2-normalised (:func:`lexical_matrix`). Same contract
    as :func:`cross_body_neighbours` with the similarity column named ``lexical``. Pairs whose
    TF-IDF cosine is 0 (no shared term) are dropped.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    if matrix.shape[0] != len(bodies):
        raise ValueError(f"{matrix.shape[0]} rows but {len(bodies)} bodies")
    out = _cross_body(matrix, bodies, k, block_size, "lexical")
    return out[out["lexical"] > 0].reset_index(drop=True)


def pair_cosine(
    matrix: np.ndarray | sp.spmatrix, left: np.ndarray, right: np.ndarray, chunk: int = 65536
) -> np.ndarray:
    """Row-wise inner products ``matrix[left[i]] . matrix[right[i]]`` (cosines for normalised
    rows), shape (len(left),), computed in chunks to bound memory."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    out = np.zeros(len(left), dtype=np.float32)
    sparse = sp.issparse(matrix)
    if sparse:
        matrix = sp.csr_matrix(matrix)
    for s in range(0, len(left), chunk):
        a = matrix[left[s : s + chunk]]
        b = matrix[right[s : s + chunk]]
        if sparse:
            out[s : s + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
        else:
            out[s : s + chunk] = np.einsum("ij,ij->i", a, b)
    return out


def evidence_candidates(items: pd.DataFrame) -> pd.DataFrame:
    """Pairs joined by a declared equivalent or a cited standard key, whatever their text.

    Returns ``itu_index``, ``other_index`` (int64, unsorted, may repeat).
    """
    bodies = str_col(items, "body")
    own = own_keys(items)
    declared = parse_declared(items)
    refs = list_col(items, "ref_standards")
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(own):
        for key in keys:
            by_key[key].append(i)
    rows: list[tuple[int, int]] = []
    for i, body in enumerate(bodies):
        for key in set(refs[i]) | declared[i].equivalent:
            for j in by_key.get(key, ()):
                if body == ITU_BODY and bodies[j] in OTHER_BODIES:
                    rows.append((i, j))
                elif body in OTHER_BODIES and bodies[j] == ITU_BODY:
                    rows.append((j, i))
    return pd.DataFrame(rows, columns=["itu_index", "other_index"], dtype=np.int64)


def hubness(neighbours: pd.DataFrame, n: int, k: int) -> np.ndarray:
    """(n,) float32: each item's mean cosine to its ``k`` nearest items of the other side.

    ``neighbours`` is :func:`cross_body_neighbours`' frame for the same ``k``: it holds every
    item's exact top-k in the other side (plus pairs found from the other direction, which
    rank below them), so the k largest cosines per item are its top-k. A *hub* (a text close
    to everything across the divide: boilerplate such as PICS proformas, broad vocabularies)
    has a high value; items with no neighbour get 0.
    """
    out = np.zeros(n, dtype=np.float32)
    if neighbours.empty or k <= 0:
        return out
    sims = neighbours["semantic"].to_numpy(np.float32)
    for column in ("itu_index", "other_index"):
        frame = pd.DataFrame({"item": neighbours[column].to_numpy(), "sim": sims})
        frame = frame.sort_values(["item", "sim"], ascending=[True, False], kind="mergesort")
        top = frame.groupby("item", sort=False).head(k).groupby("item")["sim"].mean()
        out[top.index.to_numpy()] = top.to_numpy(np.float32)
    return out


def candidate_pairs(
    items: pd.DataFrame,
    vectors: np.ndarray,
    params: MatchParams | None = None,
    *,
    lexical: sp.spmatrix | None = None,
    include_declared: bool = True,
    semantic: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Union of semantic, lexical and (unless hidden) declared/explicit candidates.

    ``vectors``: (n, d) L2-normalised rows in item order; ``lexical``: a precomputed TF-IDF
    matrix (:func:`lexical_matrix`), built here when ``None``; ``semantic``: precomputed
    :func:`cross_body_neighbours` for ``params.top_k``. Returns ``itu_index``,
    ``other_index`` (int64), sorted, without duplicates; every pair has one ITU-T side and one
    ISO/IEC/ISO-IEC side.
    """
    mp = params or MatchParams()
    bodies = str_col(items, "body").tolist()
    columns = ["itu_index", "other_index"]
    if semantic is None:
        semantic = cross_body_neighbours(vectors, bodies, mp.top_k, mp.block_size)
    frames = [semantic[columns]]
    if mp.lexical_top_k > 0:
        lex = lexical if lexical is not None else lexical_matrix(items, mp)
        if lex.shape[1] > 0:
            frames.append(lexical_neighbours(lex, bodies, mp.lexical_top_k, mp.block_size)[columns])
    if include_declared:
        frames.append(evidence_candidates(items))
    out = pd.concat(frames, ignore_index=True).astype(np.int64)
    out = out.drop_duplicates().sort_values(columns, kind="mergesort")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class Candidates:
    """What match hands to rank: the candidate pairs and the TF-IDF matrix they were found with.

    ``pairs``: ``itu_index``, ``other_index`` (row positions in the items), sorted;
    ``lexical``: (n_items, n_terms) sparse TF-IDF, rows L2-normalised (rank reuses it);
    ``hubness``: (n_items,) float32 from :func:`hubness` (``None``: not measured).
    """

    pairs: pd.DataFrame
    lexical: sp.csr_matrix
    hubness: np.ndarray | None = None


def match_candidates(
    items: pd.DataFrame,
    vectors: np.ndarray,
    params: MatchParams | None = None,
    *,
    include_declared: bool = True,
    state_store: StateStore | None = None,
) -> Candidates:
    """The match stage: the TF-IDF matrix of ``items`` and their cross-body candidate pairs.

    ``state_store``: earlier runs' semantic neighbour lists (by ``uid``), reused for the
    items whose vector did not change; the pairs are the same as without it."""
    mp = params or MatchParams()
    items = items.reset_index(drop=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(items):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(items)} items")
    lex = lexical_matrix(items, mp, state_store=state_store)
    bodies = str_col(items, "body").tolist()
    semantic = cross_body_neighbours(
        vectors,
        bodies,
        mp.top_k,
        mp.block_size,
        uids=str_col(items, "uid").tolist(),
        state_store=state_store,
    )
    pairs = candidate_pairs(
        items, vectors, mp, lexical=lex, include_declared=include_declared, semantic=semantic
    )
    hubs = hubness(semantic, len(items), mp.top_k)
    return Candidates(pairs=pairs, lexical=lex, hubness=hubs)
