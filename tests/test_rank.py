"""Rank: signals, categories, committee aggregation, determinism, hide_declared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers_committees import committee_pairs_frame

from pipeline.contracts import CANDIDATE_COLUMNS, COMMITTEE_COLUMNS, pair_id
from pipeline.match import MatchParams, match_candidates
from pipeline.rank import RankParams, rank_candidate_pairs, rank_committee_pairs
from pipeline.rank.signals import local_semantic
from pipeline.schema import items_frame, normalize_item


def _unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def _items() -> tuple[pd.DataFrame, np.ndarray]:
    """Five hand-made items on three topics (axis 0: QKD, axis 1: PON, axis 2: cables)."""
    rows = [
        # ITU-T twin of ISO/IEC 23837, being revised while the ISO text is published.
        dict(
            uid="ITU-T:X.1710",
            body="ITU-T",
            committee="SG17",
            group="Q15/17",
            reference="X.1710",
            title="Security framework for quantum key distribution",
            stage="Under study",
            declared=["equivalent:ISO/IEC 23837-1"],
            keyphrases=["quantum key distribution", "security"],
            updated="2025-01-01",
        ),
        dict(
            uid="ISO:ISO/IEC 23837-1:2023",
            body="ISO/IEC",
            committee="ISO/IEC JTC 1/SC 27",
            reference="ISO/IEC 23837-1:2023",
            title="Security requirements for quantum key distribution - Part 1",
            stage="60.60",
            keyphrases=["quantum key distribution", "evaluation"],
            updated="2023-06",
        ),
        # ITU-T item whose Question declares a liaison with IEC TC 86 (coordinated).
        dict(
            uid="ITU-T:G.650.1",
            body="ITU-T",
            committee="SG15",
            group="Q5/15",
            reference="G.650.1",
            title="Definitions and test methods for single-mode fibre",
            stage="In force",
            declared=["liaison:IEC SC 86A"],
            keyphrases=["single-mode fibre", "test method"],
            updated="2020-03-01",
        ),
        dict(
            uid="IEC:IEC 60793-1-1:2017",
            body="IEC",
            committee="SC 86A",
            reference="IEC 60793-1-1:2017",
            title="Optical fibres - Measurement methods",
            stage="PUBLISHED",
            keyphrases=["optical fibre", "test method"],
            updated="2017-01",
        ),
        # New overlap: two active PON items with nothing declared.
        dict(
            uid="ITU-T:G.9806",
            body="ITU-T",
            committee="SG15",
            group="Q2/15",
            reference="G.9806",
            title="Higher speed passive optical networks",
            stage="Under study",
            keyphrases=["passive optical network"],
            updated="2025-05-01",
        ),
        dict(
            uid="IEC:IEC 63400:2026",
            body="IEC",
            committee="TC 86",
            reference="IEC 63400 ED1",
            title="Passive optical network components",
            stage="ACDV",
            keyphrases=["passive optical network", "component"],
            updated="2025-04",
        ),
    ]
    items = items_frame(normalize_item(r) for r in rows)
    vectors = np.stack(
        [
            _unit([1, 0, 0, 0.05]),
            _unit([0.95, 0.05, 0, 0.1]),
            _unit([0, 0, 1, 0.05]),
            _unit([0, 0.1, 0.9, 0.1]),
            _unit([0, 1, 0, 0.05]),
            _unit([0.05, 0.92, 0.1, 0.1]),
        ]
    )
    return items, vectors


def _ranked(
    items: pd.DataFrame,
    vectors: np.ndarray,
    params: RankParams | None = None,
    *,
    match_params: MatchParams | None = None,
    committees: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Match, then rank, as the stage graph does."""
    p = params or RankParams()
    cands = match_candidates(items, vectors, match_params, include_declared=not p.hide_declared)
    return rank_candidate_pairs(
        items,
        vectors,
        cands.pairs,
        p,
        committees=committees,
        match_params=match_params,
        lexical=cands.lexical,
        hubness=cands.hubness,
    )


def _pair(pairs: pd.DataFrame, itu: str, other: str) -> pd.Series:
    row = pairs[(pairs["itu_uid"] == itu) & (pairs["other_uid"] == other)]
    assert len(row) == 1, f"{itu} ~ {other} missing"
    return row.iloc[0]


def test_contract_columns_and_one_itu_side() -> None:
    items, vectors = _items()
    pairs = _ranked(items, vectors, match_params=MatchParams(min_semantic=0.0, min_lexical=0.0))
    assert list(pairs.columns) == list(CANDIDATE_COLUMNS)
    assert pairs["itu_uid"].str.startswith("ITU-T:").all()
    assert not pairs["other_uid"].str.startswith("ITU-T:").any()
    assert pairs["rank"].tolist() == list(range(1, len(pairs) + 1))
    assert pairs["score"].is_monotonic_decreasing
    for col in ("semantic", "lexical", "title", "explicit", "activity", "recency", "similarity"):
        assert pairs[col].between(0, 1).all(), col
    row = pairs.iloc[0]
    assert row["pair_id"] == pair_id(row["itu_uid"], row["other_uid"])


