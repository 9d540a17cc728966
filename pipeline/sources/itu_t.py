"""ITU-T Work Programme pages -> item records (pure functions, no network).

Pages (sources.md §1): ``wp_item.aspx?isn=N`` (one work item), ``wp_block.aspx?isn=N`` (a
Question's text), ``wp_search.aspx`` (dropdowns of study periods, SGs, WPs, Questions and a
tabular listing of work items). Fields are found **by their label** first; the ASP.NET span ids
of sources.md §1.2 are only a fallback, and the page's plain text (``Label: value`` lines) a last
resort, so a cosmetic change of the page does not lose data silently. A page without a title is
"layout drift" and becomes an error naming its URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from pipeline.committees import body_of_committee, normalize_question
from pipeline.references import find_committee_references, standard_keys
from pipeline.schema import RecordError
from pipeline.sources.common import (
    ParseOutput,
    committee_or_none,
    dash_empty,
    jsonl_records,
    read_html,
    to_iso_date,
)
from pipeline.utils.safety import safe_url
from pipeline.utils.text import clean_text, html_to_text

__all__ = [
    "ListingRow",
    "Option",
    "WpSearchPage",
    "declared_from_equivalent",
    "declared_from_liaison",
    "parse_breadcrumb",
    "parse_recommendation_records",
    "parse_study_group",
    "parse_study_group_records",
    "parse_wp_block",
    "parse_wp_item",
    "parse_wp_search",
    "public_item_url",
    "study_group_record",
    "work_programme_links",
]

SOURCE = "itu-t"
PUBLIC_BASE = "https://www.itu.int/ITU-T/workprog/"
_SPAN_PREFIX = "ctl00_ContentPlaceHolder1_rpt_main_ctl00_"

# Label on the page (lower case, without the colon) -> field name.
_LABELS: dict[str, str] = {
    "work item": "work_item",
    "subject/title": "title",
    "subject / title": "title",
    "title": "title",
    "status": "status",
    "approval process": "approval_process",
    "type of work item": "work_item_type",
    "version": "version",
    "equivalent number": "equivalent_number",
    "equiv. num.": "equivalent_number",
    "timing": "timing",
    "liaison": "liaison",
    "liaison relationship": "liaison",
    "supporting members": "supporting_members",
    "summary": "summary",
    "comment": "comment",
    "contact(s)": "contacts",
    "contacts": "contacts",
    "editor(s)": "contacts",
    "reference(s)": "base_texts",
    "first registration in the wp": "first_registration",
    "last update": "last_update",
    "study group": "study_group",
    "question": "question",
    # The real wp_block page names its Question as "Work group: Q9/21 (...)" (captures README).
    "work group": "question",
    "description": "description",
}
# Span id suffixes (sources.md §1.2, from public scraper code [I]); fallback only.
_SPAN_IDS: dict[str, str] = {
    "lbl_status": "work_item",
    "lbl_subject": "title",
    "Label4": "status",
    "lbl_approval_process": "approval_process",
    "lbl_type_of_work_item": "work_item_type",
    "Label1": "version",
    "lbl_iso_number": "equivalent_number",
    "lbl_timing": "timing",
    "Label3": "liaison",
    "Label6": "supporting_members",
    "lbl_summary": "summary",
    "lbl_comment": "comment",
    "lbl_first_registration_date": "first_registration",
    "Label5": "last_update",
}
_MULTILINE = {"summary", "comment", "contacts", "base_texts", "description"}
_BREADCRUMB = re.compile(r"\[\s*([^\[\]]{1,40}?)\s*\](?:\s*:\s*\[\s*([^\[\]]{1,40}?)\s*\]){1,3}")
_TOKEN = re.compile(r"\[\s*([^\[\]]{1,40}?)\s*\]")


def public_item_url(isn: str, page: str = "wp_item.aspx") -> str:
    """The page a person opens: ``https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn=N``."""
    return f"{PUBLIC_BASE}{page}?isn={isn}"


def _isn_from_url(url: str) -> str:
    try:
        values = parse_qs(urlsplit(url or "").query).get("isn", [])
    except ValueError:
        return ""
    return values[0] if values and values[0].isdigit() else ""


def parse_breadcrumb(text: str) -> dict[str, str]:
    """``[2025-2028] : [SG3] : [Q3/3]`` -> ``{"study_period", "sg", "wp", "question"}`` (found
    parts only). Order and presence vary (a WP may sit between SG and Question)."""
    out: dict[str, str] = {}
    m = _BREADCRUMB.search(text or "")
    if m:
        tokens = _TOKEN.findall(m.group(0))
    elif len(text or "") <= 80:  # the breadcrumb span alone may hold a single "[SG5]"
        tokens = _TOKEN.findall(text or "")
    else:
        return out
    for token in tokens:
        token = token.strip()
        if re.fullmatch(r"\d{4}-\d{4}", token):
            out["study_period"] = token
        elif re.fullmatch(r"(?:SG\s*\d{1,2}|TSAG)", token, re.IGNORECASE):
            out["sg"] = token.upper().replace(" ", "")
        elif re.fullmatch(r"WP\s*\d+/\d+", token, re.IGNORECASE):
            out["wp"] = token.upper().replace(" ", "")
        elif normalize_question(token):
            out["question"] = normalize_question(token)
    return out


def _children_cells(row: Node) -> list[Node]:
    cells = []
    child = row.child
    while child is not None:
        if child.tag in ("td", "th"):
            cells.append(child)
        child = child.next
    return cells


def _cell_text(node: Node, multiline: bool) -> str:
    if multiline:
        return html_to_text(node.html or "")
    return clean_text(node.text(separator=" ", deep=True))


def _label_key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().rstrip(":").strip()).lower()


def _fields_by_label(tree: HTMLParser) -> dict[str, str]:
    fields: dict[str, str] = {}
    for row in tree.css("tr"):
        cells = _children_cells(row)
        if len(cells) < 2:
            continue
        key = _LABELS.get(_label_key(cells[0].text(deep=True)))
        if key and key not in fields:
            fields[key] = _cell_text(cells[1], key in _MULTILINE)
    return fields


def _fields_by_span_id(tree: HTMLParser) -> dict[str, str]:
    fields: dict[str, str] = {}
    for suffix, key in _SPAN_IDS.items():
        node = tree.css_first(f'[id="{_SPAN_PREFIX}{suffix}"]')
        if node is not None:
            fields[key] = _cell_text(node, key in _MULTILINE)
    editors = [
        clean_text(n.text(deep=True)) for n in tree.css('span[id*="gd_editor"]') if n.text().strip()
    ]
    if editors:
        fields["contacts"] = "\n".join(editors)
    return fields


def _fields_by_text(text: str) -> dict[str, str]:
    """``Label: value`` lines of the visible text (the form sources.md quotes verbatim)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        # Some page texts prefix table cells with "| " (the real wp_block 10741 text does).
        m = re.match(r"[\s|]*([A-Za-z][A-Za-z ()/.]{1,40}?)\s*:\s*(.*)$", line)
        if m:
            key = _LABELS.get(_label_key(m.group(1)))
            if key and key not in fields:
                fields[key] = m.group(2).strip()
    return fields


