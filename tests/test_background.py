"""A writer run in a forked child: its file appears, and its failure is raised here."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.utils.background import BackgroundError, start_in_child


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _fail(path: Path) -> None:
    raise ValueError(f"{path}: cannot write")


def test_the_childs_file_is_there_when_wait_returns(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    wait = start_in_child(_write, target, "written by the child")
    wait()
    assert target.read_text(encoding="utf-8") == "written by the child"


def test_the_childs_error_is_raised_by_wait_with_its_message(tmp_path: Path) -> None:
    wait = start_in_child(_fail, tmp_path / "x.xlsx")
    with pytest.raises(BackgroundError, match=r"ValueError: .*x\.xlsx: cannot write"):
        wait()
