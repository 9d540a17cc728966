"""User item files (``--items FILE``): the item schema as JSONL or CSV, plain or gzip.

Any other source (ETSI, IEEE, a national body) joins the pipeline this way. Only ``body``,
``committee`` and ``title`` are required; a broken line is reported as ``file:line`` with its
reason, skipped and counted, and the rest of the file loads.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.results import ParsedInput
from pipeline.schema import RecordError, SchemaError, normalize_item
from pipeline.sources.common import jsonl_objects
from pipeline.sources.snapshot import _frame
from pipeline.utils.io import open_text, sha256_file

__all__ = ["load_item_files"]

SOURCE = "items-file"


def _is_csv(path: Path) -> bool:
    return path.name.lower().removesuffix(".gz").endswith(".csv")


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line number, record)`` or ``(line number, reason)`` for an unreadable line."""
    with open_text(path) as fh:
        if _is_csv(path):
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                return
            for row in reader:
                if None in row:  # more cells than header columns
                    yield reader.line_num, "row has more cells than the header"
                    continue
                yield reader.line_num, {k: v for k, v in row.items() if k}
            return
        yield from jsonl_objects(fh)


def load_item_files(paths: Iterable[str | Path], *, snapshot: str = "") -> ParsedInput:
    """Read item files into a :class:`~pipeline.results.ParsedInput`.

    Rows of kind ``committee`` go to ``committees``, the rest to ``items``. ``sources`` has one
    dict per file (``source``, ``location``, ``records``, ``errors``, ``sha256``). CSV list
    cells (``declared``) are written ``a; b``. A missing or unreadable file is one error.
    """
    items: list[dict[str, Any]] = []
    errors: list[RecordError] = []
    sources: list[dict[str, Any]] = []
    for raw_path in paths:
        path = Path(raw_path)
        row_info: dict[str, Any] = {
            "source": SOURCE,
            "location": str(path),
            "records": 0,
            "errors": 0,
            "sha256": "",
        }
        sources.append(row_info)
        if not path.is_file():
            errors.append(RecordError(SOURCE, str(path), "no such file"))
            row_info["errors"] = 1
            continue
        row_info["sha256"] = sha256_file(path)
        n_ok = n_bad = 0
        try:
            for lineno, rec in _rows(path):
                where = f"{path}:{lineno}"
                if isinstance(rec, str):
                    errors.append(RecordError(SOURCE, where, rec))
                    n_bad += 1
                    continue
                try:
                    items.append(normalize_item(rec, snapshot=snapshot or path.name))
                    n_ok += 1
                except SchemaError as exc:
                    errors.append(RecordError(SOURCE, where, str(exc)))
                    n_bad += 1
        except (UnicodeDecodeError, OSError, EOFError, csv.Error) as exc:
            # A corrupt gzip or a non-UTF-8 file: keep what was read, report the file.
            errors.append(RecordError(SOURCE, str(path), f"unreadable file: {exc}"))
            n_bad += 1
        row_info.update(records=n_ok, errors=n_bad)
    committees = [i for i in items if i["kind"] == "committee"]
    others = [i for i in items if i["kind"] != "committee"]
    return ParsedInput(
        items=_frame(others), committees=_frame(committees), errors=errors, sources=sources
    )
