"""Match: blocked exact top-k == brute force; cross-body contract; lexical candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.match import (
    MatchParams,
    cross_body_neighbours,
    hubness,
    lexical_matrix,
    lexical_neighbours,
    pair_cosine,
)
from pipeline.utils.knn import RunningTopK, both_ways_top_k


def _random_unit(n: int, d: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("block_size", [3, 7, 64, 4096])
def test_blocked_top_k_equals_brute_force(block_size: int) -> None:
    """The exact-tie top-k the lexical candidates use (one product per block, both ways)."""
    q, c = _random_unit(130, 16, 0), _random_unit(170, 16, 1)
    c[5] = c[9]  # exact tie: lower index first
    q[3] = c[5]
    found = (RunningTopK(130, 6, exact_ties=True), RunningTopK(170, 6, exact_ties=True))
    both_ways_top_k(q, c, found, lambda a, b: a @ b.T, block_size)
    idx, sc = found[0].idx, found[0].sc
    full = q @ c.T
    order = np.lexsort((np.broadcast_to(np.arange(c.shape[0]), full.shape), -full), axis=1)[:, :6]
    assert (idx == order).all()
    np.testing.assert_allclose(sc, np.take_along_axis(full, order, axis=1), rtol=1e-5)
    assert idx[3, :2].tolist() == [5, 9]


def _brute_cross(vectors: np.ndarray, bodies: list[str], k: int) -> set[tuple[int, int]]:
    itu = [i for i, b in enumerate(bodies) if b == "ITU-T"]
    other = [i for i, b in enumerate(bodies) if b != "ITU-T"]
    sims = vectors @ vectors.T
    out = set()
    for i in itu:
        for j in sorted(other, key=lambda j: (-sims[i, j], j))[:k]:
            out.add((i, j))
    for j in other:
        for i in sorted(itu, key=lambda i: (-sims[j, i], i))[:k]:
            out.add((i, j))
    return out


def test_cross_body_neighbours_contract_and_brute_force() -> None:
    vectors = _random_unit(90, 12, 3)
    bodies = (["ITU-T", "ISO", "IEC", "ISO/IEC", "ITU-T", "ISO"] * 15)[:90]
    pairs = cross_body_neighbours(vectors, bodies, k=4, block_size=16)
    assert list(pairs.columns) == ["itu_index", "other_index", "semantic"]
    assert {tuple(x) for x in pairs[["itu_index", "other_index"]].values} == _brute_cross(
        vectors, bodies, 4
    )
    assert all(bodies[i] == "ITU-T" for i in pairs["itu_index"])
    assert all(bodies[j] != "ITU-T" for j in pairs["other_index"])
    np.testing.assert_allclose(
        pairs["semantic"],
        np.einsum("ij,ij->i", vectors[pairs["itu_index"]], vectors[pairs["other_index"]]),
        rtol=1e-5,
    )
    assert not pairs.duplicated(["itu_index", "other_index"]).any()


def test_single_body_gives_no_pairs() -> None:
    pairs = cross_body_neighbours(_random_unit(5, 4, 0), ["ISO", "IEC"] * 2 + ["ISO"], 3)
    assert pairs.empty


def test_shared_rare_term_brings_lexical_pair() -> None:
    items = pd.DataFrame(
        {
            "title": [
                "Zigbee mesh networks",
                "Optical fibre",
                "Zigbee profile",
                "Fibre optics",
                "Smart grid",
                "Cable",
                "Power",
            ],
            "text": [""] * 7,
            "body": ["ITU-T", "ITU-T", "ISO", "IEC", "IEC", "ISO", "ISO"],
        }
    )
    m = lexical_matrix(items, MatchParams(min_df=1, max_df=1.0))
    pairs = lexical_neighbours(m, items["body"].tolist(), k=1)
    assert (0, 2) in {tuple(x) for x in pairs[["itu_index", "other_index"]].values}
    assert (pairs["lexical"] > 0).all()
    np.testing.assert_allclose(
        pair_cosine(m, pairs["itu_index"].to_numpy(), pairs["other_index"].to_numpy()),
        pairs["lexical"],
        rtol=1e-5,
    )


def test_hubness_is_the_mean_of_each_items_top_k_across_the_divide() -> None:
    vectors = _random_unit(40, 8, 3)
    bodies = ["ITU-T"] * 15 + ["ISO", "IEC", "ISO/IEC"] * 8 + ["ISO"]
    k = 4
    hubs = hubness(cross_body_neighbours(vectors, bodies, k, block_size=8), len(bodies), k)
    sims = vectors @ vectors.T
    itu = np.array([b == "ITU-T" for b in bodies])
    for i in range(len(bodies)):
        across = np.sort(sims[i, itu != itu[i]])[::-1][:k]
        assert hubs[i] == pytest.approx(across.mean(), abs=1e-5)