def _page_text(tree: HTMLParser) -> str:
    root = tree.body or tree.root
    return html_to_text(root.html or "") if root is not None else ""


def declared_from_equivalent(value: str) -> list[str]:
    """``Equivalent number`` -> ``["equivalent:ISO/IEC 9834-1"]`` for ISO/IEC/IEC numbers only
    (an ETSI twin such as ``DTR/EE-EEPS58 (Twin)`` gives nothing)."""
    keys = standard_keys(dash_empty(value))
    return [f"equivalent:{k}" for k in keys if not k.startswith("ITU-T")]


def declared_from_liaison(value: str) -> list[str]:
    """``Liaison`` -> ``liaison:<canonical committee>`` for ISO/IEC/IEC/ITU-T committees,
    ``liaison:<name>`` as written for other organisations (``3GPP SA2``, ``IETF DetNet``)."""
    out: list[str] = []
    for token in re.split(r"[,;]|\band\b", dash_empty(value)):
        token = clean_text(token)
        if not token or token in {"-", "–"}:
            continue
        found = [c for c in find_committee_references(token) if not c.startswith("Q")]
        if not found:
            parsed = committee_or_none(token)
            if (
                parsed
                and body_of_committee(parsed[0]) in ("ISO", "IEC", "ISO/IEC", "ITU-T")
                and ("/" in parsed[0] or " " in parsed[0] or parsed[0].startswith("SG"))
            ):
                found = [parsed[0]]
        out.extend(f"liaison:{c}" for c in (found or [token]))
    return list(dict.fromkeys(out))


