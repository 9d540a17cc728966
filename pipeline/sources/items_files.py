"""User item files (``--items FILE``): the item schema as JSONL or CSV, plain or gzip.

Any other source (ETSI, IEEE, a national body) joins the pipeline this way. Only ``body``,
``committee`` and ``title`` are required; a broken line is reported as ``file:line`` with its
reason, skipped and counted, and the rest of the file loads.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.results import ParsedInput
from pipeline.schema import RecordError, SchemaError, normalize_item
from pipeline.sources.common import jsonl_objects
from pipeline.sources.snapshot import _frame
from pipeline.utils.io import sha256_file

__all__ = [
    "CSV_FIELD_LIMIT",
    "DecodedFile",
    "decode_item_file",
    "duplicate_uid_errors",
    "load_item_files",
]

SOURCE = "items-file"
# The fallback for bytes that are not UTF-8: Windows-1252, what Excel's plain "CSV" writes on
# Western-European Windows (a superset of the printable Latin-1 range). Decided line by line,
# so one stray byte in a UTF-8 file never garbles its other lines.
FALLBACK_ENCODING = "cp1252"
_LINE = re.compile(rb"[^\n]*\n|[^\n]+")
# Python's csv module refuses a field over 131,072 characters and stops reading the file. Such
# a cell is read whole (as a JSONL string would be); the workbook cuts it with a visible mark.
CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


@dataclass
class DecodedFile:
    """An item file as text. ``encoding``: ``utf-8``, ``utf-8-sig`` (a byte-order mark was
    stripped), ``utf-16``, ``cp1252`` or ``utf-8+cp1252`` (some lines were not UTF-8);
    ``fallback_lines``: 1-based lines read as cp1252 in a file that is otherwise UTF-8, with
    their first bad byte; ``problem``: why the file could not be read (wholly or to its end)."""

    text: str
    encoding: str
    fallback_lines: list[tuple[int, int]] = field(default_factory=list)
    problem: str = ""


def _read_bytes(path: Path) -> tuple[bytes, str]:
    """The file's bytes (gunzipped when it is gzip) and, if it broke off, why."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw, ""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
        try:
            while chunk := gz.read1(1 << 16):
                out.write(chunk)
        except (EOFError, OSError, zlib.error) as exc:
            # A truncated or corrupt gzip: keep what was read, report the file.
            return out.getvalue(), f"damaged gzip, read up to byte {out.tell()}: {exc}"
    return out.getvalue(), ""


def decode_item_file(raw: bytes) -> DecodedFile:
    """Decode an item file's bytes: UTF-8 (a byte-order mark stripped), UTF-16 when it starts
    with a UTF-16 byte-order mark, else each line that is not UTF-8 as cp1252."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedFile(raw.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as exc:
            return DecodedFile("", "utf-16", problem=f"not valid UTF-16: {exc.reason}")
    bom = raw.startswith(codecs.BOM_UTF8)
    body = raw[len(codecs.BOM_UTF8) :] if bom else raw
    try:
        return DecodedFile(body.decode("utf-8"), "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError:
        pass
    lines, fallback = [], []
    for number, line in enumerate(_LINE.findall(body), start=1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            fallback.append((number, line[exc.start]))
            lines.append(line.decode(FALLBACK_ENCODING, errors="replace"))
    text = "".join(lines)
    # Every non-ASCII line failed: a cp1252 file, not a UTF-8 file with stray bytes.
    any_utf8 = any(not line.isascii() for line in _LINE.findall(body) if _is_utf8(line))
    if not any_utf8:
        return DecodedFile(text, FALLBACK_ENCODING)
    return DecodedFile(text, f"utf-8+{FALLBACK_ENCODING}", fallback)


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text``, each with its ``\\n``; split on ``\\n`` only, as the line numbers
    of :func:`decode_item_file` are counted (a CR or U+2028 inside a cell stays in it)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_csv(path: Path) -> bool:
    return path.name.lower().removesuffix(".gz").endswith(".csv")


def _rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line number, record)`` or ``(line number, reason)`` for an unreadable line."""
    if not _is_csv(path):
        yield from jsonl_objects(_lines(text))
        return
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(_lines(text))
    if not reader.fieldnames:
        return
    while True:
        before = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader goes on after a malformed line (a NUL byte ...) unless it is stuck.
            yield reader.line_num, f"bad CSV: {exc}"
            if reader.line_num == before:
                return
            continue
        if None in row:  # more cells than header columns
            yield reader.line_num, "row has more cells than the header"
            continue
        yield reader.line_num, {k: v for k, v in row.items() if k}


