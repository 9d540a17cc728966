"""Exact nearest neighbours (pipeline.utils.knn): from scratch, read both ways, and updated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.areas import AreaParams, find_areas
from pipeline.match import cross_body_neighbours
from pipeline.utils.knn import (
    cross_neighbour_lists,
    neighbour_lists,
    self_neighbour_lists,
    update_neighbour_lists,
)
from pipeline.utils.state_store import StateStore
from pipeline.utils.vectors import l2_normalise


def _unit(n: int, d: int, seed: int) -> np.ndarray:
    return l2_normalise(np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32))


def _brute(queries: np.ndarray, corpus: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """float64 products, rounded once, ordered by (-score, index)."""
    sims = (queries.astype(np.float64) @ corpus.astype(np.float64).T).astype(np.float32)
    idx = np.array([np.lexsort((np.arange(len(corpus)), -row))[:width] for row in sims])
    return idx, np.take_along_axis(sims, idx, axis=1)


def _keys(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}{i}" for i in range(n)], dtype=object)


@pytest.fixture
def vectors() -> np.ndarray:
    v = _unit(700, 16, 0)
    v[[40, 90, 300]] = v[10]  # identical texts: ties broken by the lower index
    return v


@pytest.mark.parametrize("block_size", [64, 250, 4096])
def test_lists_equal_brute_force_whatever_the_blocks(vectors: np.ndarray, block_size: int) -> None:
    idx, sc = _brute(vectors[:300], vectors, 12)
    lists = neighbour_lists(vectors[:300], vectors, 12, block_size)
    assert np.array_equal(lists.indices, idx)
    assert np.array_equal(lists.scores, sc)
    self_lists = self_neighbour_lists(vectors, 12, block_size)
    assert np.array_equal(self_lists.indices[:300], idx)
    assert np.array_equal(self_lists.scores[:300], sc)


def test_lists_read_both_ways_equal_two_one_way_lists(vectors: np.ndarray) -> None:
    a, b = vectors[:200], vectors[200:]
    ab, ba = cross_neighbour_lists(a, b, 7, block_size=96)
    assert np.array_equal(ab.indices, _brute(a, b, 7)[0])
    assert np.array_equal(ba.indices, _brute(b, a, 7)[0])


def test_update_gives_the_from_scratch_lists_after_edits_removals_additions(
    vectors: np.ndarray,
) -> None:
    rng = np.random.default_rng(3)
    keys = _keys("u", len(vectors))
    state, stats = update_neighbour_lists(None, keys, vectors, keys, vectors, 16, 6, same_rows=True)
    assert stats["recomputed"] == len(vectors)
    for run in range(3):
        edited = vectors.copy()
        changed = rng.choice(len(vectors), 7, replace=False)
        edited[changed] = l2_normalise(
            edited[changed] + rng.normal(size=(7, 16)).astype(np.float32)
        )
        kept = np.ones(len(vectors), dtype=bool)
        kept[rng.choice(len(vectors), 5, replace=False)] = False
        new_vectors = np.concatenate([edited[kept], _unit(4, 16, 10 + run)])
        new_keys = np.concatenate([keys[kept], _keys(f"new{run}-", 4)])
        order = rng.permutation(len(new_keys))  # row order may change between snapshots
        vectors, keys = new_vectors[order], new_keys[order]
        state, stats = update_neighbour_lists(
            state, keys, vectors, keys, vectors, 16, 6, same_rows=True, block_size=128
        )
        idx, sc = _brute(vectors, vectors, 6)
        got_idx, got_sc = state.lists.top(6)
        assert np.array_equal(got_idx, idx) and np.array_equal(got_sc, sc)
        # Only what changed is recomputed: the edited and new rows, and rarely a row that lost
        # more neighbours than its slack.
        assert stats["recomputed"] < 40
        assert stats["reused"] == len(vectors) - stats["recomputed"]


def test_store_keeps_the_most_recent_and_picks_the_closest(tmp_path: Path) -> None:
    store = StateStore(tmp_path, keep=2)
    states = []
    for seed in range(3):
        v = _unit(50, 8, seed)
        keys = _keys(f"s{seed}-", 50)
        state, _ = update_neighbour_lists(None, keys, v, keys, v, 5, 3, same_rows=True)
        store.save("x", state)
        states.append(state)
    assert len(list((tmp_path / "x").glob("*.pkl"))) == 2
    loaded = store.load("x", _keys("s1-", 50))
    assert loaded is not None and np.array_equal(loaded.lists.indices, states[1].lists.indices)
    assert store.load("x", _keys("s0-", 50)) is None  # pruned
    (tmp_path / "x" / "broken.pkl").write_bytes(b"not a pickle")
    assert store.load("x", _keys("s2-", 50)) is not None  # a broken entry is skipped


def _items(n: int, seed: int) -> pd.DataFrame:
    bodies = np.random.default_rng(seed).choice(["ITU-T", "ISO", "IEC"], size=n)
    return pd.DataFrame(
        {
            "uid": [f"u{i}" for i in range(n)],
            "body": bodies,
            "committee": ["SG1" if b == "ITU-T" else "TC 1" for b in bodies],
            "title": [f"title {i}" for i in range(n)],
            "active": True,
        }
    )


def test_stages_give_the_same_result_with_a_store_after_a_change(tmp_path: Path) -> None:
    """Areas and semantic candidates from stored lists equal those computed from scratch."""
    items = _items(400, 1)
    # Clustered vectors so that areas exist: 40 topics, 10 items each, across bodies.
    centres = _unit(40, 24, 2)
    noise = np.random.default_rng(4).normal(scale=0.25, size=(400, 24)).astype(np.float32)
    vectors = l2_normalise(centres[np.arange(400) % 40] + noise)
    store = StateStore(tmp_path)
    params = AreaParams(min_similarity=0.3)
    find_areas(vectors, items, params, state_store=store)
    bodies = items["body"].tolist()
    cross_body_neighbours(vectors, bodies, 5, uids=items["uid"].tolist(), state_store=store)
    vectors[[3, 77, 150]] = l2_normalise(vectors[[3, 77, 150]] + 0.5)
    labels, areas = find_areas(vectors, items, params, state_store=store)
    fresh_labels, fresh_areas = find_areas(vectors, items, params)
    assert len(fresh_areas) > 0
    assert np.array_equal(labels, fresh_labels)
    pd.testing.assert_frame_equal(areas, fresh_areas)
    stored = cross_body_neighbours(
        vectors, bodies, 5, uids=items["uid"].tolist(), state_store=store
    )
    pd.testing.assert_frame_equal(stored, cross_body_neighbours(vectors, bodies, 5))
