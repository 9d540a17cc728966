"""``sdo-overlap``: the command line.

``run`` is the batch job; ``scrape``/``parse`` (pipeline.cli_sources) build and read snapshots;
``evaluate``/``evaluate-corpus`` (pipeline.cli_evaluate) measure the ranking; ``clean-partial``
removes run folders left by killed runs.

Every command fails the same way: ``error: <what> (<file>[:<line>] / <key>)`` on stderr and exit
status 2 for anything the user can fix (:class:`pipeline.errors.UserError`, a file that cannot
be read or written); 130 (Ctrl-C) or 143 (SIGTERM) when interrupted; 1 for a bug. Tracebacks are
shown only with ``sdo-overlap --debug <command>``.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.errors import EXIT_USER_ERROR, UserError, from_os_error

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
_state = {"debug": False}


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when a command fails.")
    ] = False,
) -> None:
    """Find ITU-T / ISO / IEC work that needs coordination (WTSA Resolution 7)."""
    _state["debug"] = debug


def failure(exc: BaseException) -> tuple[int, str] | None:
    """``(exit status, message)`` for an exception that ends a command; ``None`` for those the
    command line handles itself (``typer.Exit``, usage errors)."""
    from pipeline.utils.runfolder import Interrupted

    if isinstance(exc, click.exceptions.Exit | click.ClickException | click.Abort | SystemExit):
        return None
    if isinstance(exc, Interrupted):
        return 128 + exc.signum, f"interrupted ({signal.Signals(exc.signum).name}); nothing written"
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted (Ctrl-C); nothing written"
    if isinstance(exc, UserError):
        return EXIT_USER_ERROR, str(exc)
    if isinstance(exc, OSError):
        return EXIT_USER_ERROR, str(from_os_error(exc))
    if isinstance(exc, Exception):
        return 1, (
            f"unexpected {type(exc).__name__}: {exc} (a bug: run again with "
            "`sdo-overlap --debug ...` and report the traceback)"
        )
    return None


def handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with every failure printed as one ``error:`` line and its exit status
    (:func:`failure`); under ``--debug`` the exception propagates with its traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BaseException as exc:
            outcome = failure(exc)
            if outcome is None or _state["debug"]:
                raise
            status, message = outcome
            console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
            raise typer.Exit(status) from exc

    return wrapper


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
    allow_unplaced_decisions: Annotated[
        bool,
        typer.Option(
            help="Go on when --previous holds decisions without a pair id (they are listed "
            "under 'Unmatched decisions'); without it that is an error."
        ),
    ] = False,
    cache_dir: Annotated[
        Path, typer.Option(help="Where embeddings, enrichments and stage outputs are cached.")
    ] = Path("models"),
    stage_cache: Annotated[
        bool,
        typer.Option(
            help="Read stages whose inputs, config and code are unchanged back from "
            "<cache-dir>/stages instead of recomputing them."
        ),
    ] = True,
    split_by: Annotated[
        str | None,
        typer.Option(
            "--split-by",
            help="'study-group': also one workbook per ITU-T study group, beside the full one.",
        ),
    ] = None,
) -> None:
    """Run the whole job and write the analyst's workbook into a new run folder."""
    from pipeline.run import RunOptions, run_pipeline
    from pipeline.utils.runfolder import stop_on_signals

    overrides: dict[str, dict[str, Any]] = {}
    if top_k is not None:
        overrides.setdefault("match", {})["top_k"] = top_k
    if seed is not None:
        overrides.setdefault("run", {})["seed"] = seed
    if model is not None:
        overrides.setdefault("embed", {})["model"] = model
    if hide_declared:
        overrides.setdefault("rank", {})["hide_declared"] = True
    if split_by is not None and split_by != "study-group":
        raise UserError(
            f"unknown split {split_by!r}: only 'study-group' is known", key="--split-by"
        )
    files = [*(items or []), *(extra_items or [])]
    options = RunOptions(
        snapshot=snapshot,
        items_files=files,
        out_dir=out,
        config_path=config,
        overrides=overrides,
        previous=previous,
        allow_unplaced_decisions=allow_unplaced_decisions,
        cache_dir=cache_dir,
        stage_cache=stage_cache,
        split_by=split_by,
    )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with stop_on_signals(), console.status("starting") as status:

        def progress(message: str) -> None:
            console.log(message)
            status.update(message)

        run_dir, result = run_pipeline(options, progress=progress)
    _print_summary(run_dir, result)


@app.command("clean-partial")
def clean_partial(
    out: Annotated[Path, typer.Option(help="Parent folder of the run folders.")] = Path(
        "data/processed"
    ),
    dry_run: Annotated[bool, typer.Option(help="Only list what would be removed.")] = False,
) -> None:
    """Remove <run-id>.partial folders left in --out by runs that were killed.

    A folder that a running run is still writing is left alone.
    """
    from pipeline.utils.runfolder import remove_partial, stale_partials

    if not out.is_dir():
        raise UserError("no such folder", out, key="--out")
    stale = stale_partials(out)
    for path in stale:
        if not dry_run:
            remove_partial(path)
        typer.echo(f"{'would remove' if dry_run else 'removed'} {path}")
    if not stale:
        typer.echo(f"no partial run folders left by killed runs in {out}")


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
    # One error path for every command, including those registered above.
    for command in app.registered_commands:
        if command.callback is not None:
            command.callback = handled(command.callback)


_register_plugins()
