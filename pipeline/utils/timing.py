"""Wall time per stage and peak memory, for run.json and the evaluation report."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["peak_rss_mb", "timed"]


@contextmanager
def timed(
    timings: dict[str, float], stage: str, say: Callable[[str], None] = lambda _m: None
) -> Iterator[None]:
    """Record the wall time of the ``with`` block in ``timings[stage]`` (seconds, 3 decimals);
    ``say`` hears ``"<stage> ..."`` when it starts and ``"<stage>: <seconds> s"`` when it ends."""
    say(f"{stage} ...")
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)
    say(f"{stage}: {timings[stage]:.1f} s")


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of finished children (spaCy workers), MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)
