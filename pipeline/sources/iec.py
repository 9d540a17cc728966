"""IEC webstore and committee dashboards -> item records (pure functions, no network).

Sources (sources.md §3): the webstore search API (JSON: ``primary.hits.hits[]._source``, whose
``lifecycle`` holds in-development projects), the webstore publication page (Alpine.js
``x-data`` object literals, extracted by brace matching), the committee dashboard (APEX page 7:
title + scope) and the work programme (page 23, structure unverified [U]: a page without a
recognisable table is reported as layout drift). The webstore search does not say which
committee owns a publication, so callers pass ``committee`` from the request's context.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import unquote, urljoin

from pipeline.committees import body_of_committee
from pipeline.schema import RecordError
from pipeline.sources.common import (
    ParseOutput,
    committee_or_none,
    dash_empty,
    decode_body,
    jsonl_records,
    read_html,
    to_iso_date,
)
from pipeline.stages import iec_stage_group
from pipeline.utils.safety import safe_url
from pipeline.utils.text import clean_text, html_to_text

__all__ = [
    "FSP_ORG_IDS",
    "committee_from_url",
    "dashboard_page",
    "dashboard_url",
    "extract_js_object",
    "parse_committee_records",
    "parse_dashboard",
    "parse_publication_page",
    "parse_publications_export",
    "parse_search_json",
    "parse_work_programme",
    "publications_export_link",
    "reference_number",
    "search_number",
]

SOURCE = "iec"

# Canonical committee -> IEC dashboard FSP_ORG_ID. Every id is in the public list that
# sources.md §3.1 quotes [V] (a public scraper's map, with the SyC/JSyC ids of real page-186
# links). Ids that list does not hold were dropped rather than kept unsourced: "CISPR" (1298)
# and "IEC TC 66" (1253). TA 19 (22359) is left out because it is a group of TC 100, not a
# committee of its own. Add an id here only with a public source for it.
FSP_ORG_IDS: dict[str, str] = {
    "IEC TC 1": "1231", "IEC TC 2": "1221", "IEC TC 3": "1222", "IEC TC 4": "1228",
    "IEC TC 8": "1240", "IEC TC 9": "1248", "IEC TC 13": "1258", "IEC TC 21": "1290",
    "IEC TC 23": "1299", "IEC TC 34": "1235", "IEC TC 45": "1244", "IEC SC 46A": "1363",
    "IEC SC 46C": "1366", "IEC TC 47": "1251", "IEC TC 57": "1273", "IEC TC 61": "1236",
    "IEC TC 62": "1245", "IEC TC 64": "1249", "IEC TC 65": "1250", "IEC SC 65A": "1369",
    "IEC SC 65E": "1452", "IEC TC 69": "1255", "IEC TC 77": "1265",
    "IEC TC 80": "1271", "IEC TC 82": "1276", "IEC TC 86": "1279", "IEC TC 100": "1297",
    "IEC TC 103": "1307", "IEC TC 106": "1303", "IEC TC 108": "1311", "IEC TC 110": "1313",
    "IEC TC 114": "1316", "IEC TC 124": "20537", "IEC TC 125": "23165",
    "CISPR/A": "1327", "IEC SyC Smart Energy": "11825", "IEC SyC Smart Cities": "13073",
    "IEC SyC AAL": "11827", "IEC SyC LVDC": "20447", "IEC SyC SM": "22328",
    "ISO/IEC JTC 1": "3387", "ISO/IEC JTC 1/SC 2": "3394", "ISO/IEC JTC 1/SC 6": "3411",
    "ISO/IEC JTC 1/SC 7": "3412", "ISO/IEC JTC 1/SC 17": "3392", "ISO/IEC JTC 1/SC 22": "3396",
    "ISO/IEC JTC 1/SC 23": "3397", "ISO/IEC JTC 1/SC 24": "3398", "ISO/IEC JTC 1/SC 25": "3399",
    "ISO/IEC JTC 1/SC 27": "3401", "ISO/IEC JTC 1/SC 28": "3402", "ISO/IEC JTC 1/SC 29": "3403",
    "ISO/IEC JTC 1/SC 31": "3405", "ISO/IEC JTC 1/SC 32": "3406", "ISO/IEC JTC 1/SC 34": "3408",
    "ISO/IEC JTC 1/SC 35": "3409", "ISO/IEC JTC 1/SC 36": "3410", "ISO/IEC JTC 1/SC 37": "5510",
    "ISO/IEC JTC 1/SC 38": "7608", "ISO/IEC JTC 1/SC 39": "8987", "ISO/IEC JTC 1/SC 40": "10582",
    "ISO/IEC JTC 1/SC 41": "20486", "ISO/IEC JTC 1/SC 42": "21538", "IEC/ISO JTC 3": "49854",
    "IEC/ISO JSyC BDC": "49793",
}  # fmt: skip
_ORG_TO_COMMITTEE = {v: k for k, v in FSP_ORG_IDS.items()}


def dashboard_url(org_id: str, page: int = 7, base: str = "https://www.iec.ch") -> str:
    """``https://www.iec.ch/dyn/www/f?p=103:7:0::::FSP_ORG_ID,FSP_LANG_ID:1273,25``."""
    return f"{base.rstrip('/')}/dyn/www/f?p=103:{page}:0::::FSP_ORG_ID,FSP_LANG_ID:{org_id},25"