def _reference(work_item: str) -> tuple[str, str]:
    """``"Y.3441 (ex Y.det-qos-req-ml-jrs)"`` -> ``("Y.3441", "Y.det-qos-req-ml-jrs")``."""
    m = re.match(r"^(.*?)\s*\(ex\b\s*(.*?)\)?\s*$", work_item)
    if m and m.group(1):
        return m.group(1).strip(), m.group(2).strip(" ;")
    return work_item.strip(), ""


def _date(value: str) -> str:
    m = re.search(r"\d{4}-\d{2}-\d{2}", value or "")
    return m.group(0) if m else ""


def parse_wp_item(content: bytes | str, url: str, question: str = "") -> ParseOutput:
    """One ``wp_item.aspx`` page -> one work-item record (or one error naming ``url``).

    The record's ``committee`` is the study group of the breadcrumb (or of its Question, or of
    an explicit "Study group" field, or of ``question``: the Question whose listing named this
    item when it was fetched); when none is known it is left ``""`` and the caller decides
    (never guessed from the series letter).
    """
    out = ParseOutput()
    tree = read_html(content, SOURCE, url, out.errors)
    if tree is None:
        return out
    text = _page_text(tree)
    fields = _fields_by_label(tree)
    for fallback in (_fields_by_span_id(tree), _fields_by_text(text)):
        for key, value in fallback.items():
            fields.setdefault(key, value)
    title = dash_empty(fields.get("title", ""))
    work_item = dash_empty(fields.get("work_item", ""))
    if not title:
        out.errors.append(
            RecordError(SOURCE, url, "layout drift: no 'Subject/title' found on work item page")
        )
        return out
    crumb_node = tree.css_first('[id$="lbl_full_path"]')
    crumb = parse_breadcrumb(crumb_node.text() if crumb_node is not None else text)
    question = (
        crumb.get("question")
        or normalize_question(fields.get("question", ""))
        or normalize_question(question)
    )
    sg = crumb.get("sg", "")
    if not sg and question:
        sg = "SG" + question.split("/")[1]
    if not sg and fields.get("study_group"):
        parsed = committee_or_none(fields["study_group"], "ITU-T")
        sg = parsed[0] if parsed and body_of_committee(parsed[0]) == "ITU-T" else ""
    isn = _isn_from_url(url)
    reference, former = _reference(work_item)
    declared = declared_from_equivalent(fields.get("equivalent_number", ""))
    declared += declared_from_liaison(fields.get("liaison", ""))
    out.records.append(
        {
            "uid": f"ITU-T:isn-{isn}" if isn else f"ITU-T:wi-{reference or title[:60]}",
            "body": "ITU-T",
            "kind": "work_item",
            "committee": sg,
            "group": question or crumb.get("wp", ""),
            "reference": reference,
            "title": title,
            "text": dash_empty(fields.get("summary", "")),
            "stage": dash_empty(fields.get("status", "")),
            "url": public_item_url(isn) if isn else safe_url(url),
            "declared": list(dict.fromkeys(declared)),
            "updated": _date(fields.get("last_update", "")),
            "isn": isn,
            "study_period": crumb.get("study_period", ""),
            "work_item": work_item,
            "former_reference": former,
            "approval_process": dash_empty(fields.get("approval_process", "")),
            "work_item_type": dash_empty(fields.get("work_item_type", "")),
            "version": dash_empty(fields.get("version", "")),
            "equivalent_number": dash_empty(fields.get("equivalent_number", "")),
            "timing": dash_empty(fields.get("timing", "")),
            "liaison": dash_empty(fields.get("liaison", "")),
            "supporting_members": dash_empty(fields.get("supporting_members", "")),
            "editors": "; ".join(
                line.strip() for line in fields.get("contacts", "").splitlines() if line.strip()
            ),
            "comment": dash_empty(fields.get("comment", "")),
            "first_registration": _date(fields.get("first_registration", "")),
        }
    )
    return out


