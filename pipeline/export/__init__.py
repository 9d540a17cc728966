"""Export: the analyst's workbook, its CSV/Parquet twins and the HTML report of one run.

``write_outputs(run_dir, result)`` writes every file into ``run_dir`` (which the run module
creates and later renames into place); each file appears whole or not at all. ``run.json`` is the
run module's. Everything shown from a source is inert: ``safe_cell`` in the workbook and CSVs,
``html.escape`` in the report, links only to the bodies' pages.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.contracts import OVERLAP_COLUMNS, WORKBOOK_NAME
from pipeline.export.liaison import write_liaisons
from pipeline.export.report import render_report
from pipeline.export.split import SPLIT_CHOICES, split_file_name, split_result, study_groups
from pipeline.export.twins import (
    AREA_CONTRACT,
    CANDIDATE_CONTRACT,
    COMMITTEE_CONTRACT,
    write_csv,
    write_parquet,
)
from pipeline.export.workbook import SHEETS, write_workbook
from pipeline.results import RunResult
from pipeline.utils.background import start_in_child
from pipeline.utils.io import atomic_write_text

__all__ = ["OUTPUT_FILES", "SHEETS", "SPLIT_CHOICES", "write_outputs"]

OUTPUT_FILES: dict[str, str] = {
    "workbook": WORKBOOK_NAME,
    "candidate_pairs": "candidate_pairs.csv",
    "committee_pairs": "committee_pairs.csv",
    "areas": "areas.csv",
    "overlaps": "overlaps.csv",
    "items": "items.parquet",
    "report": "report.html",
}


def write_outputs(
    run_dir: Path, result: RunResult, *, split_by: str | None = None
) -> dict[str, Path]:
    """Write the run's outputs into ``run_dir``; returns ``{name: path}`` (:data:`OUTPUT_FILES`,
    plus ``workbook:<SG>`` per study group when ``split_by == "study-group"`` and
    ``liaison:<pair id>`` per draft liaison statement for pairs decided ``coordinate``).

    Raises whatever a writer raises: a half-written run folder is the run module's to discard,
    and no single file is ever left half-written.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: run_dir / filename for name, filename in OUTPUT_FILES.items()}
    # The workbook is written in a child while this process writes the rest (2 cores).
    workbook_done = start_in_child(write_workbook, paths["workbook"], result)
    try:
        _write_tables(paths, result)
    finally:
        workbook_done()
    if split_by is not None:
        if split_by not in SPLIT_CHOICES:
            raise ValueError(f"--split-by {split_by!r}: choose one of {', '.join(SPLIT_CHOICES)}")
        for sg in study_groups(result):
            path = write_workbook(run_dir / split_file_name(sg), split_result(result, sg))
            paths[f"workbook:{sg}"] = path
    for path in write_liaisons(run_dir, result.pairs, result.items):
        paths[f"liaison:{path.stem}"] = path
    return paths


def _write_tables(paths: dict[str, Path], result: RunResult) -> None:
    """The CSV twins, items.parquet and report.html."""
    write_csv(paths["candidate_pairs"], result.pairs, CANDIDATE_CONTRACT)
    write_csv(paths["committee_pairs"], result.committee_pairs, COMMITTEE_CONTRACT)
    write_csv(paths["areas"], result.areas, AREA_CONTRACT)
    write_csv(paths["overlaps"], result.overlaps, OVERLAP_COLUMNS)
    write_parquet(paths["items"], result.items)
    atomic_write_text(paths["report"], render_report(result))
