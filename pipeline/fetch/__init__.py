"""Fetch: one polite HTTP client and the scrapers that write raw snapshots.

Nothing downstream of a snapshot touches the network (docs/architecture.md); this package is the
only place that does.
"""

from pipeline.fetch.client import FetchResult, PoliteClient
from pipeline.fetch.scrape import run_scrape

__all__ = ["FetchResult", "PoliteClient", "run_scrape"]
