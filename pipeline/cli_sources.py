"""CLI commands of the sources stage: ``scrape`` (network) and ``parse`` (offline).

The lead's ``pipeline/cli.py`` calls :func:`register` on its Typer app.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated

import typer

from pipeline.utils.io import atomic_path, atomic_write_text, new_run_id

__all__ = ["parse_base_urls", "register"]


def parse_base_urls(values: list[str] | None) -> dict[str, str]:
    """``["iso=http://127.0.0.1:8080"]`` -> ``{"iso": "http://127.0.0.1:8080"}``."""
    out: dict[str, str] = {}
    for value in values or []:
        body, sep, url = value.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"--base-url wants body=URL, got {value!r}")
        out[body.strip().lower()] = url.strip()
    return out


def register(app: typer.Typer) -> None:
    """Add ``scrape`` and ``parse`` to ``app``."""

    @app.command("scrape")
    def scrape(
        period: Annotated[
            str, typer.Option(help="ITU-T study period, e.g. 2025-2028")
        ] = "2025-2028",
        bodies: Annotated[
            str, typer.Option(help="comma-separated: itu-t,iso,iec")
        ] = "itu-t,iso,iec",
        out: Annotated[
            Path | None, typer.Option(help="snapshot folder (default data/raw/<new id>)")
        ] = None,
        resume: Annotated[bool, typer.Option(help="continue an interrupted snapshot")] = False,
        base_url: Annotated[
            list[str] | None, typer.Option(help="body=URL, e.g. iso=http://127.0.0.1:8080")
        ] = None,
        limit: Annotated[int | None, typer.Option(help="cap ITU-T work item pages")] = None,
    ) -> None:
        """Fetch the bodies' public pages politely into an immutable raw snapshot."""
        from pipeline.fetch.scrape import run_scrape

        target = out or Path("data/raw") / new_run_id()
        names = [b.strip().lower() for b in bodies.split(",") if b.strip()]
        path = run_scrape(target, names, period, parse_base_urls(base_url), resume, limit=limit)
        typer.echo(f"snapshot written: {path}")

    @app.command("parse")
    def parse(
        snapshot: Annotated[Path, typer.Argument(help="a data/raw/<id> folder")],
        out: Annotated[Path | None, typer.Option(help="output folder")] = None,
    ) -> None:
        """Parse a raw snapshot into items.parquet, committees.parquet and errors.csv."""
        from pipeline.sources import parse_snapshot

        result = parse_snapshot(snapshot)
        target = out or Path("data/processed") / snapshot.name
        target.mkdir(parents=True, exist_ok=True)
        for name, frame in (("items", result.items), ("committees", result.committees)):
            with atomic_path(target / f"{name}.parquet") as tmp:
                frame.to_parquet(tmp, index=False)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["source", "location", "reason", "stage"])
        writer.writeheader()
        writer.writerows(e.as_dict() for e in result.errors)
        atomic_write_text(target / "errors.csv", buf.getvalue())
        typer.echo(
            f"{len(result.items)} items, {len(result.committees)} committees, "
            f"{len(result.errors)} errors -> {target}"
        )
