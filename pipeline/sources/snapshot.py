"""Raw snapshots: ``data/raw/<snapshot-id>/manifest.json`` + every body as received.

A snapshot is immutable and replayable: :func:`parse_snapshot` reads it without any network,
dispatches each manifest entry to its body's parser by ``kind``, verifies ``sha256`` and turns
what it finds into the item schema. One broken page never stops the rest; when more than
``failure_share`` of one source's pages fail, a loud "site layout may have changed" error is
added for that source.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.references import standard_keys
from pipeline.results import ParsedInput
from pipeline.schema import RecordError, SchemaError, items_frame, normalize_item
from pipeline.sources import iec, iso, itu_t
from pipeline.sources.common import ATTRIBUTION, ParseOutput
from pipeline.utils.io import atomic_write_text, open_text, sha256_file

__all__ = [
    "MANIFEST",
    "PAGE_KINDS",
    "Manifest",
    "ManifestEntry",
    "ManifestError",
    "entry_file",
    "finalize_records",
    "parse_snapshot",
    "read_manifest",
    "write_manifest",
]

MANIFEST = "manifest.json"
# Entries that are bookkeeping of the fetcher, not pages of a source.
_BOOKKEEPING = {"robots"}


@dataclass
class ManifestEntry:
    """One fetched (or failed) resource. ``path`` is relative to the snapshot folder ("" when
    nothing was stored); ``error`` is ``""`` on success; ``size`` in bytes."""

    path: str
    source: str  # "itu-t" | "iso" | "iec"
    kind: str  # see PAGE_KINDS
    url: str = ""
    method: str = "GET"
    params: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    fetched_at: str = ""
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""
    size: int = 0
    error: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestEntry:
        """Build an entry; raises :class:`ValueError` naming the field when ``data`` is not an
        object or a field has the wrong type (a hand-edited or corrupt manifest)."""
        if not isinstance(data, dict):
            raise ValueError(f"entry is a JSON {type(data).__name__}, not an object")
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("path", "source", "kind"):
            if name not in values:
                raise ValueError(f"entry has no {name!r}")
        for name, kind in _ENTRY_TYPES.items():
            if name in values and values[name] is not None and not isinstance(values[name], kind):
                raise ValueError(f"entry field {name!r} is a {type(values[name]).__name__}")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_ENTRY_TYPES: dict[str, type | tuple[type, ...]] = {
    "path": str,
    "source": str,
    "kind": str,
    "url": str,
    "method": str,
    "params": dict,
    "status": int,
    "sha256": str,
    "size": int,
    "error": str,
}


class ManifestError(ValueError):
    """A ``manifest.json`` that cannot be used at all; the message is ``<file>: <what>``."""


@dataclass
class Manifest:
    """``manifest.json``: the snapshot's id, when and how it was made, and its entries.

    ``problems`` are findings about the snapshot as a whole that are not pages: entries that
    could not be read (``"entry 3: ..."``) and what the scraper reported while discovering
    pages (a listing that listed nothing, a fallback taken); :func:`parse_snapshot` reports
    each as an error.
    """

    snapshot_id: str
    created: str = ""
    tool: str = "sdo-overlap"
    note: str = ""
    entries: list[ManifestEntry] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "snapshot_id": self.snapshot_id,
            "created": self.created,
            "tool": self.tool,
            "note": self.note,
            "entries": [e.as_dict() for e in self.entries],
        }
        if self.problems:
            out["problems"] = self.problems
        return out


def read_manifest(snapshot_dir: str | Path) -> Manifest:
    """Read ``<dir>/manifest.json``.

    Raises FileNotFoundError when it is missing and :class:`ManifestError` (``<file>: <what is
    wrong>``) when it is empty, not JSON, or not a manifest. One malformed entry does not stop
    the snapshot: it is left out and listed in ``problems`` as ``entry <n>: <why>``.
    """
    path = Path(snapshot_dir) / MANIFEST
    raw = path.read_bytes()
    if not raw.strip():
        raise ManifestError(f"{path}: empty file (an interrupted or truncated snapshot?)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise ManifestError(f"{path}: not a snapshot manifest (no 'entries' list)")
    entries: list[ManifestEntry] = []
    problems: list[dict[str, str]] = []
    for i, item in enumerate(data["entries"], start=1):
        try:
            entries.append(ManifestEntry.from_dict(item))
        except (TypeError, ValueError) as exc:
            problems.append({"source": "snapshot", "location": f"{path}: entry {i}",
                             "reason": f"malformed manifest entry skipped: {exc}"})  # fmt: skip
    for item in data.get("problems") or []:
        if isinstance(item, dict):
            problems.append({k: str(item.get(k) or "") for k in ("source", "location", "reason")})
    return Manifest(
        snapshot_id=str(data.get("snapshot_id") or Path(snapshot_dir).name),
        created=str(data.get("created") or ""),
        tool=str(data.get("tool") or ""),
        note=str(data.get("note") or ""),
        entries=entries,
        problems=problems,
    )


def entry_file(root: Path, rel: str) -> Path | None:
    """``root/rel`` resolved, or ``None`` when it lies outside ``root`` (``../x``, an absolute
    path, a symlink out): a manifest may only name files inside its own snapshot folder."""
    if not rel:
        return None
    base = root.resolve()
    target = (base / rel).resolve()
    return target if target.is_relative_to(base) else None


def write_manifest(snapshot_dir: str | Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` atomically (a crash never leaves half a manifest)."""
    if not manifest.created:
        manifest.created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = json.dumps(manifest.as_dict(), ensure_ascii=False, indent=1)
    return atomic_write_text(Path(snapshot_dir) / MANIFEST, text + "\n")