def dashboard_page(committee: str) -> int:
    """APEX page of a committee's dashboard: 186 for systems committees (``SyC``) and joint
    systems committees (``JSyC``), as in their real links (sources.md §3.1); 7 otherwise."""
    return 186 if re.search(r"\bJ?SyC\b", committee) else 7


_ED = re.compile(r"\s+ED\s*\d+(?:\.\d+)?\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\d-])(\d{3,5}(?:-\d+)*)")


def search_number(reference: str) -> str:
    """The publication number to ask the webstore search for, or ``""`` when there is none.

    ``"IEC TS 63353 ED1"`` -> ``"63353"``; ``"IEC 61508-3 ED3"`` -> ``"61508-3"``. A proposal
    (``"PNW TS 57-2235"``: TC 57's document 2235, not a publication number) gives ``""``: its
    digits would make the search (which matches substrings) return unrelated publications.
    """
    text = _ED.sub("", reference or "").strip()
    if re.match(r"^(?:IEC\s+)?PNW\b", text, re.IGNORECASE):
        return ""
    m = _NUMBER.search(text)
    return m.group(1) if m else ""


def reference_number(reference: str) -> str:
    """Number of a published reference: ``"ISO/IEC 27001:2022/AMD1:2024"`` -> ``"27001"``,
    ``"IEC 62368-1:2023 RLV"`` -> ``"62368-1"`` (the part before ``:``; ``""`` if none)."""
    m = _NUMBER.search((reference or "").split(":", 1)[0])
    return m.group(1) if m else ""


def committee_from_url(url: str) -> str:
    """Canonical committee of a dashboard URL via its ``FSP_ORG_ID`` (``""`` if unknown)."""
    m = re.search(r"FSP_ORG_ID[^:]*:(\d+)", unquote(url or ""))
    return _ORG_TO_COMMITTEE.get(m.group(1), "") if m else ""


def _body(reference: str, committee: str) -> str:
    if reference.upper().startswith(("ISO/IEC", "IEC/ISO")):
        return "ISO/IEC"
    if committee and body_of_committee(committee) == "ISO/IEC":
        return "ISO/IEC"
    return "IEC"


def _canonical(raw: str) -> tuple[str, str]:
    parsed = committee_or_none(raw, "IEC")
    return parsed if parsed else ("", "")