# Numbered headings of a Question text. On a page with markup each heading is its own line;
# in the page text of the real wp_block pages the whole Description is one line
# ("Description: 1 Motivation The standardization ... 2 Study items Study items to be ..."), so
# headings are found inline too. Case-sensitive and numbered in increasing order, so "2
# questions" or "clause 3 tasks" inside a sentence is not taken for a heading.
_SECTION = re.compile(
    r"(?:^|(?<=\s))(\d)\s*\.?\s+(Motivation|Question|Study [Ii]tems|Tasks|Relationships)\b"
    r"(?![ \t]*[a-z])"
)
_SECTION_KEY = {
    "motivation": "motivation",
    "question": "study_items",
    "study items": "study_items",
    "tasks": "tasks",
    "relationships": "relationships",
}


def _sections(text: str) -> dict[str, str]:
    """Split a Question text on its numbered headings (``1 Motivation`` ... ``4 Relationships``),
    on their own lines or inline; ``{}`` when fewer than one heading is found."""
    found: list[re.Match[str]] = []
    for m in _SECTION.finditer(text):
        if not found or int(m.group(1)) > int(found[-1].group(1)):
            found.append(m)
    out: dict[str, str] = {}
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        key = _SECTION_KEY[m.group(2).lower()]
        out.setdefault(key, clean_text(text[m.end() : end].lstrip(" :\n")))
    return out


def _relationship_committees(text: str) -> list[str]:
    """ISO, IEC and ISO/IEC committees named in a Relationships section."""
    found = find_committee_references(text)
    return [c for c in found if not c.startswith("Q") and body_of_committee(c) != "ITU-T"]


def _read_block(tree: HTMLParser) -> tuple[str, dict[str, str], dict[str, str]]:
    """``(page text, breadcrumb parts, labelled fields)`` of a wp_block-like page. Fields are
    read from label cells first, then from ``Label: value`` lines (the real page shows
    ``Work group:``, ``Title:``, ``Description:`` as lines)."""
    text = _page_text(tree)
    crumb_node = tree.css_first('[id$="lbl_full_path"]')
    crumb = parse_breadcrumb(crumb_node.text() if crumb_node is not None else text)
    fields = _fields_by_label(tree)
    for key, value in _fields_by_text(text).items():
        if not dash_empty(fields.get(key, "")):
            fields[key] = value
    return text, crumb, fields


def _block_title(tree: HTMLParser, fields: dict[str, str]) -> str:
    """The ``Title:`` line, else the title element or first heading (not the site's banner)."""
    title = dash_empty(fields.get("title", ""))
    if not title:
        node = tree.css_first('[id$="lbl_title"]') or tree.css_first("h1, h2, h3")
        heading = clean_text(node.text(deep=True)) if node is not None else ""
        if heading.lower() not in {"itu-t work programme", "description:"}:
            title = heading
    return title


def parse_wp_block(
    content: bytes | str, url: str, question: str = "", period: str = ""
) -> ParseOutput:
    """One ``wp_block.aspx`` page (a Question's text) -> one ``question`` record or an error.

    The Question comes from the page (breadcrumb, ``Work group: Q9/21`` line, or a ``Question
    9/21 -`` title prefix), else from ``question``: the name the listing gave when the page was
    fetched (the real breadcrumb ``[2025-2028] : [SG 21] : [WP4/21]`` has none). ``period`` is
    the study period the scraper asked for, used when the page shows none. Lenient: the
    numbered sections are optional; the text is Motivation + Study items + Tasks, ``declared``
    holds ``relationship:<committee>`` for ISO/IEC/IEC bodies named under Relationships. A page
    with neither a title nor a known Question is layout drift (an error naming ``url``).
    """
    out = ParseOutput()
    tree = read_html(content, SOURCE, url, out.errors)
    if tree is None:
        return out
    text, crumb, fields = _read_block(tree)
    title = _block_title(tree, fields)
    qm = re.match(r"^\s*Question\s+(\d{1,2})/(\d{1,2})\s*[–—:-]?\s*(.*)$", title, re.DOTALL)
    from_title = f"Q{int(qm.group(1))}/{int(qm.group(2))}" if qm else ""
    if qm:
        title = qm.group(3).strip()
    found = (
        crumb.get("question")
        or normalize_question(fields.get("question", ""))
        or from_title
        or normalize_question(question)
    )
    title_missing = not title
    if not title and found:
        # The page (or this capture of it) shows no title, but the Question is known: keep
        # its text under the Question's name rather than lose it; flagged for the analyst.
        n, sg_n = found[1:].split("/")
        title = f"Question {n}/{sg_n}"
    if not title:
        out.errors.append(RecordError(SOURCE, url, "layout drift: no title found on Question page"))
        return out
    description = fields.get("description", "")
    sections = _sections(description) or _sections(text)
    sg = crumb.get("sg") or ("SG" + found.split("/")[1] if found else "")
    period = crumb.get("study_period", "") or period
    isn = _isn_from_url(url)
    if found and period:
        uid = f"ITU-T:question:{period}:{found}"
    elif isn:
        uid = f"ITU-T:question:isn-{isn}"
    else:
        uid = f"ITU-T:question:{found or title[:60]}"
    body_text = "\n\n".join(
        sections[k] for k in ("motivation", "study_items", "tasks") if sections.get(k)
    )
    if not body_text:
        # No numbered sections: keep the whole description rather than nothing.
        body_text = dash_empty(description) or ""
    relationships = sections.get("relationships", "")
    out.records.append(
        {
            "uid": uid,
            "body": "ITU-T",
            "kind": "question",
            "committee": sg,
            "group": found,
            "reference": found,
            "title": title,
            "text": body_text,
            "stage": "under study" if period else "",
            "url": public_item_url(isn, "wp_block.aspx") if isn else safe_url(url),
            "declared": [f"relationship:{c}" for c in _relationship_committees(relationships)],
            "isn": isn,
            "study_period": period,
            "working_party": crumb.get("wp", ""),
            "relationships": relationships,
            "title_missing": title_missing,
        }
    )
    return out


