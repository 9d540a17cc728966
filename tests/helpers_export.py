"""A synthetic but realistic :class:`RunResult` for the export, triage, report and notebook tests.

The hand-written core mirrors real ITU-T / ISO / IEC relations (X.509 ~ ISO/IEC 9594-8,
X.1051 ~ ISO/IEC 27011, H.264 ~ ISO/IEC 14496-10 ...); ``n_extra`` adds generated items so a
result can reach a thousand pairs. ``hostile=True`` plants :data:`HOSTILE` strings in every kind
of text field, URL, source and error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import numpy as np
import pandas as pd

from pipeline.rank import OverlapParams, group_overlaps
from pipeline.results import RunResult
from pipeline.schema import RecordError, items_frame, normalize_item

LONG = "A" * 40_000
HOSTILE: dict[str, str] = {
    "formula": '=HYPERLINK("http://evil.example/x","click")',
    "plus": "+1+1",
    "minus": "-2",
    "at": "@SUM(A1)",
    "tab": "\tcmd",
    "cr": "\rX",
    "control": "bell\x07and\x1bescape\x00null",
    "long": LONG,
    "script": "<script>alert(1)</script>",
}
HOSTILE_URLS = (
    "javascript:alert(1)",
    "https://evil.example/itu.int/x",
    "https://www.itu.int.evil.example/x",
    "http://user:pass@www.iso.org/x",
)
WP = "https://www.itu.int/ITU-T/workprog/wp_item.aspx?isn="
ISO_URL = "https://www.iso.org/standard/"
IEC_URL = "https://webstore.iec.ch/en/publication/"
WEIGHTS = {"semantic": 0.4, "lexical": 0.2, "explicit": 0.25, "activity": 0.1, "recency": 0.05}
SNAPSHOT = "20261130T090000Z-demo"

# (uid, body, committee, group, reference, title, stage, url, declared, area)
CORE_ITEMS: list[tuple[Any, ...]] = [
    ("ITU-T:X.509", "ITU-T", "SG17", "Q11/17", "X.509",
     "The Directory: Public-key and attribute certificate frameworks", "Under study [revision]",
     WP + "21581", ["equivalent:ISO/IEC 9594-8"], 0),
    ("ISO:ISO/IEC 9594-8", "ISO/IEC", "ISO/IEC JTC 1/SC 6", "", "ISO/IEC 9594-8:2020",
     "Information technology - Open systems interconnection - Part 8: The Directory: "
     "Public-key and attribute certificate frameworks", "60.60", ISO_URL + "80325",
     ["equivalent:ITU-T X.509"], 0),
    ("ITU-T:X.1051", "ITU-T", "SG17", "Q3/17", "X.1051",
     "Information security controls for telecommunications organizations", "Approved",
     WP + "19970", ["equivalent:ISO/IEC 27011"], 1),
    ("ISO:ISO/IEC 27011", "ISO/IEC", "ISO/IEC JTC 1/SC 27", "WG 1", "ISO/IEC 27011:2024",
     "Information security controls based on ISO/IEC 27002 for telecommunications "
     "organizations", "60.60", ISO_URL + "85640", ["equivalent:ITU-T X.1051"], 1),
    ("ITU-T:X.1252", "ITU-T", "SG17", "Q10/17", "X.1252",
     "Baseline identity management terms and definitions", "Under study", WP + "20011", [], 1),
    ("ISO:ISO/IEC DIS 24760-1", "ISO/IEC", "ISO/IEC JTC 1/SC 27", "WG 5", "ISO/IEC DIS 24760-1",
     "IT Security and Privacy - A framework for identity management - Part 1: Terminology and "
     "concepts", "40.20", ISO_URL + "77582", [], 1),
    ("ITU-T:H.264", "ITU-T", "SG16", "Q6/16", "H.264",
     "Advanced video coding for generic audiovisual services", "Under study [revision]",
     WP + "21001",
     ["equivalent:ISO/IEC 14496-10"], 2),
    ("ISO:ISO/IEC 14496-10", "ISO/IEC", "ISO/IEC JTC 1/SC 29", "WG 5", "ISO/IEC 14496-10:2022",
     "Information technology - Coding of audio-visual objects - Part 10: Advanced video coding",
     "60.60", ISO_URL + "83529", ["equivalent:ITU-T H.264"], 2),
    ("ITU-T:Y.3500", "ITU-T", "SG13", "Q17/13", "Y.3500",
     "Cloud computing - Overview and vocabulary", "Approved", WP + "9902",
     ["liaison:ISO/IEC JTC 1/SC 38"], 3),
    ("ISO:ISO/IEC 22123-1", "ISO/IEC", "ISO/IEC JTC 1/SC 38", "", "ISO/IEC 22123-1:2023",
     "Information technology - Cloud computing - Part 1: Vocabulary", "60.60", ISO_URL + "82758",
     [], 3),
    ("ITU-T:Y.4000", "ITU-T", "SG20", "Q3/20", "Y.4000",
     "Overview of the Internet of things", "Under study", WP + "21400", [], 3),
    ("ISO:ISO/IEC 30141", "ISO/IEC", "ISO/IEC JTC 1/SC 41", "", "ISO/IEC 30141:2024",
     "Internet of things (IoT) - Reference architecture", "60.60", ISO_URL + "88800", [], 3),
    ("ITU-T:F.749.5", "ITU-T", "SG21", "Q27/21", "F.749.5",
     "Vehicle domain service - General information and use case definitions", "Approved",
     WP + "18001", [], 4),
    ("ISO:ISO 23239-1", "ISO", "ISO/TC 22/SC 31", "", "ISO 23239-1:2021",
     "Road vehicles - Vehicle domain service (VDS) - Part 1: General information and use case "
     "definitions", "60.60", ISO_URL + "75035", [], 4),
    ("ITU-T:K.48", "ITU-T", "SG5", "Q2/5", "K.48",
     "EMC requirements for telecommunication equipment - Product family Recommendation",
     "Under study", WP + "17700", [], 4),
    ("IEC:CISPR 32", "IEC", "CISPR", "CISPR/I", "CISPR 32:2015+AMD1:2019 CSV",
     "Electromagnetic compatibility of multimedia equipment - Emission requirements", "ACDV",
     IEC_URL + "63305", [], 4),
]  # fmt: skip

AREAS = [
    (0, "directory; public-key certificate; attribute certificate"),
    (1, "information security; identity management; telecommunications organizations"),
    (2, "video coding; audiovisual services; coding of audio-visual objects"),
    (3, "cloud computing; internet of things; reference architecture"),
    (4, "vehicle domain service; electromagnetic compatibility; emission requirements"),
]
_SGS = ["SG2", "SG5", "SG11", "SG12", "SG13", "SG15", "SG16", "SG17", "SG20", "SG21"]
_OTHERS = [
    ("ISO/IEC", "ISO/IEC JTC 1/SC 27"),
    ("ISO/IEC", "ISO/IEC JTC 1/SC 29"),
    ("ISO/IEC", "ISO/IEC JTC 1/SC 41"),
    ("ISO", "ISO/TC 204"),
    ("IEC", "IEC TC 100"),
    ("IEC", "IEC SC 65A"),
]
_TOPICS = [
    "quantum key distribution network security",
    "digital twin framework for smart cities",
    "intelligent transport systems cooperative messages",
    "multimedia accessibility for persons with disabilities",
    "energy efficiency of data centres",
    "machine learning in future networks",
    "industrial communication networks functional safety",
    "distributed ledger technology trust",
]
_STAGES = {
    "ITU-T": ["Under study", "Under study", "Determined", "Consented", "Approved"],
    "ISO": ["20.00", "30.60", "40.20", "50.00", "60.60"],
    "ISO/IEC": ["20.00", "30.60", "40.20", "50.00", "60.60"],
    "IEC": ["ACD", "CD", "CDV", "FDIS", "PPUB"],
}


def pair_id(itu_uid: str, other_uid: str) -> str:
    """The stable pair id of docs/architecture.md."""
    return "P-" + hashlib.sha1(f"{itu_uid}|{other_uid}".encode()).hexdigest()[:10]


def _core_records() -> list[dict[str, Any]]:
    records = []
    for i, (uid, body, committee, group, ref, title, stage, url, declared, area) in enumerate(
        CORE_ITEMS
    ):
        records.append(
            {
                "uid": uid, "body": body, "committee": committee, "group": group,
                "reference": ref, "title": title, "stage": stage, "url": url,
                "declared": declared, "text": f"Scope of {ref}: {title}.",
                "updated": f"2025-{1 + i % 12:02d}-{1 + i:02d}", "area": area,
                "study_period": "2025-2028" if body == "ITU-T" else "",
            }
        )  # fmt: skip
    return records


def _extra_records(n_extra: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n_extra`` ITU-T work items and as many ISO/IEC/IEC projects on shared topics."""
    records = []
    for i in range(n_extra):
        topic = _TOPICS[i % len(_TOPICS)]
        area = 5 + i % len(_TOPICS)
        sg = _SGS[i % len(_SGS)]
        records.append(
            {
                "uid": f"ITU-T:Y.synth-{i}", "body": "ITU-T", "committee": sg,
                "group": f"Q{1 + i % 9}/{sg[2:]}", "reference": f"Y.synth-{i}",
                "title": f"Requirements for {topic} (part {i})",
                "stage": _STAGES["ITU-T"][i % 5], "url": f"{WP}{30000 + i}", "declared": [],
                "text": f"This draft Recommendation specifies {topic}.",
                "updated": f"2026-{1 + i % 12:02d}-15", "area": area,
                "study_period": "2025-2028",
            }
        )  # fmt: skip
        body, committee = _OTHERS[int(rng.integers(len(_OTHERS)))]
        number = 60000 + i
        prefix = "ISO/IEC " if body == "ISO/IEC" else f"{body} "
        records.append(
            {
                "uid": f"{body.split('/')[0]}:{prefix}{number}", "body": body,
                "committee": committee, "group": "", "reference": f"{prefix}{number}",
                "title": f"{topic.capitalize()} - Part {1 + i % 4}",
                "stage": _STAGES[body][(i + 2) % 5],
                "url": (IEC_URL if body == "IEC" else ISO_URL) + str(number), "declared": [],
                "text": f"This document gives guidance on {topic}.",
                "updated": "2026-03", "area": area, "study_period": "",
            }
        )  # fmt: skip
    return records


