#!/usr/bin/env python
"""Build ``data/raw/sample/``: the shared real sample, stored in each source's native layout.

    python scripts/build_sample_snapshot.py [--source ../shared/data/sample] [--out data/raw/sample]

Rerunnable and deterministic (same input -> same bytes). ISO records stay Open Data JSONL;
IEC publications become webstore-search-like JSON (one response per committee) plus the
committee records; ITU-T work items and Questions become HTML pages in the Work Programme's
layout (sources.md §1.2/§1.4) **rebuilt from the real values** (each page says so in a comment
header); ITU-T Recommendations stay JSONL records. Nothing here is invented: every value is
copied from the sample, an empty field stays empty (omitted from the page).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.references import standard_keys  # noqa: E402
from pipeline.sources.snapshot import Manifest, ManifestEntry, write_manifest  # noqa: E402
from pipeline.utils.io import atomic_write_bytes, sha256_bytes  # noqa: E402

ISO_BASE = "https://isopublicstorageprod.blob.core.windows.net/opendata/_latest/"
IEC_SEARCH = "https://webstore-search-api.iec.ch/api/search"
SPAN = "ctl00_ContentPlaceHolder1_rpt_main_ctl00_"
REBUILT = (
    "<!-- sdo-overlap sample snapshot: REBUILT page, not a capture. The layout follows the ITU-T\n"
    "     Work Programme as documented in sources.md {section}; every value was copied from the\n"
    "     real page ({url}) via shared/data/sample/{file}. -->\n"
)
README = """# Sample snapshot (real records, rebuilt layouts)

A small raw snapshot that `parse_snapshot("data/raw/sample")` reads like a live one. Built by
`scripts/build_sample_snapshot.py` from the project's shared real sample; rerun it to rebuild.

- `itu-t/wp_item/*.html` (kind `wp_item`): ITU-T work items. Pages **rebuilt** in the
  `wp_item.aspx` layout (label rows + span ids, sources.md §1.2), filled with the real values
  copied from each item's public page.
- `itu-t/wp_block/*.html` (`wp_block`): ITU-T Question texts. Pages **rebuilt** in the
  `wp_block.aspx` layout (breadcrumb, title, numbered sections, sources.md §1.4), real values.
- `itu-t/recommendations.jsonl` (`itu_recommendation_records`): ITU-T Recommendation summary
  records, as copied.
- `itu-t/study_groups.jsonl` (`itu_sg_records`): one committee record per ITU-T study group
  named in the sample, so the SG side of committee ranking has a profile. **Rebuilt
  summaries**: the sample holds no SG mandate, so each record's text is the list of the real
  titles of that SG's Questions in the sample (or of its work items), and its title is only
  "ITU-T Study Group N"; `text_source` and `title_source` in each record say so. A live scrape
  reads the mandate and lead study group roles from the SG's own page instead.
- `iso/iso_deliverables_metadata.jsonl` (`iso_deliverables`): ISO Open Data deliverables, a
  subset in Open Data's JSONL layout.
- `iso/iso_technical_committees.jsonl` (`iso_committees`): ISO Open Data committees
  (simplified layout: liaisons as lists of names).
- `iec/search/*.json` (`iec_search`): IEC publications and projects, **rebuilt** as
  webstore-search-API-like responses (`primary.hits.hits[]._source`, one per committee;
  `params.committee` in the manifest says which). Extra `_source` fields that the real API does
  not have: `stage`, `forecast_pub_date`, `url` (the page the record came from).
- `iec/committees.jsonl` (`iec_committee_records`): IEC committee titles and scopes, as copied.

