"""Time each export writer on the frames of a finished run, and check its files against another's.

The frames are rebuilt from a run folder's own outputs (``candidate_pairs.csv``, ``overlaps.csv``,
``committee_pairs.csv``, ``areas.csv``, ``items.parquet``, ``run.json``): text columns as text
(empty cells as ``""``), numbers and flags typed, list columns as Python lists, random unit vectors
for the report's map. Rewriting them reproduces that run's CSVs byte for byte, so two checkouts
can be compared on real data without rerunning the pipeline (issue 9).

Run: ``PYTHONPATH=<checkout> python benchmarks/bench_export.py RUN_DIR OUT_DIR [--reference DIR]``;
``--reference`` compares OUT_DIR with the files another checkout wrote there: CSV, Parquet and
HTML byte for byte, the workbook part by part (all but ``docProps/core.xml``, its creation time).
"""

from __future__ import annotations

import argparse
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def load_csv(path: Path) -> pd.DataFrame:
    """Numbers and flags typed as pandas infers them; every other column text, ``""`` if empty."""
    typed = pd.read_csv(path, low_memory=False)
    text = pd.read_csv(path, keep_default_na=False, dtype=str)
    for column in typed.columns:
        kind = typed[column].dtype
        numeric = pd.api.types.is_bool_dtype(kind) or pd.api.types.is_numeric_dtype(kind)
        if not numeric or typed[column].isna().all():
            typed[column] = text[column]
    return typed


def load_result(run_dir: Path) -> Any:
    """A RunResult from a run folder's outputs (see the module docstring)."""
    from pipeline.results import RunResult

    frames = {
        name: load_csv(run_dir / f"{name}.csv")
        for name in ("candidate_pairs", "committee_pairs", "areas", "overlaps")
    }
    items = pd.read_parquet(run_dir / "items.parquet")
    for column in items.columns:  # in a run, list columns hold Python lists
        if items[column].dtype == object:
            items[column] = [v.tolist() if isinstance(v, np.ndarray) else v for v in items[column]]
    meta = json.loads((run_dir / "run.json").read_text("utf-8"))
    vectors = np.random.default_rng(0).standard_normal((len(items), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return RunResult(
        items=items,
        committees=pd.DataFrame(),
        vectors=vectors,
        pairs=frames["candidate_pairs"],
        committee_pairs=frames["committee_pairs"],
        areas=frames["areas"],
        overlaps=frames["overlaps"],
        meta=meta,
    )


def writers(result: Any, out: Path) -> dict[str, Callable[[], Any]]:
    """What ``pipeline.export.write_outputs`` runs, one timed step each."""
    from pipeline.contracts import OVERLAP_COLUMNS
    from pipeline.export import twins
    from pipeline.export.report import render_report
    from pipeline.export.workbook import write_workbook
    from pipeline.utils.io import atomic_write_text

    def csv(name: str, frame: pd.DataFrame, contract: tuple[str, ...]) -> Callable[[], Any]:
        return lambda: twins.write_csv(out / f"{name}.csv", frame, contract)

    return {
        "write_workbook": lambda: write_workbook(out / "overlaps.xlsx", result),
        "write_csv candidate_pairs": csv("candidate_pairs", result.pairs, twins.CANDIDATE_CONTRACT),
        "write_csv committee_pairs": csv(
            "committee_pairs", result.committee_pairs, twins.COMMITTEE_CONTRACT
        ),
        "write_csv areas": csv("areas", result.areas, twins.AREA_CONTRACT),
        "write_csv overlaps": csv("overlaps", result.overlaps, OVERLAP_COLUMNS),
        "write_parquet": lambda: twins.write_parquet(out / "items.parquet", result.items),
        "render_report": lambda: atomic_write_text(out / "report.html", render_report(result)),
    }


def compare(out: Path, reference: Path) -> list[str]:
    """The files of ``out`` that differ from ``reference``'s (empty when all are identical)."""
    differ = []
    for path in sorted(reference.iterdir()):
        mine = out / path.name
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as ref, zipfile.ZipFile(mine) as new:
                if ref.namelist() != new.namelist():
                    differ.append(path.name)
                    continue
                differ += [
                    f"{path.name}:{part}"
                    for part in ref.namelist()
                    if part != "docProps/core.xml" and ref.read(part) != new.read(part)
                ]
        elif not mine.exists() or mine.read_bytes() != path.read_bytes():
            differ.append(path.name)
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--reference", type=Path, help="compare with this folder's files")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    result = load_result(args.run_dir)
    import sklearn.decomposition  # noqa: F401  (match and areas load it before export in a run)

    total = 0.0
    for name, step in writers(result, args.out_dir).items():
        start, cpu = time.perf_counter(), time.process_time()
        step()
        wall = time.perf_counter() - start
        total += wall
        print(f"{name:28s} {wall:7.2f} s  (cpu {time.process_time() - cpu:6.2f} s)", flush=True)
    print(f"{'export':28s} {total:7.2f} s")
    if args.reference:
        differ = compare(args.out_dir, args.reference)
        print("identical to the reference" if not differ else f"DIFFER: {', '.join(differ)}")
        raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
