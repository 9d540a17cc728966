"""Files that appear whole or not at all, content hashes, and run folders that never collide."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import math
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "finite_json",
    "folder_digest",
    "json_text",
    "new_run_id",
    "open_text",
    "sha256_bytes",
    "sha256_file",
]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path`` (atomic on
    POSIX), on error remove it. Writers that want a filename (xlsxwriter, pyarrow) use this."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file private (0600); outputs get the usual umask-based mode.
        umask = os.umask(0)
        os.umask(umask)
        tmp_path.chmod(0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=16)
def folder_digest(folder: str) -> str:
    """sha256 over the relative names and contents of the files below ``folder`` (12 hex);
    dot files and ``__pycache__`` are skipped. Hashing a model's weights (~90 MB for MiniLM)
    takes a fraction of a second, once per process (cached per folder)."""
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


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """Open a text file for reading, transparently gunzipping ``*.gz`` (or gzip magic)."""
    p = Path(path)
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(p, "rt", encoding="utf-8", newline="")
    return open(p, encoding="utf-8", newline="")


def new_run_id(now: dt.datetime | None = None) -> str:
    """``20261130T113300Z-3f9a``: sortable by time, unique within the second."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def finite_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float (nested in dicts, lists, tuples) as ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def json_text(value: Any) -> str:
    """Strict JSON (indented, UTF-8 kept): NaN and infinities become ``null``, never the bare
    ``NaN`` that other JSON readers reject; other objects (paths, dates) become strings."""
    return json.dumps(
        finite_json(value), indent=2, ensure_ascii=False, allow_nan=False, default=str
    )
