"""Benchmark the blocked exact top-k matcher against a naive full-matrix baseline.

Both compute the same thing: for every ITU-T item its top-k ISO/IEC items and for every
ISO/IEC item its top-k ITU-T items (cosine on unit vectors). The naive baseline materialises
the whole (n_itu x n_other) similarity matrix and takes top-k with argpartition; the blocked matcher
(``pipeline.match.cross_body_neighbours``) never holds more than one block. Each case runs in
this process, one after the other, so the ratios compare like with like.

Run: ``make bench`` (or ``python benchmarks/run_benchmarks.py [--quick]``). Writes the table
between the markers of ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.match import cross_body_neighbours

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_md import write_block


def naive_cross_body(vectors: np.ndarray, bodies: list[str], k: int) -> pd.DataFrame:
    """The obvious implementation: one full similarity matrix, top-k per row and column."""
    arr = np.asarray(bodies)
    itu = np.flatnonzero(arr == "ITU-T")
    other = np.flatnonzero(arr != "ITU-T")
    sims = vectors[itu] @ vectors[other].T  # (n_itu, n_other): the memory this avoids
    # argpartition, not a full sort: the fair (fast) way to take top-k from a full matrix.
    top_o = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    top_i = np.argpartition(-sims.T, k - 1, axis=1)[:, :k]
    pairs = pd.DataFrame(
        {
            "itu_index": np.concatenate([np.repeat(itu, k), itu[top_i.ravel()]]),
            "other_index": np.concatenate([other[top_o.ravel()], np.repeat(other, k)]),
        }
    )
    return pairs.drop_duplicates().sort_values(["itu_index", "other_index"]).reset_index(drop=True)


def _measure(fn: Callable[[], pd.DataFrame]) -> tuple[float, float, pd.DataFrame]:
    """Wall seconds and peak traced memory (MiB; numpy allocations are traced)."""
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, out


def _data(n_itu: int, n_other: int, dim: int, seed: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    # Clustered data (topics + noise) so neighbour structure resembles real embeddings.
    centres = rng.standard_normal((200, dim)).astype(np.float32)
    n = n_itu + n_other
    vectors = centres[rng.integers(0, 200, n)] + 0.8 * rng.standard_normal((n, dim)).astype(
        np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    bodies = ["ITU-T"] * n_itu + ["ISO"] * n_other
    return vectors, bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--block-size", type=int, default=2048)
    args = parser.parse_args()
    # The last size is the shape of the shared corpus (6,328 ITU-T x 38,558 ISO/IEC items).
    sizes = (
        [(1_000, 6_000), (3_000, 18_000)]
        if args.quick
        else [
            (1_000, 6_000),
            (3_000, 18_000),
            (6_328, 38_558),
        ]
    )
    rows = []
    for n_itu, n_other in sizes:
        vectors, bodies = _data(n_itu, n_other, args.dim, seed=0)
        t_naive, m_naive, naive = _measure(
            lambda v=vectors, b=bodies: naive_cross_body(v, b, args.k)
        )
        t_block, m_block, blocked = _measure(
            lambda v=vectors, b=bodies: cross_body_neighbours(v, b, args.k, args.block_size)
        )
        same = naive.equals(blocked[["itu_index", "other_index"]])
        rows.append(
            f"| {n_itu:,} x {n_other:,} | {args.k} | {t_naive:.1f} | {t_block:.1f} | "
            f"{t_naive / t_block:.2f}x | {m_naive:,.0f} | {m_block:,.0f} | "
            f"{m_naive / m_block:.1f}x | {'yes' if same else 'NO'} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(
        [
            f"Blocked exact top-k (`pipeline.match.cross_body_neighbours`, block_size="
            f"{args.block_size}) vs naive full matrix + argpartition; d={args.dim}, float32, "
            f"{platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}. "
            "Memory is the peak traced by tracemalloc during the call (the inputs excluded).",
            "",
            "| ITU-T x other | k | naive s | blocked s | speed-up | naive MiB | blocked MiB | "
            "memory ratio | same pairs |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Command: `make bench` (`python benchmarks/run_benchmarks.py`).",
        ]
    )
    write_block("match-bench", "Cross-body matcher", table)


if __name__ == "__main__":
    main()
