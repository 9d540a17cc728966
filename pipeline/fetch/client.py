"""One polite HTTP client (httpx) for every source.

- obeys robots.txt (fetched once per host and cached). As RFC 9309 §2.3.1 says: a 4xx answer
  (404, but also 401/403: "unavailable") means no restrictions; a 5xx, a 429 or no answer
  means "unreachable", so nothing is fetched from that host in this run;
- names itself: ``User-Agent: sdo-overlap/<version> (+<contact URL>)``;
- at most one request per ``min_interval`` seconds and ``max_in_flight`` requests per host;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``): a 304 reuses the stored body;
- retries timeouts, 429 and 5xx with capped exponential backoff, honouring ``Retry-After``;
- streams each body to disk with a size cap and a running sha256;
- follows redirects only to allowed hosts (those of the configured base URLs).

``sleep`` and ``clock`` are injectable so tests never wait.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline import __version__
from pipeline.utils.io import atomic_path

__all__ = ["USER_AGENT", "FetchResult", "PoliteClient"]

CONTACT_URL = "https://github.com/sdo-overlap/sdo-overlap"
USER_AGENT = f"sdo-overlap/{__version__} (+{CONTACT_URL}; WTSA Resolution 7 overlap review)"
_RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass
class FetchResult:
    """What one fetch gave. ``status`` is the final HTTP status (``None`` when no response);
    ``error`` is ``""`` on success; ``size`` in bytes; ``not_modified`` when a 304 let the
    earlier body be reused; ``attempts`` counts HTTP tries."""

    url: str
    status: int | None = None
    error: str = ""
    path: Path | None = None
    sha256: str = ""
    size: int = 0
    etag: str = ""
    last_modified: str = ""
    final_url: str = ""
    not_modified: bool = False
    attempts: int = 0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error


class _TooLarge(Exception):
    pass


class _HostGate:
    """Per-host pacing: ``min_interval`` seconds between request starts, ``max_in_flight``."""

    def __init__(self, max_in_flight: int) -> None:
        self.semaphore = threading.Semaphore(max_in_flight)
        self.lock = threading.Lock()
        self.next_start = 0.0


class PoliteClient:
    """Fetch URLs politely into files. Thread-safe; reuse one instance per scrape.

    ``allowed_hosts``: hosts this client may contact (redirects elsewhere are refused).
    ``transport``: an ``httpx`` transport (tests pass ``respx`` or ``MockTransport``).
    """

    def __init__(
        self,
        allowed_hosts: set[str] | list[str] | tuple[str, ...],
        *,
        user_agent: str = USER_AGENT,
        min_interval: float = 1.0,
        max_in_flight: int = 2,
        retries: int = 3,
        backoff_base: float = 2.0,
        backoff_cap: float = 60.0,
        max_bytes: int = 200 * 1024 * 1024,
        timeout: float = 30.0,
        respect_robots: bool = True,
        max_redirects: int = 5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.min_interval = min_interval
        self.max_in_flight = max_in_flight
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_bytes = max_bytes
        self.respect_robots = respect_robots
        self.max_redirects = max_redirects
        self.sleep = sleep
        self.clock = clock
        self._gates: dict[str, _HostGate] = {}
        self._gates_lock = threading.Lock()
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._robots_lock = threading.Lock()
        self.user_agent = user_agent
        self._http = httpx.Client(
            headers={"User-Agent": user_agent},
            timeout=timeout,
            follow_redirects=False,  # followed by hand, host by host
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pacing -----------------------------------------------------------------------------
    def _gate(self, host: str) -> _HostGate:
        with self._gates_lock:
            if host not in self._gates:
                self._gates[host] = _HostGate(self.max_in_flight)
            return self._gates[host]

    def _wait_turn(self, gate: _HostGate) -> None:
        with gate.lock:
            now = self.clock()
            wait = gate.next_start - now
            gate.next_start = max(now, gate.next_start) + self.min_interval
        if wait > 0:
            self.sleep(wait)

    # -- robots -----------------------------------------------------------------------------
    def _robots_for(self, scheme: str, host: str) -> urllib.robotparser.RobotFileParser | None:
        """Parsed robots.txt, or ``None`` when it could not be read (= disallow this run)."""
        key = f"{scheme}://{host}"
        with self._robots_lock:
            if key in self._robots:
                return self._robots[key]
        parser = urllib.robotparser.RobotFileParser()
        url = f"{key}/robots.txt"
        try:
            resp = self._send("GET", url, {}, None, self._gate(host))
            if resp.status_code == 200:
                parser.parse(resp.text.splitlines())
            elif 400 <= resp.status_code < 500 and resp.status_code != 429:
                # RFC 9309 §2.3.1.3: "unavailable" (any 4xx, 401/403 included) = no rules.
                # 429 is the server asking us to slow down, so it counts as unreachable.
                parser.parse([])
            else:
                parser = None
        except httpx.HTTPError:
            parser = None
        with self._robots_lock:
            self._robots[key] = parser
        return parser

    def allowed(self, url: str) -> tuple[bool, str]:
        """``(True, "")`` if the host is allowed and robots.txt permits ``url``."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or host not in self.allowed_hosts:
            return False, f"host {host or '?'} is not an allowed host"
        if not self.respect_robots:
            return True, ""
        robots = self._robots_for(parts.scheme, parts.netloc.lower())
        if robots is None:
            return False, "robots.txt could not be read; not fetching from this host"
        if not robots.can_fetch(self.user_agent, url):
            return False, "disallowed by robots.txt"
        return True, ""

    # -- HTTP -------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        gate: _HostGate,
    ) -> httpx.Response:
        with gate.semaphore:
            self._wait_turn(gate)
            resp = self._http.request(method, url, headers=headers, json=json_body)
            resp.read()
            return resp

    def _retry_after(self, resp: httpx.Response | None, attempt: int) -> float:
        delay = min(self.backoff_cap, self.backoff_base * (2**attempt))
        value = resp.headers.get("Retry-After", "") if resp is not None else ""
        if value.strip().isdigit():
            delay = float(value.strip())
        elif value:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                delay = max(0.0, parsed.timestamp() - time.time())
        return min(delay, self.backoff_cap)

    def fetch(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        method: str = "GET",
        json_body: Any = None,
        etag: str = "",
        last_modified: str = "",
        previous: str | os.PathLike[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> FetchResult:
        """Fetch ``url`` into ``dest`` (written atomically). Never raises for HTTP trouble:
        the outcome, including failures, is in the returned :class:`FetchResult`.

        ``etag``/``last_modified``/``previous``: the earlier snapshot's validators and body; a
        304 copies ``previous`` to ``dest``. ``headers``: extra request headers (``Range`` for a
        first slice of a large file).
        """
        result = FetchResult(url=url)
        dest = Path(dest)
        current = url
        headers = dict(headers or {})
        if previous is not None and Path(previous).is_file():
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        for _hop in range(self.max_redirects + 1):
            ok, why = self.allowed(current)
            if not ok:
                result.error = why if current == url else f"redirect refused: {why} ({current})"
                return result
            resp = self._fetch_once(current, dest, method, json_body, headers, result)
            if resp is None:
                return result
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                current = urljoin(current, resp.headers["location"])
                if resp.status_code == 303:
                    method, json_body = "GET", None
                continue
            result.final_url = current
            if resp.status_code == 304 and previous is not None:
                data = Path(previous).read_bytes()
                with atomic_path(dest) as tmp:
                    tmp.write_bytes(data)
                result.path, result.size = dest, len(data)
                result.sha256 = hashlib.sha256(data).hexdigest()
                result.not_modified = True
                result.etag = resp.headers.get("etag", etag)
                result.last_modified = resp.headers.get("last-modified", last_modified)
            elif resp.status_code >= 400:
                result.error = f"HTTP {resp.status_code}"
            return result
        result.error = f"too many redirects (more than {self.max_redirects})"
        return result

    def _fetch_once(
        self,
        url: str,
        dest: Path,
        method: str,
        json_body: Any,
        headers: dict[str, str],
        result: FetchResult,
    ) -> httpx.Response | None:
        """One URL with retries; streams a 2xx body to ``dest``. ``None`` when it gave up."""
        host = (urlsplit(url).netloc or "").lower()
        gate = self._gate(host)
        last_error = ""
        for attempt in range(self.retries + 1):
            result.attempts += 1
            resp: httpx.Response | None = None
            try:
                with gate.semaphore:
                    self._wait_turn(gate)
                    with self._http.stream(method, url, headers=headers, json=json_body) as resp:
                        result.status = resp.status_code
                        result.headers = dict(resp.headers)
                        if resp.status_code in _RETRY_STATUS:
                            last_error = f"HTTP {resp.status_code}"
                        elif 200 <= resp.status_code < 300:
                            self._stream_to(resp, dest, result)
                            result.etag = resp.headers.get("etag", "")
                            result.last_modified = resp.headers.get("last-modified", "")
                            return resp
                        else:
                            return resp
            except _TooLarge:
                result.error = f"response larger than {self.max_bytes} bytes; not stored"
                return None
            except httpx.TimeoutException:
                last_error = "timeout"
            except httpx.HTTPError as exc:  # connection reset, truncated body, bad chunking
                last_error = f"{type(exc).__name__}: {exc}"
            if attempt < self.retries:
                self.sleep(self._retry_after(resp, attempt))
        result.error = f"{last_error} after {result.attempts} attempts"
        return None

    def _stream_to(self, resp: httpx.Response, dest: Path, result: FetchResult) -> None:
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLarge
        digest = hashlib.sha256()
        size = 0
        with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise _TooLarge
                digest.update(chunk)
                fh.write(chunk)
            fh.flush()
        result.path, result.size, result.sha256 = dest, size, digest.hexdigest()
