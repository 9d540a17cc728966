"""Cold, warm and 1 %-changed runs of enrich -> embed -> areas, new path against the previous one.

On a slice of the shared corpus (:mod:`corpus_slice`: the first ``n // 3`` records of each of the
ITU-T, ISO and IEC files), two paths are timed, each with its own empty cache folder:

- **previous** (the baseline): torch embedding backend with the vector cache, no enrichment
  cache, agglomerative areas;
- **new**: the configured defaults (``[embed] backend``, enrichment cache, ``[areas] method``).

Each path runs three times, each run in a fresh process (so peak RSS is per run and a rerun
pays what a real rerun pays, such as loading spaCy): *cold* (empty caches, and for ONNX the
one-time export), *warm* (nothing changed), *1 % changed* (the text of every 100th item edited).
Match and rank are not run: they belong to another stage and do not depend on these choices.

Then, on the new path's vectors: the two area algorithms side by side (areas, items covered,
largest area's share, seconds, first labels), and BERTopic fitted on the same embeddings as an
external reference (skipped when ``bertopic`` is not installed: ``pip install -e .[bench]``).

Run: ``make bench`` or ``python benchmarks/bench_pipeline.py --n 3000``; writes the tables into
benchmarks/results.md between the ``pipeline-bench`` and ``areas-bench`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_slice import load_slice
from results_md import write_block

from pipeline.areas import AreaParams, find_areas
from pipeline.embed import EmbedParams, embedding_text, load_embedder
from pipeline.enrich import Enricher, EnrichParams, load_nlp

PATHS: dict[str, dict[str, Any]] = {
    "previous": {"backend": "torch", "enrich_cache": False, "areas": "agglomerative"},
    "new": {
        "backend": EmbedParams().backend,
        "enrich_cache": EnrichParams().cache,
        "areas": AreaParams().method,
    },
}
RUNS = ("cold", "warm", "1% changed")
AREA_HEADER = (
    "| method | areas | items covered | largest area (share of covered; bodies) | median size | "
    "seconds | first labels |",
    "|---|---|---|---|---|---|---|",
)


def _changed(items: pd.DataFrame, every: int = 100) -> pd.DataFrame:
    """Every ``every``-th item's text edited (1 % of items for 100)."""
    out = items.copy()
    rows = out.index[::every]
    out.loc[rows, "text"] = out.loc[rows, "text"].fillna("").astype(str) + " (revised)"
    return out


