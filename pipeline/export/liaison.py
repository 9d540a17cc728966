"""From decision to action: a draft ITU-T liaison statement per pair decided ``coordinate``.

``liaison/<SG>-<pair id>.md``: the fields of an ITU-T liaison statement (Question, source,
title, for action / for information to, deadline, contact: the last three left blank for the
rapporteur) and a body naming both items, their stages, what overlaps (shared keyphrases) and
what is asked. The wording is a fixed template; only names, references, titles, stages and
keyphrases are filled in, each made inert (no Markdown, HTML or link survives from a source).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.export.cells import as_text
from pipeline.utils.io import atomic_write_text

__all__ = ["COORDINATE", "LIAISON_DIR", "inert_markdown", "liaison_statement", "write_liaisons"]

COORDINATE = "coordinate"
LIAISON_DIR = "liaison"

# Characters Markdown (or an HTML renderer of it) would interpret.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~>])")


def inert_markdown(value: Any, max_chars: int = 500) -> str:
    """Source text as one inert Markdown line: whitespace collapsed, every Markdown/HTML
    character escaped, cut at ``max_chars``; ``"-"`` when empty."""
    text = " ".join(as_text(value).split())[:max_chars]
    return _MD_SPECIAL.sub(r"\\\1", text) or "\\-"


def _stage(items: pd.DataFrame, uid: str, fallback: str) -> str:
    if "uid" in items.columns and "stage" in items.columns:
        found = items.loc[items["uid"].astype(str) == uid, "stage"]
        if len(found) and as_text(found.iloc[0]):
            return as_text(found.iloc[0])
    return fallback


def liaison_statement(pair: dict[str, Any], items: pd.DataFrame) -> str:
    """The Markdown draft for one candidate pair (a row of ``RunResult.pairs`` as a dict)."""
    md = inert_markdown
    sg = as_text(pair.get("itu_committee")) or "ITU-T"
    question = as_text(pair.get("itu_group"))
    itu_ref = as_text(pair.get("itu_reference")) or as_text(pair.get("itu_uid"))
    other_ref = as_text(pair.get("other_reference")) or as_text(pair.get("other_uid"))
    other_committee = as_text(pair.get("other_committee")) or as_text(pair.get("other_body"))
    itu_stage = _stage(items, as_text(pair.get("itu_uid")), as_text(pair.get("itu_stage_group")))
    other_stage = _stage(
        items, as_text(pair.get("other_uid")), as_text(pair.get("other_stage_group"))
    )
    keyphrases = [k.strip() for k in as_text(pair.get("shared_keyphrases")).split(";")]
    topics = ", ".join(md(k, 80) for k in keyphrases if k) or "\\- (none found)"
    source = f"ITU-T {sg}" + (f" ({question})" if question else "")
    fields = [
        ("Question(s)", md(question) if question else ""),
        ("Source", md(source)),
        ("Title", f"Liaison statement on {md(itu_ref)} and {md(other_ref)}"),
        ("Purpose", "Action"),
        ("For action to", md(other_committee)),
        ("For information to", ""),
        ("Approval", f"To be agreed by {md(source)}"),
        ("Deadline", ""),
        ("Contact", ""),
    ]
    lines = [
        f"# DRAFT liaison statement: {md(itu_ref)} / {md(other_ref)}",
        "",
        "| Field | Value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in fields),
        "",
        "## Body",
        "",
        f"{md(source)} informs {md(other_committee)} of its work on {md(itu_ref)}, "
        f"*{md(pair.get('itu_title'))}* (stage: {md(itu_stage)}).",
        "",
        f"This work overlaps {md(other_ref)}, *{md(pair.get('other_title'))}* "
        f"(stage: {md(other_stage)}), of {md(other_committee)}.",
        "",
        f"Topics both texts share: {topics}.",
        "",
        f"{md(source)} asks {md(other_committee)}:",
        "",
        "1. to confirm whether the two texts overlap, and where;",
        "2. to share its current draft and planned schedule;",
        "3. to name a contact for this work, so that both groups can agree how to coordinate "
        "(WTSA Resolution 7).",
        "",
        f"Candidate pair {md(pair.get('pair_id'))}; score {as_text(pair.get('score'))}; "
        f"category {md(pair.get('category'))}.",
        "",
    ]
    return "\n".join(lines)


def write_liaisons(run_dir: Path, pairs: pd.DataFrame, items: pd.DataFrame) -> list[Path]:
    """One draft per pair whose ``decision`` is ``coordinate``, in ``run_dir/liaison/``;
    returns the paths written (none, and no folder, when nothing is decided ``coordinate``)."""
    if pairs.empty or "decision" not in pairs.columns:
        return []
    chosen = pairs[pairs["decision"].astype(str).str.strip().str.lower() == COORDINATE]
    paths = []
    for pair in chosen.to_dict("records"):
        sg = re.sub(r"[^A-Za-z0-9-]+", "_", as_text(pair.get("itu_committee")) or "ITU-T")
        pid = re.sub(r"[^A-Za-z0-9-]+", "_", as_text(pair.get("pair_id")))
        path = Path(run_dir) / LIAISON_DIR / f"{sg}-{pid}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        paths.append(atomic_write_text(path, liaison_statement(pair, items)))
    return paths
