"""A snapshot's manifest under faulty or hostile edits (issue 13, case 8 and the manifest
errors), and what the replay takes from it (listing hints, scrape problems, duplicates)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli_sources import register
from pipeline.sources import Manifest, ManifestEntry, parse_snapshot, read_manifest, write_manifest
from pipeline.sources.snapshot import ManifestError
from pipeline.utils.io import sha256_bytes

FIX = Path(__file__).parent / "fixtures" / "sources"
ISO_LINE = (FIX / "iso_deliverables.jsonl").read_text().splitlines()[0] + "\n"


def _entry(rel: str, data: bytes, source: str = "iso", kind: str = "iso_deliverables", **kw):
    return {
        "path": rel,
        "source": source,
        "kind": kind,
        "url": kw.pop("url", f"https://example.iso.org/{rel}"),
        "status": 200,
        "sha256": sha256_bytes(data),
        "size": len(data),
        **kw,
    }


def _write(snap: Path, entries: list) -> None:
    snap.mkdir(parents=True, exist_ok=True)
    (snap / "manifest.json").write_text(json.dumps({"snapshot_id": "t", "entries": entries}))


def test_entry_outside_the_snapshot_is_an_error_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "x.jsonl"
    secret.parent.mkdir()
    secret.write_text(ISO_LINE)
    snap = tmp_path / "raw" / "snap"
    inside = ISO_LINE.encode()
    (snap / "iso").mkdir(parents=True)
    (snap / "iso" / "d.jsonl").write_bytes(inside)
    _write(
        snap,
        [
            _entry("../../outside/x.jsonl", inside),
            _entry(str(secret), inside),  # an absolute path is outside too
            _entry("iso/d.jsonl", inside),
        ],
    )
    result = parse_snapshot(snap)
    outside = [e for e in result.errors if "outside the snapshot folder" in e.reason]
    assert len(outside) == 2
    assert len(result.items) == 1  # only the file inside the folder was read


def test_malformed_entries_are_reported_not_skipped(tmp_path: Path) -> None:
    data = ISO_LINE.encode()
    (tmp_path / "d.jsonl").write_bytes(data)
    _write(
        tmp_path,
        [42, "iso/d.jsonl", {"path": 5, "source": "iso", "kind": "iso_deliverables"},
         {"source": "iso"}, _entry("d.jsonl", data)],
    )  # fmt: skip
    manifest = read_manifest(tmp_path)
    assert len(manifest.entries) == 1
    result = parse_snapshot(tmp_path)
    bad = [e for e in result.errors if "malformed manifest entry" in e.reason]
    assert [e.location.rsplit(": ", 1)[1] for e in bad] == [
        "entry 1",
        "entry 2",
        "entry 3",
        "entry 4",
    ]
    assert "not an object" in bad[0].reason and "'path'" in bad[2].reason
    assert len(result.items) == 1


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b'{"entries": [', "not valid JSON"),
        (b"[1, 2]", "not a snapshot manifest"),
        (b'{"entries": {}}', "not a snapshot manifest"),
        (b"\xff\xfe{", "not UTF-8"),
    ],
)
def test_corrupt_or_empty_manifest_names_the_file(
    tmp_path: Path, content: bytes, what: str
) -> None:
    (tmp_path / "manifest.json").write_bytes(content)
    with pytest.raises(ManifestError) as info:
        parse_snapshot(tmp_path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"{tmp_path / 'manifest.json'}: ") and what in str(info.value)


def test_cli_parse_corrupt_manifest_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"entries": [')
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["parse", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "error: " in result.output and "manifest.json: not valid JSON" in result.output
    assert "Traceback" not in result.output


def test_replay_passes_the_listing_question_to_the_parser(tmp_path: Path) -> None:
    """The real 10741 text has no Question; the scraper stored the listing's in params."""
    data = (FIX / "captures" / "itu-t" / "wp_block_10741.txt").read_bytes()
    (tmp_path / "b.html").write_bytes(data)
    url = "https://www.itu.int/itu-t/workprog/wp_block.aspx?isn=10741"
    params = {"question": "Q1/21", "period": "2025-2028"}
    _write(tmp_path, [_entry("b.html", data, "itu-t", "wp_block", url=url, params=params)])
    result = parse_snapshot(tmp_path)
    (rec,) = result.items.to_dict("records")
    assert (rec["uid"], rec["committee"], rec["group"]) == (
        "ITU-T:question:2025-2028:Q1/21", "SG21", "Q1/21",
    )  # fmt: skip


def test_scrape_problems_in_the_manifest_are_reported(tmp_path: Path) -> None:
    manifest = Manifest(
        snapshot_id="t",
        problems=[{"source": "iec", "location": "https://www.iec.ch/x", "reason": "scrape: none"}],
    )
    write_manifest(tmp_path, manifest)
    result = parse_snapshot(tmp_path)
    assert [(e.source, e.location, e.reason) for e in result.errors] == [
        ("iec", "https://www.iec.ch/x", "scrape: none")
    ]


def test_same_iec_project_from_page_23_and_webstore_is_one_item(tmp_path: Path) -> None:
    wp = (FIX / "iec_work_programme_tc57.html").read_bytes()
    search = json.dumps(
        {"primary": {"hits": {"hits": [{"_source": {
            "id": 1, "reference": "IEC TS 63353:2022", "title": "IIoT applications",
            "status": "PUBLISHED", "lifecycle": [{"reference": "IEC TS 63353", "edition": "1.0",
            "in_progress": "true", "stage": "ACDV", "forecast_pub_date": "2026-07",
            "id": "555"}]}}]}}}
    ).encode()  # fmt: skip
    (tmp_path / "wp.html").write_bytes(wp)
    (tmp_path / "s.json").write_bytes(search)
    hint = {"committee": "IEC TC 57"}
    _write(
        tmp_path,
        [
            _entry("wp.html", wp, "iec", "iec_work_programme", params=hint),
            _entry("s.json", search, "iec", "iec_search", params={**hint, "number": "63353"}),
        ],
    )
    items = parse_snapshot(tmp_path).items
    projects = items[items["kind"] == "project"]
    assert len(projects) == 1
    (proj,) = projects.to_dict("records")
    assert proj["also_uid"] == "IEC:555" and proj["committee"] == "IEC TC 57"


def test_manifest_entry_round_trip_keeps_problems(tmp_path: Path) -> None:
    entry = ManifestEntry(path="a", source="iso", kind="iso_deliverables")
    problems = [{"source": "itu-t", "location": "u", "reason": "r"}]
    write_manifest(tmp_path, Manifest(snapshot_id="t", entries=[entry], problems=problems))
    again = read_manifest(tmp_path)
    assert again.entries == [entry] and again.problems == problems
