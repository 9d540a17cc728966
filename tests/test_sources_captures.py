"""Every real capture parses to the right title, committee, Question/group, stage and dates.

The captures are real responses of the live sites (``../shared/captures/README.md``): page
texts without markup, real JSON. Each test runs twice: on ``/work/shared/captures`` as it is
(skipped when that folder is absent) and on the committed verbatim copies in
``tests/fixtures/sources/captures/`` (see the README there).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.sources import iec, iso, itu_t

SHARED = Path(__file__).resolve().parents[2] / "shared" / "captures"
COPY = Path(__file__).parent / "fixtures" / "sources" / "captures"
WP = "https://www.itu.int/itu-t/workprog/"


@pytest.fixture(params=["shared", "committed"])
def captures(request: pytest.FixtureRequest) -> Path:
    root = SHARED if request.param == "shared" else COPY
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    return root


def _one(out):
    assert out.errors == [], out.errors
    (rec,) = out.records
    return rec


def test_wp_item_21308(captures: Path) -> None:
    text = (captures / "itu-t" / "wp_item_21308.txt").read_bytes()
    rec = _one(itu_t.parse_wp_item(text, WP + "wp_item.aspx?isn=21308"))
    assert rec["uid"] == "ITU-T:isn-21308"
    assert rec["title"] == "Classification of telecommunications services in data networks"
    assert (rec["committee"], rec["group"], rec["reference"]) == ("SG3", "Q3/3", "D.Classification")
    assert rec["stage"] == "Under study [Issued from previous study period]"
    assert (rec["first_registration"], rec["updated"]) == ("2016-03-09", "2023-11-16")
    assert rec["study_period"] == "2025-2028" and rec["declared"] == ["liaison:SG2"]


@pytest.mark.parametrize(
    ("isn", "question", "sg", "wp", "title", "starts"),
    [
        (
            "10737", "Q9/21", "SG21", "WP4/21",
            "Multimedia framework, applications and services",
            "The standardization work in Study Group 16",
        ),
        (
            "11149", "Q7/20", "SG20", "WP1/20",
            "Evaluation and assessment of smart sustainable cities and communities and digital "
            "services",
            "ITU-T Study Group 20 focuses on",
        ),
    ],
)  # fmt: skip
def test_wp_block_question_from_work_group_line(
    captures: Path, isn: str, question: str, sg: str, wp: str, title: str, starts: str
) -> None:
    """The breadcrumb names no Question; ``Work group: Q9/21`` does, with no hint given."""
    text = (captures / "itu-t" / f"wp_block_{isn}.txt").read_bytes()
    rec = _one(itu_t.parse_wp_block(text, f"{WP}wp_block.aspx?isn={isn}"))
    assert rec["uid"] == f"ITU-T:question:2025-2028:{question}"
    assert (rec["committee"], rec["group"], rec["reference"]) == (sg, question, question)
    assert rec["title"] == title and rec["working_party"] == wp
    assert rec["study_period"] == "2025-2028" and rec["stage"] == "under study"
    assert rec["text"].startswith(starts)
    assert "Description:" not in rec["text"] and "Work group" not in rec["text"]


def test_wp_block_sections_found_inline_in_the_real_text(captures: Path) -> None:
    text = (captures / "itu-t" / "wp_block_10737.txt").read_bytes()
    rec = _one(itu_t.parse_wp_block(text, WP + "wp_block.aspx?isn=10737"))
    motivation, study_items = rec["text"].split("\n\n")
    assert motivation.endswith("multimedia aspects of metaverse.")
    assert study_items.startswith("Study items to be considered include")


def test_wp_block_10741_needs_the_listing_question(captures: Path) -> None:
    """This capture starts at "Description:": no title, no Question. Without the Question the
    listing gave it is layout drift; with it, the text is kept under the Question's name."""
    url = WP + "wp_block.aspx?isn=10741"
    text = (captures / "itu-t" / "wp_block_10741.txt").read_bytes()
    out = itu_t.parse_wp_block(text, url)
    assert out.records == [] and out.errors[0].location == url
    rec = _one(itu_t.parse_wp_block(text, url, question="Q1/21", period="2025-2028"))
    assert (rec["uid"], rec["committee"], rec["group"]) == (
        "ITU-T:question:2025-2028:Q1/21",
        "SG21",
        "Q1/21",
    )
    assert rec["title"] == "Question 1/21" and rec["title_missing"] is True
    assert rec["text"].startswith("ITU T Study Group 21 has been assigned lead study group roles")
    assert "coordination across Questions" in rec["text"]


