"""Embedding backends compared on a corpus slice: speed and agreement with torch.

For each backend (torch, onnx, onnx-int8) the same texts (``embedding_text`` of a slice of the
shared corpus, see :mod:`corpus_slice`) are embedded without a cache, after one warm-up call
(model load and ONNX export are not throughput). Reported: texts/s, speed-up over torch, and
the cosine of each vector to torch's (mean, 1st percentile, min), plus how many of each item's
10 nearest neighbours (cosine, whole slice) are the same as with torch.

Run: ``python benchmarks/bench_embed_backends.py --n 1500`` (writes into benchmarks/results.md
between the ``embed-backends`` markers).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_slice import load_slice
from results_md import write_block

from pipeline.embed import BACKENDS, BUNDLED_MODEL, embedding_text, load_embedder


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _top10(vectors: np.ndarray) -> np.ndarray:
    sims = vectors @ vectors.T  # the slice is small (n <= a few thousand)
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :10]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="corpus records (n/3 per body)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    items = load_slice(args.n)
    texts = embedding_text(items)
    print(f"{len(texts)} texts, {os.cpu_count()} CPUs", flush=True)
    vectors: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as model_dir:
        for backend in ("torch", *[b for b in BACKENDS if b != "torch"]):
            embedder = load_embedder(
                BUNDLED_MODEL,
                backend=backend,
                batch_size=args.batch_size,
                max_seq_length=args.max_seq_length,
                model_dir=model_dir,
            )
            start = time.perf_counter()
            embedder.encode(["warm up"])
            print(f"{backend}: load (and export) {time.perf_counter() - start:.1f} s", flush=True)
            start, cpu0 = time.perf_counter(), _cpu()
            vectors[backend] = embedder.encode(texts)
            seconds[backend] = time.perf_counter() - start
            cpu[backend] = _cpu() - cpu0
            print(f"{backend}: {len(texts) / seconds[backend]:.0f} texts/s", flush=True)
    base = vectors["torch"]
    base_nn = _top10(base)
    rows = []
    for backend, vec in vectors.items():
        cos = np.sum(vec * base, axis=1)
        nn = _top10(vec)
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(nn, base_nn, strict=True)])
        rows.append(
            f"| {backend} | {seconds[backend]:.1f} | {len(texts) / seconds[backend]:.0f} | "
            f"{seconds['torch'] / seconds[backend]:.2f}x | {cpu[backend]:.1f} | "
            f"{cpu['torch'] / cpu[backend]:.2f}x | {cos.mean():.4f} | "
            f"{np.percentile(cos, 1):.4f} | {cos.min():.4f} | {overlap:.3f} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(
        [
            f"{len(texts):,} corpus texts (first {args.n // 3:,} records of each of the ITU-T, "
            f"ISO and IEC files), bundled all-MiniLM-L6-v2, {args.max_seq_length} word pieces, "
            f"batch {args.batch_size}, no cache; {os.cpu_count()} CPUs ({platform.machine()}), "
            "shared machine. Cosine: of each vector to torch's; neighbours: share of each "
            "item's 10 nearest (in the slice) that torch also finds. CPU seconds (user + system of "
            "this process) are given because wall time on a loaded machine is mostly waiting.",
            "",
            "| backend | wall s | texts/s | speed-up (wall) | CPU s | speed-up (CPU) | "
            "mean cosine | 1st pct cosine | min cosine | top-10 neighbours same |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Command: `python benchmarks/bench_embed_backends.py --n {args.n}`.",
        ]
    )
    if not args.no_write:
        write_block("embed-backends", "Embedding backends", table)


if __name__ == "__main__":
    main()
