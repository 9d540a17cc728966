"""Every table contract lives in pipeline.contracts; stages, export and the docs agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.areas import AreaParams, find_areas
from pipeline.contracts import (
    AREA_COLUMNS,
    CANDIDATE_COLUMNS,
    CATEGORIES,
    COMMITTEE_COLUMNS,
    OVERLAP_COLUMNS,
    TRIAGE_COLUMNS,
    pair_id,
)
from pipeline.export.twins import AREA_CONTRACT, CANDIDATE_CONTRACT, COMMITTEE_CONTRACT
from pipeline.graph import PIPELINE, Config, GraphError, Stage, StageGraph
from pipeline.match import match_candidates
from pipeline.rank import group_overlaps, rank_candidate_pairs, rank_committee_pairs
from pipeline.schema import items_frame, normalize_item

DOCS = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _items() -> tuple[pd.DataFrame, np.ndarray]:
    rows = []
    for n in range(4):
        rows.append(
            dict(body="ITU-T", committee="SG17", group="Q10/17", reference=f"X.{1200 + n}",
                 title=f"Security topic {n}", stage="Under study", keyphrases=[f"topic {n}"])
        )  # fmt: skip
        rows.append(
            dict(body="ISO/IEC", committee="ISO/IEC JTC 1/SC 27", reference=f"ISO/IEC {27000 + n}",
                 title=f"Security topic {n}", stage="60.60", keyphrases=[f"topic {n}"])
        )  # fmt: skip
    items = items_frame([normalize_item(r) for r in rows])
    rng = np.random.default_rng(0)
    base = rng.normal(size=(4, 16)).astype(np.float32)
    vectors = np.repeat(base, 2, axis=0) + 0.01 * rng.normal(size=(8, 16)).astype(np.float32)
    return items, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_stages_produce_exactly_the_contract_columns() -> None:
    items, vectors = _items()
    cands = match_candidates(items, vectors)
    pairs = rank_candidate_pairs(items, vectors, cands.pairs, lexical=cands.lexical)
    assert not pairs.empty
    assert tuple(pairs.columns) == CANDIDATE_COLUMNS
    assert set(pairs["pair_id"]) == {
        pair_id(a, b) for a, b in zip(pairs["itu_uid"], pairs["other_uid"], strict=True)
    }
    pairs, overlaps = group_overlaps(pairs)
    assert tuple(pairs.columns) == CANDIDATE_COLUMNS
    assert tuple(overlaps.columns) == OVERLAP_COLUMNS
    assert set(pairs["overlap_id"]) == set(overlaps["overlap_id"])
    cps = rank_committee_pairs(items, pairs)
    assert tuple(cps.columns) == COMMITTEE_COLUMNS
    _labels, areas = find_areas(vectors, items, AreaParams(n_neighbors=2, min_size=2), seed=0)
    assert tuple(areas.columns) == AREA_COLUMNS


def test_export_writes_the_contracts_in_their_order() -> None:
    assert CANDIDATE_CONTRACT == CANDIDATE_COLUMNS + TRIAGE_COLUMNS
    assert COMMITTEE_CONTRACT == COMMITTEE_COLUMNS + TRIAGE_COLUMNS
    assert AREA_CONTRACT == AREA_COLUMNS


def _doc_table(heading: str) -> tuple[str, ...]:
    text = DOCS.read_text("utf-8")
    section = text.split(f"### {heading}\n", 1)[1].split("\n### ", 1)[0].split("\n**", 1)[0]
    return tuple(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


def test_docs_list_the_contract_columns() -> None:
    assert _doc_table("Candidate pairs") == CANDIDATE_COLUMNS + TRIAGE_COLUMNS
    assert _doc_table("Committee pairs") == COMMITTEE_COLUMNS + TRIAGE_COLUMNS
    assert _doc_table("Areas") == AREA_COLUMNS
    assert _doc_table("Overlaps") == OVERLAP_COLUMNS


def test_docs_list_the_categories() -> None:
    text = DOCS.read_text("utf-8")
    section = text.split("### Categories\n", 1)[1].split("\n### ", 1)[0]
    assert tuple(re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.M)) == CATEGORIES


def test_docs_show_the_graph_as_it_is() -> None:
    text = DOCS.read_text("utf-8")
    shown = text.split("<!-- graph:start -->\n", 1)[1].split("\n<!-- graph:end -->", 1)[0]
    assert shown == PIPELINE.describe()


def test_a_graph_whose_input_nobody_produces_is_refused() -> None:
    def noop(_c: Config, _d: object) -> dict[str, object]:
        return {}

    stages = [Stage("rank", noop, ("items", "candidates"), ("pairs",))]
    try:
        StageGraph(stages, given=("items",))
    except GraphError as exc:
        assert "candidates" in str(exc)
    else:
        raise AssertionError("a graph with an unproduced input was accepted")


def test_a_stage_whose_outputs_are_given_is_skipped() -> None:
    calls: list[str] = []

    def make(name: str, out: str):
        def func(_c: Config, _d: object) -> dict[str, object]:
            calls.append(name)
            return {out: name}

        return func

    graph = StageGraph(
        [Stage("a", make("a", "x"), ("seed",), ("x",)), Stage("b", make("b", "y"), ("x",), ("y",))],
        given=("seed",),
    )
    timings: dict[str, float] = {}
    out = graph.run({"seed": 1, "x": "given"}, Config(), timings=timings)
    assert calls == ["b"] and out["x"] == "given" and set(timings) == {"b"}
