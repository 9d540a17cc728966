"""spaCy settings for enrich: batch size and worker processes, on a corpus slice.

Each setting enriches the same ``--n`` items without the enrichment cache (the pipeline is
loaded once, warm-up excluded). Reported: wall seconds, items/s, and items per CPU-second
(this process and its workers), which a loaded shared machine distorts less than wall time.

Run: ``python benchmarks/bench_enrich_tuning.py --n 900``; writes the ``enrich-tuning`` block.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_slice import load_slice
from results_md import write_block

from pipeline.enrich import Enricher, EnrichParams, load_nlp

SETTINGS = ((1, 32), (1, 64), (1, 128), (1, 256), (2, 64), (2, 128), (2, 256))


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=900)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    items = load_slice(args.n)
    nlp = load_nlp()
    Enricher(EnrichParams(n_process=1, cache=False), nlp=nlp).transform(items.head(50))
    rows = []
    for n_process, batch_size in SETTINGS:
        params = EnrichParams(n_process=n_process, batch_size=batch_size, cache=False)
        wall, cpu = time.perf_counter(), _cpu()
        Enricher(params, nlp=nlp).transform(items)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        rows.append(
            f"| {n_process} | {batch_size} | {wall:.1f} | {len(items) / wall:.1f} | "
            f"{len(items) / cpu:.1f} | {os.getloadavg()[0]:.1f} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(
        [
            f"{len(items):,} corpus items, spaCy `{nlp.meta['name']}` {nlp.meta['version']} with "
            f"components {', '.join(nlp.pipe_names)} (NER excluded; each remaining one is read: "
            "tagger + attribute_ruler + lemmatizer for lemmas, parser for noun chunks), no cache.",
            "",
            "| processes | batch size | wall s | items/s | items per CPU-s | load average |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Command: `python benchmarks/bench_enrich_tuning.py --n {args.n}`.",
        ]
    )
    if not args.no_write:
        write_block("enrich-tuning", "spaCy settings for enrich", table)


if __name__ == "__main__":
    main()