def _lines(path: Path) -> Iterable[str]:
    with open_text(path) as fh:
        yield from fh


def _iso(parse_jsonl: Callable[..., ParseOutput], parse_csv: Callable[..., ParseOutput]):
    def run(path: Path, entry: ManifestEntry, rel: str) -> ParseOutput:
        name = path.name.lower().removesuffix(".gz")
        parser = parse_csv if name.endswith(".csv") else parse_jsonl
        return parser(_lines(path), rel)

    return run


def _page(fn: Callable[..., ParseOutput], *hints: str):
    """Run ``fn(content, url, **hints)`` with the named hints taken from the entry's
    ``params``: what the scraper knew when it fetched the page (the committee a search was made
    for, the Question whose listing named an item), which the page itself may not show."""

    def run(path: Path, entry: ManifestEntry, rel: str) -> ParseOutput:
        given = {h: str(entry.params.get(h) or "") for h in hints if entry.params.get(h)}
        return fn(path.read_bytes(), entry.url or rel, **given)

    return run


def _records_file(fn: Callable[..., ParseOutput]):
    def run(path: Path, entry: ManifestEntry, rel: str) -> ParseOutput:
        return fn(path.read_bytes(), rel)

    return run


def _search_page(path: Path, entry: ManifestEntry, rel: str) -> ParseOutput:
    page = itu_t.parse_wp_search(path.read_bytes(), entry.url or rel)
    out = ParseOutput(errors=list(page.errors))
    out.extra["listed"] = len(page.rows)
    return out


def _iec_publications(path: Path, entry: ManifestEntry, rel: str) -> ParseOutput:
    """A committee's publications list or its export: discovery only (no items)."""
    out = ParseOutput()
    out.extra["listed"] = len(iec.parse_publications_export(path.read_bytes()))
    return out


_PARSERS: dict[str, Callable[[Path, ManifestEntry, str], ParseOutput]] = {
    "wp_item": _page(itu_t.parse_wp_item, "question"),
    "wp_block": _page(itu_t.parse_wp_block, "question", "period"),
    "itu_sg": _page(itu_t.parse_study_group, "sg", "title", "period"),
    "itu_sg_records": _records_file(itu_t.parse_study_group_records),
    "wp_search": _search_page,
    "itu_recommendation_records": _records_file(itu_t.parse_recommendation_records),
    "iso_deliverables": _iso(iso.parse_deliverables_jsonl, iso.parse_deliverables_csv),
    "iso_committees": _iso(iso.parse_committees_jsonl, iso.parse_committees_csv),
    "iec_search": _page(iec.parse_search_json, "committee", "number"),
    "iec_publication_page": _page(iec.parse_publication_page, "committee"),
    "iec_dashboard": _page(iec.parse_dashboard),
    "iec_work_programme": _page(iec.parse_work_programme, "committee"),
    "iec_committee_records": _records_file(iec.parse_committee_records),
    "iec_publications": _iec_publications,
}
PAGE_KINDS: tuple[str, ...] = (*_PARSERS, *_BOOKKEEPING)


def _resolve_committees(records: list[dict[str, Any]], bodies: Iterable[str]) -> None:
    """Fill a missing committee from another record of the **same standard** in this snapshot
    (equal standard key, one committee only), e.g. an IEC project in the lifecycle of a
    publication whose committee is known. Marks ``committee_source``. Never guesses from a
    series letter or a number range."""
    bodies = set(bodies)
    by_key: dict[str, set[str]] = defaultdict(set)
    for rec in records:
        if rec.get("committee") and rec.get("kind") != "committee":
            for key in standard_keys(str(rec.get("reference") or ""), str(rec.get("body"))):
                by_key[key].add(str(rec["committee"]))
    for rec in records:
        if rec.get("committee") or rec.get("body") not in bodies:
            continue
        keys = standard_keys(str(rec.get("reference") or ""), str(rec.get("body")))
        found = {c for k in keys for c in by_key.get(k, ())}
        if len(found) == 1:
            rec["committee"] = found.pop()
            rec["committee_source"] = "same standard elsewhere in snapshot: " + ", ".join(keys)


