"""The item schema: validation on load, derived fields, and clear errors."""

import pytest

from pipeline.schema import ITEM_COLUMNS, SchemaError, items_frame, normalize_body, normalize_item


def test_minimal_record_gets_every_schema_field() -> None:
    item = normalize_item(
        {"body": "itu-t", "committee": "Study Group 17", "title": "Quantum key distribution"},
        snapshot="s1",
    )
    assert set(ITEM_COLUMNS) <= set(item)
    assert item["body"] == "ITU-T"
    assert item["committee"] == "SG17"
    assert item["uid"].startswith("ITU-T:")
    assert item["snapshot"] == "s1"
    assert item["declared"] == []
    assert item["active"] is False


def test_given_uid_is_kept_and_extras_survive() -> None:
    item = normalize_item(
        {
            "uid": "ETSI:GS QKD 014",
            "body": "ISO",
            "committee": "ISO TC 204",
            "title": "t",
            "ics": "35.240.60",
        }
    )
    assert item["uid"] == "ETSI:GS QKD 014"
    assert item["committee"] == "ISO/TC 204"
    assert item["ics"] == "35.240.60"


def test_stage_group_and_active_are_inferred() -> None:
    iso = normalize_item({"body": "ISO", "committee": "ISO/TC 204", "title": "t", "stage": "40.20"})
    assert (iso["stage_group"], iso["active"]) == ("enquiry", True)
    itu = normalize_item(
        {"body": "ITU-T", "committee": "SG13", "title": "t", "stage": "Approved on 2022-02-13"}
    )
    assert (itu["stage_group"], itu["active"]) == ("published", False)


def test_csv_style_lists_and_booleans() -> None:
    item = normalize_item(
        {
            "body": "ITU-T",
            "committee": "SG16",
            "title": "t",
            "declared": "equivalent:ISO/IEC 14496-10; liaison:ISO/IEC JTC 1/SC 29",
            "active": "true",
        }
    )
    assert item["declared"] == ["equivalent:ISO/IEC 14496-10", "liaison:ISO/IEC JTC 1/SC 29"]
    assert item["active"] is True


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"committee": "SG17", "title": "t"}, "body"),
        ({"body": "ITU-T", "title": "t"}, "committee"),
        ({"body": "ITU-T", "committee": "SG17", "title": " "}, "title"),
        ({"body": "ETSI", "committee": "SG17", "title": "t"}, "body"),
        ({"body": "ISO", "committee": "nonsense committee", "title": "t"}, "committee"),
        ({"body": "ISO", "committee": "ISO/TC 1", "title": "t", "kind": "blog"}, "kind"),
        ({"body": "ISO", "committee": "ISO/TC 1", "title": "t", "updated": "soon"}, "updated"),
        ({"body": "ISO", "committee": "ISO/TC 1", "title": "t", "active": "maybe"}, "active"),
    ],
)
def test_broken_records_name_the_field(record: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        normalize_item(record)


def test_control_characters_are_removed_from_text() -> None:
    item = normalize_item({"body": "IEC", "committee": "TC 100", "title": "A\x00B\x1bC"})
    assert item["title"] == "ABC"


def test_items_frame_orders_columns_and_drops_duplicate_uids() -> None:
    rows = [
        normalize_item({"uid": "ISO:1", "body": "ISO", "committee": "ISO/TC 1", "title": "a"}),
        normalize_item({"uid": "ISO:1", "body": "ISO", "committee": "ISO/TC 1", "title": "b"}),
    ]
    frame = items_frame(rows)
    assert list(frame.columns[: len(ITEM_COLUMNS)]) == list(ITEM_COLUMNS)
    assert frame["title"].tolist() == ["a"]


def test_body_aliases() -> None:
    assert normalize_body("IEC/ISO") == "ISO/IEC"
    assert normalize_body("itu") == "ITU-T"
