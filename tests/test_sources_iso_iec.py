"""ISO Open Data and IEC webstore/dashboard parsers against saved responses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.sources import iec, iso

FIX = Path(__file__).parent / "fixtures" / "sources"


def _lines(name: str) -> list[str]:
    return (FIX / name).read_text("utf-8").splitlines(keepends=True)


def test_iso_deliverables_jsonl() -> None:
    out = iso.parse_deliverables_jsonl(_lines("iso_deliverables.jsonl"), "d.jsonl")
    by_id = {r["iso_id"]: r for r in out.records}
    assert set(by_id) == {"62085", "88915", "54989", "87485"}
    assert out.dropped == 2  # the "Withdrawn " stub and the 95.99 record
    assert [e.location for e in out.errors] == ["d.jsonl:7"]
    iso9001 = by_id["62085"]
    assert iso9001["body"] == "ISO" and iso9001["committee"] == "ISO/TC 176/SC 2"
    assert iso9001["stage"] == "90.92" and iso9001["kind"] == "publication"
    assert iso9001["title"] == "ISO 9001:2015" and iso9001["title_missing"]  # no title field
    assert "<p>" not in iso9001["text"] and iso9001["text"].startswith("ISO 9001:2015 specifies")
    assert iso9001["ics"] == "03.120.10; 03.100.70"
    assert iso9001["url"] == "https://www.iso.org/standard/62085.html"
    dis = by_id["87485"]
    assert dis["body"] == "ISO/IEC" and dis["committee"] == "ISO/IEC JTC 1/SC 27"
    assert dis["kind"] == "project" and dis["stage"] == "40.20" and dis["stage_group"] == "enquiry"
    assert (
        by_id["54989"]["text"]
        == "ISO/IEC 10918-5:2013 specifies the JPEG File Interchange Format (JFIF)."
    )


def test_iso_deliverables_csv_layout() -> None:
    out = iso.parse_deliverables_csv(_lines("iso_deliverables.csv"), "d.csv")
    (rec,) = out.records
    assert out.dropped == 1
    assert rec["reference"] == "ISO 18381:2013" and rec["committee"] == "ISO/TC 20/SC 13"
    assert rec["ics"] == "49.140" and rec["title"].startswith("Space data")
    assert rec["source_location"] == "d.csv:2"


def test_iso_committees_official_layout_and_itu_liaison() -> None:
    out = iso.parse_committees_jsonl(_lines("iso_committees_official.jsonl"), "c.jsonl")
    by_ref = {r["reference"]: r for r in out.records}
    jtc3 = by_ref["IEC/ISO JTC 3"]
    assert jtc3["kind"] == "committee" and jtc3["body"] == "ISO/IEC"
    assert "liaison:ITU" in jtc3["declared"]
    assert jtc3["url"] == "https://www.iso.org/committee/10138914.html"
    bdc = by_ref["IEC/ISO JSyC BDC"]
    assert bdc["declared"] == ["liaison:ISO/TC 215"] and bdc["secretariat"] == "SCC"
    assert "<strong>" not in bdc["text"]
    assert by_ref["ISO/IEC JTC 1"]["declared"] == []


def test_iso_committees_csv_layout() -> None:
    (rec,) = iso.parse_committees_csv(_lines("iso_committees.csv"), "c.csv").records
    assert rec["committee"] == "ISO/IEC JTC 1/SC 2" and "liaison:ITU" in rec["declared"]


def test_iec_search_real_fixture_needs_committee_context() -> None:
    content = (FIX / "iec_search_27002.json").read_bytes()
    url = "https://webstore-search-api.iec.ch/api/search"
    (rec,) = iec.parse_search_json(content, url).records
    assert rec["uid"] == "IEC:74287" and rec["body"] == "ISO/IEC"
    assert rec["committee"] == ""  # the API does not say; the caller must know or report
    assert rec["url"] == "https://webstore.iec.ch/publication/74287"
    (rec,) = iec.parse_search_json(content, url, committee="JTC 1/SC 27").records
    assert rec["committee"] == "ISO/IEC JTC 1/SC 27" and rec["stage_group"] == "published"


def test_iec_search_lifecycle_in_progress_becomes_project() -> None:
    content = (FIX / "iec_search_lifecycle.json").read_bytes()
    out = iec.parse_search_json(content, "u", committee="TC 108")
    pub, proj = out.records
    assert out.dropped == 1  # the earlier edition is the same family, not an item
    assert pub["kind"] == "publication" and "href" not in pub["text"]
    assert proj["kind"] == "project" and proj["uid"] == "IEC:108365"
    assert proj["stage"] == "PCC" and proj["stage_group"] == "committee"
    assert proj["forecast_pub_date"] == "2027-12-31"
    assert proj["committee"] == "IEC TC 108" and proj["title"] == pub["title"]


def test_iec_search_drift_and_bad_json() -> None:
    assert "layout drift" in iec.parse_search_json(b'{"results": []}', "u").errors[0].reason
    assert iec.parse_search_json(b"<html>", "u").errors[0].reason.startswith("bad JSON")


def test_extract_js_object_brace_matching() -> None:
    text = 'x: 1, lifecycles: {"a": {"b": "}"}, "c": \'{\'}, other: {"z": 1}'
    assert iec.extract_js_object(text, "lifecycles") == '{"a": {"b": "}"}, "c": \'{\'}'
    assert iec.extract_js_object("lifecycles: {unclosed", "lifecycles") is None


def test_iec_publication_page_alpine_literals() -> None:
    url = "https://webstore.iec.ch/en/publication/85813"
    out = iec.parse_publication_page(
        (FIX / "iec_publication_85813.html").read_bytes(), url, "TC 108"
    )
    main, proj = out.records
    assert main["reference"] == "IEC 62368-1:2023" and main["uid"] == "IEC:69308"
    assert proj["reference"] == "IEC 62368-1/AMD1" and proj["kind"] == "project"
    assert proj["stage"] == "PCC" and proj["committee"] == "IEC TC 108"
    assert main["title"].startswith("Audio/video, information and communication")


def test_iec_dashboard_lenient() -> None:
    url = "https://www.iec.ch/dyn/www/f?p=103:7:0::::FSP_ORG_ID,FSP_LANG_ID:1273,25"
    (rec,) = iec.parse_dashboard((FIX / "iec_dashboard_tc57.html").read_bytes(), url).records
    assert rec["committee"] == "IEC TC 57" and rec["kind"] == "committee"
    assert rec["title"] == "Power systems management and associated information exchange"
    assert rec["text"].startswith("To prepare international standards")
    assert "Germany" not in rec["text"]  # the Secretariat section is not scope
    assert iec.parse_dashboard(b"<html><body>Maintenance</body></html>", url).errors


def test_iec_work_programme_and_drift() -> None:
    url = "https://www.iec.ch/dyn/www/f?p=103:23:0::::FSP_ORG_ID,FSP_LANG_ID:1273,25"
    (rec,) = iec.parse_work_programme(
        (FIX / "iec_work_programme_tc57.html").read_bytes(), url
    ).records
    assert rec["committee"] == "IEC TC 57"  # from FSP_ORG_ID 1273
    assert rec["reference"] == "IEC TS 63353 ED1" and rec["stage_group"] == "proposal"
    assert rec["uid"] == "IEC:project-110001" and rec["forecast_pub_date"] == "2026-07"
    assert (
        "layout drift"
        in iec.parse_work_programme(b"<table><tr><td>x</td></tr></table>", url).errors[0].reason
    )


def test_iec_committee_records_keep_third_party_pages_out_of_url() -> None:
    text = (
        '{"reference": "TC 111", "title": "Environmental standardization", "scope": "s", '
        '"url": "https://theiteh.com/catalog/tc/x", "source": "https://theiteh.com/catalog/tc/x"}\n'
        '{"reference": "CISPR/A", "title": "", "scope": "", "url": "", "source": "s"}\n'
        '{"reference": "no such thing at all", "title": "x"}\n'
    )
    out = iec.parse_committee_records(text, "c.jsonl")
    tc111, cispr = out.records
    assert tc111["url"] == "" and tc111["source_page"] == "https://theiteh.com/catalog/tc/x"
    assert cispr["committee"] == "CISPR/A" and cispr["title_missing"]
    assert [e.location for e in out.errors] == ["c.jsonl:3"]


def test_iso_committee_never_declares_a_nameless_liaison() -> None:
    """Null, "NULL" and empty liaison names (about a quarter of the real records have some)
    never become ``liaison:`` or ``liaison:NULL``; ITU is still found by its id."""
    official = {
        "id": 1, "reference": "ISO/TC 211", "title": {"en": "Geographic information"},
        "committeeLiaisons": [{"id": 5, "reference": None}, {"id": 6, "reference": "NULL"},
                              {"id": 7, "reference": "ISO/TC 204"}],
        "organizationLiaisons": [{"id": 9657, "acronym": None}, {"id": 8, "acronym": ""}],
    }  # fmt: skip
    simplified = {"id": 2, "reference": "ISO/TC 20", "committeeLiaisons": [None, "", "NULL"]}
    out = iso.parse_committees_jsonl([json.dumps(official), json.dumps(simplified)], "c.jsonl")
    first, second = out.records
    assert first["declared"] == ["liaison:ITU", "liaison:ISO/TC 204"]
    assert second["declared"] == []
    csv_text = (
        "id,reference,title.en,committeeLiaisons.id,committeeLiaisons.reference\n"
        "3,ISO/TC 46,Information,\"[10, 11]\",\"['NULL', '']\"\n"
    )
    (row,) = iso.parse_committees_csv(csv_text.splitlines(True), "c.csv").records
    assert row["declared"] == []


def test_iso_sample_committees_have_no_nameless_liaison() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "sample"
    path = shared / "iso_technical_committees.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with open(path, encoding="utf-8") as fh:
        out = iso.parse_committees_jsonl(fh, str(path))
    assert len(out.records) > 700
    declared = [d for r in out.records for d in r["declared"]]
    assert not [d for d in declared if d.split(":", 1)[1].strip().upper() in ("", "NULL")]


def test_iec_systems_committees_use_dashboard_page_186() -> None:
    assert iec.dashboard_page("IEC SyC AAL") == 186
    assert iec.dashboard_page("IEC/ISO JSyC BDC") == 186
    assert iec.dashboard_page("IEC TC 57") == 7
    page = (FIX / "iec_dashboard_tc57.html").read_text().replace("TC 57", "SyC AAL")
    url = "https://www.iec.ch/dyn/www/f?p=103:186:0::::FSP_ORG_ID:11827"
    (rec,) = iec.parse_dashboard(page, url).records
    assert rec["committee"] == "IEC SyC AAL" and ":186:" in rec["url"]


def test_iec_committee_ids_are_all_from_the_public_list() -> None:
    """Every FSP_ORG_ID is one sources.md §3.1 quotes; CISPR's unsourced 1298 is gone."""
    assert "CISPR" not in iec.FSP_ORG_IDS and "1298" not in iec.FSP_ORG_IDS.values()
    notes = Path(__file__).resolve().parents[2] / "shared" / "sources.md"
    if not notes.is_file():
        pytest.skip(f"{notes} is absent")
    section = notes.read_text("utf-8").split("**FSP_ORG_ID map**", 1)[1].split("### 3.2", 1)[0]
    listed = set(re.findall(r"=\s*\**(\d{4,5})\b", section))
    assert set(iec.FSP_ORG_IDS.values()) <= listed


def test_iec_search_numbers_never_come_from_proposals() -> None:
    assert iec.search_number("PNW TS 57-2235") == ""
    assert iec.search_number("IEC PNW TR 65-1100") == ""
    assert iec.search_number("IEC TS 63353 ED1") == "63353"
    assert iec.search_number("IEC 61508-3 ED3") == "61508-3"
    assert iec.reference_number("IEC 62443-2-1:2024") == "62443-2-1"


def test_iec_publications_export_gives_references() -> None:
    link = iec.publications_export_link(
        (FIX / "iec_publications_tc57.html").read_bytes(),
        "https://www.iec.ch/dyn/www/f?p=103:22:0::::FSP_ORG_ID:1273",
    )
    assert link.startswith("https://www.iec.ch/dyn/www/f?p=103:22:")
    refs = iec.parse_publications_export((FIX / "iec_publications_tc57.xml").read_bytes())
    assert refs == ["IEC 61850-7-4:2010", "IEC 61968-1:2020"]