def _project_key(rec: dict[str, Any]) -> str:
    """``"IEC TS 63353|1"`` for an IEC project (reference without ``ED<n>``, edition number),
    ``""`` for anything else. The work programme writes ``IEC TS 63353 ED1``; the webstore
    lifecycle writes ``IEC TS 63353`` with ``edition`` ``"1.0"``."""
    if rec.get("kind") != "project" or not str(rec.get("uid", "")).startswith("IEC:"):
        return ""
    reference = str(rec.get("reference") or "")
    m = re.search(r"\s+ED\s*(\d+)(?:\.\d+)?\s*$", reference, re.IGNORECASE)
    edition = m.group(1) if m else str(rec.get("edition") or "").split(".")[0]
    base = re.sub(r"\s+", " ", reference[: m.start()] if m else reference).strip().upper()
    return f"{base}|{edition}" if base and edition else ""


def merge_duplicate_projects(
    raw: list[tuple[str, str, dict[str, Any]]],
) -> list[tuple[str, str, dict[str, Any]]]:
    """One record per IEC project: the same project from the work programme (page 23) and from
    a webstore lifecycle comes under two uids. The first one seen is kept, its empty fields are
    filled from the other, and ``also_uid`` names the uid merged into it.

    ``raw``: ``(source, location, record)`` triples; returns the list without the duplicates.
    """
    first: dict[str, dict[str, Any]] = {}
    out: list[tuple[str, str, dict[str, Any]]] = []
    for source, location, rec in raw:
        key = _project_key(rec)
        kept = first.get(key) if key else None
        if kept is None:
            if key:
                first[key] = rec
            out.append((source, location, rec))
            continue
        if rec.get("uid") == kept.get("uid"):
            continue  # the very same record twice (two searches found it): nothing to merge
        for name, value in rec.items():
            if value not in ("", None, []) and kept.get(name) in ("", None, []):
                kept[name] = value
        also = [u for u in str(kept.get("also_uid") or "").split("; ") if u]
        kept["also_uid"] = "; ".join(dict.fromkeys([*also, str(rec.get("uid"))]))
    return out


def _close_past_question(rec: dict[str, Any], fetched_at: str) -> None:
    """A Question of a study period that had ended when the page was fetched is no longer
    studied: it stays listed (its text still says what the group worked on) but not active."""
    m = re.fullmatch(r"(\d{4})-(\d{4})", str(rec.get("study_period") or ""))
    fetched = (fetched_at or "")[:4]
    if rec.get("kind") != "question" or not m or not fetched.isdigit():
        return
    if int(m.group(2)) < int(fetched):
        rec["stage"] = f"study period {m.group(0)} ended"
        rec["stage_group"] = ""
        rec["active"] = False


def finalize_records(
    raw: list[tuple[str, str, dict[str, Any]]], snapshot: str
) -> tuple[list[dict[str, Any]], list[RecordError]]:
    """``(source, location, record)`` -> validated items (``normalize_item``) and errors."""
    items: list[dict[str, Any]] = []
    errors: list[RecordError] = []
    for source, location, rec in raw:
        if not str(rec.get("committee") or "").strip():
            errors.append(
                RecordError(
                    source,
                    location,
                    f"committee unknown for {rec.get('reference') or rec.get('title')!r}: the "
                    "page names no study group/committee (not guessed); skipped",
                )
            )
            continue
        try:
            items.append(normalize_item(rec, snapshot=snapshot))
        except SchemaError as exc:
            errors.append(RecordError(source, location, f"schema: {exc}"))
    return items, errors


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = items_frame(rows)
    for col in frame.columns:
        values = frame[col].dropna()
        if col == "declared" or not len(values):
            continue
        # A string or bool dtype says what each value is: no need to look at 45,000 of them.
        if isinstance(values.dtype, pd.StringDtype) or all(isinstance(v, str) for v in values):
            frame[col] = frame[col].fillna("").astype(str)
        elif values.dtype == bool or all(isinstance(v, bool) for v in values):
            frame[col] = frame[col].fillna(False).astype(bool)
    return frame


def _source_row(entry: ManifestEntry, location: str) -> dict[str, Any]:
    """The *Sources and errors* row of one manifest entry (counts filled in after parsing)."""
    return {
        "source": entry.source,
        "kind": entry.kind,
        "location": location,
        "path": entry.path,
        "records": 0,
        "errors": 0,
        "dropped": 0,
        "sha256": entry.sha256,
        "fetched_at": entry.fetched_at,
        "status": entry.status,
    }


