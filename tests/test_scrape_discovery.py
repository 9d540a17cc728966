"""Scraping when the unseen discovery pages do not look as expected: loud, and a second route.

A mocked ITU-T / IEC / ISO (respx): no network, no real waiting except the CLI's polite pacing.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import respx
import typer
from typer.testing import CliRunner

from pipeline.cli_sources import register
from pipeline.fetch.client import PoliteClient
from pipeline.fetch.scrape import scrape
from pipeline.sources import parse_snapshot, read_manifest

FIX = Path(__file__).parent / "fixtures" / "sources"
ITU = "http://itu.test/wp/"
IEC = "http://iec.test/"
SEARCH = "http://search.iec.test/"
ISO = "http://iso.test/od/"
BASES = {"itu-t": ITU, "iec": IEC, "iec-webstore": SEARCH, "iso": ISO}
# A work item page that names no study group: the listing's Question must supply it.
ITEM = (
    "<table><tr><td>Work item:</td><td>X.{n}</td></tr>"
    "<tr><td>Subject/title:</td><td>Item {n}</td></tr></table>"
)
SG_BLOCK = (
    "<p>[2025-2028] : [SG 12]</p><table><tr><td>Title:</td><td>Performance, QoS and QoE</td></tr>"
    "<tr><td>Description:</td><td>Illustrative mandate text for the test (not ITU's wording)."
    "</td></tr></table>"
)


def _select(options: str) -> str:
    return f"<html><body><select>{options}</select></body></html>"


def _itu(request: httpx.Request) -> httpx.Response:
    q = dict(request.url.params)
    path = request.url.path
    if path.endswith("robots.txt"):
        return httpx.Response(404)
    if path.endswith("wp_search.aspx"):
        if "Q" in q:  # the work programme page the Question page links to
            return httpx.Response(200, text='<a href="wp_item.aspx?isn=102">X.102</a>')
        if "isn_qu" in q:
            return httpx.Response(200, text="<html><body><table></table></body></html>")
        if "isn_sg" in q:
            return httpx.Response(200, text=_select('<option value="10694">Q1/12: W</option>'))
        if "isn_sp" in q:
            return httpx.Response(200, text=_select('<option value="9683">SG12: Perf</option>'))
        return httpx.Response(200, text=_select('<option value="9677">2025-2028</option>'))
    if path.endswith("wp_block.aspx"):
        if q["isn"] == "9683":
            return httpx.Response(200, text=SG_BLOCK)
        page = (FIX / "captures" / "itu-t" / "wp_block_10741.txt").read_text()
        links = '<a href="wp_item.aspx?isn=101">X.101</a> <a href="wp_search.aspx?Q=1%2F12">WP</a>'
        return httpx.Response(200, text=f"<html><body><pre>{page}</pre>{links}</body></html>")
    if path.endswith("wp_item.aspx"):
        return httpx.Response(200, text=ITEM.format(n=q["isn"]))
    return httpx.Response(404)


def _client(hosts: set[str]) -> PoliteClient:
    return PoliteClient(hosts, sleep=lambda s: None, retries=0)


@respx.mock
def test_itu_listing_without_items_is_loud_and_falls_back_to_question_page(
    tmp_path: Path,
) -> None:
    respx.route(host="itu.test").mock(side_effect=_itu)
    report = scrape(tmp_path / "s", ["itu-t"], "2025-2028", BASES, client=_client({"itu.test"}))
    listing = f"{ITU}wp_search.aspx?isn_sp=9677&isn_sg=9683&isn_qu=10694"
    (problem,) = [p for p in report.bodies["itu-t"].problems if p[0].startswith(listing)]
    assert "no wp_item.aspx?isn= links" in problem[1]
    manifest = read_manifest(report.path)
    assert any("no wp_item.aspx?isn= links" in p["reason"] for p in manifest.problems)
    parsed = parse_snapshot(report.path)
    items = parsed.items.set_index("uid")
    # Both routes found their item; the listing's Question gave the study group.
    assert {"ITU-T:isn-101", "ITU-T:isn-102"} <= set(items.index)
    assert items.loc["ITU-T:isn-101", "committee"] == "SG12"
    assert items.loc["ITU-T:isn-101", "group"] == "Q1/12"
    # The Question page without a title still gives the Question, named by the listing.
    assert items.loc["ITU-T:question:2025-2028:Q1/12", "title_missing"]
    # The SG block page gives the study group's committee record.
    sg = parsed.committees.set_index("uid").loc["ITU-T:committee-SG12"]
    assert (sg["body"], sg["committee"]) == ("ITU-T", "SG12")
    assert sg["title"] == "Performance, QoS and QoE"
    assert any("no wp_item.aspx?isn= links" in e.reason for e in parsed.errors)


@respx.mock
def test_paged_listing_is_reported_and_completed_from_the_question_page(tmp_path: Path) -> None:
    pager = (
        '<table><tr><td><a href="wp_item.aspx?isn=100">X.100</a></td></tr></table>'
        "<a href=\"javascript:__doPostBack('ctl00$gd_wp','Page$2')\">2</a>"
    )

    def site(request: httpx.Request) -> httpx.Response:
        if "isn_qu" in dict(request.url.params):
            return httpx.Response(200, text=pager)
        return _itu(request)

    respx.route(host="itu.test").mock(side_effect=site)
    report = scrape(tmp_path / "s", ["itu-t"], base_urls=BASES, client=_client({"itu.test"}))
    (problem,) = report.bodies["itu-t"].problems
    assert "listing is paged" in problem[1]
    uids = set(parse_snapshot(report.path).items["uid"])
    assert {"ITU-T:isn-100", "ITU-T:isn-101", "ITU-T:isn-102"} <= uids


def _search_hits(request: httpx.Request) -> httpx.Response:
    number = json.loads(request.content)["query"]
    ident = int(number.replace("-", ""))
    hits = [
        {"_source": {"id": ident, "reference": f"IEC {number}:2020", "title": "Asked for"}},
        {"_source": {"id": ident + 1, "reference": f"IEC 9{number}:2021", "title": "Substring"}},
    ]
    return httpx.Response(200, json={"primary": {"hits": {"hits": hits}}})


def _iec(work_programme: str) -> respx.Route:
    respx.get(url__regex=r".*/robots\.txt").mock(return_value=httpx.Response(404))

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if "103:7:" in url:
            return httpx.Response(200, text=(FIX / "iec_dashboard_tc57.html").read_text())
        if "103:23:" in url:
            return httpx.Response(200, text=work_programme)
        if "::CSV::" in url:
            return httpx.Response(200, text=(FIX / "iec_publications_tc57.xml").read_text())
        if "103:22:" in url:
            return httpx.Response(200, text=(FIX / "iec_publications_tc57.html").read_text())
        return httpx.Response(404)

    respx.route(host="iec.test").mock(side_effect=handler)
    return respx.post(f"{SEARCH}api/search").mock(side_effect=_search_hits)


def _queries(route: respx.Route) -> list[str]:
    return [json.loads(c.request.content)["query"] for c in route.calls]


@respx.mock
def test_iec_work_programme_without_projects_falls_back_to_publications(tmp_path: Path) -> None:
    search = _iec("<html><body><p>No data found</p></body></html>")
    client = _client({"iec.test", "search.iec.test"})
    report = scrape(
        tmp_path / "s", ["iec"], base_urls=BASES, client=client, iec_committees=["IEC TC 57"]
    )
    (problem,) = report.bodies["iec"].problems
    assert "f?p=103:23:" in problem[0] and "falling back" in problem[1]
    assert _queries(search) == ["61850-7-4", "61968-1"]
    parsed = parse_snapshot(report.path)
    refs = dict(zip(parsed.items["reference"], parsed.items["committee"], strict=True))
    # Only the hit whose number is the one asked for is the committee's.
    assert refs == {"IEC 61850-7-4:2020": "IEC TC 57", "IEC 61968-1:2020": "IEC TC 57"}


@respx.mock
def test_iec_proposals_are_not_searched(tmp_path: Path) -> None:
    page = (FIX / "iec_work_programme_tc57.html").read_text()
    row = page.split("<tr><td>", 1)[1].split("</tr>", 1)[0]
    page = page.replace("</table>", "<tr><td>PNW TS 57-2235</td><td>Proposal</td></tr></table>")
    assert "IEC TS 63353 ED1" in row
    search = _iec(page)
    client = _client({"iec.test", "search.iec.test"})
    report = scrape(
        tmp_path / "s", ["iec"], base_urls=BASES, client=client, iec_committees=["IEC TC 57"]
    )
    assert _queries(search) == ["63353"] and report.bodies["iec"].problems == []


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps Typer from collapsing to one
        pass

    return app


@respx.mock
def test_bogus_body_is_rejected_before_anything_is_fetched(tmp_path: Path) -> None:
    route = respx.route().mock(return_value=httpx.Response(200))
    for bodies in ("bogus", "iso,bogus"):
        out = tmp_path / bodies
        result = CliRunner().invoke(_app(), ["scrape", "--bodies", bodies, "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert "unknown body 'bogus'" in result.output and "Traceback" not in result.output
        assert not out.exists()
    assert route.call_count == 0


@respx.mock
def test_scrape_exit_code_and_per_body_summary(tmp_path: Path) -> None:
    """ITU-T gives nothing (exit 1, named); ISO half works (reported, not fatal)."""
    respx.get(url__regex=r".*/robots\.txt").mock(return_value=httpx.Response(404))
    respx.route(host="itu.test").mock(return_value=httpx.Response(404))
    respx.get(url__regex=r".*iso_deliverables_metadata.*").mock(
        return_value=httpx.Response(200, text=(FIX / "iso_deliverables.jsonl").read_text())
    )
    respx.get(url__regex=r".*iso_technical_committees.*").mock(return_value=httpx.Response(404))
    args = ["scrape", "--bodies", "itu-t,iso", "--base-url", f"itu-t={ITU}"]
    args += ["--base-url", f"iso={ISO}", "--out", str(tmp_path / "a")]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 1, result.output
    assert "itu-t: FAILED: 1 requests, 1 failed (100%)" in result.output
    assert "iso: partly failed: 2 requests, 1 failed (50%)" in result.output
    assert "nothing fetched for itu-t" in result.output
    respx.route(host="itu.test").mock(return_value=httpx.Response(404))
    args[2] = "iso"
    args[-1] = str(tmp_path / "b")
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "iso: partly failed: 2 requests, 1 failed (50%)" in result.output


class Recorder:
    def __init__(self) -> None:
        self.expected: dict[str, int] = {}
        self.done_ok: dict[str, list[bool]] = {}

    def expect(self, body: str, n: int) -> None:
        self.expected[body] = self.expected.get(body, 0) + n

    def done(self, body: str, ok: bool) -> None:
        self.done_ok.setdefault(body, []).append(ok)


@respx.mock
def test_progress_counts_every_request_and_knows_what_is_coming(tmp_path: Path) -> None:
    respx.route(host="itu.test").mock(side_effect=_itu)
    rec = Recorder()
    report = scrape(
        tmp_path / "s", ["itu-t"], base_urls=BASES, client=_client({"itu.test"}), progress=rec
    )
    done = rec.done_ok["itu-t"]
    assert len(done) == report.bodies["itu-t"].requests and all(done)
    assert rec.expected["itu-t"] == len(done)  # every request was announced before it ran
