"""Categories that mean what they say, one row per overlap, and the flag (issue 9).

The records are copied from the shared corpus (T.840.x / ISO/IEC 6048 JPEG AI, X.508 / ISO/IEC
9594-12, X.831 / ISO/IEC 11586-2), trimmed to the fields rank reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.contracts import CANDIDATE_COLUMNS, CATEGORIES, OVERLAP_COLUMNS
from pipeline.rank import (
    OverlapParams,
    RankParams,
    group_overlaps,
    rank_candidate_pairs,
    title_only_uids,
)
from pipeline.rank.families import (
    common_text_families,
    declares_common_text,
    itu_series,
    number_family,
)
from pipeline.rank.overlaps import parts_label
from pipeline.rank.score import categorise
from pipeline.schema import items_frame, normalize_item

JPEG_AI = "Information technology - JPEG AI learning-based image coding system"
JPEG_PARTS = ("Core coding system", "Profiling", "Reference software", "Conformance", "File format")
DIRECTORY = (
    "Information technology - Open systems interconnection - The Directory: Key management "
    "and public-key infrastructure establishment and maintenance"
)
X508_TEXT = (
    "Recommendation ITU-T X.508 | ISO/IEC 9594-12 is intended to fill the gap between "
    "Recommendation ITU-T X.509 | ISO/IEC 9594-8 and Recommendation ITU-T X.510. This "
    "Recommendation | International Standard gives a description of selected cryptographic "
    "algorithms."
)


def _jpeg_ai() -> list[dict]:
    """T.840.1-5 (SG21) and ISO/IEC DIS 6048-1..5 (JTC 1/SC 29); only T.840.3 declares its
    equivalent, as in the corpus."""
    rows = []
    for n, part in enumerate(JPEG_PARTS, start=1):
        rows.append(
            dict(uid=f"ITU-T:T.840.{n}", body="ITU-T", committee="SG21", group="Q6/21",
                 reference=f"T.840.{n}", title=f"{JPEG_AI}: {part}", stage="In force",
                 declared=["equivalent:ISO/IEC 6048-3"] if n == 3 else [])
        )  # fmt: skip
        rows.append(
            dict(uid=f"ISO:ISO/IEC DIS 6048-{n}", body="ISO/IEC", committee="ISO/IEC JTC 1/SC 29",
                 reference=f"ISO/IEC DIS 6048-{n}", title=f"{JPEG_AI} - Part {n}: {part}",
                 stage="40.20")
        )  # fmt: skip
    return rows


def _directory() -> list[dict]:
    return [
        dict(uid="ITU-T:X.508", body="ITU-T", committee="SG17", group="Q11/17", reference="X.508",
             title=DIRECTORY, text=X508_TEXT, stage="In force"),
        dict(uid="ISO:ISO/IEC 9594-12:2025", body="ISO/IEC", committee="ISO/IEC JTC 1/SC 6",
             reference="ISO/IEC 9594-12:2025", title=f"{DIRECTORY} - Part 12", stage="60.60"),
        # Same topic, not the twin: the self-declaration must not spill over to it.
        dict(uid="ISO:ISO/IEC 11770-3:2021", body="ISO/IEC", committee="ISO/IEC JTC 1/SC 27",
             reference="ISO/IEC 11770-3:2021",
             title="Information security - Key management - Part 3: Mechanisms using asymmetric "
                   "techniques", stage="60.60"),
    ]  # fmt: skip


def _rank(
    rows: list[dict],
    committees: pd.DataFrame | None = None,
    mentions: dict[int, list] | None = None,
) -> pd.DataFrame:
    """Every ITU-T x other pair as a candidate, all vectors alike (the categories are what is
    tested, not the matching). ``mentions``: row -> committees its text names (as enrich finds
    them in ``ref_committees``)."""
    items = items_frame(normalize_item(r) for r in rows)
    if mentions:
        items["ref_committees"] = [mentions.get(n, []) for n in range(len(items))]
    vectors = np.ones((len(items), 4), dtype=np.float32) / 2.0
    itu = np.flatnonzero(items["body"] == "ITU-T")
    other = np.flatnonzero(items["body"] != "ITU-T")
    cands = pd.DataFrame([(i, j) for i in itu for j in other], columns=["itu_index", "other_index"])
    return rank_candidate_pairs(items, vectors, cands, RankParams(), committees=committees)


def _cat(pairs: pd.DataFrame, itu: str, other: str) -> str:
    row = pairs[(pairs["itu_uid"] == itu) & (pairs["other_uid"] == other)]
    assert len(row) == 1, f"{itu} ~ {other} missing"
    return str(row.iloc[0]["category"])


def test_number_families() -> None:
    assert number_family("ISO/IEC 6048-1") == "ISO/IEC 6048"
    assert number_family("IEC 60793-1-1") == "IEC 60793"
    assert number_family("ITU-T T.840.3") == "ITU-T T.840"
    assert number_family("ISO/IEC 27001") == "ISO/IEC 27001"
    assert itu_series("T.840.3") == "T.840"
    assert itu_series("X.509") == "X.509"
    assert itu_series("") == ""


def test_self_declared_common_text_wording() -> None:
    says = declares_common_text(
        [X508_TEXT, "This International Standard specifies ...", "", "Recommendation ITU-T X.1"]
    )
    assert says.tolist() == [True, False, False, False]


def test_other_parts_of_a_declared_common_text_series_are_common_text() -> None:
    """T.840.3 | ISO/IEC 6048-3 is declared; every other T.840.x ~ 6048-n pair between SG21
    and JTC 1/SC 29 is the same common-text series, not a new overlap."""
    rows = _jpeg_ai()
    items = items_frame(normalize_item(r) for r in rows)
    assert ("SG21", "ISO/IEC JTC 1/SC 29", "ISO/IEC 6048") in common_text_families(items)
    pairs = _rank(rows)
    assert set(pairs["category"]) == {"common-text"}
    row = pairs[pairs["itu_uid"] == "ITU-T:T.840.4"].iloc[0]
    assert "number family is a declared common text" in row["evidence"]


def test_a_family_counts_only_between_the_same_two_committees() -> None:
    rows = _jpeg_ai()
    for r in rows:
        if r["body"] == "ITU-T" and r["reference"] != "T.840.3":
            r["committee"] = "SG16"  # another study group: its T.840.x pairs are not covered
    pairs = _rank(rows)
    assert _cat(pairs, "ITU-T:T.840.3", "ISO:ISO/IEC DIS 6048-3") == "common-text"
    assert _cat(pairs, "ITU-T:T.840.4", "ISO:ISO/IEC DIS 6048-4") == "new-overlap"


def test_a_text_that_calls_itself_a_common_text_is_one_with_its_namesake_only() -> None:
    pairs = _rank(_directory())
    assert _cat(pairs, "ITU-T:X.508", "ISO:ISO/IEC 9594-12:2025") == "common-text"
    assert _cat(pairs, "ITU-T:X.508", "ISO:ISO/IEC 11770-3:2021") == "new-overlap"


def test_liaison_channel_coordinated_and_new_overlap() -> None:
    committees = items_frame(
        [
            normalize_item(
                dict(body="ISO/IEC", kind="committee", committee="ISO/IEC JTC 1/SC 27",
                     title="Information security", declared=["liaison:ITU"])
            )
        ]
    )  # fmt: skip
    rows = _directory()
    pairs = _rank(rows, committees)
    assert _cat(pairs, "ITU-T:X.508", "ISO:ISO/IEC 11770-3:2021") == "liaison-channel"
    rows[0]["declared"] = ["liaison:ISO/IEC JTC 1/SC 27"]  # declared on the ITU-T item
    assert _cat(_rank(rows, committees), "ITU-T:X.508", "ISO:ISO/IEC 11770-3:2021") == (
        "coordinated"
    )
    rows[0]["declared"] = []
    # The other side's text names the ITU-T study group ("... with ITU-T SG 17").
    pairs = _rank(rows, mentions={2: ["SG17"]})
    assert _cat(pairs, "ITU-T:X.508", "ISO:ISO/IEC 11770-3:2021") == "coordinated"
    assert _cat(_rank(rows), "ITU-T:X.508", "ISO:ISO/IEC 11770-3:2021") == "new-overlap"


def test_categorise_precedence() -> None:
    relation = np.array(["equivalent", "liaison", "liaison", "", "", ""], dtype=object)
    explicit = np.array([0, 0, 0, 1.0, 0, 0], dtype=np.float32)
    channel = np.array([False, False, True, False, False, False])
    family = np.array([False, False, False, False, True, False])
    active = np.zeros(6, dtype=bool)
    cat, _ = categorise(
        relation, explicit, active, active, channel_only=channel, family_common=family
    )
    assert cat.tolist() == [
        "common-text", "coordinated", "liaison-channel", "coordinated", "common-text",
        "new-overlap",
    ]  # fmt: skip
    assert set(cat) <= set(CATEGORIES)


def _pairs_frame(rows: list[tuple]) -> pd.DataFrame:
    """Ranked-pair rows ``(itu_ref, other_ref, sg, category, score[, semantic_local])``
    (``semantic_local`` 0.6 when not given: above the default floor)."""
    records = []
    for n, (itu, other, sg, category, score, *local) in enumerate(rows):
        records.append(
            {c: "" for c in CANDIDATE_COLUMNS}
            | dict(pair_id=f"P-{n}", itu_uid=f"ITU-T:{itu}", other_uid=f"ISO:{other}",
                   itu_reference=itu, other_reference=other, other_body="ISO/IEC",
                   itu_committee=sg, itu_group="", category=category, score=score,
                   shared_keyphrases="image coding", reason="same topic", rank=n + 1,
                   semantic_local=local[0] if local else 0.6, flagged=False)
        )  # fmt: skip
    return pd.DataFrame(records)


def test_parts_of_one_series_against_one_family_are_one_overlap() -> None:
    rows = [
        (f"T.840.{a}", f"ISO/IEC DIS 6048-{b}", "SG21", "new-overlap", 0.9 - 0.01 * (a + b))
        for a in (3, 4)
        for b in range(1, 6)
    ]
    rows.append(("X.1234", "ISO/IEC 27001:2022", "SG17", "new-overlap", 0.7))
    pairs, overlaps = group_overlaps(_pairs_frame(rows), OverlapParams(flag_min_score=0.5))
    assert tuple(overlaps.columns) == OVERLAP_COLUMNS
    assert len(overlaps) == 2
    jpeg = overlaps.iloc[0]
    assert jpeg["label"] == "T.840 series (T.840.3, T.840.4) ~ ISO/IEC 6048 (parts 1-5)"
    assert jpeg["n_pairs"] == 10 and jpeg["itu_sg"] == "SG21"
    assert pairs.loc[pairs["itu_reference"].str.startswith("T.840"), "overlap_id"].nunique() == 1
    assert overlaps.iloc[1]["label"] == "X.1234 ~ ISO/IEC 27001:2022"
    assert parts_label("ISO/IEC 27001", ["ISO/IEC 27001:2013", "ISO/IEC 27001:2022"]) == (
        "ISO/IEC 27001 (2 texts)"
    )


def test_flag_needs_the_score_and_a_place_under_the_study_group_cap() -> None:
    rows = [(f"X.{100 + n}", f"ISO/IEC {20000 + n}", "SG17", "new-overlap", 0.9 - 0.1 * n)
            for n in range(5)]  # fmt: skip
    rows.append(("G.9806", "IEC 63400", "SG15", "liaison-channel", 0.62))
    rows.append(("X.509", "ISO/IEC 9594-8", "SG17", "common-text", 0.95))
    params = OverlapParams(flag_min_score=0.55, max_overlaps_per_sg=2)
    pairs, overlaps = group_overlaps(_pairs_frame(rows), params)
    flagged = set(pairs.loc[pairs["flagged"], "itu_reference"])
    # SG17: the two best short-list overlaps (X.100, X.101; X.102 is over the cap, X.103 and
    # X.104 under the score); SG15 has its own cap; the common text is counted apart.
    assert flagged == {"X.100", "X.101", "G.9806", "X.509"}
    assert overlaps.set_index("label").loc["X.102 ~ ISO/IEC 20002", "sg_rank"] == 3
    assert pairs["flagged"].dtype == bool


def test_a_boilerplate_match_is_not_flagged_and_leaves_its_place_to_the_next() -> None:
    # X.712 ~ ISO/IEC 8327-2 (two PICS proformas): high score, but the texts are close only to
    # what every proforma is close to (low hub-corrected cosine).
    rows = [
        ("X.712", "ISO/IEC 8327-2:1996", "SG2", "new-overlap", 0.45, 0.30),
        ("X.1051", "ISO/IEC 27017:2015", "SG2", "new-overlap", 0.40, 0.55),
        ("X.509", "ISO/IEC 9594-8", "SG2", "common-text", 0.95, 0.10),
    ]
    params = OverlapParams(flag_min_score=0.12, flag_min_semantic_local=0.46, max_overlaps_per_sg=1)
    pairs, overlaps = group_overlaps(_pairs_frame(rows), params)
    assert set(pairs.loc[pairs["flagged"], "itu_reference"]) == {"X.1051", "X.509"}
    by_label = overlaps.set_index("label")
    assert not by_label.loc["X.712 ~ ISO/IEC 8327-2:1996", "flagged"]
    assert by_label.loc["X.1051 ~ ISO/IEC 27017:2015", "sg_rank"] == 2


def test_a_broad_itu_text_shows_its_best_overlaps_and_leaves_the_rest_to_others() -> None:
    # Y.4900 resembles four ISO families; with two places per ITU-T text, its third and fourth
    # overlaps leave their places under the study-group cap to G.8271's overlap. Common texts
    # of the same text are not counted.
    rows = [("Y.4900", f"ISO {37120 + n}", "SG20", "new-overlap", 0.9 - 0.05 * n)
            for n in range(4)]  # fmt: skip
    rows.append(("G.8271", "IEC 61588", "SG20", "new-overlap", 0.5))
    rows.append(("Y.4900", "ISO/IEC 30141", "SG20", "common-text", 0.95))
    params = OverlapParams(max_overlaps_per_sg=3, max_overlaps_per_itu_item=2)
    pairs, overlaps = group_overlaps(_pairs_frame(rows), params)
    flagged = overlaps.loc[overlaps["flagged"], "label"].tolist()
    assert flagged == [
        "Y.4900 ~ ISO/IEC 30141",
        "Y.4900 ~ ISO 37120",
        "Y.4900 ~ ISO 37121",
        "G.8271 ~ IEC 61588",
    ]
    assert not pairs.loc[pairs["other_reference"] == "ISO 37122", "flagged"].any()


def test_an_itu_text_known_by_its_title_alone_is_not_flagged_as_new() -> None:
    # L.22 "Fire protection" has no summary: its title matches any fire standard's title.
    items = pd.DataFrame(
        {
            "uid": ["ITU-T:L.22", "ITU-T:K.56", "ITU-T:X.509", "ISO:ISO 8421-2"],
            "body": ["ITU-T", "ITU-T", "ITU-T", "ISO"],
            "text": ["", "Protection of radio base stations against lightning.", "", "Vocab."],
        }
    )
    assert title_only_uids(items) == {"ITU-T:L.22", "ITU-T:X.509"}
    rows = [
        ("L.22", "ISO 8421-2:1987", "SG5", "new-overlap", 0.5),
        ("K.56", "IEC 62305-1", "SG5", "new-overlap", 0.3),
        ("X.509", "ISO/IEC 9594-8", "SG5", "common-text", 0.9),
    ]
    thin = title_only_uids(items)
    pairs, _ = group_overlaps(_pairs_frame(rows), title_only=thin)
    flagged = set(pairs.loc[pairs["flagged"], "itu_reference"])
    assert flagged == {"K.56", "X.509"}  # a common text is flagged whatever its text
    pairs, _ = group_overlaps(
        _pairs_frame(rows), OverlapParams(flag_title_only=True), title_only=thin
    )
    assert set(pairs.loc[pairs["flagged"], "itu_reference"]) == {"L.22", "K.56", "X.509"}


def test_empty_pairs_give_empty_overlaps() -> None:
    pairs, overlaps = group_overlaps(pd.DataFrame(columns=list(CANDIDATE_COLUMNS)))
    assert pairs.empty and overlaps.empty and tuple(overlaps.columns) == OVERLAP_COLUMNS


@pytest.mark.parametrize("category", ["liaison-channel", "new-overlap"])
def test_an_overlap_takes_the_most_known_category_of_its_pairs(category: str) -> None:
    rows = [
        ("X.831", "ISO/IEC 11586-2:1996", "SG17", category, 0.8),
        ("X.831", "ISO/IEC 11586-3:1996", "SG17", "coordinated", 0.6),
    ]
    _pairs, overlaps = group_overlaps(_pairs_frame(rows))
    assert overlaps["category"].tolist() == ["coordinated"]