def _publication_url(ident: Any, fallback: str) -> tuple[str, str]:
    """``(url on an IEC/ISO/ITU host, third-party page or "")``."""
    if str(ident or "").isdigit():
        return f"https://webstore.iec.ch/publication/{ident}", ""
    url = safe_url(fallback)
    return url, ("" if url else (fallback or ""))


def _record(
    src: dict[str, Any], *, title: str, committee: str, group: str, kind: str, text: str
) -> dict[str, Any]:
    reference = dash_empty(src.get("reference", ""))
    status = dash_empty(src.get("status", ""))
    stage = dash_empty(src.get("stage", "")) or status
    ident = src.get("id")
    url, source_page = _publication_url(ident, str(src.get("url") or ""))
    return {
        "uid": f"IEC:{ident}" if str(ident or "").isdigit() else f"IEC:{reference}",
        "body": _body(reference, committee),
        "kind": kind,
        "committee": committee,
        "group": group,
        "reference": reference,
        "title": title,
        "text": text,
        "stage": stage,
        "stage_group": iec_stage_group(stage, status),
        "url": url,
        "declared": [],
        "updated": to_iso_date(src.get("publication_date")),
        "iec_id": str(ident or ""),
        "edition": str(src.get("edition") or ""),
        "status": status,
        "forecast_pub_date": dash_empty(src.get("forecast_pub_date", "")),
        "source_page": source_page,
    }


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _hit_records(src: dict[str, Any], committee_hint: str) -> tuple[list[dict[str, Any]], int]:
    """One ``_source`` -> its publication record + one project per in-progress lifecycle entry.

    Earlier editions in ``lifecycle`` are the same family and are not items (counted dropped).
    """
    title = dash_empty(src.get("title", ""))
    committee, group = _canonical(str(src.get("committee") or committee_hint or ""))
    text = html_to_text(str(src.get("abstract") or ""))
    records: list[dict[str, Any]] = []
    kind = "project" if _truthy(src.get("in_progress")) else "publication"
    records.append(
        _record(src, title=title, committee=committee, group=group, kind=kind, text=text)
    )
    dropped = 0
    lifecycle = src.get("lifecycle") or []
    for entry in lifecycle if isinstance(lifecycle, list) else []:
        if isinstance(entry, dict) and _truthy(entry.get("in_progress")):
            rec = _record(
                entry, title=title, committee=committee, group=group, kind="project", text=text
            )
            rec["title_from"] = f"publication family: {records[0]['reference']}"
            records.append(rec)
        else:
            dropped += 1
    return records, dropped


def parse_search_json(
    content: bytes | str, url: str, committee: str = "", number: str = ""
) -> ParseOutput:
    """A webstore search response -> publication and project records.

    ``committee`` is the committee this search was made for (the API does not say); a hit that
    carries its own ``committee`` field wins. ``number`` is the publication number the search
    asked for: the search matches substrings, so a hit whose own number differs (``62443`` for
    ``2443``) is not that committee's and is left out (counted in ``dropped``; the number is
    listed in ``extra["other_numbers"]``). Records keep ``committee == ""`` when nothing
    knows it: the caller resolves or reports them.
    """
    out = ParseOutput()
    try:
        data = json.loads(decode_body(content))
    except (json.JSONDecodeError, ValueError) as exc:
        out.errors.append(RecordError(SOURCE, url, f"bad JSON: {exc}"))
        return out
    hits = data.get("primary", {}).get("hits", {}) if isinstance(data, dict) else None
    hits = hits.get("hits") if isinstance(hits, dict) else None
    if not isinstance(hits, list):
        out.errors.append(
            RecordError(SOURCE, url, "layout drift: no primary.hits.hits in search response")
        )
        return out
    for i, hit in enumerate(hits):
        src = hit.get("_source") if isinstance(hit, dict) else None
        where = f"{url}#hit{i}"
        if not isinstance(src, dict):
            out.errors.append(RecordError(SOURCE, where, "hit without _source"))
            continue
        if not dash_empty(src.get("reference", "")) or not dash_empty(src.get("title", "")):
            out.errors.append(RecordError(SOURCE, where, "hit without reference or title"))
            continue
        if number and reference_number(str(src.get("reference") or "")) != number:
            out.dropped += 1
            out.extra.setdefault("other_numbers", []).append(str(src.get("reference") or ""))
            continue
        records, dropped = _hit_records(src, committee)
        out.records.extend(records)
        out.dropped += dropped
    return out


