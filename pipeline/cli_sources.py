"""CLI commands of the sources stage: ``scrape`` and ``check-sources`` (network), ``parse``
(offline).

The lead's ``pipeline/cli.py`` calls :func:`register` on its Typer app.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from pipeline.fetch.params import FetchParams
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


Bodies = Annotated[str, typer.Option(help="comma-separated: itu-t,iso,iec")]
BaseUrls = Annotated[
    list[str] | None, typer.Option(help="body=URL, e.g. iso=http://127.0.0.1:8080")
]
Period = Annotated[str, typer.Option(help="ITU-T study period, e.g. 2025-2028")]
ConfigFile = Annotated[
    Path | None, typer.Option(help="TOML config laid over the defaults (its [fetch] table).")
]


def _fetch_params(config: Path | None) -> FetchParams:
    """The ``[fetch]`` table of the typed config (defaults, then ``config``)."""
    from pipeline.config import ConfigError
    from pipeline.graph import load_settings

    try:
        return load_settings(config).fetch
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _fail(message: str) -> typer.Exit:
    """Print ``error: <message>`` on stderr; the caller raises the returned exit (code 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add ``scrape``, ``check-sources`` and ``parse`` to ``app``."""

    @app.command("scrape")
    def scrape(
        period: Period = "2025-2028",
        bodies: Bodies = "itu-t,iso,iec",
        out: Annotated[
            Path | None, typer.Option(help="snapshot folder (default data/raw/<new id>)")
        ] = None,
        resume: Annotated[bool, typer.Option(help="continue an interrupted snapshot")] = False,
        base_url: BaseUrls = None,
        limit: Annotated[int | None, typer.Option(help="cap ITU-T work item pages")] = None,
        config: ConfigFile = None,
    ) -> None:
        """Fetch the bodies' public pages politely into an immutable raw snapshot.

        Exit 1 when a whole body failed (every request an error); a partly failed scrape exits
        0 and says, per body, how much failed.
        """
        from pipeline.fetch.progress import RichScrapeProgress
        from pipeline.fetch.scrape import check_bodies, scrape

        try:  # checked before anything is fetched
            names = check_bodies(bodies.split(","))
            urls = parse_base_urls(base_url)
        except (ValueError, typer.BadParameter) as exc:
            raise _fail(str(exc)) from None
        params = _fetch_params(config)
        target = out or Path("data/raw") / new_run_id()
        try:
            with RichScrapeProgress() as progress:
                report = scrape(
                    target,
                    names,
                    period,
                    urls,
                    resume,
                    limit=limit,
                    progress=progress,
                    params=params,
                )
        except FileExistsError as exc:
            raise _fail(str(exc)) from None
        for body, rep in report.bodies.items():
            verdict = "FAILED" if rep.whole_failed else ("partly failed" if rep.failed else "ok")
            typer.echo(f"{body}: {verdict}: {rep.summary()}")
            for where, what in rep.problems:
                typer.echo(f"  problem: {what} ({where})")
        typer.echo(f"snapshot written: {report.path}")
        if report.failed_bodies:
            typer.echo(f"error: nothing fetched for {', '.join(report.failed_bodies)}", err=True)
            raise typer.Exit(1)

    @app.command("check-sources")
    def check_sources(
        bodies: Bodies = "itu-t,iso,iec",
        base_url: BaseUrls = None,
        period: Period = "2025-2028",
        config: ConfigFile = None,
    ) -> None:
        """Canary: fetch one page of each kind per body, parse it, print a verdict table.

        Exit 1 on drift (a page no longer parses as expected), 2 when every page was blocked.
        """
        from rich.console import Console

        from pipeline.fetch.canary import exit_code, render, run_canary
        from pipeline.fetch.client import PoliteClient
        from pipeline.fetch.scrape import DEFAULT_BASE_URLS, check_bodies

        try:
            names = tuple(check_bodies(bodies.split(",")))
            urls = {**DEFAULT_BASE_URLS, **parse_base_urls(base_url)}
        except (ValueError, typer.BadParameter) as exc:
            raise _fail(str(exc)) from None
        hosts = {urlsplit(u).hostname or "" for u in urls.values()}
        options = _fetch_params(config).client_options(canary=True)
        with PoliteClient(hosts, **options) as client:
            rows = run_canary(client, urls, names, period)
        render(rows, Console())
        code = exit_code(rows)
        if code:
            raise typer.Exit(code)

    @app.command("parse")
    def parse(
        snapshot: Annotated[Path, typer.Argument(help="a data/raw/<id> folder")],
        out: Annotated[Path | None, typer.Option(help="output folder")] = None,
    ) -> None:
        """Parse a raw snapshot into items.parquet, committees.parquet and errors.csv."""
        from pipeline.sources import parse_snapshot
        from pipeline.sources.snapshot import ManifestError

        try:
            result = parse_snapshot(snapshot)
        except (ManifestError, FileNotFoundError) as exc:
            raise _fail(str(exc)) from None
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