Rebuilt pages say so in a comment header. `fetched_at` is empty: the capture dates are not
known record by record. Caveats of the data (from the shared sample's README): many ITU-T texts
are page excerpts and may stop mid-sentence (`text_truncated`); 60 ITU-T work items lack their
study group on the captured page and are reported, not guessed; study periods are mixed; some
IEC scopes come from secondary copies (their page is kept in `source_page`, never in `url`).

## Attribution

Contains information from ISO Open Data, made available under the ODC Attribution License
(ODC-By 1.0). ITU-T material from the ITU-T Work Programme and Recommendation pages (itu.int).
IEC material from iec.ch and webstore.iec.ch.
"""


def esc(value: Any) -> str:
    return html.escape(str(value or ""), quote=True)


def multiline(value: str) -> str:
    return "<br>\n".join(esc(line) for line in str(value or "").split("\n"))


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "x"


def breadcrumb(period: str, sg: str, question: str) -> str:
    parts = [f"[{p}]" for p in (period, sg, question) if p]
    return " : ".join(parts)


_WP_ROWS = [
    ("Work item", "work_item", "lbl_status"),
    ("Subject/title", "title", "lbl_subject"),
    ("Status", "status", "Label4"),
    ("Approval process", "approval_process", "lbl_approval_process"),
    ("Type of work item", "work_item_type", "lbl_type_of_work_item"),
    ("Version", "version", "Label1"),
    ("Equivalent number", "equivalent_number", "lbl_iso_number"),
    ("Timing", "timing", "lbl_timing"),
    ("Liaison", "liaison", "Label3"),
    ("Supporting members", "supporting_members", "Label6"),
    ("Summary", "summary", "lbl_summary"),
    ("Comment", "comment", "lbl_comment"),
    ("First registration in the WP", "first_registration", "lbl_first_registration_date"),
    ("Last update", "last_update", "Label5"),
]


def wp_item_page(rec: dict[str, Any]) -> str:
    rows = []
    for label, key, span in _WP_ROWS:
        value = rec.get(key) or ""
        if not value:
            continue  # the captured page did not show it
        body = multiline(value) if key in ("summary", "comment") else esc(value)
        rows.append(
            f'<tr><td class="lbl">{label}:</td><td><span id="{SPAN}{span}">{body}</span></td></tr>'
        )
    crumb = breadcrumb(rec["study_period"], rec["sg"], rec["question"])
    crumb_html = f'<span id="{SPAN}lbl_full_path">{esc(crumb)}</span>\n' if crumb else ""
    return (
        "<!DOCTYPE html>\n"
        + REBUILT.format(
            section="§1.2 (wp_item.aspx)", url=rec["url"], file="itu_t_work_items.jsonl"
        )
        + '<html><head><meta charset="utf-8"><title>ITU-T work programme</title></head><body>\n'
        + '<form method="post" id="aspnetForm">\n<h1>ITU-T work programme</h1>\n'
        + crumb_html
        + "<p>[Declared patent(s)] - [Associated work]</p>\n"
        + f'<table id="{SPAN}tbl_item">\n'
        + "\n".join(rows)
        + "\n</table>\n</form>\n</body></html>\n"
    )


def wp_block_page(rec: dict[str, Any]) -> str:
    crumb = breadcrumb(rec["study_period"], rec["sg"], rec["question"])
    crumb_html = (
        f'<span id="ctl00_ContentPlaceHolder1_lbl_full_path">{esc(crumb)}</span>\n' if crumb else ""
    )
    title = rec.get("title") or ""
    q = re.match(r"Q(\d+)/(\d+)", rec.get("question") or "")
    heading = f"Question {q.group(1)}/{q.group(2)} – {title}" if q and title else title
    sections = []
    for n, (name, key) in enumerate(
        [
            ("Motivation", "motivation"),
            ("Study items", "study_items"),
            ("Tasks", "tasks"),
            ("Relationships", "relationships"),
        ],
        start=1,
    ):
        value = rec.get(key) or ""
        if value:
            text = value
            # Some captures already start with the section's own heading line.
            if text.lower().startswith(name.lower()):
                text = text[len(name) :].lstrip(" :\n")
            sections.append(f"<p>{n} {name}</p>\n<p>{multiline(text)}</p>")
    title_html = (
        f'<h2><span id="ctl00_ContentPlaceHolder1_lbl_title">{esc(heading)}</span></h2>\n'
        if heading
        else ""
    )
    return (
        "<!DOCTYPE html>\n"
        + REBUILT.format(
            section="§1.4 (wp_block.aspx)", url=rec["url"], file="itu_t_questions.jsonl"
        )
        + '<html><head><meta charset="utf-8"><title>ITU-T work programme</title></head><body>\n'
        + '<form method="post" id="aspnetForm">\n<h1>ITU-T work programme</h1>\n'
        + crumb_html
        + title_html
        + '<table id="ctl00_ContentPlaceHolder1_tbl_block">\n'
        + '<tr><td class="lbl">Description:</td><td>\n'
        + "\n".join(sections)
        + "\n</td></tr>\n</table>\n</form>\n</body></html>\n"
    )


def _sg_of(rec: dict[str, Any]) -> str:
    if rec.get("sg"):
        return str(rec["sg"])
    m = re.match(r"Q\d+/(\d+)$", rec.get("question") or "")
    return f"SG{int(m.group(1))}" if m else ""


def _sg_number(sg: str) -> int:
    return int(sg.removeprefix("SG"))


def study_group_records(
    questions: list[dict[str, Any]], work_items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One record per ITU-T study group named by the sample's Questions or work items.

    The sample holds no SG mandate text, so nothing of the kind is written: ``mandate`` is a
    REBUILT SUMMARY, the real titles of the SG's Questions in the sample (its work items' titles
    when it has no Question there), and the record says so in ``text_source``; the title is
    only the SG's number (``title_source``). A live scrape replaces both with the SG's page.
    """
    by_sg: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"q": [], "w": [], "p": []})
    for rec in questions:
        sg = _sg_of(rec)
        if sg and rec.get("title"):
            period = f" ({rec['study_period']})" if rec.get("study_period") else ""
            by_sg[sg]["q"].append(f"{rec.get('question') or ''}{period}: {rec['title']}".strip())
            by_sg[sg]["p"].append(rec.get("study_period") or "")
    for rec in work_items:
        sg = _sg_of(rec)
        if sg and rec.get("title"):
            by_sg[sg]["w"].append(f"{rec.get('work_item') or ''}: {rec['title']}".strip())
            by_sg[sg]["p"].append(rec.get("study_period") or "")
    out = []
    for sg in sorted(by_sg, key=_sg_number):
        parts = by_sg[sg]
        if parts["q"]:
            what, lines = "Questions", sorted(dict.fromkeys(parts["q"]))
        else:
            what, lines = "work items", sorted(dict.fromkeys(parts["w"]))[:20]
        periods = sorted({p for p in parts["p"] if p})
        out.append(
            {
                "sg": sg,
                "title": f"ITU-T Study Group {_sg_number(sg)}",
                "mandate": f"{what.capitalize()} of ITU-T {sg} in this sample: "
                + "; ".join(lines)
                + ".",
                "lead_roles": "",
                "url": "",
                "study_period": periods[-1] if len(periods) == 1 else "",
                "text_source": f"REBUILT SUMMARY, not the study group's mandate: the real titles "
                f"of {sg}'s {what} in the sample (study periods "
                f"{', '.join(periods) or 'not shown'}); the sample holds no SG mandate text",
                "title_source": "rebuilt from the study group's number",
            }
        )
    return out