def run_once(n: int, path: str, run: str, cache: Path, vectors_out: Path | None) -> dict:
    """One run of enrich -> embed -> areas in this process; seconds per stage and peak RSS."""
    cfg = PATHS[path]
    items = load_slice(n)
    if run == "1% changed":
        items = _changed(items)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    t = time.perf_counter()
    enrich_params = EnrichParams()
    enricher = Enricher(
        enrich_params,
        nlp=load_nlp(enrich_params.spacy_model),
        cache_dir=cache / "enrich" if cfg["enrich_cache"] else None,
    )
    items = enricher.transform(items)
    timings["enrich"] = time.perf_counter() - t
    t = time.perf_counter()
    ep = EmbedParams()
    embedder = load_embedder(
        ep.model,
        batch_size=ep.batch_size,
        max_seq_length=ep.max_seq_length,
        cache_dir=cache / "embeddings",
        backend=cfg["backend"],
        model_dir=cache / "onnx",
    )
    vectors = embedder.encode(embedding_text(items, ep.max_chars))
    timings["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    _labels, areas = find_areas(vectors, items, AreaParams(method=cfg["areas"]), seed=20251)
    timings["areas"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    if vectors_out is not None:
        np.save(vectors_out, vectors)
        items.to_pickle(vectors_out.with_suffix(".items.pkl"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "path": path,
        "run": run,
        "seconds": timings,
        "peak_rss_mb": max(peak, kids),
        "parsed": enricher.misses if cfg["enrich_cache"] else len(items),
        "embedded": getattr(embedder, "misses", len(items)),
        "areas": len(areas),
    }


def _child(args: argparse.Namespace, path: str, run: str, cache: Path, out: Path | None) -> dict:
    cmd = [sys.executable, __file__, "--n", str(args.n), "--child", path, run, str(cache)]
    if out is not None:
        cmd += ["--vectors-out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{path}/{run} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def area_row(name: str, labels: np.ndarray, areas: pd.DataFrame, seconds: float) -> str:
    covered = int((labels >= 0).sum())
    if areas.empty:
        return f"| {name} | 0 | 0 | - | - | {seconds:.1f} | |"
    top = areas.iloc[0]
    bodies = f"{top['n_itu_t']} ITU-T / {top['size'] - top['n_itu_t']} other"
    labels_text = "; ".join(f"*{x}*" for x in areas["label"].head(3))
    return (
        f"| {name} | {len(areas)} | {covered:,} ({covered / len(labels):.1%}) | "
        f"{top['size']} ({top['size'] / max(covered, 1):.1%}; {bodies}) | "
        f"{areas['size'].median():.0f} | {seconds:.1f} | {labels_text} |"
    )


def area_method_rows(vectors: np.ndarray, items: pd.DataFrame) -> list[str]:
    """One table row per area method (agglomerative, Leiden) and BERTopic, same vectors."""
    rows = []
    for method in ("agglomerative", "leiden"):
        start = time.perf_counter()
        labels, areas = find_areas(vectors, items, AreaParams(method=method), seed=20251)
        rows.append(area_row(method, labels, areas, time.perf_counter() - start))
        print(rows[-1], flush=True)
    rows.append(bertopic_row(vectors, items))
    print(rows[-1], flush=True)
    return rows


def bertopic_row(vectors: np.ndarray, items: pd.DataFrame) -> str:
    try:
        from bertopic import BERTopic
    except ImportError:
        return (
            "| BERTopic (same embeddings) | not installed (`pip install -e .[bench]`) | | | | | |"
        )
    from umap import UMAP

    docs = embedding_text(items)
    start = time.perf_counter()
    model = BERTopic(umap_model=UMAP(random_state=20251, n_neighbors=15, n_components=5))
    topics, _ = model.fit_transform(docs, embeddings=vectors)
    seconds = time.perf_counter() - start
    topics = np.asarray(topics)
    bodies = items["body"].astype(str).to_numpy()
    sizes = pd.Series(topics[topics >= 0]).value_counts()
    cross = [
        t
        for t in sizes.index
        if len(set(bodies[topics == t])) >= 2 and "ITU-T" in set(bodies[topics == t])
    ]
    covered = int((topics >= 0).sum())
    info = model.get_topic_info()
    names = "; ".join(f"*{x}*" for x in info[info["Topic"] >= 0]["Name"].head(3))
    return (
        f"| BERTopic (same embeddings; topics, of which {len(cross)} with ITU-T and another "
        f"body) | {len(sizes)} | {covered:,} ({covered / len(topics):.1%}) | "
        f"{sizes.iloc[0] if len(sizes) else 0} ({sizes.iloc[0] / max(covered, 1):.1%}) | "
        f"{sizes.median():.0f} | {seconds:.1f} | {names} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="corpus records (n/3 per body)")
    parser.add_argument(
        "--child", nargs=3, metavar=("PATH", "RUN", "CACHE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--vectors-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.child:
        path, run, cache = args.child
        print(json.dumps(run_once(args.n, path, run, Path(cache), args.vectors_out)))
        return

    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        vec_file = Path(tmp) / "vectors.npy"
        for path in PATHS:
            cache = Path(tmp) / path
            for run in RUNS:
                out = vec_file if (path, run) == ("new", "cold") else None
                results[path, run] = r = _child(args, path, run, cache, out)
                print(
                    f"{path:9s} {run:11s} {json.dumps(r['seconds'])} {r['peak_rss_mb']:.0f} MiB",
                    flush=True,
                )
        vectors = np.load(vec_file)
        items = pd.read_pickle(vec_file.with_suffix(".items.pkl"))

    rows = []
    for path in PATHS:
        for run in RUNS:
            r, base = results[path, run], results["previous", run]
            s, b = r["seconds"], base["seconds"]
            ratio = b["total"] / s["total"]
            rows.append(
                f"| {path} | {run} | {s['enrich']:.1f} | {s['embed']:.1f} | {s['areas']:.1f} | "
                f"{s['total']:.1f} | {ratio:.2f}x | {r['peak_rss_mb']:,.0f} | "
                f"{r['parsed']:,} | {r['embedded']:,} | {r['areas']} |"
            )
    n_items = len(items)
    cfg = PATHS["new"]
    pipeline_table = "\n".join(
        [
            f"{n_items:,} corpus items (first {args.n // 3:,} records of each of the ITU-T, ISO "
            f"and IEC files); {os.cpu_count()} CPUs ({platform.machine()}), a machine shared with "
            "other "
            f"work (load average {os.getloadavg()[0]:.1f} at the end), so compare ratios within "
            "this table. *previous*: torch backend + vector cache, no enrichment cache, "
            f"agglomerative areas; *new*: backend {cfg['backend']}, enrichment cache, "
            f"{cfg['areas']} areas. Each run is a fresh process; seconds per stage, peak RSS of "
            "the process and its spaCy workers. Cold includes the one-time ONNX export.",
            "",
            "| path | run | enrich s | embed s | areas s | total s | speed-up vs previous | "
            "peak RSS MiB | texts parsed | texts embedded | areas |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Command: `python benchmarks/bench_pipeline.py --n {args.n}` (`make bench`).",
        ]
    )

    area_rows = area_method_rows(vectors, items)
    areas_table = "\n".join(
        [
            f"Same {n_items:,} items and vectors (new path, cold run), default `[areas]` "
            "parameters apart from the method. An area is a cluster of at least 3 items with an "
            "ITU-T item and an item of another body; covered = items in some area.",
            "",
            *AREA_HEADER,
            *area_rows,
            "",
            f"Command: `python benchmarks/bench_pipeline.py --n {args.n}` (`make bench`).",
        ]
    )
    if not args.no_write:
        write_block(
            "pipeline-bench", "Enrich, embed and areas: cold, warm, 1 % changed", pipeline_table
        )
        write_block("areas-bench", "Area algorithms on the same vectors", areas_table)


if __name__ == "__main__":
    main()
