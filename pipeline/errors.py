"""The one shape of a user-facing error: ``<what> (<file>[:<line>] / <key>)``.

Every failure a user can fix (a missing file, a bad config value, an unwritable ``--out``) is
raised as a :class:`UserError` (or a subclass); the command line prints ``error: <message>``
and exits 2, with a traceback only under ``--debug``. Bugs stay ordinary exceptions.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["EXIT_USER_ERROR", "UserError", "from_os_error", "where"]

# The exit status of every user-facing failure (click uses 2 for usage errors too).
EXIT_USER_ERROR = 2


def where(
    file: str | os.PathLike[str] | None = None, line: int | None = None, key: str = ""
) -> str:
    """``file:line / key``: the parts that are known, in that order (``""`` when none is)."""
    parts = []
    if file is not None and str(file):
        parts.append(f"{file}:{line}" if line else str(file))
    if key:
        parts.append(key)
    return " / ".join(parts)


class UserError(Exception):
    """A failure the user can fix; ``str(exc)`` is ``what (file:line / key)``.

    ``what`` says what is wrong in words; ``file``, ``line`` and ``key`` (a config key such as
    ``rank.w_semantic`` or an option such as ``--out``) say where to look.
    """

    def __init__(
        self,
        what: str,
        file: str | os.PathLike[str] | None = None,
        line: int | None = None,
        key: str = "",
    ) -> None:
        self.what = what
        self.file = None if file is None else str(file)
        self.line = line
        self.key = key
        location = where(file, line, key)
        super().__init__(f"{what} ({location})" if location else what)


def from_os_error(exc: OSError, what: str = "", key: str = "") -> UserError:
    """A :class:`UserError` for a failed file operation: ``no space left on device (path)``."""
    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else "")
    reason = (reason or str(exc) or type(exc).__name__).lower()
    text = f"{what}: {reason}" if what else reason
    filename = exc.filename if exc.filename is not None else None
    return UserError(text, Path(filename) if filename is not None else None, key=key)
