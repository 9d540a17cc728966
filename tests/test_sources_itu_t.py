"""ITU-T Work Programme parsers against saved pages (see tests/fixtures/sources/README.md)."""

from __future__ import annotations

from pathlib import Path

from pipeline.sources import itu_t

FIX = Path(__file__).parent / "fixtures" / "sources"
URL = "https://www.itu.int/itu-t/workprog/wp_item.aspx?isn=21308"


def test_wp_item_real_text_parsed_by_label() -> None:
    out = itu_t.parse_wp_item((FIX / "wp_item_21308_text.html").read_bytes(), URL)
    assert out.errors == []
    (rec,) = out.records
    assert rec["uid"] == "ITU-T:isn-21308"
    assert rec["committee"] == "SG3" and rec["group"] == "Q3/3"
    assert rec["reference"] == "D.Classification"
    assert rec["title"] == "Classification of telecommunications services in data networks"
    assert rec["stage"] == "Under study [Issued from previous study period]"
    assert rec["text"].startswith("In order to create a harmonized legal")
    assert rec["study_period"] == "2025-2028"
    assert rec["updated"] == "2023-11-16" and rec["first_registration"] == "2016-03-09"
    assert rec["equivalent_number"] == "" and rec["version"] == ""  # "-" means nothing
    assert rec["declared"] == ["liaison:SG2"]
    assert rec["url"] == "https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn=21308"


def test_wp_item_span_id_fallback_gives_equivalent_and_liaisons() -> None:
    url = "https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn=5630"
    (rec,) = itu_t.parse_wp_item((FIX / "wp_item_5630_spans.html").read_bytes(), url).records
    assert rec["reference"] == "X.660" and rec["committee"] == "SG17" and rec["group"] == "Q10/17"
    assert "equivalent:ISO/IEC 9834-1" in rec["declared"]
    assert "liaison:ISO/IEC JTC 1/SC 27" in rec["declared"]
    assert "liaison:ISO/IEC JTC 1/SC 42" in rec["declared"]  # "JTC1/SC42" normalized
    assert "liaison:3GPP SA3" in rec["declared"]
    assert rec["editors"] == "Olivier Dubuisson, Editor"


def test_wp_item_without_title_is_layout_drift_with_url() -> None:
    out = itu_t.parse_wp_item(b"<html><body><p>Service unavailable</p></body></html>", URL)
    assert out.records == []
    assert out.errors[0].location == URL and "layout drift" in out.errors[0].reason


def test_wp_item_without_study_group_is_not_guessed() -> None:
    page = "<table><tr><td>Work item:</td><td>Y.3094 (ex Y.DTN-ModelReq)</td></tr>"
    page += "<tr><td>Subject/title:</td><td>Digital twin network</td></tr></table>"
    (rec,) = itu_t.parse_wp_item(
        page, "https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn=1"
    ).records
    assert rec["committee"] == ""  # Y-series spans several SGs: left for the caller to report
    assert rec["reference"] == "Y.3094" and rec["former_reference"] == "Y.DTN-ModelReq"


def test_equivalent_number_only_for_iso_iec_numbers() -> None:
    assert itu_t.declared_from_equivalent("ISO/IEC 13818-1") == ["equivalent:ISO/IEC 13818-1"]
    assert itu_t.declared_from_equivalent("DTR/EE-EEPS58 (Twin)") == []
    assert itu_t.declared_from_equivalent("-") == []


def test_breadcrumb_with_working_party() -> None:
    crumb = itu_t.parse_breadcrumb("[2025-2028] : [SG17] : [WP1/17] : [Q10/17]")
    assert crumb == {
        "study_period": "2025-2028",
        "sg": "SG17",
        "wp": "WP1/17",
        "question": "Q10/17",
    }


def test_wp_block_sections_and_relationships() -> None:
    url = "https://www.itu.int/itu-t/workprog/wp_block.aspx?isn=10737"
    out = itu_t.parse_wp_block((FIX / "wp_block_10737.html").read_bytes(), url)
    (rec,) = out.records
    assert rec["uid"] == "ITU-T:question:2025-2028:Q9/21"
    assert rec["kind"] == "question" and rec["committee"] == "SG21" and rec["group"] == "Q9/21"
    assert rec["title"] == "Multimedia framework, applications and services"
    assert (
        "several multimedia systems" in rec["text"]
        and "map of their interrelationship" in rec["text"]
    )
    assert "Other bodies" not in rec["text"]  # relationships are evidence, not topic text
    assert rec["declared"] == ["relationship:ISO/IEC JTC 1/SC 29", "relationship:IEC TC 100"]


