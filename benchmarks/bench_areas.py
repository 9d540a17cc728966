"""Area algorithms side by side on a topical corpus slice, where cross-body topics exist.

The first records of each file (:func:`corpus_slice.load_slice`) share few topics, so areas
are rare there; this slice takes up to ``n // 3`` records per body file whose title names one of
a few shared fields (optical fibre, security, smart grid, multimedia coding, IoT, ...). Vectors:
the default embedding backend, cached under ``--cache`` so a rerun embeds nothing. Rows: the
agglomerative method, Leiden, and BERTopic on the same embeddings (when installed).

Run: ``python benchmarks/bench_areas.py --n 2400``; writes the ``areas-topical`` block of
benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import AREA_HEADER, area_method_rows
from corpus_slice import load_topical_slice
from results_md import write_block

from pipeline.embed import EmbedParams, embedding_text, load_embedder
from pipeline.enrich import Enricher, EnrichParams

TOPICS = (
    r"optical|fibre|fiber|security|cyber|smart grid|metering|video|audio|coding|"
    r"internet of things|\bIoT\b|cable|broadband|quantum"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2400, help="records (n/3 per body file)")
    parser.add_argument("--cache", type=Path, default=Path("models"), help="cache folder")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    items = load_topical_slice(args.n, TOPICS)
    items = Enricher(EnrichParams(), cache_dir=args.cache / "enrich").transform(items)
    ep = EmbedParams()
    embedder = load_embedder(
        ep.model,
        batch_size=ep.batch_size,
        max_seq_length=ep.max_seq_length,
        cache_dir=args.cache / "embeddings",
        backend=ep.backend,
        model_dir=args.cache / "onnx",
        progress=True,
    )
    vectors = embedder.encode(embedding_text(items, ep.max_chars))
    rows = area_method_rows(vectors, items)
    bodies = items["body"].value_counts().to_dict()
    table = "\n".join(
        [
            f"{len(items):,} corpus items whose title matches `{TOPICS}` (up to {args.n // 3:,} "
            f"per body file, in file order; {bodies}); backend {ep.backend}; default `[areas]` "
            "parameters apart from the method.",
            "",
            *AREA_HEADER,
            *rows,
            "",
            f"Command: `python benchmarks/bench_areas.py --n {args.n}`.",
        ]
    )
    if not args.no_write:
        write_block("areas-topical", "Area algorithms on a topical slice", table)


if __name__ == "__main__":
    main()