def test_categories() -> None:
    items, vectors = _items()
    pairs = _ranked(items, vectors, RankParams())
    twin = _pair(pairs, "ITU-T:X.1710", "ISO:ISO/IEC 23837-1:2023")
    assert twin["category"] == "common-text"
    assert twin["declared_relation"] == "equivalent"
    assert bool(twin["revision_out_of_step"])  # ITU-T side under study, ISO published
    assert "realign" in twin["reason"]
    fibre = _pair(pairs, "ITU-T:G.650.1", "IEC:IEC 60793-1-1:2017")
    assert fibre["category"] == "coordinated"
    assert fibre["declared_relation"] == "liaison"
    pon = _pair(pairs, "ITU-T:G.9806", "IEC:IEC 63400:2026")
    assert pon["category"] == "new-overlap"
    assert pon["reason"].startswith("same topic: passive optical network")
    assert "both in development" in pon["reason"]
    assert "no liaison declared" in pon["reason"]
    assert pon["activity"] == 1.0
    # The coordinated pair is ranked below the equally similar undeclared one.
    assert fibre["rank"] > pon["rank"]


def test_common_text_in_step_is_not_flagged() -> None:
    items, vectors = _items()
    items.loc[0, ["stage_group", "active"]] = ["published", False]
    pairs = _ranked(items, vectors)
    twin = _pair(pairs, "ITU-T:X.1710", "ISO:ISO/IEC 23837-1:2023")
    assert twin["category"] == "common-text"
    assert not bool(twin["revision_out_of_step"])


def test_declared_twin_is_found_even_when_texts_differ() -> None:
    items, vectors = _items()
    vectors[1] = _unit([0, 0, 0, 1])  # the twin's text is unlike anything
    pairs = _ranked(items, vectors, RankParams())
    assert _pair(pairs, "ITU-T:X.1710", "ISO:ISO/IEC 23837-1:2023")["category"] == "common-text"


def test_explicit_reference_signal_and_coordinated() -> None:
    items, vectors = _items()
    items["ref_standards"] = [[] for _ in range(len(items))]
    items.at[4, "ref_standards"] = ["IEC 63400"]
    pairs = _ranked(items, vectors)
    pon = _pair(pairs, "ITU-T:G.9806", "IEC:IEC 63400:2026")
    assert pon["explicit"] == 1.0
    assert pon["category"] == "coordinated"
    assert "G.9806 cites IEC 63400" in pon["evidence"]


def test_iso_committee_with_itu_liaison_is_only_a_liaison_channel() -> None:
    """SC 27 lists ITU as a liaison organisation: a channel exists, the topic is not declared."""
    items, vectors = _items()
    committees = items_frame(
        [
            normalize_item(
                dict(
                    body="ISO/IEC",
                    kind="committee",
                    committee="ISO/IEC JTC 1/SC 27",
                    title="Information security",
                    declared=["liaison:ITU"],
                )
            )
        ]
    )
    items.at[0, "declared"] = []
    pairs = _ranked(items, vectors, committees=committees)
    row = _pair(pairs, "ITU-T:X.1710", "ISO:ISO/IEC 23837-1:2023")
    assert row["category"] == "liaison-channel"
    assert row["declared_relation"] == "liaison"
    assert "only a liaison channel" in row["reason"]
    # A relation declared on the ITU-T item itself makes the same pair coordinated.
    items.at[0, "declared"] = ["liaison:ISO/IEC JTC 1/SC 27"]
    row = _pair(_ranked(items, vectors, committees=committees), row["itu_uid"], row["other_uid"])
    assert row["category"] == "coordinated"


def test_a_parent_committees_liaison_does_not_coordinate_its_subcommittees() -> None:
    """JTC 1 lists ITU as a liaison organisation; SC 27's own topics are not covered by it."""
    items, vectors = _items()
    committees = items_frame(
        [
            normalize_item(
                dict(
                    body="ISO/IEC",
                    kind="committee",
                    committee="ISO/IEC JTC 1",
                    title="Information technology",
                    declared=["liaison:ITU"],
                )
            )
        ]
    )
    items.at[0, "declared"] = []
    pairs = _ranked(items, vectors, committees=committees)
    row = _pair(pairs, "ITU-T:X.1710", "ISO:ISO/IEC 23837-1:2023")
    assert row["category"] == "new-overlap"


def test_hide_declared_uses_text_only() -> None:
    items, vectors = _items()
    items["ref_standards"] = [[] for _ in range(len(items))]
    items.at[4, "ref_standards"] = ["IEC 63400"]
    pairs = _ranked(items, vectors, RankParams(hide_declared=True))
    assert set(pairs["category"]) == {"new-overlap"}
    assert (pairs["explicit"] == 0).all()
    assert (pairs["evidence"] == "").all()
    assert (pairs["declared_relation"] == "").all()