def test_wp_block_without_title_reports_url() -> None:
    url = "https://www.itu.int/itu-t/workprog/wp_block.aspx?isn=10741"
    out = itu_t.parse_wp_block((FIX / "wp_block_10741_text.html").read_bytes(), url)
    assert out.records == [] and out.errors[0].location == url


def test_wp_search_dropdowns_and_listing() -> None:
    page = itu_t.parse_wp_search(
        (FIX / "wp_search_sg12.html").read_bytes(), "http://x/wp_search.aspx"
    )
    assert [o.value for o in page.periods] == ["9677", "8265"]
    assert [o.value for o in page.study_groups] == ["9678", "9683"]
    assert [(o.text.split(":")[0], o.value) for o in page.questions] == [
        ("Q1/12", "10694"),
        ("Q2/12", "10695"),
    ]
    assert [r.isn for r in page.rows] == ["21308", "21400"]
    assert page.rows[0].cells["Question"] == "Q3/3"
    assert page.rows[1].url == "https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn=21400"


def test_recommendation_records_keep_going_after_bad_line() -> None:
    text = (
        '{"number": "X.509", "title": "Directory: PKI", "sg": "SG17", "status": "In force", '
        '"equivalent_number": "ISO/IEC 9594-8", "summary": "s", "url": "https://www.itu.int/rec/T-REC-X.509"}\n'
        "not json\n"
        '{"number": "Y.3093", "edition": "08/2025", "title": "", "sg": "", "url": "https://evil.example/x"}\n'
    )
    out = itu_t.parse_recommendation_records(text, "recs.jsonl")
    assert [e.location for e in out.errors] == ["recs.jsonl:2"]
    first, second = out.records
    assert first["kind"] == "publication" and first["committee"] == "SG17"
    assert first["declared"] == ["equivalent:ISO/IEC 9594-8"]
    assert second["title"] == "ITU-T Y.3093" and second["title_missing"] is True
    assert second["url"] == ""  # not an ITU/ISO/IEC page
    assert second["updated"] == "2025-08"


SG_PAGE = """<html><body>
<!-- REBUILT for the test: layout of the SG pages unseen (sources.md names them only);
     the wording is illustrative, not ITU's. -->
<h1>SG17: Security</h1>
<p>Responsible for building confidence and security in the use of ICTs.</p>
<h2>Lead study group roles</h2>
<p>Lead study group on security; lead study group on identity management.</p>
</body></html>"""


def test_study_group_page_gives_committee_with_mandate_and_lead_roles() -> None:
    url = "https://www.itu.int/en/ITU-T/about/groups/2025-2028/Pages/sg17.aspx"
    (rec,) = itu_t.parse_study_group(SG_PAGE, url, period="2025-2028").records
    assert (rec["uid"], rec["body"], rec["kind"]) == ("ITU-T:committee-SG17", "ITU-T", "committee")
    assert (rec["committee"], rec["title"], rec["study_period"]) == (
        "SG17",
        "Security",
        "2025-2028",
    )
    mandate, lead = rec["text"].split("\n\n")
    assert mandate == "Responsible for building confidence and security in the use of ICTs."
    assert lead == (
        "Lead study group roles: Lead study group on security; lead study group on identity "
        "management."
    )
    assert "identity management" in rec["lead_roles"]


def test_study_group_page_that_is_a_question_page_is_drift() -> None:
    url = "https://www.itu.int/itu-t/workprog/wp_block.aspx?isn=9689"
    out = itu_t.parse_study_group((FIX / "wp_block_10737.html").read_bytes(), url, sg="SG20")
    assert out.records == [] and "Question page" in out.errors[0].reason
    empty = itu_t.parse_study_group("<html><body>Sorry</body></html>", url, sg="SG20")
    assert empty.records == [] and "no title, mandate text" in empty.errors[0].reason
