"""Every input and output of a run checked before its first stage (``run_pipeline`` calls
:func:`check_run` first).

A run on the 45,000-item corpus takes about half an hour; an unwritable ``--out`` or a damaged
``--previous`` must fail in the first second, not after the last stage. Each check raises a
:class:`~pipeline.errors.UserError` (``what (file[:line] / key)``); what is worth knowing but
not fatal (a partial run folder left by a killed run) is logged as a warning.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import UserError, from_os_error
from pipeline.graph import Config, load_settings
from pipeline.triage import check_previous
from pipeline.utils.runfolder import stale_partials

__all__ = ["check_item_files", "check_out_dir", "check_run", "check_snapshot"]

log = logging.getLogger(__name__)

CLEAN_COMMAND = "sdo-overlap clean-partial --out {out}"


def check_item_files(paths: Sequence[Path]) -> None:
    """Each item file exists, is a file and can be opened."""
    for path in map(Path, paths):
        if not path.exists():
            raise UserError("item file not found", path, key="--items")
        if not path.is_file():
            raise UserError("is a folder, not an item file", path, key="--items")
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as exc:
            raise from_os_error(exc, "cannot read the item file", key="--items") from exc


def check_snapshot(path: Path) -> None:
    """The snapshot folder exists and is a folder (its manifest is checked when parsed)."""
    path = Path(path)
    if not path.exists():
        raise UserError("snapshot folder not found", path, key="--snapshot")
    if not path.is_dir():
        raise UserError(
            "is a file; --snapshot wants a data/raw/<id> folder", path, key="--snapshot"
        )


def check_out_dir(path: Path) -> None:
    """``path`` is a folder this process can create files in, or can be created as one.

    Creates the folder (as the run would) and a temporary file in it, so that a read-only file
    system or a full quota is caught too; the file is removed at once.
    """
    path = Path(path)
    for part in [path, *path.parents]:
        if part.exists() and not part.is_dir():
            what = "is a file, not a folder" if part == path else f"{part} is a file, not a folder"
            raise UserError(what, path, key="--out")
        if part.exists():
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise from_os_error(exc, "cannot write run folders there", key="--out") from exc


def check_run(
    *,
    snapshot: Path | None,
    items_files: Sequence[Path],
    out_dir: Path,
    config_path: Path | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    previous: Path | None = None,
    allow_unplaced_decisions: bool = False,
) -> Config:
    """Check what a run reads and writes, in the order a user would fix them; returns the
    typed config (defaults, then ``config_path``, then ``overrides``), range-checked.

    Raises :class:`~pipeline.errors.UserError` on the first problem. Logs a warning for each
    stale ``<id>.partial`` folder in ``out_dir`` (``sdo-overlap clean-partial`` removes them).
    """
    if snapshot is None and not items_files:
        raise UserError("nothing to read: give --snapshot DIR or --items FILE")
    config = load_settings(config_path, overrides)
    if snapshot is not None:
        check_snapshot(snapshot)
    check_item_files(items_files)
    if previous is not None:
        check_previous(Path(previous), allow_unplaced=allow_unplaced_decisions)
    check_out_dir(out_dir)
    stale = stale_partials(out_dir)
    if stale:
        log.warning(
            "%d partial run folder(s) left by a run that was killed: %s; remove with `%s`",
            len(stale),
            ", ".join(str(p) for p in stale),
            CLEAN_COMMAND.format(out=out_dir),
        )
    return config
