"""The polite client against mocked HTTP (respx): no network, no real waiting."""

from __future__ import annotations

import itertools
from pathlib import Path

import httpx
import pytest
import respx

from pipeline.fetch.client import USER_AGENT, PoliteClient
from pipeline.sources import itu_t

HOST = "www.itu.int"
URL = f"https://{HOST}/ITU-T/workprog/wp_item.aspx?isn=1"


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def _client(fake: FakeTime, **kw) -> PoliteClient:
    kw.setdefault("retries", 3)
    return PoliteClient({HOST}, sleep=fake.sleep, clock=fake.clock, **kw)


def _robots(router: respx.MockRouter, text: str = "User-agent: *\nAllow: /\n") -> None:
    router.get(f"https://{HOST}/robots.txt").mock(return_value=httpx.Response(200, text=text))


@respx.mock
def test_429_honours_retry_after_then_succeeds(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    route = respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, text="ok"),
        ]
    )
    res = _client(fake).fetch(URL, tmp_path / "a.html")
    assert res.ok and res.status == 200 and res.attempts == 2
    assert 7.0 in fake.sleeps
    assert (tmp_path / "a.html").read_text() == "ok" and route.call_count == 2
    assert route.calls[0].request.headers["User-Agent"] == USER_AGENT


@respx.mock
def test_503_then_200_with_capped_backoff(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    respx.get(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, text="x")]
    )
    res = _client(fake, backoff_base=2.0, backoff_cap=3.0).fetch(URL, tmp_path / "a")
    assert res.ok and res.attempts == 3
    backoffs = [s for s in fake.sleeps if s in (2.0, 3.0)]
    assert backoffs == [2.0, 3.0]  # 2 * 2**1 = 4 capped at 3


