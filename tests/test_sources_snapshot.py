"""parse_snapshot on the bundled sample and on small hand-made snapshots; load_item_files."""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from pipeline.sources import (
    Manifest,
    ManifestEntry,
    load_item_files,
    parse_snapshot,
    write_manifest,
)
from pipeline.utils.io import sha256_bytes

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "raw" / "sample"
FIX = Path(__file__).parent / "fixtures" / "sources"


@pytest.fixture(scope="module")
def sample():
    return parse_snapshot(SAMPLE)


def test_sample_has_items_of_all_three_bodies(sample) -> None:
    bodies = set(sample.items["body"])
    assert {"ITU-T", "ISO", "IEC", "ISO/IEC"} <= bodies
    kinds = set(sample.items["kind"])
    assert {"work_item", "question", "publication", "project"} <= kinds
    assert "committee" not in kinds
    assert set(sample.committees["kind"]) == {"committee"}
    assert sample.items["uid"].is_unique
    assert (sample.items["snapshot"] == "sample").all()


def test_sample_keeps_only_body_urls_and_iso_attribution(sample) -> None:
    urls = [u for u in sample.items["url"] if u]
    assert all(any(d in u for d in ("itu.int", "iso.org", "iec.ch")) for u in urls)
    assert any("iteh.ai" in p for p in sample.items["source_page"])  # kept aside, not as url
    assert any("ODC-By 1.0" in a for a in sample.attribution)


def test_sample_declared_relations(sample) -> None:
    declared = {d for ds in sample.items["declared"] for d in ds}
    assert "equivalent:ISO/IEC 9834-1" in declared  # X.660 | ISO/IEC 9834-1 common text
    assert "liaison:ISO/IEC JTC 1/SC 27" in declared
    jtc1 = sample.committees.set_index("committee").loc["ISO/IEC JTC 1"]
    assert "liaison:ITU" in jtc1["declared"]


def test_sample_unknown_study_group_is_reported_not_guessed(sample) -> None:
    unknown = [e for e in sample.errors if e.reason.startswith("committee unknown")]
    # Y.DTNCM's page names no study group and nothing else in the snapshot does: reported.
    assert any("wp_item.aspx?isn=23410" in e.location for e in unknown)
    assert "ITU-T:isn-23410" not in set(sample.items["uid"])
    # G.798 Amd.2 names no study group, but its Recommendation G.798 (SG15) is in the snapshot.
    amd = sample.items.set_index("uid").loc["ITU-T:isn-19270"]
    assert amd["committee"] == "SG15" and "G.798" in amd["committee_source"]
    # The IEC project in a publication's lifecycle inherits that publication's committee.
    proj = sample.items.set_index("reference").loc["IEC 62368-1/AMD1"]
    assert proj["committee"] == "IEC TC 108" and proj["kind"] == "project"


def test_sample_sources_rows_cover_every_entry(sample) -> None:
    manifest = json.loads((SAMPLE / "manifest.json").read_text())
    assert len(sample.sources) == len(manifest["entries"])
    assert {"source", "location", "records", "errors", "sha256"} <= set(sample.sources[0])


def _snapshot(tmp_path: Path, files: dict[str, tuple[str, str, bytes]]) -> Path:
    entries = []
    for rel, (source, kind, data) in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
        entries.append(
            ManifestEntry(
                path=rel,
                source=source,
                kind=kind,
                url=f"https://www.itu.int/{rel}",
                status=200,
                sha256=sha256_bytes(data),
                size=len(data),
            )
        )
    write_manifest(tmp_path, Manifest(snapshot_id="t", entries=entries))
    return tmp_path


def test_checksum_mismatch_and_fetch_failure_are_errors_and_layout_alarm(tmp_path: Path) -> None:
    good = (FIX / "wp_item_21308_text.html").read_bytes()
    snap = _snapshot(
        tmp_path,
        {
            "itu-t/a.html": ("itu-t", "wp_item", good),
            "itu-t/b.html": ("itu-t", "wp_item", good),
            "itu-t/c.html": ("itu-t", "wp_item", b"<html>changed layout</html>"),
        },
    )
    (snap / "itu-t/b.html").write_bytes(good + b"tampered")
    result = parse_snapshot(snap)
    reasons = [e.reason for e in result.errors]
    assert any("sha256 mismatch" in r for r in reasons)
    assert any("layout drift" in r for r in reasons)
    assert "site layout may have changed" in reasons[0]  # 2 of 3 pages failed > 30 %
    assert len(result.items) == 1  # the good page still counts
    relaxed = parse_snapshot(snap, failure_share=0.9)
    assert not any("site layout may have changed" in e.reason for e in relaxed.errors)


