"""``sdo-overlap``: the command line.

``run`` is the batch job; ``scrape``/``parse`` (pipeline.cli_sources) build and read snapshots;
``evaluate``/``evaluate-corpus`` (pipeline.cli_evaluate) measure the ranking.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

# The bundled model is read from site-packages; never reach a hub unless the user says so.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(
    help="Find ITU-T / ISO / IEC work that needs coordination (WTSA Resolution 7).",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


@app.command()
def run(
    extra_items: Annotated[
        list[Path] | None,
        typer.Argument(
            help="More item files (so `--items a.csv b.jsonl` works).", show_default=False
        ),
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option(help="A raw snapshot folder (data/raw/<id>) to replay.")
    ] = None,
    items: Annotated[
        list[Path] | None,
        typer.Option("--items", help="Items in the schema: JSONL or CSV, plain or .gz."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Parent folder of the run folder.")] = Path(
        "data/processed"
    ),
    config: Annotated[Path | None, typer.Option(help="TOML config laid over the defaults.")] = None,
    top_k: Annotated[int | None, typer.Option(help="Neighbours per item in other bodies.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for every random step.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Sentence-transformers model name or folder.")
    ] = None,
    hide_declared: Annotated[
        bool,
        typer.Option(help="Ignore declared relations and explicit references (text only)."),
    ] = False,
    previous: Annotated[
        Path | None,
        typer.Option(help="An earlier overlaps.xlsx whose Decision/Comment carry over."),
    ] = None,
    cache_dir: Annotated[Path, typer.Option(help="Where embeddings are cached.")] = Path("models"),
    split_by: Annotated[
        str | None,
        typer.Option(
            "--split-by",
            help="'study-group': also one workbook per ITU-T study group, beside the full one.",
        ),
    ] = None,
) -> None:
    """Run the whole job and write the analyst's workbook into a new run folder."""
    from pipeline.config import ConfigError
    from pipeline.run import RunError, RunOptions, run_pipeline

    overrides: dict[str, dict[str, Any]] = {}
    if top_k is not None:
        overrides.setdefault("match", {})["top_k"] = top_k
    if seed is not None:
        overrides.setdefault("run", {})["seed"] = seed
    if model is not None:
        overrides.setdefault("embed", {})["model"] = model
    if hide_declared:
        overrides.setdefault("rank", {})["hide_declared"] = True
    files = [*(items or []), *(extra_items or [])]
    options = RunOptions(
        snapshot=snapshot,
        items_files=files,
        out_dir=out,
        config_path=config,
        overrides=overrides,
        previous=previous,
        cache_dir=cache_dir,
        split_by=split_by,
    )
    if split_by is not None and split_by != "study-group":
        console.print(f"[red]error:[/red] --split-by {split_by!r}: only 'study-group' is known")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with console.status("starting") as status:

            def progress(message: str) -> None:
                console.log(message)
                status.update(message)

            run_dir, result = run_pipeline(options, progress=progress)
    except (RunError, ConfigError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _print_summary(run_dir, result)


def _print_summary(run_dir: Path, result: Any) -> None:
    counts = result.meta["counts"]
    table = Table(title="sdo-overlap run", show_header=False)
    for body, n in sorted(counts["items_per_body"].items()):
        table.add_row(f"items {body}", str(n))
    table.add_row("committees", str(counts["committees"]))
    table.add_row("candidate pairs", str(counts["candidate_pairs"]))
    for cat, n in sorted(counts["pairs_per_category"].items()):
        table.add_row(f"  {cat}", str(n))
    table.add_row("committee pairs", str(counts["committee_pairs"]))
    table.add_row("areas", str(counts["areas"]))
    table.add_row("errors (see 'Sources and errors')", str(counts["errors"]))
    table.add_row("time (s)", f"{sum(result.meta['timings'].values()):.1f}")
    Console().print(table)
    Console().print(f"workbook: {run_dir / 'overlaps.xlsx'}")


def _register_plugins() -> None:
    # Source and evaluation commands live beside their stages.
    from pipeline import cli_evaluate, cli_sources

    cli_sources.register(app)
    cli_evaluate.register(app)


_register_plugins()
