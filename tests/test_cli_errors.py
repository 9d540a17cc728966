"""One error path (issue 13, cases 3 and 4): every failure a user can fix is one line
``error: <what> (<file>[:<line>] / <key>)`` and exit status 2, found before the first stage."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import pipeline.export
import pipeline.preflight
import pipeline.run
from pipeline.cli import app
from pipeline.errors import UserError

ITEMS = "\n".join(
    [
        "body,committee,reference,title,text",
        "ITU-T,SG17,X.qkd-sec,Security requirements for quantum key distribution networks,"
        "Key management and authentication for QKD networks.",
        "ITU-T,SG15,G.otn-fg,Fine-grain OTN interfaces,Fine-grain optical transport interfaces.",
        "ISO/IEC,JTC1/SC27,ISO/IEC AWI 23837-3,Security requirements for quantum key "
        "distribution,Security requirements and evaluation of QKD modules.",
        "IEC,TC 86,IEC 61280-2-15,Fibre optic communication subsystem test procedures,"
        "Test procedures for optical transport network subsystems.",
        "",
    ]
)
# No spaCy model (blank fallback) and no real embedder: these tests are about the error path.
FAST_CONFIG = '[enrich]\nspacy_model = "no-such-model"\n[embed]\nmodel = "hashing-512"\n'


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    items = tmp_path / "items.csv"
    items.write_text(ITEMS, encoding="utf-8")
    config = tmp_path / "fast.toml"
    config.write_text(FAST_CONFIG, encoding="utf-8")
    return {"items": items, "config": config, "out": tmp_path / "runs"}


@pytest.fixture()
def no_stage_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if the first stage starts: these checks must come before it."""

    def first_stage(*_args: object, **_kw: object) -> None:
        raise AssertionError("a stage ran before the inputs were checked")

    monkeypatch.setattr(pipeline.run, "parse_snapshot", first_stage)
    monkeypatch.setattr(pipeline.run, "load_item_files", first_stage)


def invoke(args: list[str], inputs: dict[str, Path], *extra: str) -> tuple[int, str]:
    base = ["run", "--items", str(inputs["items"]), "--config", str(inputs["config"])]
    if "--out" not in extra:
        base += ["--out", str(inputs["out"])]
    result = CliRunner().invoke(app, [*args, *base, *extra])
    return result.exit_code, result.output


def assert_one_error(code: int, output: str, *parts: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    (line,) = [line for line in output.splitlines() if line.startswith("error:")]
    for part in parts:
        assert part in output, (part, output)
    assert line.endswith(")"), line


def test_out_that_is_a_file_fails_before_any_stage(inputs, tmp_path: Path, no_stage_runs) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("", encoding="utf-8")
    code, output = invoke([], inputs, "--out", str(a_file))
    assert_one_error(code, output, "is a file, not a folder", f"({a_file} / --out)")
    code, output = invoke([], inputs, "--out", str(a_file / "sub"))
    assert_one_error(code, output, f"{a_file} is a file", "--out)")


def test_out_that_cannot_be_written_fails_before_any_stage(
    inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_stage_runs
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()

    def denied(*_args: object, dir: str = "", **_kw: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), dir)

    # Root ignores file modes, so the refusal is simulated where the probe file is made.
    monkeypatch.setattr(pipeline.preflight.tempfile, "mkstemp", denied)
    code, output = invoke([], inputs, "--out", str(locked))
    assert_one_error(code, output, "permission denied", f"({locked} / --out)")


def test_previous_that_is_not_a_workbook_fails_before_any_stage(
    inputs, tmp_path: Path, no_stage_runs
) -> None:
    bad = tmp_path / "overlaps.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    code, output = invoke([], inputs, "--previous", str(bad))
    assert_one_error(code, output, "not an .xlsx workbook", f"{bad} / --previous)")
    code, output = invoke([], inputs, "--previous", str(tmp_path / "absent.xlsx"))
    assert_one_error(code, output, "no such file", "--previous)")


def test_previous_with_unplaceable_decisions_stops_unless_allowed(inputs, tmp_path: Path) -> None:
    previous = tmp_path / "old.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Candidate pairs"
    sheet.append(["ITU-T reference", "Other reference", "Verdict??", "Decision"])
    sheet.append(["X.509", "ISO/IEC 9594-8", "", "coordinate"])
    book.save(previous)
    code, output = invoke([], inputs, "--previous", str(previous))
    assert_one_error(code, output, "none of its 1 decision(s) can be placed", "'Pair id'")

    code, output = invoke([], inputs, "--previous", str(previous), "--allow-unplaced-decisions")
    assert code == 0, output
    (run_dir,) = [p for p in inputs["out"].iterdir() if p.is_dir()]
    unmatched = openpyxl.load_workbook(run_dir / "overlaps.xlsx")["Unmatched decisions"]
    values = [c for row in unmatched.iter_rows(values_only=True) for c in row]
    assert "coordinate" in values


@pytest.mark.parametrize(
    ("config_text", "extra", "parts"),
    [
        (
            "[areas]\nn_neighbors = -3\n",
            [],
            ["areas.n_neighbors must be >= 1", "/ areas.n_neighbors)"],
        ),
        ("[rank]\nw_semantic = nan\n", [], ["finite", "/ rank.w_semantic)"]),
        ("[run\n", [], ["not valid TOML", ".toml:1)"]),
        ("", ["--seed", "-1"], ["(command line / run.seed)"]),
        ("", ["--top-k", "-1"], ["(command line / match.top_k)"]),
    ],
)
def test_config_problems_are_one_line_with_file_and_key(
    inputs, config_text: str, extra: list[str], parts: list[str], no_stage_runs
) -> None:
    inputs["config"].write_text(FAST_CONFIG + config_text, encoding="utf-8")
    if config_text.startswith("[run\n"):
        inputs["config"].write_text(config_text, encoding="utf-8")
    code, output = invoke([], inputs, *extra)
    assert_one_error(code, output, *parts)


def test_config_that_is_a_folder_or_not_utf8(inputs, tmp_path: Path, no_stage_runs) -> None:
    code, output = invoke([], {**inputs, "config": tmp_path})
    assert_one_error(code, output, "is a folder", f"({tmp_path})")
    inputs["config"].write_bytes(b"# r\xe9glages\n[run]\nseed = 1\n")
    code, output = invoke([], inputs)
    assert_one_error(code, output, "not UTF-8", f"({inputs['config']}:1)")


def test_missing_item_file_and_missing_snapshot(inputs, tmp_path: Path, no_stage_runs) -> None:
    code, output = invoke([], {**inputs, "items": tmp_path / "absent.csv"})
    assert_one_error(code, output, "item file not found", "absent.csv / --items)")
    result = CliRunner().invoke(app, ["run", "--snapshot", str(tmp_path / "nowhere")])
    assert_one_error(result.exit_code, result.output, "snapshot folder not found", "--snapshot)")


def test_debug_shows_the_traceback(inputs, tmp_path: Path, no_stage_runs) -> None:
    result = CliRunner().invoke(
        app, ["--debug", "run", "--items", str(tmp_path / "absent.csv"), "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, UserError)  # propagated, so Python prints it whole


def test_full_disk_during_export_is_a_clean_error_and_leaves_nothing(
    inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Path, _text: str) -> Path:
        Path(path).write_bytes(b"<html>")  # half a file, as a full disk leaves it
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(pipeline.export, "atomic_write_text", disk_full)
    code, output = invoke([], inputs)
    assert_one_error(code, output, "no space left on device", "report.html)")
    assert list(inputs["out"].iterdir()) == []  # no run folder, no .partial
