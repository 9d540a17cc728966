"""Whole-stage outputs on disk, keyed by what decides them (issue 11: a rerun where nothing
changed reads every stage back instead of recomputing it).

A stage's key is a digest of the code and library versions (``fingerprint``), the stage's name,
the config values it reads, and the keys of its inputs. The graph's own inputs (parsed items and
committees) are keyed by their content (:func:`content_key`); every later value by the key of the
stage that produced it, so a change anywhere upstream changes every key below it, and a change
in one stage's config leaves the stages above it cached.

Entries are pickles this program wrote into its own cache folder (never downloaded); a file that
does not load is a miss and is removed. Each stage keeps its ``keep`` most recently used entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.utils.io import atomic_write_bytes

__all__ = ["StageCache", "content_key"]

log = logging.getLogger(__name__)

_SUFFIX = ".pkl"


def content_key(value: Any) -> str:
    """A 32-hex digest of ``value``'s content: frames by column names, dtypes and cells (index
    ignored), arrays by dtype, shape and bytes, anything else by its pickle."""
    h = hashlib.blake2b(digest_size=16)
    if isinstance(value, pd.DataFrame):
        h.update(repr((list(map(str, value.columns)), list(map(str, value.dtypes)))).encode())
        for name in value.columns:
            h.update(_column_digest(value[name]))
    elif isinstance(value, np.ndarray):
        h.update(repr((value.dtype.str, value.shape)).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    else:
        h.update(pickle.dumps(value, protocol=5))
    return h.hexdigest()


def _column_digest(column: pd.Series) -> bytes:
    try:
        return pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes()
    except TypeError:  # list or dict cells (keyphrases, liaisons): hash their pickles
        return pickle.dumps(column.tolist(), protocol=5)


class StageCache:
    """``<root>/<stage>/<key>.pkl``: one stage's outputs (a ``{name: value}`` dict) per key.

    ``status`` records, per stage name, ``"hit"``, ``"miss"`` or ``"off"`` (the stage could not
    be keyed: a caller plugged in a model of its own) for run.json.
    """

    def __init__(self, root: str | os.PathLike[str], fingerprint: str, keep: int = 3) -> None:
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.keep = keep
        self.status: dict[str, str] = {}

    def key(self, stage: str, settings: Any, inputs: Mapping[str, str]) -> str:
        """The key of ``stage`` run with ``settings`` (a repr-able value: the config it reads)
        on inputs whose keys are ``inputs`` (``{input name: key}``)."""
        material = repr((self.fingerprint, stage, settings, sorted(inputs.items())))
        return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()

    def _path(self, stage: str, key: str) -> Path:
        return self.root / stage.replace(" ", "_") / f"{key}{_SUFFIX}"

    def load(self, stage: str, key: str) -> dict[str, Any] | None:
        """The outputs stored under ``key``, or None (recorded as a miss)."""
        path = self._path(stage, key)
        try:
            with path.open("rb") as f:
                outputs = pickle.load(f)
        except FileNotFoundError:
            outputs = None
        except Exception as exc:  # a truncated or foreign file is a miss, not a failed run
            log.warning("%s: unreadable stage cache entry (%s); recomputing", path, exc)
            path.unlink(missing_ok=True)
            outputs = None
        if not isinstance(outputs, dict):
            self.status[stage] = "miss"
            return None
        # Most recently used is kept longest; another run may have pruned it meanwhile (the
        # outputs are loaded already).
        with contextlib.suppress(OSError):
            os.utime(path)
        self.status[stage] = "hit"
        return outputs

    def save(self, stage: str, key: str, outputs: Mapping[str, Any]) -> None:
        """Store ``outputs`` under ``key`` (atomically), then drop the stage's least recently
        used entries beyond ``keep``."""
        path = self._path(stage, key)
        try:
            blob = pickle.dumps(dict(outputs), protocol=5)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, blob)
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            # A full disk or an output pickle cannot hold costs the cache entry, not the run.
            log.warning("%s: stage cache not written (%s)", path, exc)
            return
        self._prune(path.parent.glob(f"*{_SUFFIX}"))

    def skip(self, stage: str) -> None:
        """Record that ``stage`` ran without the cache."""
        self.status[stage] = "off"

    def _prune(self, entries: Iterable[Path]) -> None:
        by_age = sorted(entries, key=_mtime, reverse=True)
        for old in by_age[self.keep :]:
            old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    """Modification time, 0 for an entry another run removed meanwhile (pruned first)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
