"""TF-IDF from term counts a later run updates (pipeline.utils.tfidf)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.match import MatchParams, lexical_matrix
from pipeline.utils.state_store import StateStore
from pipeline.utils.tfidf import count_terms, tfidf_matrix

DOCS = [
    "optical fibre cable test method",
    "optical fibre connector interface",
    "quantum key distribution network security",
    "key management for quantum key distribution",
    "smart grid metering data exchange",
    "metering data exchange for smart grid",
    "optical fibre cable test method",  # a repeated text
    "video coding for browsers",
]


def _vectorizer(min_df: int = 1, max_df: float = 1.0) -> TfidfVectorizer:
    return TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        dtype=np.float32,
    )


@pytest.mark.parametrize(("min_df", "max_df"), [(1, 1.0), (2, 0.5), (2, 3)])
def test_tfidf_matrix_equals_scikit_learns(min_df: int, max_df: float) -> None:
    reference = _vectorizer(min_df, max_df)
    expected = reference.fit_transform(DOCS).toarray()
    counts = count_terms(DOCS, _vectorizer().build_analyzer())
    got = tfidf_matrix(counts, min_df=min_df, max_df=max_df).toarray()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
    assert list(np.asarray(counts.terms)[np.bincount(counts.counts.indices) > 0]) == counts.terms


def test_updated_counts_equal_counts_from_scratch() -> None:
    analyzer = _vectorizer().build_analyzer()
    first = count_terms(DOCS, analyzer)
    # One text edited (a new term), one removed (its terms leave), one added, order changed.
    docs = [DOCS[3], "optical fibre cable test method, revised", *DOCS[4:], "audio coding"]
    updated = count_terms(docs, analyzer, previous=first)
    scratch = count_terms(docs, analyzer)
    assert updated.terms == scratch.terms
    assert list(updated.keys) == list(scratch.keys)
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(updated.counts, name), getattr(scratch.counts, name))
    assert "connector" not in updated.terms  # only the removed text had it


def test_lexical_matrix_from_stored_counts_is_the_same(tmp_path: Path) -> None:
    items = pd.DataFrame({"title": DOCS * 4, "text": [f"part {i}" for i in range(32)]})
    params = MatchParams(min_df=2, max_df=0.5)
    store = StateStore(tmp_path)
    lexical_matrix(items, params, state_store=store)
    assert len(list(tmp_path.glob("terms1-*/*.pkl"))) == 1  # the counts a later run reuses
    items.loc[[2, 9], "text"] = ["security of quantum networks", "browser video"]
    stored = lexical_matrix(items, params, state_store=store)
    fresh = lexical_matrix(items, params)
    assert (stored != fresh).nnz == 0 and np.array_equal(stored.indices, fresh.indices)
