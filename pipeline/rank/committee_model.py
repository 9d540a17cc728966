"""The combination of committee-pair features: a small linear model shipped as package data.

Each feature (:data:`pipeline.rank.committee_features.FEATURES`) is standardised *within its
study group* (z-score over that SG's row of the grid: what stands out for this SG, whatever its
size), then ``score = sigmoid((intercept + weights . z) / scale)``: ``scale`` 1 for a fitted
logistic regression (a probability), the sum of the weights for fixed weights (the weighted mean
z-score), so that scores neither saturate at 1.0 nor tie when rounded. The weights are a strongly
regularised logistic regression fitted on the known committee pairs by
:func:`fit_committee_model` (``evaluate-corpus --fit-committee-model``); the regularisation
strength is chosen on leave-one-study-group-out figures. The fitted artefact
(``committee_model.json``: feature list, weights, version, how it was fitted) is read at run
time; nothing at run time reads gold labels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BUNDLED_MODEL",
    "CommitteeModel",
    "fit_committee_model",
    "load_committee_model",
    "standardise_within",
]

#: File name of the bundled artefact (package data of ``pipeline.rank``).
BUNDLED_MODEL = "committee_model.json"


#: How features are put on one scale within a study group: z-scores, or percentile ranks
#: mapped to -1..1 (insensitive to heavy tails such as one SG's 4,000 pairs with one TC).
TRANSFORMS = ("z", "rank")


def standardise_within(
    frame: pd.DataFrame, features: Sequence[str], by: str = "itu_sg", transform: str = "z"
) -> np.ndarray:
    """(len(frame), len(features)) each feature put on one scale within each ``by`` group
    (``transform``: :data:`TRANSFORMS`).

    A constant feature within a group gives 0 there (it cannot order that group's rows).
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, not {transform!r}")
    x = frame[list(features)].to_numpy(dtype=np.float64)
    out = np.zeros_like(x)
    for _, idx in frame.groupby(by, sort=False).indices.items():
        block = x[idx]
        if transform == "rank":
            r = pd.DataFrame(block).rank(pct=True, method="average").to_numpy()
            out[idx] = 2 * (r - r.mean(axis=0)) if len(idx) > 1 else 0.0
            continue
        sd = block.std(axis=0)
        out[idx] = np.divide(
            block - block.mean(axis=0), sd, out=np.zeros_like(block), where=sd > 1e-12
        )
    return out


@dataclass(frozen=True)
class CommitteeModel:
    """A linear scorer of committee pairs over within-SG standardised features.

    ``features``: names, in the order of ``weights``; ``intercept``: float; ``version``: the
    artefact's version; ``transform``: :data:`TRANSFORMS`; ``scale`` (> 0): the decision is
    divided by it before the sigmoid; ``fitted``: how it was fitted (C, n, cross-validated
    figures).
    """

    features: tuple[str, ...]
    weights: tuple[float, ...]
    intercept: float = 0.0
    version: str = ""
    transform: str = "z"
    scale: float = 1.0
    fitted: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.features) != len(self.weights) or not self.features:
            raise ValueError("a committee model needs one weight per feature (at least one)")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}, not {self.transform!r}")
        if not self.scale > 0:
            raise ValueError(f"a committee model's scale must be > 0, not {self.scale!r}")

    def decision(self, frame: pd.DataFrame) -> np.ndarray:
        """(len(frame),) linear score ``intercept + weights . z`` (z: within-SG z-scores)."""
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise ValueError(f"committee model {self.version}: features missing {missing}")
        if frame.empty:
            return np.zeros(0)
        z = standardise_within(frame, self.features, transform=self.transform)
        return self.intercept + z @ np.asarray(self.weights, dtype=np.float64)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """(len(frame),) scores in 0..1: the sigmoid of :meth:`decision` / ``scale``."""
        return 1.0 / (1.0 + np.exp(-self.decision(frame) / self.scale))

    def versioned(self) -> CommitteeModel:
        """A copy whose ``version`` is ``cm-`` + a hash of what decides its scores."""
        spec = [list(self.features), list(self.weights), self.intercept, self.transform]
        if self.scale != 1.0:  # versions of models without a scale stay as they were
            spec.append(self.scale)
        digest = hashlib.sha1(json.dumps(spec).encode()).hexdigest()[:10]
        return replace(self, version=f"cm-{digest}")

    def to_json(self) -> str:
        """The artefact's text (see :func:`load_committee_model`)."""
        d = asdict(self)
        d["features"], d["weights"] = list(self.features), list(self.weights)
        return json.dumps(d, indent=2, sort_keys=True) + "\n"


def load_committee_model(path: str | Path | None = None) -> CommitteeModel:
    """The artefact at ``path``, or the bundled one (``None`` or ``""``).

    Raises ``ValueError`` naming the file when it is not a committee model.
    """
    if path:
        text, where = Path(path).read_text("utf-8"), str(path)
    else:
        ref = resources.files("pipeline.rank").joinpath(BUNDLED_MODEL)
        text, where = ref.read_text("utf-8"), f"pipeline/rank/{BUNDLED_MODEL}"
    try:
        d = json.loads(text)
        return CommitteeModel(
            features=tuple(str(f) for f in d["features"]),
            weights=tuple(float(w) for w in d["weights"]),
            intercept=float(d.get("intercept", 0.0)),
            version=str(d.get("version", "")),
            transform=str(d.get("transform", "z")),
            scale=float(d.get("scale", 1.0)),
            fitted=dict(d.get("fitted", {})),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: not a committee model ({exc})") from exc


def fit_committee_model(
    frame: pd.DataFrame,
    labels: np.ndarray,
    features: Sequence[str],
    c: float,
    *,
    version: str = "",
    transform: str = "z",
    fitted: dict[str, Any] | None = None,
) -> CommitteeModel:
    """L2-regularised logistic regression (``C = c``, classes balanced) of ``labels`` (1 = a
    known committee pair, 0 = any other row of the grid) on within-SG z-scores of ``features``.

    ``frame``: the feature grid (``itu_sg`` + features), ``labels``: (len(frame),) of 0/1;
    ``transform``: :data:`TRANSFORMS`.
    Small ``c`` = strong regularisation: the known pairs are few (about 40).
    """
    from sklearn.linear_model import LogisticRegression

    z = standardise_within(frame, features, transform=transform)
    y = np.asarray(labels, dtype=int)
    if y.min() == y.max():
        raise ValueError("fitting a committee model needs both known and other pairs")
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    lr.fit(z, y)
    info = {"C": c, "n_rows": len(y), "n_known": int(y.sum()), **(fitted or {})}
    return CommitteeModel(
        features=tuple(features),
        weights=tuple(round(float(w), 6) for w in lr.coef_[0]),
        intercept=round(float(lr.intercept_[0]), 6),
        version=version,
        transform=transform,
        fitted=info,
    )