def extract_js_object(text: str, key: str) -> str | None:
    """The ``{...}`` literal after ``key:`` in ``text``, found by brace matching (strings and
    escapes respected), or ``None``. Regexes cannot match nested braces reliably."""
    m = re.search(rf"\b{re.escape(key)}\s*:\s*\{{", text)
    if not m:
        return None
    start = m.end() - 1
    depth, quote, escaped = 0, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def parse_publication_page(content: bytes | str, url: str, committee: str = "") -> ParseOutput:
    """A webstore publication page -> the current publication and any project under development
    (``underDevelopmentProduct``) from the Alpine.js ``x-data`` literals (sources.md §3.3)."""
    out = ParseOutput()
    page = decode_body(content)
    tree = read_html(page, SOURCE, url, out.errors)
    if tree is None:
        return out
    node = tree.css_first("h1") or tree.css_first("title")
    title = clean_text(node.text(deep=True)) if node is not None else ""
    meta = tree.css_first('meta[property="og:title"]')
    if not title and meta is not None:
        title = clean_text(meta.attributes.get("content") or "")
    text_node = tree.css_first('[itemprop="description"], .abstract, #abstract')
    abstract = html_to_text(text_node.html or "") if text_node is not None else ""
    unescaped = html.unescape(page)
    lifecycles_raw = extract_js_object(unescaped, "lifecycles")
    current_raw = extract_js_object(unescaped, "underDevelopmentProduct")
    if not title or (lifecycles_raw is None and current_raw is None):
        out.errors.append(
            RecordError(SOURCE, url, "layout drift: no title or no lifecycle data on page")
        )
        return out
    # The page title is "IEC 62368-1:2023 | IEC"-like; the reference is not the title.
    title = re.sub(r"\s*\|\s*IEC( Webstore)?\s*$", "", title)
    committee_, group = _canonical(committee)
    main: dict[str, Any] | None = None
    try:
        lifecycles = json.loads(lifecycles_raw) if lifecycles_raw else {}
        if isinstance(lifecycles, dict):
            for version in lifecycles.values():
                cand = version.get("main") if isinstance(version, dict) else None
                if isinstance(cand, dict) and str(cand.get("status", "")).upper() == "PUBLISHED":
                    main = cand
                    break
        current = json.loads(current_raw) if current_raw else None
    except json.JSONDecodeError as exc:
        out.errors.append(RecordError(SOURCE, url, f"x-data literal is not JSON: {exc.msg}"))
        return out
    if main is not None:
        out.records.append(
            _record(
                main,
                title=title,
                committee=committee_,
                group=group,
                kind="publication",
                text=abstract,
            )
        )
    if isinstance(current, dict) and current.get("reference"):
        rec = _record(
            current, title=title, committee=committee_, group=group, kind="project", text=abstract
        )
        out.records.append(rec)
    return out


_STOP_LINES = re.compile(
    r"^(Secretariat|Chair|Committee Manager|Technical Officer|Structure|Liaisons|Publications|"
    r"Work programme|Projects|Documents|Meetings|Membership|Strategic business plan)\b",
    re.IGNORECASE,
)


