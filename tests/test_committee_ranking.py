"""Committee pairs: features, the shipped model, the evidence floor, leave-one-SG-out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.contracts import COMMITTEE_COLUMNS
from pipeline.evaluate import (
    committee_cross_validation,
    committee_labels,
    fit_committee_artefact,
)
from pipeline.rank import rank_committee_pairs
from pipeline.rank.committee_features import FEATURES, committee_features
from pipeline.rank.committee_model import (
    CommitteeModel,
    load_committee_model,
    standardise_within,
)
from pipeline.rank.committees import score_committee_grid
from pipeline.rank.params import CommitteeParams
from pipeline.schema import items_frame, normalize_item


def _item(body: str, committee: str, ref: str, kps: list[str], kind: str = "") -> dict:
    d = dict(body=body, committee=committee, reference=ref, title=ref, keyphrases=kps)
    if kind:
        d["kind"] = kind
    return normalize_item(d)


def _pair(sg: str, itu: str, cp: str, other: str, score: float, kps: str = "") -> dict:
    return dict(
        itu_uid=f"ITU-T:{itu}",
        other_uid=f"ISO:{other}",
        itu_committee=sg,
        itu_group="",
        other_committee=cp,
        itu_reference=itu,
        other_reference=other,
        score=score,
        category="new-overlap",
        declared_relation="",
        shared_keyphrases=kps,
    )


def _world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three SGs; ISO/TC 1 (busy) pairs with all of them, ISO/TC 2 only with SG5."""
    rows = []
    for sg in ("SG5", "SG13", "SG17"):
        rows += [_item("ITU-T", sg, f"{sg}.{n}", ["common", f"{sg} topic"]) for n in range(4)]
    rows += [_item("ISO", "ISO/TC 1", f"ISO 1-{n}", ["common"]) for n in range(20)]
    rows += [_item("ISO", "ISO/TC 2", f"ISO 2-{n}", ["SG5 topic", "emc"]) for n in range(2)]
    items = items_frame(rows)
    pairs = []
    for sg in ("SG5", "SG13", "SG17"):
        pairs += [_pair(sg, f"{sg}.{n}", "ISO/TC 1", f"ISO 1-{n}", 0.5) for n in range(4)]
    pairs += [_pair("SG5", f"SG5.{n}", "ISO/TC 2", f"ISO 2-{n}", 0.5) for n in range(2)]
    return items, pd.DataFrame(pairs)


def _row(frame: pd.DataFrame, sg: str, cp: str) -> pd.Series:
    return frame[(frame["itu_sg"] == sg) & (frame["counterpart"] == cp)].iloc[0]


def test_specificity_discounts_a_counterpart_that_pairs_with_every_sg() -> None:
    items, pairs = _world()
    f = committee_features(items, pairs).frame
    busy, specific = _row(f, "SG5", "ISO/TC 1"), _row(f, "SG5", "ISO/TC 2")
    # More pair-score mass with the busy TC, but the specific one is the SG's own.
    assert busy["breadth"] > specific["breadth"]
    assert specific["specificity"] > 0 > busy["specificity"]
    # Coverage: 2 of 2 ISO/TC 2 items vs 4 of 20 ISO/TC 1 items (same SG share).
    assert specific["coverage"] > busy["coverage"]
    # A keyphrase every committee uses ("common") weighs less than one they share alone.
    assert specific["keyphrase_cosine"] > busy["keyphrase_cosine"]
    assert set(FEATURES) <= set(f.columns)
    assert len(f) == 3 * 2  # every SG x every counterpart


def test_itu_sg_record_enters_the_sg_profile_and_ranking_works_without_it() -> None:
    items, pairs = _world()
    d = 8
    vecs = np.zeros((len(items), d), dtype=np.float32)
    comm = items["committee"].to_numpy()
    vecs[comm == "ISO/TC 1", 0] = 1
    vecs[comm == "ISO/TC 2", 1] = 1
    vecs[np.isin(comm, ["SG5", "SG13", "SG17"]), 2] = 1
    without = committee_features(items, pairs, item_vectors=vecs, committee_vectors={}).frame
    assert _row(without, "SG5", "ISO/TC 2")["scope_fwd"] == 0.0
    # SG5's mandate record (kind committee, body ITU-T) speaks of what ISO/TC 2 does.
    records = items_frame(
        [normalize_item(dict(body="ITU-T", committee="SG5", title="SG5", kind="committee"))]
    )
    mandate = np.zeros((1, d), dtype=np.float32)
    mandate[0, 1] = 1
    with_rec = committee_features(
        items, pairs, records, item_vectors=vecs, committee_vectors=mandate
    ).frame
    assert _row(with_rec, "SG5", "ISO/TC 2")["scope_fwd"] > 0.5
    assert _row(with_rec, "SG5", "ISO/TC 2")["scope_back"] == pytest.approx(1.0)
    assert _row(with_rec, "SG13", "ISO/TC 2")["scope_fwd"] == 0.0  # other SGs unchanged