@respx.mock
def test_timeout_every_time_is_a_recorded_failure(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    respx.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    res = _client(fake, retries=2).fetch(URL, tmp_path / "a")
    assert not res.ok and res.error == "timeout after 3 attempts"
    assert not (tmp_path / "a").exists()


@respx.mock
def test_truncated_body_is_retried(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    respx.get(URL).mock(
        side_effect=[
            httpx.RemoteProtocolError("peer closed connection"),
            httpx.Response(200, text="full"),
        ]
    )
    res = _client(fake).fetch(URL, tmp_path / "a")
    assert res.ok and (tmp_path / "a").read_text() == "full"


@respx.mock
def test_non_utf8_body_is_stored_byte_exact_and_parses(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    body = "<tr><td>Subject/title:</td><td>Réseaux</td></tr>".encode("cp1252") + b"\xff\xfe"
    respx.get(URL).mock(return_value=httpx.Response(200, content=body))
    res = _client(fake).fetch(URL, tmp_path / "a")
    assert (tmp_path / "a").read_bytes() == body and res.size == len(body)
    (rec,) = itu_t.parse_wp_item((tmp_path / "a").read_bytes(), URL).records
    assert rec["title"].startswith("R")


@respx.mock
def test_robots_disallow_means_no_request(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock, "User-agent: *\nDisallow: /ITU-T/workprog/\n")
    page = respx.get(URL).mock(return_value=httpx.Response(200))
    res = _client(fake).fetch(URL, tmp_path / "a")
    assert res.error == "disallowed by robots.txt" and page.call_count == 0


@respx.mock
def test_robots_fetched_once_per_host(fake: FakeTime, tmp_path: Path) -> None:
    robots = respx.get(f"https://{HOST}/robots.txt").mock(return_value=httpx.Response(404))
    respx.get(url__startswith=f"https://{HOST}/ITU-T").mock(
        return_value=httpx.Response(200, text="x")
    )
    client = _client(fake)
    for i in range(3):
        assert client.fetch(URL + str(i), tmp_path / f"{i}").ok
    assert robots.call_count == 1


@respx.mock
def test_redirect_to_foreign_host_is_refused(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    respx.get(URL).mock(
        return_value=httpx.Response(302, headers={"Location": "https://evil.example/x"})
    )
    foreign = respx.get("https://evil.example/x").mock(return_value=httpx.Response(200))
    res = _client(fake).fetch(URL, tmp_path / "a")
    assert res.error.startswith("redirect refused") and foreign.call_count == 0


@respx.mock
def test_redirect_within_host_is_followed(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    respx.get(URL).mock(return_value=httpx.Response(301, headers={"Location": "/new"}))
    respx.get(f"https://{HOST}/new").mock(return_value=httpx.Response(200, text="moved"))
    res = _client(fake).fetch(URL, tmp_path / "a")
    assert res.ok and res.final_url == f"https://{HOST}/new"


@respx.mock
def test_oversize_body_is_not_stored(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    respx.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 5000))
    res = _client(fake, max_bytes=1000).fetch(URL, tmp_path / "a")
    assert "larger than 1000" in res.error and not (tmp_path / "a").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


@respx.mock
def test_conditional_get_304_reuses_previous_body(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    prev = tmp_path / "prev.jsonl"
    prev.write_text("old body")
    route = respx.get(URL).mock(return_value=httpx.Response(304))
    res = _client(fake).fetch(
        URL,
        tmp_path / "new",
        etag='"abc"',
        last_modified="Wed, 09 Sep 2026 00:42:06 GMT",
        previous=prev,
    )
    req = route.calls[0].request
    assert req.headers["If-None-Match"] == '"abc"' and "If-Modified-Since" in req.headers
    assert res.ok and res.not_modified and (tmp_path / "new").read_text() == "old body"


@respx.mock
def test_one_request_per_second_per_host(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    times: list[float] = []

    def record(request: httpx.Request) -> httpx.Response:
        times.append(fake.now)
        return httpx.Response(200, text="x")

    respx.get(url__startswith=f"https://{HOST}/ITU-T").mock(side_effect=record)
    client = _client(fake, min_interval=1.0)
    for i in range(4):
        client.fetch(URL + str(i), tmp_path / f"{i}")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and all(g >= 1.0 for g in gaps)


def test_host_not_allowed(fake: FakeTime, tmp_path: Path) -> None:
    res = _client(fake).fetch("https://example.org/x", tmp_path / "a")
    assert "not an allowed host" in res.error


@pytest.mark.parametrize("status", [401, 403, 404, 410])
@respx.mock
def test_robots_4xx_means_no_restrictions(fake: FakeTime, tmp_path: Path, status: int) -> None:
    """RFC 9309 §2.3.1.3: robots.txt "unavailable" (any 4xx, 401/403 included) = allowed."""
    respx.get(f"https://{HOST}/robots.txt").mock(return_value=httpx.Response(status))
    page = respx.get(URL).mock(return_value=httpx.Response(200, text="ok"))
    res = _client(fake).fetch(URL, tmp_path / "a.html")
    assert res.ok and page.call_count == 1


@pytest.mark.parametrize("status", [429, 500, 503])
@respx.mock
def test_robots_unreachable_means_host_skipped(fake: FakeTime, tmp_path: Path, status: int) -> None:
    respx.get(f"https://{HOST}/robots.txt").mock(return_value=httpx.Response(status))
    page = respx.get(URL).mock(return_value=httpx.Response(200, text="ok"))
    res = _client(fake).fetch(URL, tmp_path / "a.html")
    assert "robots.txt could not be read" in res.error and page.call_count == 0


@respx.mock
def test_extra_request_headers_are_sent(fake: FakeTime, tmp_path: Path) -> None:
    _robots(respx.mock)
    page = respx.get(URL).mock(return_value=httpx.Response(206, text="{}\n"))
    res = _client(fake).fetch(URL, tmp_path / "a", headers={"Range": "bytes=0-9"})
    assert res.ok and page.calls[0].request.headers["Range"] == "bytes=0-9"