def parse_dashboard(content: bytes | str, url: str) -> ParseOutput:
    """Committee dashboard (APEX page 7 / SyC page 186) -> one ``committee`` record.

    Lenient, by visible text: the committee reference, the title on the next line, and the text
    after the ``<ref> Scope`` heading up to the next section. No scope heading = layout drift.
    """
    out = ParseOutput()
    tree = read_html(content, SOURCE, url, out.errors)
    if tree is None:
        return out
    for node in tree.css("nav, header, footer, script, style"):
        node.decompose()
    root = tree.body or tree.root
    text = html_to_text(root.html or "") if root is not None else ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    scope_at = next(
        (i for i, ln in enumerate(lines) if re.fullmatch(r"(?:.{1,40}\s)?Scope:?", ln)), None
    )
    if scope_at is None:
        out.errors.append(RecordError(SOURCE, url, "layout drift: no Scope heading on dashboard"))
        return out
    committee, group, title = "", "", ""
    for i, ln in enumerate(lines[:scope_at]):
        head = re.split(r"\s+[-/–]\s+", ln, maxsplit=1)
        parsed = committee_or_none(head[0], "IEC") if len(head[0]) <= 40 else None
        if parsed and body_of_committee(parsed[0]) in ("IEC", "ISO/IEC"):
            committee, group = parsed
            title = head[1] if len(head) > 1 else (lines[i + 1] if i + 1 < scope_at else "")
            break
    if not committee:
        committee = committee_from_url(url)
    scope_lines: list[str] = []
    for ln in lines[scope_at + 1 :]:
        if _STOP_LINES.match(ln):
            break
        scope_lines.append(ln)
    if not committee or not title:
        out.errors.append(
            RecordError(SOURCE, url, "layout drift: no committee reference/title on dashboard")
        )
        return out
    m = re.search(r"FSP_ORG_ID[^:]*:(\d+)", unquote(url))
    out.records.append(
        _committee_record(
            committee,
            group,
            reference=committee,
            title=title,
            text="\n".join(scope_lines),
            url=dashboard_url(m.group(1), dashboard_page(committee)) if m else safe_url(url),
            org=m.group(1) if m else "",
        )
    )
    return out


def _committee_record(
    committee: str, group: str, *, reference: str, title: str, text: str, url: str, org: str
) -> dict[str, Any]:
    """One IEC ``committee`` record; dashboards and committee records share its uid, so the
    same committee seen both ways is one item."""
    return {
        "uid": f"IEC:committee-{committee}" + (f"/{group}" if group else ""),
        "body": body_of_committee(committee),
        "kind": "committee",
        "committee": committee,
        "group": group,
        "reference": reference,
        "title": title,
        "text": text,
        "stage": "",
        "active": True,
        "url": url,
        "declared": [],
        "fsp_org_id": org,
    }


def parse_work_programme(content: bytes | str, url: str, committee: str = "") -> ParseOutput:
    """Work programme (APEX page 23) -> ``project`` records, by column header [U: unverified].

    Looks for a table whose header names a project reference and a title; stage and forecast
    publication date columns are optional. No such table = layout drift (an error).
    """
    out = ParseOutput()
    tree = read_html(content, SOURCE, url, out.errors)
    if tree is None:
        return out
    committee_, group = _canonical(committee or committee_from_url(url))
    found_table = False
    for table in tree.css("table"):
        rows = table.css("tr")
        if not rows:
            continue
        header = [clean_text(c.text(deep=True)).lower() for c in rows[0].css("th, td")]
        ref_col = next((i for i, h in enumerate(header) if "reference" in h), None)
        title_col = next((i for i, h in enumerate(header) if "title" in h), None)
        if ref_col is None or title_col is None:
            continue
        found_table = True
        stage_col = next((i for i, h in enumerate(header) if "stage" in h), None)
        fcst_col = next((i for i, h in enumerate(header) if "fcst" in h or "forecast" in h), None)
        for row in rows[1:]:
            cells = [clean_text(c.text(deep=True)) for c in row.css("td")]
            if len(cells) <= max(ref_col, title_col) or not cells[ref_col]:
                continue
            link = row.css_first("a[href]")
            href = link.attributes.get("href") if link is not None else ""
            pid = re.search(r"FSP_PROJECT_ID[^:]*:(?:[^,:]*,){2}(\d+)", unquote(href or ""))
            src = {
                "reference": cells[ref_col],
                "stage": cells[stage_col]
                if stage_col is not None and stage_col < len(cells)
                else "",
                "forecast_pub_date": (
                    cells[fcst_col] if fcst_col is not None and fcst_col < len(cells) else ""
                ),
            }
            rec = _record(
                src,
                title=cells[title_col] or cells[ref_col],
                committee=committee_,
                group=group,
                kind="project",
                text="",
            )
            rec["uid"] = f"IEC:project-{pid.group(1)}" if pid else f"IEC:{cells[ref_col]}"
            rec["url"] = safe_url(href or "") or safe_url(url)
            out.records.append(rec)
    if not found_table:
        out.errors.append(
            RecordError(SOURCE, url, "layout drift: no work programme table (reference + title)")
        )
    return out


