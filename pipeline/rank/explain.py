"""What an analyst reads on each row: the distinctive keyphrases two items share, and a reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

__all__ = [
    "keyphrase_document_frequency",
    "lowercase_index",
    "pair_reason",
    "shared_keyphrases",
]


def keyphrase_document_frequency(keyphrases: Sequence[Sequence[str]]) -> Counter[str]:
    """Lowercased keyphrase -> number of items that have it."""
    return Counter(k for phrases in keyphrases for k in {x.lower() for x in phrases})


def shared_keyphrases(
    a: Mapping[str, str], b: Mapping[str, str], df: Mapping[str, int], n: int
) -> list[str]:
    """Keyphrases both items have (compared lowercased), as ``a`` spells them, rarest (most
    distinctive) first, at most ``n``. ``a``/``b``: each item's :func:`lowercase_index`, built
    once per item, not once per pair."""
    common = a.keys() & b.keys()
    ordered = sorted(common, key=lambda k: (df.get(k, 0), -len(k), k))
    return [a[k] for k in ordered[:n]]


def lowercase_index(phrases: Sequence[str]) -> dict[str, str]:
    """Lowercased keyphrase -> its first spelling in ``phrases``."""
    out: dict[str, str] = {}
    for x in phrases:
        out.setdefault(x.lower(), x)
    return out


def _stage_phrase(body: str, active: bool, stage_group: str) -> str:
    return f"{body} {'in development' if active else 'published'}" + (
        f" ({stage_group})" if active and stage_group else ""
    )


def _activity_phrase(
    other_body: str, a_itu: bool, a_other: bool, sg_itu: str, sg_other: str
) -> str:
    if a_itu and a_other:
        return "both in development"
    if not a_itu and not a_other:
        return "both published"
    return (
        f"{_stage_phrase('ITU-T', a_itu, sg_itu)}, {_stage_phrase(other_body, a_other, sg_other)}"
    )


def pair_reason(
    shared: list[str],
    semantic: float,
    other_body: str,
    active: tuple[bool, bool],
    stage_groups: tuple[str, str],
    category: str,
    out_of_step: bool,
    evidence: str,
) -> str:
    """One line: the topic, where each side stands, and what is known of the relationship.

    ``active`` and ``stage_groups`` are (ITU-T side, other side).
    """
    a_itu, a_other = active
    topic = (
        f"same topic: {', '.join(shared[:3])}"
        if shared
        else f"similar text (cosine {semantic:.2f})"
    )
    parts = [topic, _activity_phrase(other_body, a_itu, a_other, *stage_groups)]
    if category == "common-text":
        parts.append(
            "declared common text"
            if evidence.startswith("declared equivalent") or not evidence
            else evidence.split("; ")[-1]
        )
        if out_of_step:
            side = "ITU-T" if a_itu else other_body
            parts.append(f"only the {side} side is being revised: realign")
    elif category == "coordinated":
        parts.append(evidence.split("; ")[0] if evidence else "already coordinated")
    elif category == "liaison-channel":
        channel = evidence.split("; ")[0] if evidence else "committee-level liaison"
        parts.append(f"only a liaison channel ({channel}); the topic itself is not declared")
    else:
        parts.append("no liaison declared")
    return "; ".join(parts)
