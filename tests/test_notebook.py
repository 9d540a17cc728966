"""notebooks/explore_run.ipynb runs top to bottom against a run folder (nbclient, no network)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from helpers_export import build_result
from nbclient import NotebookClient

from pipeline.export import write_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_run.ipynb"


def run_notebook(cwd: Path = NOTEBOOK.parent) -> nbformat.NotebookNode:
    """Execute the notebook with its working directory at ``cwd``."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return notebook


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_notebook_walks_through_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "20261130T113300Z-3f9a"
    write_outputs(run_dir, build_result(n_extra=16, n_pairs=150))
    monkeypatch.setenv("SDO_RUN_DIR", str(run_dir))
    monkeypatch.delenv("PAIR_ID", raising=False)
    notebook = run_notebook()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    text = outputs_text(notebook)
    assert str(run_dir) in text
    assert "SG17" in text and "new-overlap" in text
    assert any(
        "image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", [])
    )


def test_notebook_defaults_to_the_newest_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processed = tmp_path / "data" / "processed"
    result = build_result(n_pairs=40)
    for name in ("20261001T080000Z-aaaa", "20261130T113300Z-3f9a"):
        write_outputs(processed / name, result)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.delenv("SDO_RUN_DIR", raising=False)
    notebook = run_notebook(tmp_path / "notebooks")
    assert str(processed / "20261130T113300Z-3f9a") in outputs_text(notebook)
