"""Explicit and declared evidence per candidate pair, computed with joins instead of a loop.

Each item's set-valued attributes (declared equivalents, own standard keys, cited standards,
named committees, its committee units) become long ``(item, key)`` tables; a pair's evidence
is then the join of its left item's table with its right item's table on the key. The sets are
small but there are 10^5 pairs on the corpus: a join per attribute is one pass each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.committees import parent_committee
from pipeline.evidence import Declared, itu_liaison_committees, own_keys, parse_declared
from pipeline.utils.frames import list_col, str_col

__all__ = ["PairEvidence", "pair_evidence"]


@dataclass(frozen=True)
class PairEvidence:
    """Evidence of ``m`` pairs, aligned with the pair arrays.

    - ``explicit`` (m,) float32: 1.0 one side cites the other's standard, 0.5 one side names
      the other's committee, 0 nothing.
    - ``relation`` (m,) object: ``"equivalent"``, ``"liaison"``, ``"relationship"`` or ``""``.
    - ``evidence`` (m,) object: what was found, ``"; "``-joined (``""`` when nothing).
    - ``channel_only`` (m,) bool: the relation is only the other committee's own record listing
      ITU as a liaison organisation (a channel exists; nothing says this topic is coordinated).
      ``None`` is read as all False.
    """

    explicit: np.ndarray
    relation: np.ndarray
    evidence: np.ndarray
    channel_only: np.ndarray | None = None


def _long(
    values: Sequence[Iterable[str]], rel: Sequence[Sequence[str]] | None = None
) -> pd.DataFrame:
    """``(item, key[, rel, order])`` rows, one per element of each item's collection."""
    item = [i for i, vs in enumerate(values) for _ in vs]
    key = [v for vs in values for v in vs]
    frame = pd.DataFrame(
        {"item": np.asarray(item, dtype=np.int64), "key": key}, columns=["item", "key"]
    )
    if rel is not None:
        frame["rel"] = [r for rs in rel for r in rs]
        frame["order"] = [n for vs in values for n, _ in enumerate(vs)]
    return frame


def _join(
    pairs: pd.DataFrame, left: str, right: str, a: pd.DataFrame, b: pd.DataFrame
) -> pd.DataFrame:
    """Rows ``(r, key, ...)`` where the ``left`` item of pair ``r`` has ``key`` in ``a`` and the
    ``right`` item has it in ``b``."""
    m = pairs[["r", left, right]].merge(a.rename(columns={"item": left}), on=left)
    return m.merge(b[["item", "key"]].rename(columns={"item": right}), on=[right, "key"])


def _keys_by_pair(found: pd.DataFrame) -> pd.Series:
    """``r`` -> sorted distinct keys joined by ``", "``."""
    if found.empty:
        return pd.Series(dtype=object)
    return found.groupby("r")["key"].agg(lambda ks: ", ".join(sorted(set(ks))))


def _first_relation(
    pairs: pd.DataFrame, named: pd.DataFrame, declared_table: pd.DataFrame
) -> pd.Series:
    """``r`` -> the relation of the first declared entry naming one of the pair's named
    committees: the ITU-T side's entries first, in their order, then the other side's."""
    names = named[["r", "key"]].drop_duplicates()
    parts = []
    for side, rank in (("i", 0), ("j", 1)):
        m = names.merge(pairs[["r", side]], on="r").merge(
            declared_table.rename(columns={"item": side}), on=[side, "key"]
        )
        parts.append(m.assign(side=rank)[["r", "rel", "side", "order"]])
    found = pd.concat(parts, ignore_index=True).sort_values(
        ["r", "side", "order"], kind="mergesort"
    )
    return found.drop_duplicates("r").set_index("r")["rel"]


