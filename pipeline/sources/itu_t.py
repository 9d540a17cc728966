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
    decode_body,
    jsonl_objects,
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
    "parse_wp_block",
    "parse_wp_item",
    "parse_wp_search",
    "public_item_url",
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
        m = re.match(r"\s*([A-Za-z][A-Za-z ()/.]{1,40}?)\s*:\s*(.*)$", line)
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


def parse_wp_item(content: bytes | str, url: str) -> ParseOutput:
    """One ``wp_item.aspx`` page -> one work-item record (or one error naming ``url``).

    The record's ``committee`` is the study group of the breadcrumb (or of its Question, or of
    an explicit "Study group" field); when the page names none it is left ``""`` and the caller
    decides (never guessed from the series letter).
    """
    out = ParseOutput()
    try:
        tree = HTMLParser(decode_body(content))
    except Exception as exc:  # selectolax raises on some pathological inputs
        out.errors.append(RecordError(SOURCE, url, f"unreadable HTML: {exc}"))
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
    question = crumb.get("question") or normalize_question(fields.get("question", ""))
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


_SECTION = re.compile(
    r"^\s*(\d)\s*\.?\s+(Motivation|Question|Study items|Tasks|Relationships)\b[^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_SECTION_KEY = {
    "motivation": "motivation",
    "question": "study_items",
    "study items": "study_items",
    "tasks": "tasks",
    "relationships": "relationships",
}


def _sections(text: str) -> dict[str, str]:
    """Split a Question text on its numbered headings (``1 Motivation`` ... ``4 Relationships``)."""
    found = list(_SECTION.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        key = _SECTION_KEY[m.group(2).lower()]
        out.setdefault(key, clean_text(text[m.end() : end]))
    return out


def _relationship_committees(text: str) -> list[str]:
    """ISO, IEC and ISO/IEC committees named in a Relationships section."""
    found = find_committee_references(text)
    return [c for c in found if not c.startswith("Q") and body_of_committee(c) != "ITU-T"]


def parse_wp_block(content: bytes | str, url: str) -> ParseOutput:
    """One ``wp_block.aspx`` page (a Question's text) -> one ``question`` record or an error.

    Lenient: the numbered sections are optional (only 1-2 were seen verbatim, sources.md §1.4);
    the text is Motivation + Study items + Tasks, ``declared`` holds
    ``relationship:<committee>`` for ISO/IEC/IEC bodies named under Relationships.
    """
    out = ParseOutput()
    try:
        tree = HTMLParser(decode_body(content))
    except Exception as exc:
        out.errors.append(RecordError(SOURCE, url, f"unreadable HTML: {exc}"))
        return out
    text = _page_text(tree)
    crumb_node = tree.css_first('[id$="lbl_full_path"]')
    crumb = parse_breadcrumb(crumb_node.text() if crumb_node is not None else text)
    fields = _fields_by_label(tree)
    title = dash_empty(fields.get("title", ""))
    if not title:
        node = tree.css_first('[id$="lbl_title"]') or tree.css_first("h1, h2, h3")
        heading = clean_text(node.text(deep=True)) if node is not None else ""
        if heading.lower() not in {"itu-t work programme", "description:"}:
            title = heading
    qm = re.match(r"^\s*Question\s+(\d{1,2})/(\d{1,2})\s*[–—:-]?\s*(.*)$", title, re.DOTALL)
    question = crumb.get("question", "")
    if qm:
        question = question or f"Q{int(qm.group(1))}/{int(qm.group(2))}"
        title = qm.group(3).strip()
    if not title:
        out.errors.append(RecordError(SOURCE, url, "layout drift: no title found on Question page"))
        return out
    sections = _sections(text)
    sg = crumb.get("sg") or ("SG" + question.split("/")[1] if question else "")
    period = crumb.get("study_period", "")
    isn = _isn_from_url(url)
    if question and period:
        uid = f"ITU-T:question:{period}:{question}"
    elif isn:
        uid = f"ITU-T:question:isn-{isn}"
    else:
        uid = f"ITU-T:question:{question or title[:60]}"
    body_text = "\n\n".join(
        sections[k] for k in ("motivation", "study_items", "tasks") if sections.get(k)
    )
    if not body_text:
        # No numbered sections: keep the whole description rather than nothing.
        body_text = dash_empty(fields.get("description", "")) or ""
    relationships = sections.get("relationships", "")
    out.records.append(
        {
            "uid": uid,
            "body": "ITU-T",
            "kind": "question",
            "committee": sg,
            "group": question,
            "reference": question,
            "title": title,
            "text": body_text,
            "stage": "under study" if period else "",
            "url": public_item_url(isn, "wp_block.aspx") if isn else safe_url(url),
            "declared": [f"relationship:{c}" for c in _relationship_committees(relationships)],
            "isn": isn,
            "study_period": period,
            "relationships": relationships,
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
    try:
        tree = HTMLParser(decode_body(content))
    except Exception as exc:
        page.errors.append(RecordError(SOURCE, url, f"unreadable HTML: {exc}"))
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
    for a in tree.css('a[href*="wp_item.aspx"]'):
        isn = _isn_from_url(a.attributes.get("href") or "")
        if isn and isn not in seen:
            seen.add(isn)
            page.rows.append(ListingRow(isn, clean_text(a.text(deep=True)), public_item_url(isn)))
    return page


def parse_recommendation_records(content: bytes | str, location: str) -> ParseOutput:
    """JSONL of ITU-T Recommendation summary records (``number``, ``title``, ``sg``, ``status``,
    ``approval_date``, ``equivalent_number``, ``summary``, ``url``) -> ``publication`` records.

    Errors name ``location:line``. ``committee`` is ``""`` when the record names no SG.
    """
    out = ParseOutput()
    for lineno, rec in jsonl_objects(decode_body(content).splitlines()):
        where = f"{location}:{lineno}"
        if isinstance(rec, str):
            out.errors.append(RecordError(SOURCE, where, rec))
            continue
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
