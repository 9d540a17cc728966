"""A documented slice of the shared corpus for benchmarks (read in place, never copied).

``load_slice(n)`` takes the first ``n // 3`` records of each item file (ITU-T, ISO, IEC), in
file order, so the slice is the same on every machine and holds all three bodies.
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import pandas as pd

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpus"
FILES = ("itu_t_recommendations.jsonl.gz", "iso.jsonl.gz", "iec.jsonl.gz")


def load_slice(n: int, corpus: Path = CORPUS) -> pd.DataFrame:
    """About ``n`` corpus records (``n // 3`` per body file) through the project's item loader."""
    per_file = max(1, n // len(FILES))
    missing = [f for f in FILES if not (corpus / f).is_file()]
    if missing:
        raise SystemExit(f"{corpus}: corpus files not found: {', '.join(missing)}")
    rows = []
    for name in FILES:
        with gzip.open(corpus / name, "rt", encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in itertools.islice(fh, per_file))
    return records_to_items(rows)


def records_to_items(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Item records (the corpus schema) as the pipeline's items frame."""
    from pipeline.schema import items_frame, normalize_item

    return items_frame([normalize_item(r) for r in rows])


def load_topical_slice(n: int, pattern: str, corpus: Path = CORPUS) -> pd.DataFrame:
    """Up to ``n // 3`` records per body file whose title matches the regex ``pattern``
    (case-insensitive), in file order: a slice where cross-body topics exist, for areas."""
    import re

    per_file = max(1, n // len(FILES))
    regex = re.compile(pattern, re.IGNORECASE)
    rows = []
    for name in FILES:
        with gzip.open(corpus / name, "rt", encoding="utf-8") as fh:
            records = (json.loads(line) for line in fh)
            hits = (r for r in records if regex.search(str(r.get("title") or "")))
            rows.extend(itertools.islice(hits, per_file))
    return records_to_items(rows)