@dataclass(frozen=True)
class Option:
    """One ``<option>``: its text (``"SG17: Security"``) and value (the ISN; ``-1`` = any)."""

    text: str
    value: str


@dataclass(frozen=True)
class ListingRow:
    """One row of the tabular listing: the work item link and the row's cells by header."""

    isn: str
    work_item: str
    url: str
    cells: dict[str, str] = field(default_factory=dict)


@dataclass
class WpSearchPage:
    """What ``wp_search.aspx`` shows: the dropdowns and the work items listed."""

    periods: list[Option] = field(default_factory=list)
    study_groups: list[Option] = field(default_factory=list)
    working_parties: list[Option] = field(default_factory=list)
    questions: list[Option] = field(default_factory=list)
    rows: list[ListingRow] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    # A pager (ASP.NET postback links "Page$2"): rows beyond the first page are not here.
    paged: bool = False


def _classify_option(text: str) -> str:
    if re.match(r"^\d{4}-\d{4}\b", text):
        return "periods"
    if re.match(r"^(?:SG\s*\d+|TSAG)\b", text, re.IGNORECASE):
        return "study_groups"
    if re.match(r"^WP\s*\d+/\d+", text, re.IGNORECASE):
        return "working_parties"
    if re.match(r"^Q\s*\d+/\d+", text, re.IGNORECASE):
        return "questions"
    return ""


def parse_wp_search(content: bytes | str, url: str) -> WpSearchPage:
    """Dropdown options (classified by their text, whatever the ``<select>`` id) and listed
    work items (every link to ``wp_item.aspx?isn=N``, with its table row's cells)."""
    page = WpSearchPage()
    tree = read_html(content, SOURCE, url, page.errors)
    if tree is None:
        return page
    for select in tree.css("select"):
        for opt in select.css("option"):
            value = (opt.attributes.get("value") or "").strip()
            label = clean_text(opt.text(deep=True))
            kind = _classify_option(label)
            if kind and value and value != "-1":
                bucket: list[Option] = getattr(page, kind)
                if all(o.value != value for o in bucket):
                    bucket.append(Option(label, value))
    seen: set[str] = set()
    for table in tree.css("table"):
        header: list[str] = []
        for row in table.css("tr"):
            cells = _children_cells(row)
            texts = [clean_text(c.text(deep=True, separator=" ")) for c in cells]
            link = next(
                (
                    a
                    for c in cells[:1]
                    for a in c.css("a")
                    if "wp_item.aspx" in a.attributes.get("href", "") or ""
                ),
                None,
            )
            if link is None:
                if texts and not header and any(texts):
                    header = texts
                continue
            href = link.attributes.get("href") or ""
            isn = _isn_from_url(href)
            if not isn or isn in seen:
                continue
            seen.add(isn)
            named = {header[i] if i < len(header) else f"col{i}": t for i, t in enumerate(texts)}
            page.rows.append(
                ListingRow(isn, clean_text(link.text(deep=True)), public_item_url(isn), named)
            )
    page.paged = any("Page$" in (a.attributes.get("href") or "") for a in tree.css("a[href]"))
    for a in tree.css('a[href*="wp_item.aspx"]'):
        isn = _isn_from_url(a.attributes.get("href") or "")
        if isn and isn not in seen:
            seen.add(isn)
            page.rows.append(ListingRow(isn, clean_text(a.text(deep=True)), public_item_url(isn)))
    return page