def test_sheet_lists_only_pairs_above_the_evidence_floor_with_reasons() -> None:
    items, pairs = _world()
    sheet = rank_committee_pairs(items, pairs)
    assert list(sheet.columns) == list(COMMITTEE_COLUMNS)
    # SG13 x ISO/TC 2 has no item pair carrying it: not listed.
    assert set(zip(sheet["itu_sg"], sheet["counterpart"], strict=True)) == {
        ("SG5", "ISO/TC 1"),
        ("SG5", "ISO/TC 2"),
        ("SG13", "ISO/TC 1"),
        ("SG17", "ISO/TC 1"),
    }
    row = _row(sheet, "SG5", "ISO/TC 2")
    assert row["n_pairs"] == 2 and row["top_pairs"].startswith("SG5.0 ~ ISO 2-0 (0.50)")
    assert "sg5 topic" in row["shared_keyphrases"] and "shares " in row["reason"]
    assert "2 item pairs" in row["reason"]
    strict = rank_committee_pairs(items, pairs, params=CommitteeParams(min_pairs=3))
    assert ("SG5", "ISO/TC 2") not in set(zip(strict["itu_sg"], strict["counterpart"], strict=True))
    assert sheet["rank"].tolist() == list(range(1, len(sheet) + 1))


def test_sum_aggregation_is_the_sum_of_pair_scores() -> None:
    items, pairs = _world()
    grid = score_committee_grid(items, pairs, params=CommitteeParams(aggregation="sum")).frame
    assert _row(grid, "SG5", "ISO/TC 1")["score"] == pytest.approx(2.0)
    assert _row(grid, "SG13", "ISO/TC 2")["score"] == 0.0
    with pytest.raises(ValueError, match="aggregation"):
        score_committee_grid(items, pairs, params=CommitteeParams(aggregation="max"))


def test_bundled_model_is_versioned_and_uses_known_features() -> None:
    model = load_committee_model()
    assert model.version and set(model.features) <= set(FEATURES)
    assert len(model.weights) == len(model.features)
    # The version names what decides the scores: an edited artefact must be re-versioned.
    assert model.versioned().version == model.version


def test_a_model_file_that_is_not_one_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"features": ["strength"], "weights": []}), "utf-8")
    with pytest.raises(ValueError, match=r"m\.json"):
        load_committee_model(bad)


def test_scores_depend_on_standing_within_the_sg_not_its_size() -> None:
    f = pd.DataFrame(
        {
            "itu_sg": ["A", "A", "B", "B"],
            "counterpart": ["x", "y", "x", "y"],
            "strength": [1.0, 2.0, 100.0, 200.0],
        }
    )
    z = standardise_within(f, ["strength"])
    assert z[:, 0].tolist() == [-1.0, 1.0, -1.0, 1.0]
    m = CommitteeModel(features=("strength",), weights=(1.0,))
    s = m.score(f)
    assert s[0] == pytest.approx(s[2]) and s[1] > s[0]


def _grid(seed: int = 0, n_sg: int = 5, n_cp: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Known pairs are the 2 counterparts with the highest ``strength`` in each SG; ``breadth``
    is noise."""
    rng = np.random.default_rng(seed)
    rows, gold = [], []
    for s in range(n_sg):
        strength = rng.normal(size=n_cp)
        for c in range(n_cp):
            rows.append(
                {
                    "itu_sg": f"SG{s}",
                    "counterpart": f"C{c}",
                    "listed": True,
                    "strength": strength[c],
                    "breadth": rng.normal(),
                }
            )
        gold += [{"itu_sg": f"SG{s}", "counterpart": f"C{c}"} for c in np.argsort(-strength)[:2]]
    return pd.DataFrame(rows), pd.DataFrame(gold).assign(kind="test")


def test_leave_one_sg_out_learns_from_other_sgs_only() -> None:
    grid, gold = _grid()
    cv = committee_cross_validation(grid, gold, ["strength", "breadth"], cs=(0.01, 1.0))
    assert cv["n"] == 10 and cv["in_top"] == 1.0 and cv["mrr"] > 0.6  # 0.75 = perfect
    assert set(cv["per_sg"]["itu_sg"]) == {f"SG{s}" for s in range(5)}
    # Relabelling the held-out SG's pairs cannot change its own held-out scores.
    moved = gold.copy()
    moved.loc[moved["itu_sg"] == "SG0", "counterpart"] = ["C38", "C39"]
    cv2 = committee_cross_validation(grid, moved, ["strength", "breadth"], cs=(0.01, 1.0))
    a = cv["scored"][cv["scored"]["itu_sg"] == "SG0"]["score"].to_numpy()
    b = cv2["scored"][cv2["scored"]["itu_sg"] == "SG0"]["score"].to_numpy()
    # SG0 is scored by a model fitted on SG1..SG4 only.
    np.testing.assert_allclose(a, b)


def test_fitted_artefact_round_trips_with_its_cv_figures(tmp_path: Path) -> None:
    grid, gold = _grid(seed=1)
    model = fit_committee_artefact(grid, gold, ["strength", "breadth"], cs=(0.01, 1.0), cv={"x": 1})
    assert model.weights[0] > abs(model.weights[1])  # the informative feature dominates
    assert model.version.startswith("cm-") and model.fitted["cv"] == {"x": 1}
    path = tmp_path / "model.json"
    path.write_text(model.to_json(), "utf-8")
    assert load_committee_model(path) == model
    assert committee_labels(grid, gold).sum() == len(gold)
