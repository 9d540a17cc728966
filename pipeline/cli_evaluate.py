"""``sdo-overlap evaluate`` and ``evaluate-corpus``: measure the ranking (docs/evaluation.md)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipeline.errors import UserError
from pipeline.utils.io import atomic_write_text, json_text

__all__ = ["register"]

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` and ``evaluate-corpus`` to the ``sdo-overlap`` command line."""

    @app.command("evaluate")
    def evaluate(
        run_dir: Annotated[Path, typer.Argument(help="A run folder (candidate_pairs.csv ...).")],
        gold: Annotated[
            Path, typer.Option(help="Folder (or a file in it) with twins.csv, committee_pairs.csv.")
        ],
    ) -> None:
        """Twin recovery and committee-pair ranks of a finished run."""
        from pipeline.evaluate import evaluate_run, summary_json

        for name in ("candidate_pairs.csv", "committee_pairs.csv"):
            if not (run_dir / name).is_file():
                raise UserError("not found: is this a run folder?", run_dir / name)
        typer.echo(summary_json(evaluate_run(run_dir, gold)))

    @app.command("evaluate-corpus")
    def evaluate_corpus_cmd(
        corpus: Annotated[Path, typer.Option(help="Folder of the shared corpus (*.jsonl.gz).")],
        gold: Annotated[Path, typer.Option(help="Folder with twins.csv, committee_pairs.csv.")],
        limit: Annotated[
            int | None, typer.Option(help="First N records per body file (plus gold items).")
        ] = None,
        out: Annotated[
            Path | None, typer.Option(help="Markdown file whose results block is rewritten.")
        ] = None,
        cache_dir: Annotated[
            Path, typer.Option(help="Cache root, as for run (vectors in <cache-dir>/embeddings).")
        ] = Path("models"),
        seed: Annotated[
            int | None, typer.Option(help="Seed for every random step (default: [run] seed).")
        ] = None,
        config: Annotated[
            Path | None, typer.Option(help="TOML config laid over the defaults (as for run).")
        ] = None,
        fit_committee_model: Annotated[
            Path | None,
            typer.Option(
                help="Write a committee model fitted on this run's known pairs to this JSON "
                "file (regularisation chosen leave-one-study-group-out)."
            ),
        ] = None,
    ) -> None:
        """Hide declared evidence, run the pipeline on the corpus, compare with baselines."""
        from pipeline.evaluate import evaluate_corpus, markdown_report, write_report
        from pipeline.graph import load_settings
        from pipeline.utils.runfolder import stop_on_signals

        cfg = load_settings(config, {"run": {"seed": seed}} if seed is not None else None)
        for path, option in ((corpus, "--corpus"), (gold, "--gold")):
            if not path.exists():
                raise UserError("not found", path, key=option)
        command = "sdo-overlap " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        with stop_on_signals():  # SIGTERM like Ctrl-C; spaCy workers end with the command
            result, meta = evaluate_corpus(
                corpus,
                gold,
                config=cfg,
                limit=limit,
                cache_dir=cache_dir,
                command=command,
                progress=lambda m: console.log(m),
                fit_committee_model_to=fit_committee_model,
            )
        block = markdown_report(result)
        if out is not None:
            write_report(out, block)
            record = out.with_suffix(".run.json")
            atomic_write_text(record, json_text(meta))
            console.print(f"results written to {out}, run record to {record}")
        typer.echo(block)