def pair_evidence(
    items: pd.DataFrame,
    ii: np.ndarray,
    oo: np.ndarray,
    committees: pd.DataFrame | None = None,
) -> PairEvidence:
    """Explicit and declared evidence of pairs ``(ii[r], oo[r])`` (ITU-T item, other item).

    Precedence for ``relation``: a declared equivalent; else a liaison/relationship one side
    declares with the other's committee (or parent committee, or the ITU-T Question); else the
    other committee's own record lists ITU as a liaison organisation (only its own list: JTC
    1's liaison with ITU does not make every SC 27 topic coordinated). ``explicit`` is 1.0 when
    one side cites the other's standard, else 0.5 when one side names the other's committee.
    """
    m = len(ii)
    pairs = pd.DataFrame({"r": np.arange(m), "i": ii, "j": oo})
    declared: list[Declared] = parse_declared(items)
    own = _long([sorted(k) for k in own_keys(items)])
    committee, group = str_col(items, "committee"), str_col(items, "group")
    uid, reference = str_col(items, "uid"), str_col(items, "reference")
    eq = _long([sorted(d.equivalent) for d in declared])
    decl = _long(
        [list(d.committees) for d in declared], [list(d.committees.values()) for d in declared]
    )
    # The units a declaration or mention may name: the other side's committee and its parent;
    # the ITU-T side's study group and Question.
    other_units = _long([sorted({c, parent_committee(c)} - {""}) for c in committee])
    itu_units = _long([sorted({c, g} - {""}) for c, g in zip(committee, group, strict=True)])
    refs = _long([sorted(set(v)) for v in list_col(items, "ref_standards")])
    mentions = _long([sorted(set(v)) for v in list_col(items, "ref_committees")])

    equivalent = _keys_by_pair(
        pd.concat([_join(pairs, "i", "j", eq, own), _join(pairs, "j", "i", eq, own)])
    )
    named_rows = pd.concat(
        [_join(pairs, "i", "j", decl, other_units), _join(pairs, "j", "i", decl, itu_units)]
    )
    named = _keys_by_pair(named_rows)
    named_rel = _first_relation(pairs, named_rows, decl) if not named_rows.empty else pd.Series()
    cites_ij = _keys_by_pair(_join(pairs, "i", "j", refs, own))
    cites_ji = _keys_by_pair(_join(pairs, "j", "i", refs, own))
    mentioned = _keys_by_pair(
        pd.concat(
            [
                _join(pairs, "i", "j", mentions, other_units),
                _join(pairs, "j", "i", mentions, itu_units),
            ]
        )
    )
    liaison_of = itu_liaison_committees(committees)

    found = _Found(equivalent, named, named_rel, cites_ij, cites_ji, mentioned)
    return _assemble(found, ii, oo, liaison_of, committee, uid, reference)


@dataclass(frozen=True)
class _Found:
    """Per-pair join results, each a Series indexed by pair position ``r``."""

    equivalent: pd.Series
    named: pd.Series
    named_rel: pd.Series
    cites_ij: pd.Series
    cites_ji: pd.Series
    mentioned: pd.Series


def _assemble(
    f: _Found,
    ii: np.ndarray,
    oo: np.ndarray,
    liaison_of: set[str],
    committee: np.ndarray,
    uid: np.ndarray,
    reference: np.ndarray,
) -> PairEvidence:
    """Relation, explicit level and evidence text, in precedence order, for the pairs where
    anything was found (a loop over those few only)."""
    m = len(ii)
    explicit = np.zeros(m, dtype=np.float32)
    relation = np.full(m, "", dtype=object)
    evidence = np.full(m, "", dtype=object)
    channel_only = np.zeros(m, dtype=bool)
    touched = set(f.equivalent.index) | set(f.named.index) | set(f.cites_ij.index)
    touched |= set(f.cites_ji.index) | set(f.mentioned.index)
    if liaison_of:
        touched |= set(np.flatnonzero(np.isin(committee[oo], sorted(liaison_of))).tolist())
    for r in sorted(touched):
        i, j = int(ii[r]), int(oo[r])
        found: list[str] = []
        if r in f.equivalent.index:
            relation[r] = "equivalent"
            found.append(f"declared equivalent {f.equivalent[r]}")
        elif r in f.named.index:
            relation[r] = f.named_rel.get(r, "liaison")
            found.append(f"{relation[r]} declared: {f.named[r]}")
        elif committee[j] in liaison_of:
            relation[r] = "liaison"
            channel_only[r] = True
            found.append(f"{committee[j]} has ITU as liaison organisation")
        if r in f.cites_ij.index or r in f.cites_ji.index:
            explicit[r] = 1.0
            if r in f.cites_ij.index:
                found.append(f"{reference[i] or uid[i]} cites {f.cites_ij[r]}")
            if r in f.cites_ji.index:
                found.append(f"{reference[j] or uid[j]} cites {f.cites_ji[r]}")
        elif r in f.mentioned.index:
            explicit[r] = 0.5
            found.append(f"mentions {f.mentioned[r]}")
        evidence[r] = "; ".join(found)
    return PairEvidence(
        explicit=explicit, relation=relation, evidence=evidence, channel_only=channel_only
    )
