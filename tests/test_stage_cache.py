"""The stage cache (issue 11): a rerun where nothing changed reads every stage back; a change
reruns exactly the stages it can affect; nothing stale is ever read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline.graph import Config, GraphError, Stage, StageGraph, load_settings
from pipeline.run import RunOptions, run_pipeline
from pipeline.utils.stage_cache import StageCache, content_key

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"


def test_content_key_follows_the_cells_not_the_index() -> None:
    frame = pd.DataFrame({"uid": ["a", "b"], "keyphrases": [["x", "y"], []], "n": [1, 2]})
    same = frame.set_axis([10, 11])
    edited = frame.assign(keyphrases=[["x", "z"], []])
    assert content_key(frame) == content_key(same)
    assert content_key(frame) != content_key(edited)
    assert content_key(frame) != content_key(frame.rename(columns={"n": "m"}))
    vectors = np.ones((2, 3), dtype=np.float32)
    assert content_key(vectors) != content_key(vectors.astype(np.float64))


class _Calls:
    """Toy stages that count their runs: ``double`` reads [match] top_k, ``label`` [overlaps]."""

    def __init__(self) -> None:
        self.n: dict[str, int] = {"double": 0, "label": 0}

    def double(self, config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
        self.n["double"] += 1
        return {"doubled": data["raw_items"]["n"] * 2 + config.match.top_k}

    def label(self, config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
        self.n["label"] += 1
        cap = config.overlaps.max_overlaps_per_sg
        return {"labels": [f"{v}/{cap}" for v in data["doubled"]]}

    def graph(self) -> StageGraph:
        return StageGraph(
            [
                Stage("double", self.double, ("raw_items",), ("doubled",), reads=("match.top_k",)),
                Stage("label", self.label, ("doubled",), ("labels",), reads=("overlaps",)),
            ],
            given=("raw_items",),
        )


def _cache(tmp_path: Path, fingerprint: str = "code-1") -> StageCache:
    return StageCache(tmp_path / "stages", fingerprint)


def test_unchanged_stages_are_read_back_and_a_change_reruns_only_what_it_touches(
    tmp_path: Path,
) -> None:
    calls = _Calls()
    graph = calls.graph()
    items = pd.DataFrame({"n": [1, 2, 3]})
    config = load_settings()
    first = graph.run({"raw_items": items}, config, cache=_cache(tmp_path))

    again = _cache(tmp_path)
    second = graph.run({"raw_items": items.copy()}, config, cache=again)
    assert calls.n == {"double": 1, "label": 1}
    assert again.status == {"double": "hit", "label": "hit"}
    assert second["labels"] == first["labels"]

    # A field of [match] that "double" does not read changes nothing; [overlaps] reruns "label".
    graph.run({"raw_items": items}, config.overlay({"match": {"lexical_top_k": 3}}),
              cache=_cache(tmp_path))  # fmt: skip
    assert calls.n == {"double": 1, "label": 1}
    relabel = _cache(tmp_path)
    out = graph.run({"raw_items": items}, config.overlay({"overlaps": {"max_overlaps_per_sg": 7}}),
                    cache=relabel)  # fmt: skip
    assert relabel.status == {"double": "hit", "label": "miss"}
    assert out["labels"][0].endswith("/7")

    # New input content or new code: everything reruns.
    graph.run({"raw_items": items.assign(n=[1, 2, 4])}, config, cache=_cache(tmp_path))
    graph.run({"raw_items": items}, config, cache=_cache(tmp_path, "code-2"))
    assert calls.n == {"double": 3, "label": 4}


def test_a_stage_may_not_read_config_it_does_not_declare(tmp_path: Path) -> None:
    def sneaky(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"out": config.match.lexical_top_k}

    graph = StageGraph(
        [Stage("sneaky", sneaky, ("raw_items",), ("out",), reads=("match.top_k",))],
        given=("raw_items",),
    )
    with pytest.raises(GraphError, match=r"match\.lexical_top_k"):
        graph.run({"raw_items": pd.DataFrame({"n": [1]})}, load_settings())


def test_a_plugged_in_model_turns_the_cache_off_for_its_stage_and_those_below(
    tmp_path: Path,
) -> None:
    calls = _Calls()
    stages = calls.graph().stages
    model_stage = Stage(
        "double", calls.double, ("raw_items",), ("doubled",), ("model",), reads=("match",)
    )
    graph = StageGraph([model_stage, stages[1]], given=("raw_items",))
    data = {"raw_items": pd.DataFrame({"n": [1]}), "model": object()}
    for _ in range(2):
        cache = _cache(tmp_path)
        graph.run(data, load_settings(), cache=cache)
    assert cache.status == {"double": "off", "label": "off"}
    assert calls.n == {"double": 2, "label": 2}


def test_an_unreadable_entry_is_recomputed_and_old_entries_are_pruned(tmp_path: Path) -> None:
    calls = _Calls()
    graph = calls.graph()
    config = load_settings()
    for n in range(4):
        graph.run({"raw_items": pd.DataFrame({"n": [n]})}, config, cache=_cache(tmp_path))
    entries = sorted((tmp_path / "stages" / "double").glob("*.pkl"))
    assert len(entries) == 3  # keep=3: the oldest input's entry is gone
    for entry in (tmp_path / "stages").rglob("*.pkl"):
        entry.write_bytes(b"not a pickle")
    cache = _cache(tmp_path)
    out = graph.run({"raw_items": pd.DataFrame({"n": [3]})}, config, cache=cache)
    assert cache.status == {"double": "miss", "label": "miss"}
    assert out["labels"] == [f"{6 + config.match.top_k}/{config.overlaps.max_overlaps_per_sg}"]


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="bundled sample snapshot missing")
def test_a_rerun_of_the_demo_reads_every_stage_back_and_writes_the_same_outputs(
    tmp_path: Path,
) -> None:
    overrides = {"enrich": {"spacy_model": "no-such-model-so-blank"}, "embed": {"model": "hashing"}}

    def run(extra: dict[str, dict[str, Any]] | None = None) -> tuple[Path, dict[str, Any]]:
        options = RunOptions(
            snapshot=SAMPLE,
            out_dir=tmp_path / "runs",
            cache_dir=tmp_path / "cache",
            overrides={**overrides, **(extra or {})},
        )
        run_dir, _result = run_pipeline(options)
        return run_dir, json.loads((run_dir / "run.json").read_text())

    first_dir, first = run()
    second_dir, second = run()
    assert set(first["stage_cache"].values()) == {"miss"}
    assert set(second["stage_cache"].values()) == {"hit"}
    for name in ("candidate_pairs.csv", "committee_pairs.csv", "overlaps.csv", "areas.csv"):
        assert (first_dir / name).read_bytes() == (second_dir / name).read_bytes(), name

    _third_dir, third = run({"committees": {"min_pairs": 3}})
    assert third["stage_cache"]["rank"] == "hit"
    assert third["stage_cache"]["committee pairs"] == "miss"


def test_model_files_changed_in_place_change_the_model_stages_keys(tmp_path: Path) -> None:
    from pipeline.graph import PIPELINE
    from pipeline.utils.io import folder_digest

    model = tmp_path / "my-model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"old weights")
    config = load_settings(
        overrides={"embed": {"model": str(model)}, "enrich": {"spacy_model": str(model)}}
    )
    enrich, embed = PIPELINE.stages[:2]
    before = (enrich.settings(config), embed.settings(config))
    (model / "weights.bin").write_bytes(b"new weights")
    folder_digest.cache_clear()  # a run hashes each folder once; this test is two runs
    after = (enrich.settings(config), embed.settings(config))
    assert before[0] != after[0] and before[1] != after[1]


def test_an_output_that_cannot_be_stored_costs_the_entry_not_the_run(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.save("double", "k1", {"doubled": lambda: None})  # a lambda does not pickle
    assert not list((tmp_path / "stages").rglob("*.pkl"))
    assert cache.load("double", "k1") is None and cache.status["double"] == "miss"


def _slow_square(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"squared": data["raw_items"]["n"] ** 2}


def _broken(config: Config, data: Mapping[str, Any]) -> dict[str, Any]:
    raise ValueError("no vectors for item 7")


def _background_graph(func: Any) -> StageGraph:
    """A background stage whose output a later stage reads, with a stage between them."""
    return StageGraph(
        [
            Stage("square", func, ("raw_items",), ("squared",), background=True),
            Stage(
                "double",
                lambda c, d: {"doubled": d["raw_items"]["n"] * 2},
                ("raw_items",),
                ("doubled",),
            ),
            Stage(
                "sum",
                lambda c, d: {"total": d["squared"] + d["doubled"]},
                ("squared", "doubled"),
                ("total",),
            ),
        ],
        given=("raw_items",),
    )


def test_a_background_stage_gives_what_it_gives_in_the_foreground(tmp_path: Path) -> None:
    items = pd.DataFrame({"n": [1, 2, 3]})
    config = load_settings()
    timings: dict[str, float] = {}
    cache = _cache(tmp_path)
    out = _background_graph(_slow_square).run(
        {"raw_items": items}, config, timings=timings, cache=cache
    )
    assert out["total"].tolist() == [3, 8, 15]
    assert set(timings) == {"square", "double", "sum"}  # timed in the child, recorded here
    # Cached like any stage: the rerun reads it back instead of forking again.
    again = _background_graph(_broken).run({"raw_items": items}, config, cache=cache)
    assert again["total"].tolist() == [3, 8, 15]
    assert cache.status["square"] == "hit"


def test_a_failing_background_stage_is_reported_with_its_name() -> None:
    with pytest.raises(GraphError, match=r"stage 'square' failed: ValueError: no vectors"):
        _background_graph(_broken).run({"raw_items": pd.DataFrame({"n": [1]})}, load_settings())
