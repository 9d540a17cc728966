"""Parameters of fetching (``[fetch]`` in default_config.toml): politeness, retries, limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FetchParams"]


@dataclass(frozen=True)
class FetchParams:
    """How the scraper and the canary talk to the three bodies' sites.

    - ``min_interval`` (1.0 s): at least this long between two request starts on one host.
    - ``max_in_flight`` (2): requests in flight per host at most.
    - ``retries`` (3): further tries after a timeout, 429 or 5xx; ``backoff_base`` (2.0 s)
      doubles per try up to ``backoff_cap`` (60 s); a ``Retry-After`` is honoured within the cap.
    - ``timeout`` (30 s): per request; ``max_bytes`` (200 MiB): a larger body is refused (the
      ISO Open Data files are ~80 MB); ``max_redirects`` (5), only to the bodies' hosts.
    - ``respect_robots`` (true): obey each host's robots.txt.
    - ``iec_max_searches`` (60): webstore searches per IEC committee at most (the fallback route
      from a committee's publication list).
    - ``check_retries`` (1), ``check_max_bytes`` (4 MiB): the ``check-sources`` canary's client
      (a canary must answer quickly and never pull a whole data file).
    """

    min_interval: float = 1.0
    max_in_flight: int = 2
    retries: int = 3
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    timeout: float = 30.0
    max_bytes: int = 200 * 1024 * 1024
    max_redirects: int = 5
    respect_robots: bool = True
    iec_max_searches: int = 60
    check_retries: int = 1
    check_max_bytes: int = 4 * 1024 * 1024

    def client_options(self, *, canary: bool = False) -> dict[str, Any]:
        """Keyword arguments of :class:`pipeline.fetch.client.PoliteClient`."""
        opts = {k: v for k, v in asdict(self).items() if not k.startswith(("iec_", "check_"))}
        if canary:
            opts.update(retries=self.check_retries, max_bytes=self.check_max_bytes)
        return opts