def test_iec_dashboard_tc57(captures: Path) -> None:
    url = "https://www.iec.ch/dyn/www/f?p=103:7:14932784151543::::FSP_ORG_ID,FSP_LANG_ID:1273,25"
    text = (captures / "iec" / "iec_dashboard_tc57.txt").read_bytes()
    rec = _one(iec.parse_dashboard(text, url))
    assert (rec["committee"], rec["kind"]) == ("IEC TC 57", "committee")
    assert rec["title"] == "Power systems management and associated information exchange"
    assert rec["text"].startswith("To prepare international standards for power systems control")
    assert "Note 3:" in rec["text"] and rec["fsp_org_id"] == "1273"


@pytest.mark.parametrize(
    ("number", "references"),
    [
        ("27001", ["ISO/IEC 27001-HBK:2024", "ISO/IEC 27001:2022/AMD1:2024"]),
        ("27002", ["ISO/IEC 27002:2022"]),
    ],
)
def test_iec_webstore_search(captures: Path, number: str, references: list[str]) -> None:
    content = (captures / "iec" / f"webstore_search_iec_{number}.json").read_bytes()
    out = iec.parse_search_json(content, "u", "ISO/IEC JTC 1/SC 27", number=number)
    assert out.errors == []
    assert [r["reference"] for r in out.records] == references
    assert {(r["body"], r["committee"], r["kind"]) for r in out.records} == {
        ("ISO/IEC", "ISO/IEC JTC 1/SC 27", "publication")
    }
    # Asked for another number, the same hits are not this committee's: none attributed.
    other = iec.parse_search_json(content, "u", "ISO/IEC JTC 1/SC 27", number="2700")
    assert other.records == [] and other.dropped == len(references)


def test_iec_ballot_reference_formats(captures: Path) -> None:
    """The real project reference makes the search "63353"; the proposal makes none."""
    text = (captures / "iec" / "iec_ballot_52_tc57_57-2235-NP.txt").read_text("utf-8")
    project = re.search(r"Project : (IEC TS 63353 ED1)", text)
    proposal = re.search(r"(PNW TS 57-2235):", text)
    assert project and proposal
    assert iec.search_number(project.group(1)) == "63353"
    assert iec.search_number(proposal.group(1)) == ""


def test_iso_deliverables(captures: Path) -> None:
    text = (captures / "iso" / "deliverable_62085.json").read_text("utf-8")
    rec = _one(iso.parse_deliverables_jsonl([text], "deliverable_62085.json"))
    assert (rec["reference"], rec["committee"]) == ("ISO 9001:2015", "ISO/TC 176/SC 2")
    assert (rec["stage"], rec["kind"], rec["updated"]) == ("90.92", "publication", "2015-09-22")
    assert rec["text"].startswith("ISO 9001:2015 specifies requirements")
    lines = (captures / "iso" / "deliverables_88821-88915.jsonl").read_text("utf-8").splitlines()
    out = iso.parse_deliverables_jsonl(lines, "x.jsonl")
    assert out.errors == []
    first, second = out.records
    assert (first["reference"], first["committee"]) == ("ISO/TR 7035-2:2024", "ISO/TC 5/SC 2")
    assert (second["committee"], second["body"], second["stage"]) == (
        "ISO/IEC JTC 1/SC 29", "ISO/IEC", "60.60",
    )  # fmt: skip
    assert second["updated"] == "2025-01-08"
