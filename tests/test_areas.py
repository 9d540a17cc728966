"""Areas: cross-body clusters only, labels from keyphrases, nothing forced, deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.areas import AREA_COLUMNS, AreaParams, find_areas, label_areas
from pipeline.schema import items_frame, normalize_item


def _corpus() -> tuple[pd.DataFrame, np.ndarray]:
    """Topic 0 (QKD) spans ITU-T + ISO/IEC; topic 1 (ships) is ISO only; one outlier."""
    rng = np.random.default_rng(0)
    centres = np.eye(8, dtype=np.float32)
    rows, vecs = [], []
    spec = [
        ("ITU-T", "SG17", 0, ["quantum key distribution", "security", "requirements"]),
        ("ITU-T", "SG13", 0, ["quantum key distribution", "network", "framework"]),
        ("ISO/IEC", "ISO/IEC JTC 1/SC 27", 0, ["quantum key distribution", "evaluation"]),
        ("ISO/IEC", "ISO/IEC JTC 1/SC 27", 0, ["quantum key distribution", "security"]),
        ("ISO", "ISO/TC 8", 1, ["ship", "hull"]),
        ("ISO", "ISO/TC 8", 1, ["ship", "anchor"]),
        ("ISO", "ISO/TC 8", 1, ["ship", "deck"]),
        ("IEC", "TC 100", 5, ["audio"]),
    ]
    for n, (body, committee, topic, kp) in enumerate(spec):
        rows.append(
            normalize_item(
                dict(
                    body=body,
                    committee=committee,
                    title=f"item {n}",
                    reference=f"R {n}",
                    stage="Under study" if n == 0 else "",
                    keyphrases=kp,
                )
            )
        )
        v = centres[topic] + 0.15 * rng.standard_normal(8).astype(np.float32)
        vecs.append(v / np.linalg.norm(v))
    return items_frame(rows), np.stack(vecs).astype(np.float32)


def test_only_cross_body_areas_and_nothing_forced() -> None:
    items, vectors = _corpus()
    labels, areas = find_areas(vectors, items, AreaParams(n_neighbors=4), seed=0)
    assert list(areas.columns) == list(AREA_COLUMNS)
    assert labels.shape == (len(items),)
    assert labels[:4].tolist() == [0, 0, 0, 0]
    assert (labels[4:] == -1).all()  # ISO-only cluster and outlier are not areas
    row = areas.iloc[0]
    assert row["size"] == 4 and row["n_itu_t"] == 2 and row["n_iso_iec"] == 2
    assert row["label"].split("; ")[0] == "quantum key distribution"
    assert "requirements" not in row["label"] and "framework" not in row["label"]
    assert row["committees"].startswith("ISO/IEC JTC 1/SC 27 (2)")
    assert row["n_active"] == 1
    assert len(row["representative_items"].split("\n")) == 3


def test_deterministic() -> None:
    items, vectors = _corpus()
    a = find_areas(vectors, items, AreaParams(n_neighbors=4), seed=1)
    b = find_areas(vectors, items, AreaParams(n_neighbors=4), seed=2)
    assert (a[0] == b[0]).all()
    pd.testing.assert_frame_equal(a[1], b[1])


def test_label_areas_prefers_distinctive_terms() -> None:
    terms = [["network", "qkd"], ["network", "qkd"], ["network", "ship"], ["network"]]
    labels = np.array([0, 0, -1, -1])
    assert label_areas(terms, labels, 1, frozenset())[0] == ["qkd"]


def _topics(n_per_topic: int, n_topics: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Topics alternating ITU-T / ISO items around their own direction, plus noise."""
    rng = np.random.default_rng(seed)
    dim = 32
    centres = rng.standard_normal((n_topics, dim)).astype(np.float32)
    rows, vecs = [], []
    for t in range(n_topics):
        for i in range(n_per_topic):
            body = "ITU-T" if i % 3 == 0 else "ISO"
            rows.append(
                normalize_item(
                    dict(
                        body=body,
                        committee=f"TC {t + 1}",
                        title=f"t{t} i{i}",
                        reference=f"R {t}-{i}",
                    )
                )
            )
            v = centres[t] + 0.25 * rng.standard_normal(dim).astype(np.float32)
            vecs.append(v / np.linalg.norm(v))
    return items_frame(rows), np.stack(vecs).astype(np.float32)


@pytest.mark.parametrize("method", ["leiden", "agglomerative"])
def test_methods_find_the_planted_topics(method: str) -> None:
    items, vectors = _topics(12, 5, seed=3)
    labels, areas = find_areas(vectors, items, AreaParams(method=method), seed=7)
    assert len(areas) == 5 and (areas["size"] == 12).all()
    for t in range(5):  # each topic is one area, and no area mixes topics
        assert len(set(labels[t * 12 : (t + 1) * 12].tolist())) == 1
    assert (areas["n_itu_t"] == 4).all()


def test_leiden_is_seeded_and_oversized_communities_are_split() -> None:
    items, vectors = _topics(40, 6, seed=5)
    p = AreaParams(resolution=0.01)
    a = find_areas(vectors, items, p, seed=11)
    b = find_areas(vectors, items, p, seed=11)
    np.testing.assert_array_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    small = find_areas(vectors, items, AreaParams(resolution=0.1, max_size=20), seed=11)[1]
    assert len(small) and (small["size"] <= 20).all()


def test_area_params_are_validated() -> None:
    with pytest.raises(ValueError, match="method"):
        AreaParams(method="kmeans")
    with pytest.raises(ValueError, match="resolution"):
        AreaParams(resolution=0)
