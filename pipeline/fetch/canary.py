"""``check-sources``: a canary that fetches one page of each kind per body and parses it.

The first thing to run on a new machine with network access, and before each scheduled batch:
it says, page kind by page kind, whether the live site still looks like what the parsers expect
(``ok``), has changed (``drift``: a page came back but did not parse to the expected fields, or
its URL is gone), or could not be looked at (``blocked``: robots.txt, 401/403/429, 5xx, no
connection). About a dozen requests through the same :class:`PoliteClient` as the scraper.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from pipeline.fetch.client import FetchResult, PoliteClient
from pipeline.fetch.scrape import DEFAULT_BASE_URLS, ISO_FILES, search_body
from pipeline.sources import iec, iso, itu_t
from pipeline.sources.common import ParseOutput

__all__ = ["CanaryRow", "Probe", "exit_code", "probes", "render", "run_canary"]

# One probe per page kind; the ids are real ones named in sources.md (TC 57 = 1273, SyC AAL =
# 11827, 2025-2028 = 9677, SG12 = 9683, Q1/12 = 10694, SG20 block = 9689, items 21308/10737).
ISO_SLICE = 256 * 1024  # bytes of each Open Data JSONL to read (a Range request)
_BLOCKED_STATUS = {401, 403, 407, 429, 451}
_WANT = {
    "work_item": ("title", "committee", "group", "stage"),
    "question": ("title", "committee", "group"),
    "committee": ("committee", "title", "text"),
    "project": ("reference", "title", "stage"),
    "publication": ("reference", "title"),
}

Check = Callable[[bytes, str], tuple[dict[str, Any], str]]


@dataclass(frozen=True)
class Probe:
    """One page to fetch and how to judge it: ``check(content, url) -> (fields, problem)``
    where ``problem`` is ``""`` when the page parsed to what the scraper relies on."""

    body: str
    kind: str
    url: str
    check: Check
    method: str = "GET"
    json_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class CanaryRow:
    """The verdict on one probe: ``ok`` / ``drift`` / ``blocked``, and why."""

    body: str
    kind: str
    url: str
    status: int | None
    fields: dict[str, Any]
    verdict: str
    note: str = ""


def _records(out: ParseOutput, kind: str, need: int = 1) -> tuple[dict[str, Any], str]:
    """Judge a parse: at least ``need`` records, the first with every field of its kind."""
    if len(out.records) < need:
        why = out.errors[0].reason if out.errors else "no records"
        return {"records": len(out.records)}, f"expected >= {need} {kind} record(s): {why}"
    first = out.records[0]
    wanted = _WANT.get(str(first.get("kind")), ("title",))
    fields: dict[str, Any] = {"records": len(out.records)}
    fields.update({k: first.get(k, "") for k in wanted})
    missing = [k for k in wanted if not first.get(k)]
    return fields, (f"missing {', '.join(missing)}" if missing else "")


def _page(parse: Callable[..., ParseOutput], kind: str, **hints: str) -> Check:
    return lambda content, url: _records(parse(content, url, **hints), kind)


def _listing(want: str) -> Check:
    """``wp_search``: dropdown options (``want="periods"``) or listed work items (``"rows"``)."""

    def check(content: bytes, url: str) -> tuple[dict[str, Any], str]:
        page = itu_t.parse_wp_search(content, url)
        fields = {
            "periods": len(page.periods),
            "study_groups": len(page.study_groups),
            "questions": len(page.questions),
            "rows": len(page.rows),
        }
        return fields, ("" if fields[want] else f"no {want.replace('_', ' ')} found")

    return check


def _jsonl_slice(parse: Callable[..., ParseOutput], kind: str) -> Check:
    """The complete lines of the first slice of a large JSONL file (the last one is cut)."""

    def check(content: bytes, url: str) -> tuple[dict[str, Any], str]:
        lines = content.decode("utf-8", errors="replace").splitlines()[:-1]
        return _records(parse(lines, url), kind)

    return check


def probes(base_urls: dict[str, str] | None = None, period: str = "2025-2028") -> list[Probe]:
    """The probes for each body, on ``base_urls`` (defaults: the live sites)."""
    b = {**DEFAULT_BASE_URLS, **(base_urls or {})}
    itu = b["itu-t"].rstrip("/")
    root = b["iec"].rstrip("/")
    isob = b["iso"].rstrip("/")
    listing = (
        f"{itu}/wp_search.aspx?isn_sp=9677&isn_sg=9683&isn_qu=10694"
        "&isn_status=-1,1,3,7&details=1&view=tab"
    )
    rng = {"Range": f"bytes=0-{ISO_SLICE - 1}"}
    return [
        Probe("itu-t", "wp_search (dropdowns)", f"{itu}/wp_search.aspx", _listing("periods")),
        Probe("itu-t", "wp_search (listing)", listing, _listing("rows")),
        Probe(
            "itu-t", "wp_item", f"{itu}/wp_item.aspx?isn=21308",
            _page(itu_t.parse_wp_item, "work item"),
        ),
        Probe(
            "itu-t", "wp_block (Question)", f"{itu}/wp_block.aspx?isn=10737",
            # No Question hint: the live page must still show its own Question and title.
            _page(itu_t.parse_wp_block, "question"),
        ),
        Probe(
            "itu-t", "itu_sg (SG block)", f"{itu}/wp_block.aspx?isn=9689",
            _page(itu_t.parse_study_group, "study group", sg="SG20", period=period),
        ),
        Probe(
            "iso", "iso_deliverables", f"{isob}/{ISO_FILES['iso_deliverables']}",
            _jsonl_slice(iso.parse_deliverables_jsonl, "deliverable"), headers=rng,
        ),
        Probe(
            "iso", "iso_committees", f"{isob}/{ISO_FILES['iso_committees']}",
            _jsonl_slice(iso.parse_committees_jsonl, "committee"), headers=rng,
        ),
        Probe(
            "iec", "iec_dashboard (TC, page 7)", iec.dashboard_url("1273", 7, root),
            _page(iec.parse_dashboard, "committee"),
        ),
        Probe(
            "iec", "iec_dashboard (SyC, page 186)", iec.dashboard_url("11827", 186, root),
            _page(iec.parse_dashboard, "committee"),
        ),
        Probe(
            "iec", "iec_work_programme (page 23)", iec.dashboard_url("1273", 23, root),
            _page(iec.parse_work_programme, "project", committee="IEC TC 57"),
        ),
        Probe(
            "iec", "iec_search", b["iec-webstore"].rstrip("/") + "/api/search",
            _page(iec.parse_search_json, "publication", number="27001"),
            method="POST", json_body=search_body("27001"),
        ),
    ]  # fmt: skip


def _verdict(result: FetchResult) -> tuple[str, str]:
    """``("blocked" | "drift" | "", note)`` for a fetch that gave no usable body."""
    error = result.error
    if result.status in _BLOCKED_STATUS:
        return "blocked", error
    if result.status is not None and 500 <= result.status < 600:
        return "blocked", f"{error} (site trouble, not judged)"
    if result.status is not None and result.status >= 400:
        return "drift", f"{error} (the page's URL may have changed)"
    return "blocked", error


def run_canary(
    client: PoliteClient,
    base_urls: dict[str, str] | None = None,
    bodies: tuple[str, ...] = ("itu-t", "iso", "iec"),
    period: str = "2025-2028",
) -> list[CanaryRow]:
    """Fetch and judge every probe of ``bodies``; one :class:`CanaryRow` per probe."""
    rows: list[CanaryRow] = []
    with tempfile.TemporaryDirectory(prefix="sdo-canary-") as tmp:
        for i, probe in enumerate(p for p in probes(base_urls, period) if p.body in bodies):
            result = client.fetch(
                probe.url,
                Path(tmp) / f"{i}.body",
                method=probe.method,
                json_body=probe.json_body,
                headers=probe.headers,
            )
            row = CanaryRow(probe.body, probe.kind, probe.url, result.status, {}, "ok")
            if not result.ok or result.path is None:
                row.verdict, row.note = _verdict(result)
            else:
                try:
                    row.fields, problem = probe.check(result.path.read_bytes(), probe.url)
                except Exception as exc:  # a parser crash on a live page is drift too
                    row.fields, problem = {}, f"parser crashed: {exc}"
                if problem:
                    row.verdict, row.note = "drift", problem
            rows.append(row)
    return rows


def _short(value: Any, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def render(rows: list[CanaryRow], console: Console) -> None:
    """Print the table: page kind | URL | status | parsed fields | verdict."""
    table = Table(title="check-sources", show_lines=False)
    for name in ("page kind", "URL", "status", "parsed fields", "verdict"):
        table.add_column(name, overflow="fold")
    style = {"ok": "green", "drift": "bold red", "blocked": "yellow"}
    for r in rows:
        fields = ", ".join(f"{k}={_short(v)}" for k, v in r.fields.items())
        host = urlsplit(r.url).netloc
        table.add_row(
            f"{r.body}: {r.kind}",
            _short(r.url.split(host, 1)[-1] if host else r.url, 60),
            str(r.status or "-"),
            fields + (f"\n{r.note}" if r.note else ""),
            f"[{style[r.verdict]}]{r.verdict}[/]",
        )
    console.print(table)


def exit_code(rows: list[CanaryRow]) -> int:
    """1 when any page drifted; 2 when nothing could be looked at (all blocked); else 0."""
    if any(r.verdict == "drift" for r in rows):
        return 1
    if rows and all(r.verdict == "blocked" for r in rows):
        return 2
    return 0