def test_activity_and_recency_raise_score() -> None:
    items, vectors = _items()
    base = _pair(_ranked(items, vectors), "ITU-T:G.9806", "IEC:IEC 63400:2026")
    items.loc[5, ["stage_group", "active", "updated"]] = ["published", False, "2005-01"]
    items.loc[4, ["stage_group", "active"]] = ["published", False]
    later = _pair(_ranked(items, vectors), "ITU-T:G.9806", "IEC:IEC 63400:2026")
    assert later["activity"] == 0.0
    assert later["recency"] < base["recency"]
    assert later["score"] < base["score"]
    assert later["semantic"] == pytest.approx(base["semantic"])


def test_never_same_body_even_if_given() -> None:
    items, vectors = _items()
    cands = pd.DataFrame({"itu_index": [0, 0, 1], "other_index": [4, 1, 3]})
    pairs = rank_candidate_pairs(items, vectors, cands)
    assert pairs[["itu_uid", "other_uid"]].values.tolist() == [
        ["ITU-T:X.1710", "ISO:ISO/IEC 23837-1:2023"]
    ]


def test_deterministic() -> None:
    items, vectors = _items()
    a = _ranked(items, vectors)
    b = _ranked(
        items.sample(frac=1, random_state=0),
        vectors[items.sample(frac=1, random_state=0).index.to_numpy()],
    )
    pd.testing.assert_frame_equal(a, b)
    ca = rank_committee_pairs(items, a)
    cb = rank_committee_pairs(items, b)
    pd.testing.assert_frame_equal(ca, cb)


def test_committee_many_medium_pairs_beat_one_strong_pair() -> None:
    items = items_frame(
        normalize_item(dict(body=b, committee=c, title="t", reference=r))
        for b, c, r in [
            ("ITU-T", "SG17", "X.1"),
            ("ISO/IEC", "ISO/IEC JTC 1/SC 27", "ISO/IEC 1"),
            ("ISO", "ISO/TC 68", "ISO 2"),
        ]
    )
    pairs = committee_pairs_frame({"ISO/IEC JTC 1/SC 27": [0.6] * 8, "ISO/TC 68": [0.95]})
    out = rank_committee_pairs(items, pairs)
    assert list(out.columns) == list(COMMITTEE_COLUMNS)
    assert out["counterpart"].tolist()[:2] == ["ISO/IEC JTC 1/SC 27", "ISO/TC 68"]
    top = out.iloc[0]
    assert top["committee_pair_id"] == "C-SG17|ISO/IEC JTC 1/SC 27"
    assert top["n_pairs"] == 8 and top["n_new_overlap"] == 8
    assert top["questions"] == "Q1/17 (4); Q2/17 (4)"
    assert top["top_pairs"].startswith("X.0 ~ ISO/IEC JTC 1/SC 27 0 (0.60)")
    assert out["rank"].tolist() == list(range(1, len(out) + 1))


def test_committee_scope_similarity_adds_rows() -> None:
    items, vectors = _items()
    pairs = _ranked(items, vectors)
    with_scope = rank_committee_pairs(items, pairs, item_vectors=vectors, committee_vectors={})
    without = rank_committee_pairs(items, pairs)
    assert len(with_scope) >= len(without)
    # SG15 x IEC TC 86 (PON) has both pairs and a similar profile.
    row = with_scope[with_scope["committee_pair_id"] == "C-SG15|IEC TC 86"].iloc[0]
    assert row["scope_similarity"] > 0.5


def test_a_pair_of_hubs_loses_what_their_neighbourhood_gives_every_pair() -> None:
    # Same cosine 0.8: pair 0 joins two texts close to everything across the divide
    # (boilerplate), pair 1 two texts that are close only to each other.
    semantic = np.array([0.8, 0.8], dtype=np.float32)
    hubs = np.array([0.75, 0.7, 0.4, 0.35], dtype=np.float32)
    ii, oo = np.array([0, 2]), np.array([1, 3])
    local = local_semantic(semantic, hubs, ii, oo, weight=1.0)
    assert local[0] < local[1]
    assert local.mean() == pytest.approx(0.8, abs=1e-6)  # centred: still on the cosine's scale
    assert (local_semantic(semantic, hubs, ii, oo, weight=0.0) == semantic).all()
    assert (local_semantic(semantic, None, ii, oo, weight=1.0) == semantic).all()


def test_hub_correction_off_ranks_by_the_plain_cosine() -> None:
    items, vectors = _items()
    off = _ranked(items, vectors, RankParams(hub_correction=0.0))
    assert (off["semantic_local"] == off["semantic"]).all()
    on = _ranked(items, vectors)
    assert on["semantic_local"].between(0, 1).all()
    assert (on["semantic_local"] != on["semantic"]).any()
