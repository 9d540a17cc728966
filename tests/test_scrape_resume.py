"""A whole scrape against a mocked ITU-T/ISO site: interrupted, resumed, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from pipeline.fetch.client import PoliteClient
from pipeline.fetch.scrape import JOURNAL, run_scrape
from pipeline.sources import parse_snapshot

FIX = Path(__file__).parent / "fixtures" / "sources"
ITU = "http://itu.test/wp/"
ISO = "http://iso.test/od/"
BASES = {"itu-t": ITU, "iso": ISO}
ITEM = (FIX / "wp_item_21308_text.html").read_text()


def _search_page(options: str, rows: str = "") -> str:
    return f"<html><body><select>{options}</select><table>{rows}</table></body></html>"


def _site(router: respx.MockRouter) -> dict[str, int]:
    calls: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        calls[url] = calls.get(url, 0) + 1
        q = dict(request.url.params)
        if request.url.path.endswith("robots.txt"):
            return httpx.Response(404)
        if request.url.path.endswith("wp_search.aspx"):
            if "isn_qu" in q:
                rows = "".join(
                    f'<tr><td><a href="wp_item.aspx?isn={i}">X.{i}</a></td></tr>'
                    for i in (101, 102, 103)
                )
                return httpx.Response(200, text=_search_page("", rows))
            if "isn_sg" in q:
                return httpx.Response(
                    200, text=_search_page('<option value="10694">Q1/12: Work</option>')
                )
            if "isn_sp" in q:
                return httpx.Response(
                    200, text=_search_page('<option value="9683">SG12: Perf</option>')
                )
            return httpx.Response(200, text=_search_page('<option value="9677">2025-2028</option>'))
        if request.url.path.endswith("wp_item.aspx"):
            if q["isn"] == "103":
                return httpx.Response(500)  # always broken: must land in the manifest
            return httpx.Response(200, text=ITEM, headers={"ETag": f'"{q["isn"]}"'})
        if request.url.path.endswith("wp_block.aspx"):
            if q["isn"] == "9683":  # the study group's own block (test text, not ITU's)
                sg = "<p>[2025-2028] : [SG 12]</p><p>Title: Perf</p><p>Description: Mandate.</p>"
                return httpx.Response(200, text=sg)
            return httpx.Response(200, text=(FIX / "wp_block_10737.html").read_text())
        if request.url.host == "iso.test":
            body = (FIX / "iso_deliverables.jsonl").read_bytes()
            return httpx.Response(200, content=body, headers={"ETag": '"0x8DD"'})
        return httpx.Response(404)

    router.route().mock(side_effect=handler)
    return calls


class Interrupt(Exception):
    pass


def _client(max_fetches: int | None = None) -> PoliteClient:
    client = PoliteClient({"itu.test", "iso.test"}, sleep=lambda s: None, retries=1)
    if max_fetches is not None:
        original = client.fetch
        count = {"n": 0}

        def fetch(*a, **kw):
            count["n"] += 1
            if count["n"] > max_fetches:
                raise Interrupt
            return original(*a, **kw)

        client.fetch = fetch  # type: ignore[method-assign]
    return client


@respx.mock
def test_interrupted_scrape_resumes_without_loss(tmp_path: Path) -> None:
    calls = _site(respx.mock)
    out = tmp_path / "raw" / "20260910T000000Z-aaaa"
    with pytest.raises(Interrupt):
        run_scrape(out, ["itu-t", "iso"], "2025-2028", BASES, client=_client(max_fetches=6))
    assert (out / JOURNAL).is_file() and not (out / "manifest.json").exists()
    with pytest.raises(FileExistsError):
        run_scrape(out, ["itu-t"], "2025-2028", BASES, client=_client())  # no silent overwrite
    before = dict(calls)
    run_scrape(out, ["itu-t", "iso"], "2025-2028", BASES, resume=True, client=_client())
    manifest = json.loads((out / "manifest.json").read_text())
    entries = manifest["entries"]
    urls = {e["url"] for e in entries}
    assert {f"{ITU}wp_item.aspx?isn={i}" for i in (101, 102, 103)} <= urls
    assert f"{ITU}wp_block.aspx?isn=10694" in urls
    failed = [e for e in entries if e["error"]]
    assert [e["url"] for e in failed] == [f"{ITU}wp_item.aspx?isn=103"]
    assert failed[0]["status"] == 500 and failed[0]["path"] == ""
    # Nothing fetched before the interruption was fetched again.
    for url, n in before.items():
        if "robots" not in url and "isn=103" not in url:
            assert calls[url] == n, url
    assert not (out / JOURNAL).exists()
    parsed = parse_snapshot(out)
    assert set(parsed.items["uid"]) >= {"ITU-T:isn-101", "ITU-T:isn-102", "ISO:87485"}
    assert any("isn=103" in e.location and "HTTP 500" in e.reason for e in parsed.errors)


@respx.mock
def test_next_scrape_uses_conditional_get(tmp_path: Path) -> None:
    _site(respx.mock)
    first = run_scrape(tmp_path / "a", ["iso"], "2025-2028", BASES, client=_client())
    seen: list[httpx.Request] = []

    def not_modified(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(304)

    respx.mock.routes.clear()
    respx.get(url__regex=r".*robots\.txt").mock(return_value=httpx.Response(404))
    respx.route(host="iso.test").mock(side_effect=not_modified)
    second = run_scrape(tmp_path / "b", ["iso"], "2025-2028", BASES, client=_client())
    assert seen and all(r.headers.get("If-None-Match") == '"0x8DD"' for r in seen)
    data = (second / "iso" / "iso_deliverables_metadata.jsonl").read_bytes()
    assert data == (first / "iso" / "iso_deliverables_metadata.jsonl").read_bytes()


@respx.mock
def test_earlier_snapshot_path_outside_its_folder_is_never_copied(tmp_path: Path) -> None:
    """A 304 copies the earlier snapshot's body: a hostile earlier manifest must not make the
    scrape copy a file from outside that snapshot into the new one."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the snapshot")
    url = f"{ISO}iso_deliverables_metadata/json/iso_deliverables_metadata.jsonl"
    earlier = {"path": "../../secret.txt", "source": "iso", "kind": "iso_deliverables",
               "url": url, "etag": '"0x8DD"'}  # fmt: skip
    (tmp_path / "raw" / "a").mkdir(parents=True)
    (tmp_path / "raw" / "a" / "manifest.json").write_text(json.dumps({"entries": [earlier]}))
    seen: list[httpx.Request] = []

    def site(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("If-None-Match"):
            return httpx.Response(304)
        return httpx.Response(200, text=(FIX / "iso_deliverables.jsonl").read_text())

    respx.get(url__regex=r".*robots\.txt").mock(return_value=httpx.Response(404))
    respx.route(host="iso.test").mock(side_effect=site)
    out = run_scrape(tmp_path / "raw" / "b", ["iso"], "2025-2028", BASES, client=_client())
    stored = (out / "iso" / "iso_deliverables_metadata.jsonl").read_text()
    assert "not for the snapshot" not in stored
    assert not any(r.headers.get("If-None-Match") for r in seen)