def _readable_entry(root: Path, entry: ManifestEntry) -> tuple[Path | None, str]:
    """``(file, "")`` when the entry can be parsed, else ``(file or None, what is wrong)``."""
    file = entry_file(root, entry.path)
    if entry.error:
        return file, f"fetch failed: {entry.error}"
    if entry.path and file is None:
        # Never read: a manifest must not make the run read files outside its snapshot.
        return None, f"path {entry.path!r} lies outside the snapshot folder; entry not read"
    if file is None or not file.is_file():
        return file, f"file missing from snapshot: {entry.path!r}"
    if entry.kind not in _PARSERS:
        return file, f"unknown manifest kind {entry.kind!r}"
    if entry.sha256 and sha256_file(file) != entry.sha256:
        return file, "sha256 mismatch: file changed after it was fetched; entry skipped"
    return file, ""


def _layout_alarms(
    pages: Mapping[str, int], failed: Mapping[str, int], failure_share: float, where: str
) -> list[RecordError]:
    """One loud error per source whose share of failed pages exceeds ``failure_share``."""
    return [
        RecordError(
            source,
            where,
            f"site layout may have changed: {failed[source]} of {n} {source} pages "
            f"failed (more than {failure_share:.0%}); check the parser against a live page",
        )
        for source, n in pages.items()
        if n and failed.get(source, 0) / n > failure_share
    ]


def parse_snapshot(
    path: str | Path,
    *,
    failure_share: float = 0.3,
    resolve_committees: Iterable[str] = ("ITU-T", "IEC", "ISO", "ISO/IEC"),
) -> ParsedInput:
    """Parse a raw snapshot folder into items, committees, errors and per-entry source rows.

    ``failure_share``: when more than this share of one source's pages fail (fetch error,
    checksum mismatch, or a page that gave only errors), add a "site layout may have changed"
    error for that source. ``resolve_committees``: bodies whose records without a committee may
    take it from the same standard elsewhere in the snapshot (an ITU-T amendment takes the study
    group of its Recommendation); an item with no such evidence is reported, never guessed.
    """
    root = Path(path)
    manifest = read_manifest(root)
    snapshot = manifest.snapshot_id
    raw: list[tuple[str, str, dict[str, Any]]] = []
    errors: list[RecordError] = []
    sources: list[dict[str, Any]] = []
    pages: dict[str, int] = defaultdict(int)
    failed: dict[str, int] = defaultdict(int)
    used: set[str] = set()
    for entry in manifest.entries:
        if entry.kind in _BOOKKEEPING:
            continue
        location = entry.url or entry.path
        row = _source_row(entry, location)
        sources.append(row)
        pages[entry.source] += 1
        file, problem = _readable_entry(root, entry)
        if problem:
            errors.append(RecordError(entry.source, location, problem))
            failed[entry.source] += 1
            row["errors"] = 1
            continue
        assert file is not None
        try:
            out = _PARSERS[entry.kind](file, entry, entry.path)
        except Exception as exc:  # a parser bug must cost one entry, not the run
            out = ParseOutput(
                errors=[RecordError(entry.source, location, f"parser crashed: {exc}")]
            )
        for rec in out.records:
            rec.setdefault("fetched_at", entry.fetched_at)
            _close_past_question(rec, entry.fetched_at or manifest.created)
            where = str(rec.pop("source_location", "") or location)
            raw.append((entry.source, where, rec))
        errors.extend(out.errors)
        row.update(records=len(out.records), errors=len(out.errors), dropped=out.dropped)
        if "listed" in out.extra:
            row["listed"] = out.extra["listed"]
        if out.errors and not out.records and entry.kind not in ("wp_search",):
            failed[entry.source] += 1
        if out.records:
            used.add(entry.source)
    errors[:0] = _layout_alarms(pages, failed, failure_share, str(root))
    errors.extend(
        RecordError(
            p.get("source") or "snapshot", p.get("location") or str(root), p.get("reason") or ""
        )
        for p in manifest.problems
    )
    raw = merge_duplicate_projects(raw)
    _resolve_committees([r for _, _, r in raw], resolve_committees)
    items, item_errors = finalize_records(raw, snapshot)
    errors.extend(item_errors)
    committees = [i for i in items if i["kind"] == "committee"]
    others = [i for i in items if i["kind"] != "committee"]
    return ParsedInput(
        items=_frame(others),
        committees=_frame(committees),
        errors=errors,
        sources=sources,
        attribution=[ATTRIBUTION[s] for s in ("iso", "itu-t", "iec") if s in used],
    )
