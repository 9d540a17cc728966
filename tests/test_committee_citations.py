"""Citations between study groups and committees, families of committees, and the sheet's order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers_committees import committee_pairs_frame

from pipeline.rank import rank_committee_pairs
from pipeline.rank.committee_citations import citation_links, count_citations
from pipeline.rank.committee_model import CommitteeModel
from pipeline.schema import items_frame, normalize_item


def _items(rows: list[tuple[str, str, str, list[str], list[str]]]) -> pd.DataFrame:
    """(body, committee, reference, ref_standards, ref_committees) -> an enriched items frame."""
    frame = items_frame(
        normalize_item(dict(body=b, committee=c, title=f"title {r}", reference=r))
        for b, c, r, _, _ in rows
    )
    frame["ref_standards"] = [list(s) for _, _, _, s, _ in rows]
    frame["ref_committees"] = [list(m) for _, _, _, _, m in rows]
    return frame


def test_citations_resolve_keys_number_families_withdrawn_cispr_and_reverse_links() -> None:
    items = _items(
        [
            # K.1 cites a part-less number, a withdrawn CISPR text and names a committee.
            ("ITU-T", "SG5", "K.1", ["IEC 62368", "CISPR 22", "ITU-T K.2"], ["IEC SC 86B", "Q3/5"]),
            ("ITU-T", "SG5", "K.2", ["IEC 62368-1", "IEC 62368-1"], []),
            ("ITU-T", "SG17", "X.509", [], []),
            ("IEC", "IEC TC 108", "IEC 62368-1:2023", [], []),
            ("IEC", "CISPR/I", "CISPR 32:2015", [], []),
            # An ISO/IEC text citing a Recommendation links its committee to the SG.
            ("ISO/IEC", "ISO/IEC JTC 1/SC 6", "ISO/IEC 9594-8:2020", ["ITU-T X.509"], ["SG17"]),
        ]
    )
    c = count_citations(citation_links(items))
    # Each citing text counts once, however many references it makes.
    assert c.count[("SG5", "IEC TC 108")] == 2
    assert c.cited[("SG5", "IEC TC 108")] == ["IEC 62368", "IEC 62368-1"]
    assert c.count[("SG5", "CISPR")] == 1 and c.cited[("SG5", "CISPR")] == ["CISPR 22"]
    assert c.count[("SG5", "IEC SC 86B")] == 1
    assert c.count[("SG17", "ISO/IEC JTC 1/SC 6")] == 1
    # A Question, an SG's own Recommendation and nothing else is a counterpart.
    assert set(c.count) == {
        ("SG5", "IEC TC 108"),
        ("SG5", "CISPR"),
        ("SG5", "IEC SC 86B"),
        ("SG17", "ISO/IEC JTC 1/SC 6"),
    }
    # Counted for a family row: CISPR/I's citations are CISPR's.
    links = citation_links(items)
    fam = count_citations(links, lambda name: "CISPR" if name.startswith("CISPR") else name)
    assert fam.count[("SG5", "CISPR")] == 1


def test_a_committee_with_subcommittees_gets_a_family_row_and_citations_list_a_pair() -> None:
    items = _items(
        [
            ("ITU-T", "SG5", "K.0", ["ISO 14064-2"], []),
            ("ITU-T", "SG5", "K.1", [], []),
            ("IEC", "CISPR/A", "CISPR 16-1-1:2019", [], []),
            ("IEC", "CISPR/I", "CISPR 32:2015", [], []),
            ("IEC", "IEC TC 77", "IEC 61000-4-2:2008", [], []),
            ("ISO", "ISO/TC 207/SC 7", "ISO 14064-2:2019", [], []),
        ]
    )
    pairs = committee_pairs_frame(
        {"CISPR/A": [0.5, 0.4], "CISPR/I": [0.45], "IEC TC 77": [0.3]}, sg="SG5", series="K"
    )
    out = rank_committee_pairs(items, pairs).set_index("counterpart")
    # CISPR (no item of its own) stands for CISPR/A and CISPR/I together; they keep their rows.
    assert out.loc["CISPR", "n_pairs"] == 3
    assert out.loc["CISPR", "reason"].startswith("with its subcommittees")
    assert out.loc["CISPR/A", "n_pairs"] == 2 and out.loc["CISPR/I", "n_pairs"] == 1
    # One subcommittee alone makes no family row: ISO/TC 207 would repeat ISO/TC 207/SC 7.
    assert "ISO/TC 207" not in out.index
    # No item pair, but K.0 cites ISO 14064-2: listed, with what it cites.
    row = out.loc["ISO/TC 207/SC 7"]
    assert row["n_pairs"] == 0 and row["n_citations"] == 1 and row["cited"] == "ISO 14064-2"
    assert "cites ISO 14064-2" in row["reason"]


def test_the_sheet_follows_the_models_order_when_scores_are_close() -> None:
    # Scores that would all round to 1.000000 with an unscaled sigmoid keep the model's order.
    frame = pd.DataFrame({"itu_sg": ["SG5"] * 4, "strength": [1.0, 2.0, 3.0, 4.0]})
    steep = CommitteeModel(("strength",), (40.0,), scale=1.0)
    assert len(set(np.round(steep.score(frame), 6))) < 4
    scaled = CommitteeModel(("strength",), (40.0,), scale=40.0)
    assert len(set(np.round(scaled.score(frame), 6))) == 4
    items = _items(
        [("ITU-T", "SG5", f"K.{n}", [], []) for n in range(3)]
        + [("IEC", f"IEC TC {n}", f"IEC {n}0000:2020", [], []) for n in (1, 2, 3)]
    )
    pairs = committee_pairs_frame(
        {"IEC TC 1": [0.30, 0.1], "IEC TC 2": [0.31], "IEC TC 3": [0.29, 0.2, 0.2]},
        sg="SG5",
        series="K",
    )
    out = rank_committee_pairs(items, pairs)
    assert out["rank"].tolist() == [1, 2, 3]
    assert out["score"].is_monotonic_decreasing and out["score"].nunique() == 3


def test_a_joint_number_resolves_to_both_bodies_and_a_one_body_number_to_neither() -> None:
    items = _items(
        [
            ("ITU-T", "SG17", "X.1", ["ISO/IEC 80000", "ISO/IEC 17992"], []),
            ("ISO", "ISO/TC 12", "ISO 80000-1:2022", [], []),
            ("IEC", "IEC TC 25", "IEC 80000-6:2022", [], []),
            # ISO 17992 (iron ores) is not the ISO/IEC 17992 an ITU-T text cites.
            ("ISO", "ISO/TC 102/SC 2", "ISO 17992:2013", [], []),
        ]
    )
    c = count_citations(citation_links(items))
    assert set(c.count) == {("SG17", "ISO/TC 12"), ("SG17", "IEC TC 25")}
    assert c.cited[("SG17", "ISO/TC 12")] == ["ISO/IEC 80000"]