def test_failed_fetch_in_manifest_is_reported(tmp_path: Path) -> None:
    entries = [
        ManifestEntry(
            path="",
            source="iec",
            kind="iec_search",
            url="https://x.iec.ch/s",
            status=503,
            error="HTTP 503 after 4 attempts",
        )
    ]
    write_manifest(tmp_path, Manifest(snapshot_id="t", entries=entries))
    result = parse_snapshot(tmp_path)
    assert any(e.location == "https://x.iec.ch/s" and "503" in e.reason for e in result.errors)


def test_gzipped_iso_file_is_streamed(tmp_path: Path) -> None:
    data = gzip.compress((FIX / "iso_deliverables.jsonl").read_bytes())
    snap = _snapshot(tmp_path, {"iso/d.jsonl.gz": ("iso", "iso_deliverables", data)})
    result = parse_snapshot(snap)
    assert len(result.items) == 4
    assert any(e.location == "iso/d.jsonl.gz:7" for e in result.errors)


def test_load_item_files_reports_broken_line_and_loads_rest(tmp_path: Path) -> None:
    path = tmp_path / "etsi.jsonl"
    path.write_text(
        '{"body": "ISO", "committee": "TC 204", "title": "ITS", "declared": ["liaison:SG16"]}\n'
        "{broken\n"
        '{"body": "ETSI", "committee": "TC ITS", "title": "x"}\n'
        '{"body": "IEC", "committee": "TC 57", "title": "Power", "kind": "committee"}\n'
    )
    result = load_item_files([path, tmp_path / "missing.jsonl"])
    assert [e.location for e in result.errors][:2] == [f"{path}:2", f"{path}:3"]
    assert result.errors[2].reason == "no such file"
    assert list(result.items["committee"]) == ["ISO/TC 204"]
    assert list(result.committees["committee"]) == ["IEC TC 57"]
    assert result.sources[0]["records"] == 2 and result.sources[0]["errors"] == 2


def test_load_item_files_csv_gzip_lists(tmp_path: Path) -> None:
    path = tmp_path / "items.csv.gz"
    text = (
        "body,committee,title,declared,stage\n"
        'ITU-T,SG17,Security,"equivalent:ISO/IEC 27001; liaison:ISO/IEC JTC 1/SC 27",Under study\n'
        "ISO,,No committee,,\n"
    )
    path.write_bytes(gzip.compress(text.encode()))
    result = load_item_files([path])
    (row,) = result.items.to_dict("records")
    assert row["declared"] == ["equivalent:ISO/IEC 27001", "liaison:ISO/IEC JTC 1/SC 27"]
    assert row["stage_group"] == "under_study" and row["active"]
    assert result.errors[0].location == f"{path}:3" and "committee" in result.errors[0].reason


def test_sample_snapshot_is_reproducible(tmp_path: Path) -> None:
    shared = ROOT.parent / "shared" / "data" / "sample"
    if not shared.is_dir():
        pytest.skip("shared sample not present")
    script = ROOT / "scripts" / "build_sample_snapshot.py"
    spec = importlib.util.spec_from_file_location("build_sample_snapshot", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(shared, tmp_path / "s")
    assert (tmp_path / "s" / "manifest.json").read_bytes() == (
        SAMPLE / "manifest.json"
    ).read_bytes()
    shutil.rmtree(tmp_path / "s")


def test_cli_parse_writes_tables(tmp_path: Path) -> None:
    import pandas as pd
    import typer
    from typer.testing import CliRunner

    from pipeline.cli_sources import register

    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["parse", str(SAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    items = pd.read_parquet(tmp_path / "items.parquet")
    assert {"ITU-T", "ISO", "IEC"} <= set(items["body"])
    assert any("equivalent:ISO/IEC 9834-1" in list(d) for d in items["declared"])
    errors = (tmp_path / "errors.csv").read_text().splitlines()
    assert errors[0] == "source,location,reason,stage" and len(errors) > 1


def test_questions_of_an_ended_study_period_are_not_active(sample) -> None:
    questions = sample.items[sample.items["kind"] == "question"].set_index("uid")
    old = questions[questions["study_period"] == "2017-2020"]
    current = questions[questions["study_period"] == "2025-2028"]
    assert len(old) and not old["active"].any()
    assert old["stage"].str.contains("ended").all()
    assert len(current) and current["active"].all()


def test_sample_has_study_group_committee_records(sample) -> None:
    """The SG side of committee ranking has a profile; the rebuilt text says it is rebuilt."""
    sgs = sample.committees[sample.committees["body"] == "ITU-T"].set_index("committee")
    assert {"SG5", "SG12", "SG13", "SG15", "SG16", "SG17", "SG20", "SG21"} <= set(sgs.index)
    sg17 = sgs.loc["SG17"]
    assert sg17["uid"] == "ITU-T:committee-SG17" and sg17["kind"] == "committee"
    assert sg17["text"].startswith("Questions of ITU-T SG17 in this sample: ")
    assert sgs["text_source"].str.startswith("REBUILT SUMMARY").all()
    assert (sgs["url"] == "").all()  # no page holds this text: no URL claims it does
