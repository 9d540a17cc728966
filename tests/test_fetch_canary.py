"""``check-sources`` against a local stand-in of the three sites (respx): ok, drift, blocked."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
import typer
from typer.testing import CliRunner

from pipeline.cli_sources import register
from pipeline.fetch.canary import exit_code, probes, run_canary
from pipeline.fetch.client import PoliteClient

FIX = Path(__file__).parent / "fixtures" / "sources"
CAP = FIX / "captures"
BASES = {
    "itu-t": "http://itu.test/wp/",
    "iso": "http://iso.test/od/",
    "iec": "http://iec.test/",
    "iec-webstore": "http://search.iec.test/",
}
HOSTS = {"itu.test", "iso.test", "iec.test", "search.iec.test"}
SG_BLOCK = (
    "<p>[2025-2028] : [SG 20]</p><table><tr><td>Title:</td><td>Smart cities</td></tr>"
    "<tr><td>Description:</td><td>Illustrative mandate (test text).</td></tr></table>"
)


def _good(request: httpx.Request) -> httpx.Response:
    """The sites as the parsers expect them (real captures where there are some)."""
    url, q = str(request.url), dict(request.url.params)
    if request.url.path.endswith("robots.txt"):
        return httpx.Response(200, text="User-agent: *\nAllow: /\n")
    if request.url.host == "itu.test":
        if "wp_search" in url and "isn_qu" in q:
            return httpx.Response(200, text=(FIX / "wp_search_sg12.html").read_text())
        if "wp_search" in url:
            return httpx.Response(200, text=(FIX / "wp_search_sg12.html").read_text())
        if "wp_item" in url:
            return httpx.Response(200, text=(CAP / "itu-t" / "wp_item_21308.txt").read_text())
        if q.get("isn") == "9689":
            return httpx.Response(200, text=SG_BLOCK)
        return httpx.Response(200, text=(CAP / "itu-t" / "wp_block_10737.txt").read_text())
    if request.url.host == "iso.test":
        name = "deliverables_88821-88915.jsonl" if "deliverables" in url else None
        if name:
            return httpx.Response(206, text=(CAP / "iso" / name).read_text())
        # Real values of the JTC 1 record quoted in sources.md §2.4.
        rec = {
            "id": 45020,
            "reference": "ISO/IEC JTC 1",
            "title": {"en": "Information technology"},
            "scope": {"en": "Standardization in the field of information technology."},
        }
        line = json.dumps(rec)
        return httpx.Response(206, text=line + "\n" + line[:20])
    if request.url.host == "search.iec.test":
        return httpx.Response(
            200, text=(CAP / "iec" / "webstore_search_iec_27001.json").read_text()
        )
    if "103:23:" in url:
        return httpx.Response(200, text=(FIX / "iec_work_programme_tc57.html").read_text())
    text = (CAP / "iec" / "iec_dashboard_tc57.txt").read_text()
    if "103:186:" in url:
        text = text.replace("TC 57", "SyC AAL")
    return httpx.Response(200, text=text)


def _client() -> PoliteClient:
    return PoliteClient(HOSTS, sleep=lambda s: None, retries=0)


@respx.mock
def test_every_probe_ok_on_pages_that_look_as_expected() -> None:
    respx.route().mock(side_effect=_good)
    rows = run_canary(_client(), BASES)
    assert len(rows) == len(probes(BASES)) >= 10
    assert {r.body for r in rows} == {"itu-t", "iso", "iec"}
    assert [(r.kind, r.note) for r in rows if r.verdict != "ok"] == []
    assert exit_code(rows) == 0
    item = next(r for r in rows if r.kind == "wp_item")
    assert item.fields["committee"] == "SG3" and item.status == 200
    iso_rows = [r for r in rows if r.body == "iso"]
    assert all(r.status == 206 for r in iso_rows)  # a Range slice, not 78 MB


@respx.mock
def test_changed_page_is_drift_and_exits_1() -> None:
    def changed(request: httpx.Request) -> httpx.Response:
        if "wp_block" in str(request.url):
            return httpx.Response(200, text="<html><body>New look, no labels</body></html>")
        if "103:23:" in str(request.url):
            return httpx.Response(404)  # the page moved
        return _good(request)

    respx.route().mock(side_effect=changed)
    rows = run_canary(_client(), BASES)
    drift = {r.kind: r.note for r in rows if r.verdict == "drift"}
    assert set(drift) == {
        "wp_block (Question)", "itu_sg (SG block)", "iec_work_programme (page 23)",
    }  # fmt: skip
    assert "layout drift" in drift["wp_block (Question)"]
    assert "HTTP 404" in drift["iec_work_programme (page 23)"]
    assert exit_code(rows) == 1


@respx.mock
def test_blocked_pages_are_not_drift() -> None:
    def blocked(request: httpx.Request) -> httpx.Response:
        if request.url.host == "itu.test" and request.url.path.endswith("robots.txt"):
            return httpx.Response(200, text="User-agent: *\nDisallow: /\n")
        if request.url.host == "iec.test" and not request.url.path.endswith("robots.txt"):
            return httpx.Response(403)
        return _good(request)

    respx.route().mock(side_effect=blocked)
    rows = run_canary(_client(), BASES)
    verdicts = {(r.body, r.verdict) for r in rows}
    assert verdicts == {("itu-t", "blocked"), ("iso", "ok"), ("iec", "blocked"), ("iec", "ok")}
    assert exit_code(rows) == 0
    assert exit_code([r for r in rows if r.verdict == "blocked"]) == 2


@pytest.mark.parametrize(("drift", "code"), [(False, 0), (True, 1)])
@respx.mock
def test_cli_prints_the_table_and_exits_on_drift(drift: bool, code: int) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        if drift and "wp_item" in str(request.url):
            return httpx.Response(200, text="<html><body>Maintenance</body></html>")
        return _good(request)

    respx.route().mock(side_effect=site)
    app = typer.Typer()
    register(app)
    args = ["check-sources", "--bodies", "itu-t"]
    args += ["--base-url", f"itu-t={BASES['itu-t']}"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    for header in ("page kind", "URL", "status", "parsed fields", "verdict"):
        assert header in result.output
    assert ("drift" in result.output) is drift
