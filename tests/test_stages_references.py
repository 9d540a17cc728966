"""Stage groups from each body's native stage, and standard keys from references."""

import pytest

from pipeline.references import find_committee_references, find_standard_references, standard_keys
from pipeline.stages import iec_stage_group, iso_stage_code, iso_stage_group, itu_stage_group


@pytest.mark.parametrize(
    ("code", "group"),
    [
        (6060, "published"),
        ("40.20", "enquiry"),
        (4020, "enquiry"),
        (98, "withdrawn"),
        (9599, "withdrawn"),
        (9092, "published"),
        (2000, "preparatory"),
        (6000, "approval"),
        ("x", ""),
    ],
)
def test_iso_stage_groups(code: object, group: str) -> None:
    assert iso_stage_group(code) == group


def test_iso_stage_codes_as_open_data_writes_them() -> None:
    assert [iso_stage_code(c) for c in (4020, 98, "40.20", "0.98", None, True, 12345, "x")] == [
        "40.20",
        "00.98",
        "40.20",
        "00.98",
        "",
        "",
        "",
        "",
    ]


def test_iec_and_itu_stage_groups() -> None:
    assert iec_stage_group("ACDV") == "enquiry"
    assert iec_stage_group("PPUB - Publication issued") == "published"
    assert iec_stage_group("PCC") == "committee"
    assert iec_stage_group("", "PREPARING") == "committee"
    assert iec_stage_group("", "WITHDRAWN") == "withdrawn"
    assert itu_stage_group("Under study [Issued from previous study period]") == "under_study"
    assert itu_stage_group("Consented on 2026-02-27") == "approval"
    assert itu_stage_group("Approved on 2021-06-29") == "published"
    assert itu_stage_group("[Carried to next study period]") == "under_study"


@pytest.mark.parametrize(
    ("reference", "body", "keys"),
    [
        ("ISO/IEC 27001:2022/Amd 1:2024", "ISO/IEC", ["ISO/IEC 27001"]),
        ("ISO/IEC DIS 24760-1", "ISO/IEC", ["ISO/IEC 24760-1"]),
        ("ISO/IEC TR 23091-4:2021", "ISO/IEC", ["ISO/IEC 23091-4"]),
        ("IEC TS 63353 ED1", "IEC", ["IEC 63353"]),
        ("IEC 62368-1/AMD1 ED4", "IEC", ["IEC 62368-1"]),
        ("X.509", "ITU-T", ["ITU-T X.509"]),
        ("F.400/X.400", "ITU-T", ["ITU-T F.400", "ITU-T X.400"]),
        ("ISO/IEC 9834-1 (Common)", "ITU-T", ["ISO/IEC 9834-1"]),
        ("DTR/EE-EEPS58 (Twin)", "ITU-T", []),
        ("-", "ITU-T", []),
    ],
)
def test_standard_keys(reference: str, body: str, keys: list[str]) -> None:
    assert standard_keys(reference, body) == keys


def test_references_in_free_text() -> None:
    text = (
        "Common text with ISO/IEC 9834-1; builds on Rec. ITU-T X.509, ITU-T H.264 and IEC "
        "62368-1:2023. Liaison with JTC1/SC 27, IEC TC 100 and ITU-T SG17 (Q10/17)."
    )
    assert find_standard_references(text) == [
        "ISO/IEC 9834-1",
        "IEC 62368-1",
        "ITU-T X.509",
        "ITU-T H.264",
    ]
    assert find_committee_references(text) == [
        "ISO/IEC JTC 1/SC 27",
        "IEC TC 100",
        "SG17",
        "Q10/17",
    ]


def test_a_reference_ending_a_sentence_is_found() -> None:
    assert find_standard_references("Aligned with ISO/IEC 27001. It follows Rec. ITU-T X.509.") == [
        "ISO/IEC 27001",
        "ITU-T X.509",
    ]