def load_item_files(paths: Iterable[str | Path], *, snapshot: str = "") -> ParsedInput:
    """Read item files into a :class:`~pipeline.results.ParsedInput`.

    Rows of kind ``committee`` go to ``committees``, the rest to ``items``. ``sources`` has one
    dict per file (``source``, ``location``, ``records``, ``errors``, ``sha256``,
    ``encoding``). CSV list cells (``declared``) are written ``a; b``. A missing or unreadable
    file is one error. A uid seen before (in this file or an earlier one) is an error naming
    both places; the first row is kept. Lines of a UTF-8 file read as cp1252 are kept and
    reported, each with its line number.
    """
    items: list[dict[str, Any]] = []
    errors: list[RecordError] = []
    sources: list[dict[str, Any]] = []
    first_seen: dict[str, str] = {}
    for raw_path in paths:
        path = Path(raw_path)
        row_info: dict[str, Any] = {
            "source": SOURCE,
            "location": str(path),
            "records": 0,
            "errors": 0,
            "sha256": "",
            "encoding": "",
        }
        sources.append(row_info)
        if not path.is_file():
            errors.append(RecordError(SOURCE, str(path), "no such file"))
            row_info["errors"] = 1
            continue
        row_info["sha256"] = sha256_file(path)
        n_ok = n_bad = 0
        try:
            raw, broken = _read_bytes(path)
        except OSError as exc:
            errors.append(RecordError(SOURCE, str(path), f"unreadable file: {exc}"))
            row_info["errors"] = 1
            continue
        decoded = decode_item_file(raw)
        row_info["encoding"] = decoded.encoding
        for problem in (broken, decoded.problem):
            if problem:
                errors.append(RecordError(SOURCE, str(path), f"unreadable file: {problem}"))
                n_bad += 1
        for lineno, byte in decoded.fallback_lines:
            reason = f"byte 0x{byte:02x} is not UTF-8; line read as {FALLBACK_ENCODING} (kept)"
            errors.append(RecordError(SOURCE, f"{path}:{lineno}", reason))
            n_bad += 1
        for lineno, rec in _rows(path, decoded.text):
            where = f"{path}:{lineno}"
            if isinstance(rec, str):
                errors.append(RecordError(SOURCE, where, rec))
                n_bad += 1
                continue
            try:
                item = normalize_item(rec, snapshot=snapshot or path.name)
            except SchemaError as exc:
                errors.append(RecordError(SOURCE, where, str(exc)))
                n_bad += 1
                continue
            first = first_seen.get(item["uid"])
            if first is not None:
                reason = f"duplicate uid {item['uid']!r}: first at {first} (kept), this row skipped"
                errors.append(RecordError(SOURCE, where, reason))
                n_bad += 1
                continue
            first_seen[item["uid"]] = where
            items.append(item)
            n_ok += 1
        row_info.update(records=n_ok, errors=n_bad)
    committees = [i for i in items if i["kind"] == "committee"]
    others = [i for i in items if i["kind"] != "committee"]
    return ParsedInput(
        items=_frame(others), committees=_frame(committees), errors=errors, sources=sources
    )


def _origin(row: dict[str, Any]) -> str:
    """Where a merged row came from: its snapshot or item file name, and its URL if any."""
    parts = [str(row.get(k) or "") for k in ("snapshot", "url")]
    return ": ".join(p for p in parts if p) or "input"


def duplicate_uid_errors(frame: pd.DataFrame, source: str = "input") -> list[RecordError]:
    """One error per row of ``frame`` whose uid an earlier row already has (the earlier row is
    the one kept), naming where both came from (:func:`_origin`)."""
    if frame.empty or "uid" not in frame.columns:
        return []
    dup = frame["uid"].duplicated(keep="first")
    if not dup.any():
        return []
    first = frame[~dup].drop_duplicates("uid").set_index("uid")
    errors = []
    for row in frame[dup].to_dict("records"):
        kept = _origin(first.loc[row["uid"]].to_dict())
        reason = f"duplicate uid {row['uid']!r}: first from {kept} (kept), this one skipped"
        errors.append(RecordError(source, _origin(row), reason))
    return errors