def publications_export_link(content: bytes | str, url: str) -> str:
    """The SpreadsheetML export link of a committee's publications list (APEX page 22: an
    ``<a href>`` holding ``f?p=`` inside ``div.dash-thread``, sources.md §3.1), absolute, or
    ``""`` when the page has none."""
    tree = read_html(content, SOURCE, "")
    if tree is None:
        return ""
    for a in tree.css("div.dash-thread a[href]"):
        href = a.attributes.get("href") or ""
        if "f?p=" in href:
            return urljoin(url, href)
    return ""


def parse_publications_export(content: bytes | str) -> list[str]:
    """References of a SpreadsheetML publications export (``<Row><Cell><Data>``; the first two
    rows are a header and a description; the ``Reference`` column is found by its header)."""
    text = decode_body(content)
    rows = []
    for row in re.findall(r"<(?:ss:)?Row\b.*?</(?:ss:)?Row>", text, re.DOTALL | re.IGNORECASE):
        cells = re.findall(r"<(?:ss:)?Data\b[^>]*>(.*?)</(?:ss:)?Data>", row, re.DOTALL | re.I)
        rows.append([clean_text(html.unescape(re.sub(r"<[^>]+>", "", c))) for c in cells])
    header_at = next(
        (i for i, r in enumerate(rows) if any(c.lower() == "reference" for c in r)), None
    )
    if header_at is None:
        return []
    col = [c.lower() for c in rows[header_at]].index("reference")
    # The row after the header is a description ("Publications of TC 57"), not a reference.
    refs = [
        r[col]
        for r in rows[header_at + 1 :]
        if len(r) > col and re.match(r"(?:IEC|ISO|CISPR)\b", r[col]) and _NUMBER.search(r[col])
    ]
    return list(dict.fromkeys(refs))


def parse_committee_records(content: bytes | str, location: str) -> ParseOutput:
    """JSONL of committee records (``reference``, ``title``, ``scope``, ``fsp_org_id``, ``url``,
    ``source``) -> ``committee`` items. Third-party pages stay out of ``url``."""
    out = ParseOutput()
    for where, rec in jsonl_records(content, SOURCE, location, out.errors):
        reference = dash_empty(rec.get("reference", ""))
        committee, group = _canonical(reference)
        if not committee:
            out.errors.append(RecordError(SOURCE, where, f"unknown committee {reference!r}"))
            continue
        title = dash_empty(rec.get("title", ""))
        org = str(rec.get("fsp_org_id") or FSP_ORG_IDS.get(committee, "") or "")
        url = safe_url(str(rec.get("url") or ""))
        record = _committee_record(
            committee,
            group,
            reference=reference,
            # A committee whose page showed no title is still known by its name.
            title=title or (f"{committee} {group}".strip()),
            text=clean_text(str(rec.get("scope") or "")),
            url=url,
            org=org,
        )
        record["source_page"] = "" if url else str(rec.get("source") or rec.get("url") or "")
        record["title_missing"] = not title
        out.records.append(record)
    return out
