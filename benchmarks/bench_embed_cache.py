"""Throughput of enrich and embed on real catalogue records, and what the embedding cache saves.

Reads the first ``--n`` records of ``../shared/data/corpus/iso.jsonl.gz`` (read-only; never
copied into the project), then:

1. enrich with the configured spaCy pipeline (items/s, wall and CPU seconds),
2. embed with the bundled model into an empty cache in a temporary folder (texts/s),
3. embed again through a fresh :class:`~pipeline.embed.CachedEmbedder` on the same folder
   (seconds; must embed nothing).

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_embed_cache.py --n 2000``.
CPU seconds are given beside wall seconds because the reference machine (2 cores) is often
shared: items per CPU-second does not depend on what else runs.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.embed import BUNDLED_MODEL, CachedEmbedder, embedding_text, load_embedder
from pipeline.enrich import Enricher, EnrichParams

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpus" / "iso.jsonl.gz"


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(label: str, n: int, unit: str, fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), _cpu()
    out = fn()
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    print(
        f"{label:<28} {wall:7.1f} s wall {n / wall:7.0f} {unit}/s   "
        f"{cpu:7.1f} s CPU {n / max(cpu, 1e-9):7.0f} {unit}/CPU-s   "
        f"load {os.getloadavg()[0]:.1f}"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="records to read")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--n-process", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64, help="embedding batch size")
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--model", default=BUNDLED_MODEL)
    parser.add_argument("--skip-enrich", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    with gzip.open(args.corpus, "rt", encoding="utf-8") as fh:
        items = pd.DataFrame([json.loads(line) for line in itertools.islice(fh, args.n)])
    n = len(items)
    print(f"{n} records from {args.corpus.name}, {os.cpu_count()} CPUs")

    if not args.skip_enrich:
        enricher = Enricher(EnrichParams(n_process=args.n_process)).fit()
        print(f"spaCy: {enricher.info_['pipeline']} {enricher.info_['version']}")
        _timed(
            f"enrich (n_process={args.n_process})", n, "items", lambda: enricher.transform(items)
        )

    texts = embedding_text(items)
    base = load_embedder(args.model, batch_size=args.batch_size, max_seq_length=args.max_seq_length)
    base.encode(["warm up"])  # model load is not throughput
    print(f"model: {base.model_id} (batch {args.batch_size})")
    with tempfile.TemporaryDirectory() as cache_dir:
        first = CachedEmbedder(base, cache_dir, base.model_id)
        _timed("embed, empty cache", n, "texts", lambda: first.encode(texts))
        second = CachedEmbedder(base, cache_dir, base.model_id)
        _timed("embed, second run", n, "texts", lambda: second.encode(texts))
        print(
            f"first run: {first.misses} embedded; second run: {second.hits} hits, "
            f"{second.misses} embedded"
        )


if __name__ == "__main__":
    main()