def work_programme_links(content: bytes | str) -> list[str]:
    """``href`` of every link to ``wp_search.aspx`` on a page, in page order: the real Question
    page has a "[Work programme]" link, a second route to the Question's work items."""
    tree = read_html(content, SOURCE, "")
    if tree is None:
        return []
    hrefs = [a.attributes.get("href") or "" for a in tree.css("a[href]")]
    return list(dict.fromkeys(h for h in hrefs if "wp_search.aspx" in h.lower()))


def parse_recommendation_records(content: bytes | str, location: str) -> ParseOutput:
    """JSONL of ITU-T Recommendation summary records (``number``, ``title``, ``sg``, ``status``,
    ``approval_date``, ``equivalent_number``, ``summary``, ``url``) -> ``publication`` records.

    Errors name ``location:line``. ``committee`` is ``""`` when the record names no SG.
    """
    out = ParseOutput()
    for where, rec in jsonl_records(content, SOURCE, location, out.errors):
        number = dash_empty(rec.get("number", ""))
        title = dash_empty(rec.get("title", ""))
        if not number:
            out.errors.append(RecordError(SOURCE, where, "Recommendation without number"))
            continue
        sg = ""
        parsed = committee_or_none(str(rec.get("sg") or ""), "ITU-T")
        if parsed and body_of_committee(parsed[0]) == "ITU-T":
            sg = parsed[0]
        edition = dash_empty(rec.get("edition", ""))
        out.records.append(
            {
                "uid": f"ITU-T:rec-{number}" + (f"-{edition}" if edition else ""),
                "body": "ITU-T",
                "kind": "publication",
                "committee": sg,
                "group": "",
                "reference": number,
                # Summary pages do not repeat the title: the number names the text then.
                "title": title or f"ITU-T {number}",
                "text": dash_empty(rec.get("summary", "")),
                "stage": dash_empty(rec.get("status", "")),
                "url": safe_url(str(rec.get("url") or "")),
                "declared": declared_from_equivalent(str(rec.get("equivalent_number") or "")),
                "updated": to_iso_date(rec.get("approval_date")) or to_iso_date(edition),
                "edition": edition,
                "equivalent_number": dash_empty(rec.get("equivalent_number", "")),
                "text_truncated": bool(rec.get("text_truncated", False)),
                "title_missing": not title,
            }
        )
    return out


_SG_HEADING = re.compile(
    r"^(?:ITU-T\s+)?(?:SG\s*(\d{1,2})|Study\s+Group\s+(\d{1,2}))\s*[:–—-]\s*(.{3,200})$",
    re.IGNORECASE,
)
_LEAD = re.compile(r"\blead\s+study\s+group\b", re.IGNORECASE)


def study_group_record(
    sg: str,
    *,
    title: str,
    mandate: str,
    lead_roles: str = "",
    url: str = "",
    period: str = "",
    **extras: Any,
) -> dict[str, Any]:
    """An ITU-T study group as a ``committee`` item (uid ``ITU-T:committee-SG17``): its
    ``text`` is the mandate followed by its lead study group roles, the profile the SG side of
    committee ranking compares with ISO/IEC committee scopes. ``extras`` are kept as columns."""
    text = "\n\n".join(
        part
        for part in (clean_text(mandate), clean_text(lead_roles) and f"Lead study group roles: "
                     f"{clean_text(lead_roles)}")
        if part
    )  # fmt: skip
    return {
        "uid": f"ITU-T:committee-{sg}",
        "body": "ITU-T",
        "kind": "committee",
        "committee": sg,
        "group": "",
        "reference": sg,
        "title": title,
        "text": text,
        "stage": "",
        "active": True,
        "url": safe_url(url),
        "declared": [],
        "study_period": period,
        "lead_roles": clean_text(lead_roles),
        **extras,
    }


def _sg_from(text: str) -> str:
    parsed = committee_or_none(text, "ITU-T")
    return parsed[0] if parsed and re.fullmatch(r"SG\d+", parsed[0]) else ""