def build_items(n_extra: int = 0, seed: int = 0) -> pd.DataFrame:
    """Items through the real schema normalizer, plus ``area`` and ``keyphrases``."""
    rng = np.random.default_rng(seed)
    raw = _core_records() + _extra_records(n_extra, rng)
    items = items_frame(normalize_item(r, snapshot=SNAPSHOT) for r in raw)
    items["area"] = items["area"].astype(int)
    items["keyphrases"] = [t.lower().split(" - ")[0].split(": ")[-1:] for t in items["title"]]
    return items


def build_vectors(items: pd.DataFrame, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Area centres plus noise, L2-normalised, float32: a map with visible clusters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(int(items["area"].max()) + 1, dim))
    vectors = centres[items["area"].to_numpy()] + 0.35 * rng.normal(size=(len(items), dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _pair_row(itu: dict, other: dict, semantic: float, rng: np.random.Generator) -> dict:
    declared = ""
    for rel in itu["declared"]:
        kind, _, target = rel.partition(":")
        if target and (target in other["reference"] or target == other["committee"]):
            declared = kind
    signals = {
        "semantic": round(semantic, 3),
        "lexical": round(float(rng.uniform(0, 0.8)), 3),
        "explicit": 1.0 if declared == "equivalent" else 0.0,
        "activity": 1.0 if itu["active"] and other["active"] else 0.5,
        "recency": round(float(rng.uniform(0.2, 1.0)), 3),
    }
    category = {"equivalent": "common-text", "liaison": "coordinated"}.get(declared, "new-overlap")
    score = sum(WEIGHTS[k] * v for k, v in signals.items())
    reason = f"semantic {signals['semantic']:.2f}" + (
        f"; declared {declared}" if declared else "; no declared relationship"
    )
    return {
        "pair_id": pair_id(itu["uid"], other["uid"]),
        "itu_uid": itu["uid"], "other_uid": other["uid"], "other_body": other["body"],
        "itu_committee": itu["committee"], "itu_group": itu["group"],
        "other_committee": other["committee"], "other_group": other["group"],
        "itu_reference": itu["reference"], "other_reference": other["reference"],
        "itu_title": itu["title"], "other_title": other["title"],
        "itu_stage_group": itu["stage_group"], "other_stage_group": other["stage_group"],
        "itu_url": itu["url"], "other_url": other["url"], **signals,
        "shared_keyphrases": "; ".join(sorted(set(itu["keyphrases"]) & set(other["keyphrases"]))),
        "evidence": f"equivalent number {other['reference']}" if declared == "equivalent" else "",
        "declared_relation": declared,
        "revision_out_of_step": category == "common-text" and itu["active"] != other["active"],
        "score": round(score, 4), "category": category, "reason": reason,
        "area": itu["area"] if itu["area"] == other["area"] else -1,
    }  # fmt: skip


def build_pairs(
    items: pd.DataFrame, vectors: np.ndarray, n_pairs: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """The top ``n_pairs`` cross-body pairs by cosine (all when None), ranked by score."""
    rng = np.random.default_rng(seed)
    is_itu = (items["body"] == "ITU-T").to_numpy()
    itu_idx, other_idx = np.flatnonzero(is_itu), np.flatnonzero(~is_itu)
    sims = vectors[itu_idx] @ vectors[other_idx].T
    order = np.argsort(-sims, axis=None, kind="stable")
    if n_pairs is not None:
        order = order[:n_pairs]
    records = items.to_dict("records")
    rows = []
    for flat in order:
        i, j = np.unravel_index(flat, sims.shape)
        semantic = float(np.clip(sims[i, j], 0, 1))
        rows.append(_pair_row(records[itu_idx[i]], records[other_idx[j]], semantic, rng))
    pairs = pd.DataFrame(rows).sort_values("score", ascending=False, kind="stable")
    pairs["rank"] = range(1, len(pairs) + 1)
    return pairs.reset_index(drop=True)


def build_committee_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per ITU-T study group x counterpart committee, scored by its best pairs."""
    rows = []
    for (sg, counterpart), group in pairs.groupby(["itu_committee", "other_committee"]):
        top = group.nlargest(3, "score")
        questions = group["itu_group"].value_counts()
        rows.append(
            {
                "committee_pair_id": f"C-{sg}|{counterpart}", "itu_sg": sg,
                "counterpart": counterpart, "counterpart_body": group["other_body"].iloc[0],
                "score": round(float(top["score"].mean()), 4), "n_pairs": len(group),
                "n_common_text": int((group["category"] == "common-text").sum()),
                "n_new_overlap": int((group["category"] == "new-overlap").sum()),
                "n_coordinated": int((group["category"] == "coordinated").sum()),
                "liaison_declared": bool((group["declared_relation"] == "liaison").any()),
                "questions": "; ".join(f"{q} ({n})" for q, n in questions.items()),
                "top_pairs": "; ".join(
                    f"{r.itu_reference} ~ {r.other_reference} ({r.score:.2f})"
                    for r in top.itertuples()
                ),
                "reason": f"{len(group)} candidate pairs; best {top['score'].max():.2f}",
            }
        )  # fmt: skip
    frame = pd.DataFrame(rows).sort_values("score", ascending=False, kind="stable")
    frame["rank"] = range(1, len(frame) + 1)
    return frame.reset_index(drop=True)


def build_areas(items: pd.DataFrame) -> pd.DataFrame:
    """One row per area with the contract's counts."""
    labels = dict(AREAS) | {5 + i: f"{t}; {t.split()[0]}" for i, t in enumerate(_TOPICS)}
    rows = []
    for area, group in items.groupby("area"):
        committees = group["committee"].value_counts()
        rows.append(
            {
                "area": int(area), "label": labels.get(int(area), ""), "size": len(group),
                "n_itu_t": int((group["body"] == "ITU-T").sum()),
                "n_iso": int((group["body"] == "ISO").sum()),
                "n_iec": int((group["body"] == "IEC").sum()),
                "n_iso_iec": int((group["body"] == "ISO/IEC").sum()),
                "committees": "; ".join(f"{c} ({n})" for c, n in committees.items()),
                "n_active": int(group["active"].sum()),
                "representative_items": "\n".join(
                    f"{u} | {t}" for u, t in zip(group["uid"][:3], group["title"][:3], strict=True)
                ),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def _meta(items: pd.DataFrame) -> dict[str, Any]:
    return {
        "run_id": "20261130T113300Z-3f9a",
        "created": "2026-11-30T11:33:00Z",
        "snapshot": SNAPSHOT,
        "inputs": [{"path": "data/raw/sample", "sha256": "ab" * 32, "records": len(items)}],
        "config": {"rank": {f"weight_{k}": v for k, v in WEIGHTS.items()}, "match": {"k": 10}},
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "seed": 0,
        "counts": {"items": len(items)},
    }


def _sources() -> list[dict[str, Any]]:
    fetched = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    return [
        {"source": "itu-t", "location": "https://www.itu.int/ITU-T/workprog/wp_search.aspx",
         "records": 171, "errors": 1, "sha256": "cd" * 32, "fetched_at": fetched.isoformat()},
        {"source": "iso", "location": "https://isopublicstorageprod.blob.core.windows.net/"
         "opendatacontainer/iso_deliverables_metadata.jsonl", "records": 90, "errors": 0,
         "sha256": "ef" * 32, "fetched_at": fetched.isoformat()},
    ]  # fmt: skip


def plant_hostile(result: RunResult) -> RunResult:
    """Put :data:`HOSTILE` strings and :data:`HOSTILE_URLS` into every kind of text field."""
    values = list(HOSTILE.values())
    pairs = result.pairs
    for n, column in enumerate(("itu_title", "other_title", "reason", "evidence", "itu_reference")):
        for k, value in enumerate(values):
            pairs.loc[(k + n) % len(pairs), column] = value
    for k, url in enumerate(HOSTILE_URLS):
        pairs.loc[k, "itu_url"] = url
        pairs.loc[k + 1, "other_url"] = url
    pairs.loc[2, "comment"] = HOSTILE["formula"]
    cps = result.committee_pairs
    for k, value in enumerate(values):
        cps.loc[k % len(cps), "reason"] = value
        cps.loc[(k + 1) % len(cps), "top_pairs"] = value
    items = result.items
    for k, value in enumerate(values):
        items.loc[k, "title"] = value
        items.loc[k + 1, "text"] = value
    for k, url in enumerate(HOSTILE_URLS):
        items.loc[k, "url"] = url
    result.areas.loc[0, "label"] = HOSTILE["formula"]
    result.areas.loc[1, "representative_items"] = HOSTILE["script"]
    result.errors.append(RecordError("itu-t", HOSTILE_URLS[0], HOSTILE["formula"], "parse"))
    result.sources.append({"source": HOSTILE["at"], "location": HOSTILE_URLS[1], "records": 1})
    result.attribution.append(HOSTILE["script"])
    return result


def build_result(
    n_extra: int = 0, n_pairs: int | None = None, hostile: bool = False, seed: int = 0
) -> RunResult:
    """A complete RunResult: items, vectors, pairs, committee pairs, areas, sources, errors."""
    items = build_items(n_extra, seed)
    vectors = build_vectors(items, seed=seed)
    pairs, overlaps = group_overlaps(
        build_pairs(items, vectors, n_pairs, seed),
        OverlapParams(flag_min_score=0.55, max_overlaps_per_sg=5),
    )
    result = RunResult(
        items=items,
        committees=items.iloc[0:0].copy(),
        vectors=vectors,
        pairs=pairs,
        committee_pairs=build_committee_pairs(pairs),
        areas=build_areas(items),
        errors=[
            RecordError("itu-t", WP + "99999", "no title found on the page", "parse"),
        ],
        sources=_sources(),
        attribution=[
            "Contains information from ISO Open Data, made available under the ODC Attribution "
            "License (ODC-By 1.0)",
            "ITU-T material from the ITU-T Work Programme and Recommendation pages (itu.int)",
            "IEC material from iec.ch and webstore.iec.ch",
        ],
        meta=_meta(items),
        overlaps=overlaps,
    )
    return plant_hostile(result) if hostile else result
