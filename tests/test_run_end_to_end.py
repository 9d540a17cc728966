"""The whole job, as an analyst runs it: inputs in, a run folder with the workbook out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.contracts import CATEGORIES
from pipeline.embed import HashingEmbedder
from pipeline.enrich import load_nlp
from pipeline.errors import UserError
from pipeline.run import RunError, RunOptions, run_pipeline

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"
OUTPUTS = (
    "overlaps.xlsx",
    "candidate_pairs.csv",
    "committee_pairs.csv",
    "areas.csv",
    "items.parquet",
    "report.html",
    "run.json",
)

# A schema file no other test uses: ETSI-like and national-body rows beside the three bodies.
ITEMS_CSV = """uid,body,kind,committee,reference,title,text,stage,declared
,ITU-T,work_item,SG17,X.qkd-sec,Security requirements for quantum key distribution networks,"Specifies security requirements for QKD networks: key management, authentication of QKD links and trusted nodes.",Under study,
,ITU-T,work_item,Study Group 13,Y.qkdn-ml,Machine learning based QKD network control,"Machine learning for quantum key distribution network (QKDN) control and management.",Under study,liaison:IEC/ISO JTC 3
,ITU-T,work_item,SG15,G.otn-fg,Fine-grain OTN interfaces,"Fine-grain optical transport network (fgOTN) interfaces below 1 Gbit/s.",Under study,
,ISO/IEC,project,JTC1/SC27,ISO/IEC AWI 23837-3,Security requirements and evaluation for quantum key distribution,"Security requirements, test and evaluation methods for quantum key distribution (QKD) modules.",20.00,
,ISO/IEC,project,IEC/ISO JTC 3,IEC/ISO 4879,Quantum technologies - Vocabulary,"Terms and definitions for quantum technologies including quantum key distribution and quantum computing.",30.20,
,IEC,project,TC 86,IEC 61280-2-15,Fibre optic communication subsystem test procedures,"Test procedures for optical transport network subsystems and optical fibre interfaces.",ACDV,
,ISO,publication,ISO TC 204,ISO 14813-1:2024,Intelligent transport systems - Reference model architecture,"Reference model architecture for intelligent transport systems.",60.60,
"""


@pytest.fixture(scope="module")
def blank_nlp():
    # The spaCy model is exercised in its own tests; here speed matters more than parses.
    return load_nlp("no-such-model-so-blank")


def _run(tmp_path: Path, nlp, **kw) -> tuple[Path, object]:
    options = RunOptions(
        out_dir=tmp_path / "runs",
        cache_dir=tmp_path / "models",
        embedder=HashingEmbedder(),
        nlp=nlp,
        **kw,
    )
    return run_pipeline(options)


def _notebook_runs_on(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """notebooks/explore_run.ipynb, executed on the demo's own output."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).resolve().parents[1] / "notebooks" / "explore_run.ipynb"
    notebook = nbformat.read(path, as_version=4)
    monkeypatch.setenv("SDO_RUN_DIR", str(run_dir))
    NotebookClient(notebook, timeout=180, kernel_name="python3").execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="bundled sample snapshot missing")
