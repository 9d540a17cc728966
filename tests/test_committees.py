"""The committee normalizer: every spelling a source or a user writes maps to one canonical name."""

import pytest

from pipeline.committees import (
    CommitteeError,
    body_of_committee,
    normalize_committee,
    normalize_question,
    parent_committee,
    split_committee,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("JTC1/SC27", "ISO/IEC JTC 1/SC 27"),
        ("ISO/IEC JTC 1 / SC 27", "ISO/IEC JTC 1/SC 27"),
        ("ISO/IEC JTC1 SC27", "ISO/IEC JTC 1/SC 27"),
        ("ISO/IEC JTC 1", "ISO/IEC JTC 1"),
        ("TC100", "IEC TC 100"),
        ("IEC TC 100", "IEC TC 100"),
        ("IEC/TC 100", "IEC TC 100"),
        ("Study Group 17", "SG17"),
        ("SG 17", "SG17"),
        ("ITU-T SG17", "SG17"),
        ("ITU-T Study Group 5", "SG5"),
        ("TSAG", "TSAG"),
        ("ISO TC 204", "ISO/TC 204"),
        ("ISO/TC 22/SC 31", "ISO/TC 22/SC 31"),
        ("TC 65/SC 65A", "IEC SC 65A"),
        ("IEC SC 86A", "IEC SC 86A"),
        ("ISO/IEC JTC 3", "IEC/ISO JTC 3"),
        ("IEC/ISO JTC 3", "IEC/ISO JTC 3"),
        ("ISO/IEC JTC 4", "ISO/IEC JTC 4"),
        ("CISPR/CIS/B", "CISPR/B"),
        ("CISPR", "CISPR"),
        ("SyC Smart Cities", "IEC SyC Smart Cities"),
        ("IEC SyC Smart Cities", "IEC SyC Smart Cities"),
        ("IEC/ISO JSyC BDC", "IEC/ISO JSyC BDC"),
        ("PC 118", "IEC PC 118"),
        ("ISO/PC 317", "ISO/PC 317"),
        ("ISO/TMBG", "ISO/TMBG"),
        ("ISO/CASCO", "ISO/CASCO"),
        ("MSB", "IEC MSB"),
        ("IIW", "IIW"),
    ],
)
def test_spellings_map_to_canonical(raw: str, canonical: str) -> None:
    assert normalize_committee(raw) == canonical


def test_finer_units_become_the_group() -> None:
    assert split_committee("ISO/IEC JTC 1/SC 29/WG 5") == ("ISO/IEC JTC 1/SC 29", "WG 5")
    assert split_committee("TC 100/TA 6") == ("IEC TC 100", "TA 6")
    assert split_committee("Q10/17") == ("SG17", "Q10/17")


def test_body_hint_settles_bare_tc_numbers() -> None:
    assert normalize_committee("TC 204", "ISO") == "ISO/TC 204"
    assert normalize_committee("TC 204") == "IEC TC 204"


def test_unknown_committee_is_an_error_not_a_guess() -> None:
    with pytest.raises(CommitteeError):
        normalize_committee("the committee on everything")
    with pytest.raises(CommitteeError):
        normalize_committee("  ")


def test_body_parent_and_question_helpers() -> None:
    assert body_of_committee("SG17") == "ITU-T"
    assert body_of_committee("ISO/IEC JTC 1/SC 27") == "ISO/IEC"
    assert body_of_committee("IEC/ISO JTC 3") == "ISO/IEC"
    assert body_of_committee("CISPR/B") == "IEC"
    assert body_of_committee("ISO/TC 204") == "ISO"
    assert parent_committee("ISO/IEC JTC 1/SC 27") == "ISO/IEC JTC 1"
    assert parent_committee("ISO/TC 22/SC 31") == "ISO/TC 22"
    assert parent_committee("IEC SC 65A") == "IEC TC 65"
    assert parent_committee("CISPR/B") == "CISPR"
    assert parent_committee("IEC TC 100") == "IEC TC 100"
    assert normalize_question("Question 10/17") == "Q10/17"
    assert normalize_question("Y.1234") == ""


def test_every_spelling_in_the_shared_gold_files_is_understood() -> None:
    import csv
    from pathlib import Path

    gold = Path(__file__).resolve().parents[2] / "shared" / "eval"
    if not gold.is_dir():
        pytest.skip("../shared/eval is not present")
    with open(gold / "committee_pairs.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert body_of_committee(normalize_committee(row["itu_sg"])) == "ITU-T"
            assert body_of_committee(normalize_committee(row["counterpart"])) != "ITU-T"
