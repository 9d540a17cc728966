"""What a later run can reuse of an earlier one: per-row states (neighbour lists, term counts).

A stage that can update its result from an earlier run's instead of recomputing it stores a
*state* here: any picklable object with a ``keys`` attribute (one id per row: uids, text hashes).
A run loads the stored state that shares the most keys with its own rows and updates it; the
update must give what a run from scratch gives, so the store only saves time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["StateStore"]


class StateStore:
    """States per name under ``folder/<name>/<digest>.pkl``; the ``keep`` most recently used
    per name are kept. Written atomically; an unreadable entry is skipped with a warning."""

    def __init__(self, folder: str | Path, keep: int = 3) -> None:
        self.folder = Path(folder)
        self.keep = keep

    def load(self, name: str, keys: Iterable[Any], kind: type | None = None) -> Any | None:
        """The stored state (of type ``kind`` when given) sharing the most keys with ``keys``;
        None when no state shares any."""
        wanted = {str(k) for k in keys}
        best: tuple[int, float, Any] | None = None
        for path in sorted((self.folder / name).glob("*.pkl")):
            try:
                with path.open("rb") as fh:
                    state = pickle.load(fh)
                mtime = path.stat().st_mtime
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
                log.warning("%s: skipped (%s)", path, exc)
                continue
            if (kind is not None and not isinstance(state, kind)) or not hasattr(state, "keys"):
                continue
            shared = sum(str(k) in wanted for k in state.keys)
            if shared and (best is None or (shared, mtime) > best[:2]):
                best = (shared, mtime, state)
        return None if best is None else best[2]

    def save(self, name: str, state: Any) -> None:
        """Store ``state`` and drop the least recently used beyond ``keep``."""
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        path = folder / f"{hashlib.blake2b(blob, digest_size=8).hexdigest()}.pkl"
        if path.exists():
            path.touch()
        else:
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        entries = sorted(folder.glob("*.pkl"), key=_mtime, reverse=True)
        for old in entries[self.keep :]:
            old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed by another run meanwhile
        return 0.0
