"""Scrapers: fetch each body's public pages into an immutable raw snapshot.

``run_scrape(out_dir, bodies, period, base_urls, resume)`` writes ``out_dir/<body>/...`` and
``out_dir/manifest.json``. While it runs, every outcome (success or failure) is appended to
``out_dir/manifest.partial.jsonl`` at once, so an interrupted scrape loses nothing and
``resume=True`` skips what is already there. Conditional GET uses the newest earlier snapshot in
the same parent folder.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from pipeline.fetch.client import FetchResult, PoliteClient
from pipeline.sources import iec, itu_t
from pipeline.sources.snapshot import MANIFEST, Manifest, ManifestEntry, write_manifest

__all__ = ["DEFAULT_BASE_URLS", "Scraper", "run_scrape"]

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
            data = json.loads((cand / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        entries = {}
        for raw in data.get("entries", []):
            e = ManifestEntry.from_dict(raw)
            if e.path and not e.error:
                e.path = str(cand / e.path)  # absolute: it lives in the other snapshot
                entries[_key(e.method, e.url, e.params)] = e
        return entries
    return {}


class Scraper:
    """Fetch resources into one snapshot folder, journaling every outcome."""

    def __init__(self, out_dir: Path, client: PoliteClient, resume: bool = False) -> None:
        self.out_dir = out_dir
        self.client = client
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
        done = self.entries.get(key)
        if done and not done.error and done.path and (self.out_dir / done.path).is_file():
            return self.out_dir / done.path
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
        if result.error:
            log.warning("%s %s: %s", method, url, result.error)
            return None
        return self.out_dir / rel

    def finish(self, note: str = "") -> Path:
        manifest = Manifest(
            snapshot_id=self.out_dir.name,
            tool="sdo-overlap scrape",
            note=note,
            entries=list(self.entries.values()),
        )
        write_manifest(self.out_dir, manifest)
        self.journal.unlink(missing_ok=True)
        return self.out_dir


def _search_url(base: str, **query: Any) -> str:
    return base.rstrip("/") + "/wp_search.aspx" + ("?" + urlencode(query) if query else "")


def scrape_itu_t(s: Scraper, base: str, period: str, limit: int | None = None) -> None:
    """wp_search dropdowns -> per-Question listings -> every wp_item and wp_block page."""
    first = s.get("itu-t", "wp_search", _search_url(base), "itu-t/search/index.html")
    if first is None:
        return
    page = itu_t.parse_wp_search(first.read_bytes(), str(first))
    sp = next((o.value for o in page.periods if o.text.startswith(period)), "")
    if not sp:
        log.warning("ITU-T: study period %s not in the dropdown", period)
        return
    sp_page = s.get(
        "itu-t", "wp_search", _search_url(base, isn_sp=sp), f"itu-t/search/sp-{sp}.html"
    )
    if sp_page is None:
        return
    groups = itu_t.parse_wp_search(sp_page.read_bytes(), "").study_groups
    n_items = 0
    for sg in groups:
        sg_page = s.get(
            "itu-t",
            "wp_search",
            _search_url(base, isn_sp=sp, isn_sg=sg.value),
            f"itu-t/search/sg-{sg.value}.html",
            params={"sg": sg.text.split(":")[0]},
        )
        if sg_page is None:
            continue
        for q in itu_t.parse_wp_search(sg_page.read_bytes(), "").questions:
            qname = q.text.split(":")[0].strip()
            listing = s.get(
                "itu-t",
                "wp_search",
                _search_url(
                    base,
                    isn_sp=sp,
                    isn_sg=sg.value,
                    isn_qu=q.value,
                    isn_status="-1,1,3,7",
                    details=1,
                    view="tab",
                ),
                f"itu-t/search/q-{q.value}.html",
                params={"question": qname},
            )
            s.get(
                "itu-t",
                "wp_block",
                base.rstrip("/") + f"/wp_block.aspx?isn={q.value}",
                f"itu-t/wp_block/isn-{q.value}.html",
                params={"question": qname},
            )
            if listing is None:
                continue
            for row in itu_t.parse_wp_search(listing.read_bytes(), "").rows:
                if limit is not None and n_items >= limit:
                    return
                s.get(
                    "itu-t",
                    "wp_item",
                    base.rstrip("/") + f"/wp_item.aspx?isn={row.isn}",
                    f"itu-t/wp_item/isn-{row.isn}.html",
                    params={"question": qname},
                )
                n_items += 1


def scrape_iso(s: Scraper, base: str) -> None:
    """The two Open Data JSONL files, streamed to disk (conditional GET against the last run)."""
    for kind, rel in ISO_FILES.items():
        s.get("iso", kind, base.rstrip("/") + "/" + rel, f"iso/{Path(rel).name}")


def scrape_iec(
    s: Scraper, base: str, search_base: str, committees: Iterable[str] | None = None
) -> None:
    """Per committee: dashboard (page 7), work programme (page 23), and one webstore search per
    project number found in the work programme (its lifecycle holds the project's stage)."""
    for committee in committees or sorted(iec.FSP_ORG_IDS):
        org = iec.FSP_ORG_IDS.get(committee)
        if not org:
            continue
        root = base.rstrip("/")
        s.get(
            "iec",
            "iec_dashboard",
            iec.dashboard_url(org, 7, root),
            f"iec/dashboard/{org}.html",
            params={"committee": committee},
        )
        wp = s.get(
            "iec",
            "iec_work_programme",
            iec.dashboard_url(org, 23, root),
            f"iec/work_programme/{org}.html",
            params={"committee": committee},
        )
        if wp is None:
            continue
        numbers = []
        for rec in iec.parse_work_programme(wp.read_bytes(), "", committee).records:
            m = re.search(r"\d{4,5}(?:-\d+)*", rec["reference"])
            if m and m.group(0) not in numbers:
                numbers.append(m.group(0))
        for number in numbers:
            query = {
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
            s.get(
                "iec",
                "iec_search",
                search_base.rstrip("/") + "/api/search",
                f"iec/search/{org}-{number}.json",
                method="POST",
                params={"committee": committee, "json": query},
            )


def run_scrape(
    out_dir: str | Path,
    bodies: Iterable[str] = ("itu-t", "iso", "iec"),
    period: str = "2025-2028",
    base_urls: dict[str, str] | None = None,
    resume: bool = False,
    *,
    client: PoliteClient | None = None,
    limit: int | None = None,
    iec_committees: Iterable[str] | None = None,
) -> Path:
    """Scrape ``bodies`` into the snapshot folder ``out_dir`` and return it.

    ``base_urls`` overrides :data:`DEFAULT_BASE_URLS` per body (``{"iso": "http://127.0.0.1:8080"}``);
    the client may contact only their hosts. ``limit`` caps ITU-T work item pages (for trials).
    """
    out = Path(out_dir)
    bases = {**DEFAULT_BASE_URLS, **(base_urls or {})}
    own_client = client is None
    if client is None:
        hosts = {urlsplit(u).hostname or "" for u in bases.values()}
        client = PoliteClient(hosts)
    scraper = Scraper(out, client, resume=resume)
    try:
        for body in bodies:
            if body == "itu-t":
                scrape_itu_t(scraper, bases["itu-t"], period, limit)
            elif body == "iso":
                scrape_iso(scraper, bases["iso"])
            elif body == "iec":
                scrape_iec(scraper, bases["iec"], bases["iec-webstore"], iec_committees)
            else:
                raise ValueError(f"unknown body {body!r} (itu-t, iso, iec)")
    finally:
        if own_client:
            client.close()
    return scraper.finish(note=f"bodies={','.join(bodies)} period={period}")
