"""Scrapers: fetch each body's public pages into an immutable raw snapshot.

``run_scrape(out_dir, bodies, period, base_urls, resume)`` writes ``out_dir/<body>/...`` and
``out_dir/manifest.json``. While it runs, every outcome (success or failure) is appended to
``out_dir/manifest.partial.jsonl`` at once, so an interrupted scrape loses nothing and
``resume=True`` skips what is already there. Conditional GET uses the newest earlier snapshot in
the same parent folder.

Discovery depends on pages nobody has seen live (the ITU-T listing, the IEC work programme):
when one of them yields nothing, the scraper records a *problem* naming the URL and what it
expected (kept in the manifest, reported by ``parse``) and takes a second route where there is
one. :func:`scrape` returns a per-body :class:`ScrapeReport`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

from pipeline.fetch.client import FetchResult, PoliteClient
from pipeline.fetch.params import FetchParams
from pipeline.sources import iec, itu_t
from pipeline.sources.snapshot import (
    MANIFEST,
    Manifest,
    ManifestEntry,
    entry_file,
    read_manifest,
    write_manifest,
)

__all__ = [
    "BODIES",
    "DEFAULT_BASE_URLS",
    "BodyReport",
    "ScrapeReport",
    "Scraper",
    "check_bodies",
    "run_scrape",
    "scrape",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URLS: dict[str, str] = {
    "itu-t": "https://www.itu.int/ITU-T/workprog/",
    "iso": "https://isopublicstorageprod.blob.core.windows.net/opendata/_latest/",
    "iec": "https://www.iec.ch/",
    "iec-webstore": "https://webstore-search-api.iec.ch/",
}
ISO_FILES = {
    "iso_deliverables": "iso_deliverables_metadata/json/iso_deliverables_metadata.jsonl",
    "iso_committees": "iso_technical_committees/json/iso_technical_committees.jsonl",
}
JOURNAL = "manifest.partial.jsonl"
BODIES: tuple[str, ...] = ("itu-t", "iso", "iec")


def check_bodies(names: Iterable[str]) -> list[str]:
    """``["ISO", " iec"]`` -> ``["iso", "iec"]``; raises :class:`ValueError` naming every
    unknown body, so a typo stops the scrape before the first request."""
    wanted = [n.strip().lower() for n in names if n and n.strip()]
    unknown = [n for n in wanted if n not in BODIES]
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise ValueError(f"unknown body {names} (known: {', '.join(BODIES)})")
    if not wanted:
        raise ValueError(f"no body given (known: {', '.join(BODIES)})")
    return list(dict.fromkeys(wanted))


class Progress(Protocol):
    """Where the scraper reports its progress (a rich bar in the CLI; nothing in tests)."""

    def expect(self, body: str, n: int) -> None:
        """``n`` more requests are now known to come for ``body``."""

    def done(self, body: str, ok: bool) -> None:
        """One request of ``body`` finished (``ok`` False when it failed)."""


@dataclass
class BodyReport:
    """One body's outcome: ``requests`` made (resumed ones included), ``failed`` among them,
    and ``problems`` (``(location, what)``: discovery pages that gave nothing, fallbacks)."""

    requests: int = 0
    failed: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def whole_failed(self) -> bool:
        """Every request failed (or none could be made): the body gave nothing."""
        return self.requests == 0 or self.failed == self.requests

    def summary(self) -> str:
        share = self.failed / self.requests if self.requests else 1.0
        text = f"{self.requests} requests, {self.failed} failed ({share:.0%})"
        if self.problems:
            text += f", {len(self.problems)} discovery problem(s)"
        return text


@dataclass
class ScrapeReport:
    """What :func:`scrape` did: the snapshot folder and a :class:`BodyReport` per body."""

    path: Path
    bodies: dict[str, BodyReport] = field(default_factory=dict)

    @property
    def failed_bodies(self) -> list[str]:
        return [b for b, r in self.bodies.items() if r.whole_failed]


def _key(method: str, url: str, params: dict[str, Any] | None = None) -> str:
    body = json.dumps((params or {}).get("json"), sort_keys=True) if params else ""
    return f"{method} {url} {body}"


def _previous_snapshot(out_dir: Path) -> dict[str, ManifestEntry]:
    """Entries of the newest earlier snapshot beside ``out_dir`` (by folder name), by key."""
    parent = out_dir.parent
    if not parent.is_dir():
        return {}
    candidates = sorted(
        p for p in parent.iterdir() if p.is_dir() and p != out_dir and (p / MANIFEST).is_file()
    )
    for cand in reversed(candidates):
        try:
            manifest = read_manifest(cand)
        except (OSError, ValueError):
            continue
        entries = {}
        for e in manifest.entries:
            # Confined like a replay: a 304 copies this file into the new snapshot, so a
            # path outside the earlier snapshot must never be followed.
            file = entry_file(cand, e.path)
            if file is not None and not e.error:
                e.path = str(file)  # absolute: it lives in the other snapshot
                entries[_key(e.method, e.url, e.params)] = e
        return entries
    return {}


class Scraper:
    """Fetch resources into one snapshot folder, journaling every outcome."""

    def __init__(
        self,
        out_dir: Path,
        client: PoliteClient,
        resume: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.client = client
        self.progress = progress
        self.reports: dict[str, BodyReport] = {}
        self.journal = out_dir / JOURNAL
        if (out_dir / MANIFEST).exists() and not resume:
            raise FileExistsError(f"{out_dir} is a finished snapshot (immutable); use a new folder")
        if out_dir.exists() and any(out_dir.iterdir()) and not resume:
            raise FileExistsError(f"{out_dir} is not empty; pass resume=True to continue it")
        out_dir.mkdir(parents=True, exist_ok=True)
        self.entries: dict[str, ManifestEntry] = {}
        if resume:
            for source in (out_dir / MANIFEST, self.journal):
                if source.name == MANIFEST and source.is_file():
                    for raw in json.loads(source.read_text("utf-8")).get("entries", []):
                        e = ManifestEntry.from_dict(raw)
                        self.entries[_key(e.method, e.url, e.params)] = e
                elif source.is_file():
                    for line in source.read_text("utf-8").splitlines():
                        if line.strip():
                            try:
                                e = ManifestEntry.from_dict(json.loads(line))
                            except ValueError:
                                continue  # a line cut by the interruption
                            self.entries[_key(e.method, e.url, e.params)] = e
        self.previous = _previous_snapshot(out_dir)

    def get(
        self,
        source: str,
        kind: str,
        url: str,
        rel: str,
        *,
        method: str = "GET",
        params: dict[str, Any] | None = None,
    ) -> Path | None:
        """Fetch ``url`` into ``rel`` (unless resume already has it); the stored file or None."""
        params = dict(params or {})
        key = _key(method, url, params)
        report = self.reports.setdefault(source, BodyReport())
        report.requests += 1
        done = self.entries.get(key)
        stored = entry_file(self.out_dir, done.path) if done and not done.error else None
        if stored is not None and stored.is_file():
            self._done(source, True)
            return stored
        prev = self.previous.get(key)
        result: FetchResult = self.client.fetch(
            url,
            self.out_dir / rel,
            method=method,
            json_body=params.get("json"),
            etag=prev.etag if prev else "",
            last_modified=prev.last_modified if prev else "",
            previous=prev.path if prev else None,
        )
        entry = ManifestEntry(
            path=rel if result.ok and result.path else "",
            source=source,
            kind=kind,
            url=url,
            method=method,
            params=params,
            status=result.status,
            fetched_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            etag=result.etag,
            last_modified=result.last_modified,
            sha256=result.sha256,
            size=result.size,
            error=result.error,
        )
        if result.not_modified:
            entry.params = {**params, "not_modified": True}
        self.entries[key] = entry
        with open(self.journal, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry.as_dict(), ensure_ascii=False) + "\n")
            fh.flush()
        self._done(source, not result.error)
        if result.error:
            report.failed += 1
            log.warning("%s %s: %s", method, url, result.error)
            return None
        return self.out_dir / rel

    def _done(self, source: str, ok: bool) -> None:
        if self.progress is not None:
            self.progress.done(source, ok)

    def expect(self, source: str, n: int) -> None:
        """Announce ``n`` more requests for ``source`` (for the progress bar's time left)."""
        if self.progress is not None and n > 0:
            self.progress.expect(source, n)

    def problem(self, source: str, location: str, what: str) -> None:
        """Record a discovery problem: a page that gave nothing the scraper could follow."""
        self.reports.setdefault(source, BodyReport()).problems.append((location, what))
        log.error("%s: %s (%s)", source, what, location)

    def finish(self, note: str = "") -> Path:
        manifest = Manifest(
            snapshot_id=self.out_dir.name,
            tool="sdo-overlap scrape",
            note=note,
            entries=list(self.entries.values()),
            problems=[
                {"source": body, "location": where, "reason": f"scrape: {what}"}
                for body, report in self.reports.items()
                for where, what in report.problems
            ],
        )
        write_manifest(self.out_dir, manifest)
        self.journal.unlink(missing_ok=True)
        return self.out_dir


def _search_url(base: str, **query: Any) -> str:
    return base.rstrip("/") + "/wp_search.aspx" + ("?" + urlencode(query) if query else "")


def _listed(path: Path, url: str) -> list[itu_t.ListingRow]:
    return itu_t.parse_wp_search(path.read_bytes(), url).rows


def _study_group(s: Scraper, base: str, sg: itu_t.Option, period: str) -> None:
    """The SG's mandate: its ``wp_block`` (the SG's ISN) first, the SG's "about" page when that
    block does not read as a study group page."""
    sg_name, _, title = sg.text.partition(":")
    params = {"sg": sg_name.strip(), "title": title.strip(), "period": period}
    url = base.rstrip("/") + f"/wp_block.aspx?isn={sg.value}"
    block = s.get("itu-t", "itu_sg", url, f"itu-t/sg/isn-{sg.value}.html", params=params)
    if block is not None and not itu_t.parse_study_group(block.read_bytes(), url, **params).errors:
        return
    parts = urlsplit(base)
    number = params["sg"].upper().removeprefix("SG").strip()
    about = f"{parts.scheme}://{parts.netloc}/en/ITU-T/about/groups/{period}/Pages/sg{number}.aspx"
    s.problem("itu-t", url, f"no study group mandate on the SG block page; trying {about}")
    s.expect("itu-t", 1)
    s.get("itu-t", "itu_sg", about, f"itu-t/sg/sg{number}.html", params=params)


def _question_items(
    s: Scraper, base: str, listing_url: str, listing: Path | None, block: Path | None
) -> list[itu_t.ListingRow]:
    """Work items of one Question: the listing's rows, plus (when the listing gave none, or is
    paged and only its first page was read) the work item links on the Question's own page and
    on the work programme page it links to. Either case is recorded as a problem."""
    page = itu_t.parse_wp_search(listing.read_bytes(), listing_url) if listing else None
    rows = page.rows if page is not None else []
    if page is not None and page.paged:
        s.problem(
            "itu-t",
            listing_url,
            "listing is paged (postback pager); only its first page is read, so the links on "
            "the Question page are added",
        )
    elif rows or block is None:
        return rows
    else:
        s.problem(
            "itu-t",
            listing_url,
            "listing shows no wp_item.aspx?isn= links (expected a tabular view of the "
            "Question's work items); falling back to the links on the Question page",
        )
    if block is None:
        return rows
    seen = {r.isn for r in rows}
    rows += [r for r in _listed(block, str(block)) if r.isn not in seen]
    tree_links = itu_t.work_programme_links(block.read_bytes())
    for href in tree_links[:1]:
        url = urljoin(base, href)
        s.expect("itu-t", 1)
        name = hashlib.sha256(url.encode()).hexdigest()[:12]
        linked = s.get("itu-t", "wp_search", url, f"itu-t/search/wp-{name}.html")
        if linked is not None:
            seen = {r.isn for r in rows}
            rows += [r for r in _listed(linked, url) if r.isn not in seen]
    return rows


def _scrape_question(
    s: Scraper, base: str, sp: str, sg: Any, q: Any, period: str, limit: int | None
) -> int:
    """One Question: its listing and wp_block page, then its work items (at most ``limit``).
    Returns how many work item pages were requested."""
    qname = q.text.split(":")[0].strip()
    hints = {"question": qname, "period": period}
    listing_url = _search_url(
        base,
        isn_sp=sp,
        isn_sg=sg.value,
        isn_qu=q.value,
        isn_status="-1,1,3,7",
        details=1,
        view="tab",
    )
    listing = s.get(
        "itu-t", "wp_search", listing_url, f"itu-t/search/q-{q.value}.html", params=hints
    )
    block = s.get(
        "itu-t",
        "wp_block",
        base.rstrip("/") + f"/wp_block.aspx?isn={q.value}",
        f"itu-t/wp_block/isn-{q.value}.html",
        params=hints,
    )
    rows = _question_items(s, base, listing_url, listing, block)
    if limit is not None:
        rows = rows[:limit]
    s.expect("itu-t", len(rows))
    for row in rows:
        s.get(
            "itu-t",
            "wp_item",
            base.rstrip("/") + f"/wp_item.aspx?isn={row.isn}",
            f"itu-t/wp_item/isn-{row.isn}.html",
            params={"question": qname},
        )
    return len(rows)


def scrape_itu_t(s: Scraper, base: str, period: str, limit: int | None = None) -> None:
    """wp_search dropdowns -> per SG its mandate, per Question its listing and wp_block page ->
    every wp_item. A dropdown or listing that gives nothing is recorded as a problem."""
    s.expect("itu-t", 2)
    index_url = _search_url(base)
    first = s.get("itu-t", "wp_search", index_url, "itu-t/search/index.html")
    if first is None:
        return
    page = itu_t.parse_wp_search(first.read_bytes(), index_url)
    sp = next((o.value for o in page.periods if o.text.startswith(period)), "")
    if not sp:
        s.problem(
            "itu-t",
            index_url,
            f"no study period {period!r} in the page's dropdowns (expected a <select> of "
            f"periods such as '2025-2028'; found {len(page.periods)} period option(s))",
        )
        return
    sp_url = _search_url(base, isn_sp=sp)
    sp_page = s.get("itu-t", "wp_search", sp_url, f"itu-t/search/sp-{sp}.html")
    if sp_page is None:
        return
    groups = itu_t.parse_wp_search(sp_page.read_bytes(), sp_url).study_groups
    if not groups:
        s.problem("itu-t", sp_url, "no study group options (expected 'SG17: ...' entries)")
        return
    s.expect("itu-t", 2 * len(groups))
    n_items = 0
    for sg in groups:
        _study_group(s, base, sg, period)
        sg_url = _search_url(base, isn_sp=sp, isn_sg=sg.value)
        sg_page = s.get(
            "itu-t",
            "wp_search",
            sg_url,
            f"itu-t/search/sg-{sg.value}.html",
            params={"sg": sg.text.split(":")[0]},
        )
        if sg_page is None:
            continue
        questions = itu_t.parse_wp_search(sg_page.read_bytes(), sg_url).questions
        if not questions:
            s.problem("itu-t", sg_url, "no Question options (expected 'Q1/17: ...' entries)")
        s.expect("itu-t", 2 * len(questions))
        for q in questions:
            left = None if limit is None else max(0, limit - n_items)
            n_items += _scrape_question(s, base, sp, sg, q, period, left)
            if limit is not None and n_items >= limit:
                return


def scrape_iso(s: Scraper, base: str) -> None:
    """The two Open Data JSONL files, streamed to disk (conditional GET against the last run)."""
    s.expect("iso", len(ISO_FILES))
    for kind, rel in ISO_FILES.items():
        s.get("iso", kind, base.rstrip("/") + "/" + rel, f"iso/{Path(rel).name}")


def search_body(number: str) -> dict[str, Any]:
    """The webstore search request for one publication number (sources.md §3.2)."""
    return {
        "query": number,
        "mode": "FULL",
        "language": "en",
        "validOnly": False,
        "showTrf": False,
        "from": 0,
        "size": 40,
        "terms": [],
        "dateRanges": [],
        "publicationIds": [],
    }


def _committee_numbers(s: Scraper, root: str, org: str, committee: str) -> list[str]:
    """Fallback route to a committee's projects: the publication numbers of its publications
    list (page 22 and its SpreadsheetML export); the webstore lifecycle of each publication
    holds the projects in development."""
    s.expect("iec", 1)
    pubs_url = iec.dashboard_url(org, 22, root)
    pubs = s.get(
        "iec", "iec_publications", pubs_url, f"iec/publications/{org}.html",
        params={"committee": committee},
    )  # fmt: skip
    link = iec.publications_export_link(pubs.read_bytes(), pubs_url) if pubs else ""
    if not link:
        if pubs is not None:
            s.problem("iec", pubs_url, "no export link on the publications page (div.dash-thread)")
        return []
    s.expect("iec", 1)
    export = s.get(
        "iec", "iec_publications", link, f"iec/publications/{org}.xml",
        params={"committee": committee},
    )  # fmt: skip
    if export is None:
        return []
    refs = iec.parse_publications_export(export.read_bytes())
    if not refs:
        s.problem("iec", link, "publications export lists no references (expected SpreadsheetML)")
    return [n for n in dict.fromkeys(iec.search_number(r) for r in refs) if n]


def scrape_iec(
    s: Scraper,
    base: str,
    search_base: str,
    committees: Iterable[str] | None = None,
    max_searches: int = 60,
) -> None:
    """Per committee: dashboard (page 7, SyC/JSyC page 186), work programme (page 23), and one
    webstore search per publication number of its projects (the lifecycle holds the stage).

    A work programme without projects is a problem (its layout is unverified), and the
    committee's publications list gives the numbers instead. ``max_searches`` caps the searches
    per committee. Proposals (``PNW TS 57-2235``) have no publication number: no search.
    """
    root = base.rstrip("/")
    for committee in committees or sorted(iec.FSP_ORG_IDS):
        org = iec.FSP_ORG_IDS.get(committee)
        if not org:
            s.problem("iec", committee, "no FSP_ORG_ID known for this committee; skipped")
            continue
        s.expect("iec", 2)
        s.get(
            "iec",
            "iec_dashboard",
            iec.dashboard_url(org, iec.dashboard_page(committee), root),
            f"iec/dashboard/{org}.html",
            params={"committee": committee},
        )
        wp_url = iec.dashboard_url(org, 23, root)
        wp = s.get(
            "iec",
            "iec_work_programme",
            wp_url,
            f"iec/work_programme/{org}.html",
            params={"committee": committee},
        )
        numbers: list[str] = []
        if wp is not None:
            for rec in iec.parse_work_programme(wp.read_bytes(), wp_url, committee).records:
                number = iec.search_number(rec["reference"])
                if number and number not in numbers:
                    numbers.append(number)
            if not numbers:
                s.problem(
                    "iec",
                    wp_url,
                    "work programme gave no project with a publication number (expected a "
                    "table with 'reference' and 'title' columns); falling back to the "
                    "committee's publications list and the webstore search",
                )
                numbers = _committee_numbers(s, root, org, committee)
        numbers = numbers[:max_searches]
        s.expect("iec", len(numbers))
        for number in numbers:
            s.get(
                "iec",
                "iec_search",
                search_base.rstrip("/") + "/api/search",
                f"iec/search/{org}-{number}.json",
                method="POST",
                params={"committee": committee, "number": number, "json": search_body(number)},
            )


def scrape(
    out_dir: str | Path,
    bodies: Iterable[str] = BODIES,
    period: str = "2025-2028",
    base_urls: dict[str, str] | None = None,
    resume: bool = False,
    *,
    client: PoliteClient | None = None,
    limit: int | None = None,
    iec_committees: Iterable[str] | None = None,
    progress: Progress | None = None,
    params: FetchParams | None = None,
) -> ScrapeReport:
    """Scrape ``bodies`` into the snapshot folder ``out_dir``; a report per body.

    ``base_urls`` overrides :data:`DEFAULT_BASE_URLS` per body (``{"iso": "http://127.0.0.1:8080"}``);
    the client may contact only their hosts. ``limit`` caps ITU-T work item pages (for trials).
    ``params``: politeness, retries and limits (``[fetch]``); used when no ``client`` is given.
    Unknown bodies raise :class:`ValueError` before anything is fetched.
    """
    names = check_bodies(bodies)
    fp = params or FetchParams()
    out = Path(out_dir)
    bases = {**DEFAULT_BASE_URLS, **(base_urls or {})}
    own_client = client is None
    if client is None:
        hosts = {urlsplit(u).hostname or "" for u in bases.values()}
        client = PoliteClient(hosts, **fp.client_options())
    scraper = Scraper(out, client, resume=resume, progress=progress)
    try:
        for body in names:
            scraper.reports.setdefault(body, BodyReport())
            if body == "itu-t":
                scrape_itu_t(scraper, bases["itu-t"], period, limit)
            elif body == "iso":
                scrape_iso(scraper, bases["iso"])
            else:
                scrape_iec(
                    scraper,
                    bases["iec"],
                    bases["iec-webstore"],
                    iec_committees,
                    max_searches=fp.iec_max_searches,
                )
    finally:
        if own_client:
            client.close()
    path = scraper.finish(note=f"bodies={','.join(names)} period={period}")
    return ScrapeReport(path, {b: scraper.reports[b] for b in names})


def run_scrape(out_dir: str | Path, *args: Any, **kwargs: Any) -> Path:
    """:func:`scrape`, returning only the snapshot folder."""
    return scrape(out_dir, *args, **kwargs).path