def parse_study_group(
    content: bytes | str, url: str, sg: str = "", title: str = "", period: str = ""
) -> ParseOutput:
    """A study group's page -> one ITU-T ``committee`` record, or an error naming ``url``.

    Two pages name an SG's mandate (sources.md §1.1/§1.3): its ``wp_block.aspx?isn=<SG isn>``
    block and ``/en/ITU-T/about/groups/<period>/Pages/sg17.aspx``. Neither layout was seen, so
    the page is read leniently: ``Title:``/``Description:`` labels (as on the Question blocks),
    else a ``SG17: Security`` / ``Study Group 17 - Security`` heading with the text after it.
    The mandate is what comes before the first "lead study group" heading, the lead roles what
    follows it. ``sg``/``title``/``period`` are what the listing said (``SG17: Security``).
    """
    out = ParseOutput()
    tree = read_html(content, SOURCE, url, out.errors)
    if tree is None:
        return out
    text, crumb, fields = _read_block(tree)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    heading_at = next((i for i, ln in enumerate(lines) if _SG_HEADING.match(ln)), None)
    heading = _SG_HEADING.match(lines[heading_at]) if heading_at is not None else None
    number = heading.group(1) or heading.group(2) if heading else ""
    m = re.search(r"/sg(\d{1,2})\.aspx|/studygroups/\d{4}-\d{4}/(\d{1,2})/", url or "", re.I)
    found_sg = (
        _sg_from(sg)
        or crumb.get("sg", "")
        or (f"SG{int(number)}" if number else "")
        or (f"SG{int(m.group(1) or m.group(2))}" if m else "")
    )
    name = dash_empty(fields.get("title", "")) or (heading.group(3).strip() if heading else "")
    name = name or clean_text(title)
    description = dash_empty(fields.get("description", ""))
    if not description and heading_at is not None:
        description = "\n".join(lines[heading_at + 1 :])
    if normalize_question(fields.get("question", "")) or crumb.get("question"):
        out.errors.append(
            RecordError(SOURCE, url, "layout drift: a Question page, not a study group page")
        )
        return out
    if not found_sg or not name or not description:
        missing = [w for w, v in (("study group", found_sg), ("title", name)) if not v]
        missing += [] if description else ["mandate text"]
        out.errors.append(
            RecordError(SOURCE, url, f"layout drift: no {', '.join(missing)} on study group page")
        )
        return out
    lead_at = _LEAD.search(description)
    # A mention of "lead study group" inside the first sentences is part of the mandate; the
    # roles are the section that starts with such a heading further on.
    if lead_at and lead_at.start() > 0:
        mandate, lead = description[: lead_at.start()], description[lead_at.start() :]
        heading_line, _, rest = lead.partition("\n")
        if len(heading_line) < 60 and rest.strip():
            lead = rest  # "Lead study group roles" is the heading; the roles follow it
    else:
        mandate, lead = description, ""
    out.records.append(
        study_group_record(
            found_sg,
            title=name,
            mandate=mandate,
            lead_roles=lead,
            url=url,
            period=crumb.get("study_period", "") or period,
            isn=_isn_from_url(url),
        )
    )
    return out


def parse_study_group_records(content: bytes | str, location: str) -> ParseOutput:
    """JSONL of study groups (``sg``, ``title``, ``mandate``, ``lead_roles``, ``url``,
    ``study_period`` and any provenance fields such as ``text_source``) -> ``committee`` items.
    Errors name ``location:line``."""
    out = ParseOutput()
    for where, rec in jsonl_records(content, SOURCE, location, out.errors):
        sg = _sg_from(str(rec.get("sg") or ""))
        title = dash_empty(rec.get("title", ""))
        mandate = dash_empty(rec.get("mandate", ""))
        if not sg or not title or not mandate:
            out.errors.append(RecordError(SOURCE, where, "study group without sg, title or text"))
            continue
        known = {"sg", "title", "mandate", "lead_roles", "url", "study_period"}
        out.records.append(
            study_group_record(
                sg,
                title=title,
                mandate=mandate,
                lead_roles=dash_empty(rec.get("lead_roles", "")),
                url=str(rec.get("url") or ""),
                period=dash_empty(rec.get("study_period", "")),
                **{k: v for k, v in rec.items() if k not in known and isinstance(v, str | bool)},
            )
        )
    return out