def iec_hits(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Publications grouped by committee as search hits; untitled family members (from a
    publication page's lifecycle) go into the ``lifecycle`` of their titled family member."""
    titled = [r for r in records if r.get("title")]
    untitled = [r for r in records if not r.get("title")]
    sources: dict[int, dict[str, Any]] = {}
    for r in titled:
        m = re.search(r"webstore\.iec\.ch/(?:en/)?publication/(\d+)", r.get("url") or "")
        src: dict[str, Any] = {
            "id": int(m.group(1)) if m else None,
            "reference": r["reference"],
            "title": r["title"],
            "status": r.get("status") or "",
            "abstract": r.get("abstract") or "",
            "stage": r.get("stage") or "",
            "forecast_pub_date": r.get("forecast_pub_date") or "",
            "url": r.get("url") or r.get("source") or "",
            "lifecycle": [],
        }
        sources[id(r)] = {k: v for k, v in src.items() if v not in (None, "") or k == "lifecycle"}
    for r in untitled:
        keys = set(standard_keys(r["reference"]))
        main = next((t for t in titled if keys & set(standard_keys(t["reference"]))), None)
        if main is None:
            continue
        if r["reference"] == main["reference"]:
            continue  # the same publication, already the hit itself
        entry: dict[str, Any] = {"reference": r["reference"], "status": r.get("status") or ""}
        if (r.get("status") or "").upper() == "PREPARING":
            entry.update(
                in_progress="true",
                stage=r.get("stage") or "",
                forecast_pub_date=r.get("forecast_pub_date") or "",
            )
        sources[id(main)]["lifecycle"].append(entry)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in titled:
        groups[r.get("committee") or ""].append({"_source": sources[id(r)]})
    return groups


def build(source: Path, out: Path) -> Manifest:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    entries: list[ManifestEntry] = []

    def put(rel: str, data: bytes, **meta: Any) -> None:
        atomic_write_bytes(out / rel, data)
        entries.append(
            ManifestEntry(path=rel, sha256=sha256_bytes(data), size=len(data), status=200, **meta)
        )

    def load(name: str) -> list[dict[str, Any]]:
        with open(source / name, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    used: set[str] = set()
    for rec in load("itu_t_work_items.jsonl"):
        name = f"isn-{rec['isn']}" if rec["isn"] else f"wi-{slug(rec['work_item'])}"
        while name in used:
            name += "-dup"
        used.add(name)
        put(
            f"itu-t/wp_item/{name}.html",
            wp_item_page(rec).encode(),
            source="itu-t",
            kind="wp_item",
            url=rec["url"],
            params={"rebuilt": True},
        )
    for rec in load("itu_t_questions.jsonl"):
        base = (
            f"isn-{rec['isn']}"
            if rec["isn"]
            else f"q-{slug(rec['study_period'] or 'sp')}-{slug(rec['question'] or rec['title'])}"
        )
        name = base
        while name in used:
            name += "-dup"
        used.add(name)
        put(
            f"itu-t/wp_block/{name}.html",
            wp_block_page(rec).encode(),
            source="itu-t",
            kind="wp_block",
            url=rec["url"],
            params={"rebuilt": True},
        )
    sg_lines = study_group_records(load("itu_t_questions.jsonl"), load("itu_t_work_items.jsonl"))
    put(
        "itu-t/study_groups.jsonl",
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sg_lines).encode(),
        source="itu-t",
        kind="itu_sg_records",
        url="",
        params={"rebuilt": True, "records": True},
    )
    put(
        "itu-t/recommendations.jsonl",
        (source / "itu_t_recommendations.jsonl").read_bytes(),
        source="itu-t",
        kind="itu_recommendation_records",
        url="https://www.itu.int/itu-t/recommendations/",
        params={"records": True},
    )
    put(
        "iso/iso_deliverables_metadata.jsonl",
        (source / "iso_deliverables_metadata.jsonl").read_bytes(),
        source="iso",
        kind="iso_deliverables",
        url=ISO_BASE + "iso_deliverables_metadata/json/iso_deliverables_metadata.jsonl",
        params={"subset": True},
    )
    put(
        "iso/iso_technical_committees.jsonl",
        (source / "iso_technical_committees.jsonl").read_bytes(),
        source="iso",
        kind="iso_committees",
        url=ISO_BASE + "iso_technical_committees/json/iso_technical_committees.jsonl",
        params={"subset": False, "layout": "simplified"},
    )
    for committee, hits in sorted(iec_hits(load("iec_publications.jsonl")).items()):
        body = {
            "primary": {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}
        }
        data = (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode()
        name = slug(committee) if committee else "committee-unknown"
        params: dict[str, Any] = {"rebuilt": True, "query": "", "mode": "FULL", "language": "en"}
        if committee:
            params["committee"] = committee
        put(
            f"iec/search/{name}.json",
            data,
            source="iec",
            kind="iec_search",
            url=IEC_SEARCH,
            method="POST",
            params=params,
        )
    put(
        "iec/committees.jsonl",
        (source / "iec_committees.jsonl").read_bytes(),
        source="iec",
        kind="iec_committee_records",
        url="https://www.iec.ch/dyn/www/f?p=103:7",
        params={"records": True},
    )
    atomic_write_bytes(out / "README.md", README.encode())
    manifest = Manifest(
        snapshot_id="sample",
        created="2026-09-10T00:00:00+00:00",
        tool="scripts/build_sample_snapshot.py",
        note="Real records of the three bodies; ITU-T pages and IEC search responses are "
        "rebuilt layouts filled with real values (see README.md).",
        entries=entries,
    )
    write_manifest(out, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "sample")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "raw" / "sample")
    args = parser.parse_args(argv)
    manifest = build(args.source, args.out)
    size = sum(e.size for e in manifest.entries)
    print(f"{args.out}: {len(manifest.entries)} entries, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