def test_demo_snapshot_gives_every_output(
    tmp_path: Path, blank_nlp, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir, result = _run(tmp_path, blank_nlp, snapshot=SAMPLE)
    for name in OUTPUTS:
        assert (run_dir / name).is_file(), name
    assert not list((tmp_path / "runs").glob("*.partial"))
    bodies = set(result.items["body"])
    assert {"ITU-T", "ISO", "IEC"} <= bodies

    pairs = pd.read_csv(run_dir / "candidate_pairs.csv")
    assert {"itu_uid", "other_uid", "score", "rank", "category", "reason"} <= set(pairs.columns)
    assert len(pairs) > 0
    assert pairs["itu_uid"].str.startswith("ITU-T:").all()
    assert not pairs["other_uid"].str.startswith("ITU-T:").any()
    assert pairs["rank"].is_monotonic_increasing
    assert set(pairs["category"]) <= set(CATEGORIES)
    assert pairs["reason"].str.len().gt(0).all()

    committees = pd.read_csv(run_dir / "committee_pairs.csv")
    assert {"itu_sg", "counterpart", "score", "rank"} <= set(committees.columns)
    assert committees["rank"].is_monotonic_increasing
    assert committees["itu_sg"].str.fullmatch(r"SG\d+|TSAG").all()

    _notebook_runs_on(run_dir, monkeypatch)

    meta = json.loads((run_dir / "run.json").read_text())
    for key in ("inputs", "config", "model", "seed", "versions", "timings", "counts", "errors"):
        assert key in meta, key
    assert meta["inputs"] and all(len(i["sha256"]) == 64 for i in meta["inputs"])
    assert meta["counts"]["items"] == len(result.items)


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="bundled sample snapshot missing")
def test_same_inputs_same_ranking_and_no_overwrite(tmp_path: Path, blank_nlp) -> None:
    first, _ = _run(tmp_path, blank_nlp, snapshot=SAMPLE)
    second, _ = _run(tmp_path, blank_nlp, snapshot=SAMPLE)
    assert first != second
    assert first.is_dir() and second.is_dir()
    for name in ("candidate_pairs.csv", "committee_pairs.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_items_file_with_a_broken_line_still_gives_outputs(tmp_path: Path, blank_nlp) -> None:
    path = tmp_path / "mixed.csv"
    lines = ITEMS_CSV.splitlines()
    # Line 4 of the file loses its body: reported with file and line, the rest goes on.
    lines[3] = lines[3].replace(",ITU-T,", ",,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_dir, result = _run(tmp_path, blank_nlp, items_files=[path])
    assert (run_dir / "overlaps.xlsx").is_file()
    locations = [e.location for e in result.errors]
    assert any(loc.endswith("mixed.csv:4") for loc in locations), locations
    assert len(result.items) == 6
    with open(run_dir / "candidate_pairs.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "pairs expected between the ITU-T and ISO/IEC QKD items"


def test_nothing_to_read_is_a_clear_error(tmp_path: Path, blank_nlp) -> None:
    with pytest.raises(RunError, match="nothing to read"):
        _run(tmp_path, blank_nlp)
    # Checked before the first stage (pipeline.preflight); RunError is a UserError too.
    with pytest.raises(UserError, match="not found"):
        _run(tmp_path, blank_nlp, items_files=[tmp_path / "absent.csv"])


@pytest.mark.slow
def test_cli_with_the_real_bundled_model(tmp_path: Path) -> None:
    """The real all-MiniLM-L6-v2 and spaCy pipeline, end to end, on a handful of items."""
    path = tmp_path / "handful.csv"
    path.write_text(ITEMS_CSV, encoding="utf-8")
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app,
        ["run", "--items", str(path), "--out", str(out), "--cache-dir", str(tmp_path / "m"),
         "--split-by", "study-group"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    # One workbook per study group with pairs, beside the full one.
    assert (run_dir / "overlaps-SG17.xlsx").is_file() and (run_dir / "overlaps.xlsx").is_file()
    pairs = pd.read_csv(run_dir / "candidate_pairs.csv")
    top = pairs.iloc[0]
    # The QKD work of SG17 and of JTC 1/SC 27 is the clearest overlap in this handful.
    qkd = pairs[pairs["itu_uid"] == "ITU-T:X.qkd-sec"].sort_values("rank").iloc[0]
    assert qkd["other_uid"] == "ISO/IEC:ISO/IEC AWI 23837-3"
    assert top["semantic"] > 0.3
    meta = json.loads((run_dir / "run.json").read_text())
    assert "MiniLM" in json.dumps(meta["model"])


def test_cli_refuses_an_unknown_split(tmp_path: Path) -> None:
    path = tmp_path / "handful.csv"
    path.write_text(ITEMS_CSV, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--items", str(path), "--split-by", "committee"])
    assert result.exit_code == 2 and "study-group" in result.output


def test_snapshot_and_item_files_merge_keeping_the_first_of_a_uid() -> None:
    from pipeline.results import ParsedInput
    from pipeline.run import _merge_inputs
    from pipeline.schema import RecordError, items_frame, normalize_item

    def part(title: str, uid: str, error: str) -> ParsedInput:
        item = normalize_item(
            {"uid": uid, "body": "ISO", "committee": "ISO/TC 204", "title": title}
        )
        return ParsedInput(
            items=items_frame([item]),
            errors=[RecordError("test", error, "bad")],
            attribution=["ISO Open Data (ODC-By 1.0)"],
        )

    merged = _merge_inputs(
        [
            part("from the snapshot", "ISO:1", "a:1"),
            part("from a file", "ISO:1", "b:2"),
            part("other", "ISO:2", "c:3"),
        ]
    )
    assert merged.items["title"].tolist() == ["from the snapshot", "other"]
    assert [e.location for e in merged.errors][:3] == ["a:1", "b:2", "c:3"]
    # The second ISO:1 is not dropped silently (issue 13): it is an error of its own.
    (duplicate,) = merged.errors[3:]
    assert "duplicate uid 'ISO:1'" in duplicate.reason
    assert merged.attribution == ["ISO Open Data (ODC-By 1.0)"]
