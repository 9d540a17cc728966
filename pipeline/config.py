"""Run configuration: TOML, one table per stage, every key documented in default_config.toml.

``load_config(path)`` reads the packaged defaults and lays the user's file over them. An
unknown table or key is an error naming the file and the key, so a typo never silently falls
back to a default.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pipeline.errors import UserError

P = TypeVar("P")

__all__ = [
    "CHOICES",
    "RANGES",
    "ConfigError",
    "Range",
    "check_ranges",
    "default_config",
    "load_config",
    "section",
    "stage_params",
]

DEFAULTS_NAME = "default_config.toml"


class ConfigError(UserError, ValueError):
    """A config file that cannot be used; the message names the file (and line) and the key."""


def default_config() -> dict[str, dict[str, Any]]:
    """The packaged defaults (``pipeline/default_config.toml``)."""
    text = resources.files("pipeline").joinpath("default_config.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], override: dict[str, Any], where: str, origin: str) -> None:
    for key, value in override.items():
        if key not in base:
            raise ConfigError(f"unknown key {key!r}", origin, key=f"{where}{key}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{key!r} must be a table", origin, key=f"{where}{key}")
            _merge(base[key], value, f"{where}{key}.", origin)
        else:
            expected = type(base[key])
            ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
            if not ok or (expected is int and isinstance(value, bool)):
                raise ConfigError(
                    f"{where}{key} must be {expected.__name__}, got {value!r}",
                    origin,
                    key=f"{where}{key}",
                )
            base[key] = float(value) if expected is float else value


def _read_user_file(path: Path) -> dict[str, Any]:
    """The TOML table in ``path``; every way it can fail is a :class:`ConfigError` with the file
    (and the line, for bad TOML or a byte that is not UTF-8)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError("no such config file", path) from exc
    except IsADirectoryError as exc:
        raise ConfigError("is a folder, not a config file", path) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror or exc}", path) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8", path, line
        ) from exc
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(
            f"not valid TOML: {exc}", path, int(found.group(1)) if found else None
        ) from exc


def load_config(
    path: str | Path | None = None, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Defaults, then the TOML file at ``path``, then ``overrides`` (from the command line)."""
    config = copy.deepcopy(default_config())
    user: dict[str, Any] = {}
    if path is not None:
        user = _read_user_file(Path(path))
        _merge(config, user, "", str(path))
    if overrides:
        _merge(config, overrides, "", "command line")
    origins = {**_origins(user, str(path)), **_origins(overrides or {}, "command line")}
    check_ranges(config, origins)
    return config


def section(config: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """One stage's table (a copy), ready for ``SomeParams(**section(config, "rank"))``."""
    return dict(config.get(name, {}))


def stage_params(cls: type[P], config: dict[str, dict[str, Any]], table: str) -> P:
    """``cls(**config[table])``, with TOML arrays turned back into the tuples Params hold."""
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in section(config, table).items()}
    return cls(**values)


# --- ranges ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Allowed values of one numeric key: ``low``/``high`` bounds (``None`` = unbounded),
    exclusive where ``low_open``/``high_open``; floats must also be finite. ``why`` is said in
    the error message."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    why: str = ""

    def problem(self, value: float) -> str:
        """``""`` when ``value`` is allowed, else what is wrong with it, in words."""
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number, got {value!r}"
        low_bad = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        high_bad = self.high is not None and (
            value >= self.high if self.high_open else value > self.high
        )
        if not (low_bad or high_bad):
            return ""
        if self.low is not None and self.high is not None:
            bounds = f"in {'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}"
            bounds += ")" if self.high_open else "]"
        elif self.low is not None:
            bounds = f"{'>' if self.low_open else '>='} {_num(self.low)}"
        else:
            bounds = f"{'<' if self.high_open else '<='} {_num(self.high)}"
        return f"must be {bounds}{f' ({self.why})' if self.why else ''}, got {value!r}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


_WEIGHT = Range(0.0, why="a weight")
_COUNT = Range(1)
_COSINE = Range(-1.0, 1.0, why="a cosine")
_SHARE = Range(0.0, 1.0)

# Every numeric key of default_config.toml and what it may hold (tests/test_config.py checks
# that none is missing). One table, so a typed Config can take it over as it is.
RANGES: dict[str, Range] = {
    "run.seed": Range(0, 2**32 - 1, why="numpy seeds are 32-bit"),
    "fetch.min_interval": Range(0.0, why="seconds between requests to one host"),
    "fetch.max_in_flight": _COUNT,
    "fetch.retries": Range(0),
    "fetch.backoff_base": Range(0.0, why="seconds"),
    "fetch.backoff_cap": Range(0.0, why="seconds"),
    "fetch.timeout": Range(0.0, low_open=True, why="seconds"),
    "fetch.max_bytes": _COUNT,
    "fetch.max_redirects": Range(0),
    "fetch.iec_max_searches": Range(0),
    "fetch.check_retries": Range(0),
    "fetch.check_max_bytes": _COUNT,
    "enrich.max_chars": _COUNT,
    "enrich.max_keyphrases": Range(0),
    "enrich.batch_size": _COUNT,
    "enrich.n_process": Range(1, why="worker processes"),
    "embed.batch_size": _COUNT,
    "embed.max_seq_length": Range(0, why="0 = the model's own"),
    "embed.max_chars": _COUNT,
    "match.top_k": Range(0, why="0 = no semantic neighbours (TF-IDF and evidence only)"),
    "match.block_size": _COUNT,
    "match.lexical_top_k": Range(0, why="0 = off"),
    "match.min_semantic": _COSINE,
    "match.min_lexical": Range(0.0, 1.0, why="a TF-IDF cosine"),
    "match.max_df": Range(0.0, 1.0, low_open=True, why="a share of items"),
    "match.min_df": Range(1, why="items a term must appear in"),
    "match.ngram_max": _COUNT,
    "areas.n_neighbors": _COUNT,
    "areas.resolution": Range(0.0, low_open=True, why="Leiden's CPM resolution"),
    "areas.min_similarity": _COSINE,
    "areas.distance_threshold": Range(0.0, 2.0, low_open=True, why="a cosine distance"),
    "areas.min_size": _COUNT,
    "areas.max_size": _COUNT,
    "areas.min_bodies": Range(1, 4, why="ITU-T, ISO, IEC, ISO/IEC"),
    "areas.n_label_terms": _COUNT,
    "areas.n_representatives": Range(0),
    "areas.block_size": _COUNT,
    "rank.w_semantic": _WEIGHT,
    "rank.w_lexical": _WEIGHT,
    "rank.w_title": _WEIGHT,
    "rank.w_explicit": _WEIGHT,
    "rank.semantic_floor": _COSINE,
    "rank.semantic_ceiling": _COSINE,
    "rank.lexical_ceiling": Range(0.0, 1.0, low_open=True, why="a TF-IDF cosine"),
    "rank.hub_correction": Range(0.0, 2.0, why="0 = plain cosine, 1 = CSLS"),
    "rank.w_activity": _WEIGHT,
    "rank.w_recency": _WEIGHT,
    "rank.recency_half_life_years": Range(0.0, low_open=True, why="years"),
    "rank.early_stage_bonus": _WEIGHT,
    "rank.coordinated_factor": _WEIGHT,
    "rank.common_text_factor": _WEIGHT,
    "rank.out_of_step_bonus": _WEIGHT,
    "rank.max_pairs_per_itu": Range(0, why="0 = all"),
    "rank.n_shared_keyphrases": Range(0),
    "rank.liaison_channel_factor": _WEIGHT,
    "rank.common_text_min_title": Range(0.0, 1.0, why="a title TF-IDF cosine"),
    "overlaps.flag_min_score": Range(0.0, why="pair scores are mostly in 0..1"),
    "overlaps.flag_min_semantic_local": Range(0.0, 1.0, why="a cosine"),
    "overlaps.max_overlaps_per_sg": _COUNT,
    "overlaps.max_overlaps_per_itu_item": _COUNT,
    "overlaps.n_keyphrases": Range(0),
    "committees.top_m": _COUNT,
    "committees.specificity_smoothing": Range(0.0, low_open=True, why="pseudo-counts"),
    "committees.min_pairs": Range(0),
    "committees.min_pair_score": Range(0.0),
    "committees.min_scope": _COSINE,
    "committees.n_top_pairs": Range(0),
    "committees.n_shared_keyphrases": Range(0),
    "committees.reason_min_lift": Range(0.0),
    "triage.score_change": Range(0.0, 1.0, why="scores are in 0..1"),
}

# Text keys that take one of a few words.
CHOICES: dict[str, tuple[str, ...]] = {
    "embed.backend": ("onnx", "onnx-int8", "torch"),
    "areas.method": ("leiden", "agglomerative"),
    "committees.aggregation": ("model", "sum"),
}

# Rules between two keys: (key a, key b, holds(a, b), what must hold, in words).
_PAIR_RULES: tuple[tuple[str, str, Any, str], ...] = (
    ("rank.semantic_floor", "rank.semantic_ceiling", lambda a, b: a < b, "below"),
    ("areas.min_size", "areas.max_size", lambda a, b: a <= b, "at most"),
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _origins(values: Mapping[str, Any], origin: str) -> dict[str, str]:
    """``{"rank.w_title": origin}`` for each key set in ``values`` (a parsed TOML document)."""
    return {
        f"{table}.{key}": origin
        for table, keys in values.items()
        if isinstance(keys, Mapping)
        for key in keys
    }


def check_ranges(
    config: Mapping[str, Mapping[str, Any]], origins: Mapping[str, str] | None = None
) -> None:
    """Raise :class:`ConfigError` for the first value outside its :data:`RANGES` rule.

    ``origins`` maps ``"table.key"`` to where the value came from (a file, ``command line``);
    keys not in it come from the packaged defaults.
    """
    origins = origins or {}

    def fail(key: str, what: str) -> None:
        raise ConfigError(what, origins.get(key, DEFAULTS_NAME), key=key)

    for key, rule in RANGES.items():
        table, name = key.split(".", 1)
        value = config.get(table, {}).get(name)
        if value is not None and (problem := rule.problem(value)):
            fail(key, f"{key} {problem}")
    for key, words in CHOICES.items():
        table, name = key.split(".", 1)
        value = config.get(table, {}).get(name)
        if value is not None and value not in words:
            fail(key, f"{key} must be one of {', '.join(words)}, got {value!r}")
    for a, b, holds, words in _PAIR_RULES:
        (ta, na), (tb, nb) = a.split("."), b.split(".")
        va, vb = config[ta][na], config[tb][nb]
        if not holds(va, vb):
            fail(
                a if a in origins or b not in origins else b,
                f"{a} = {va} must be {words} {b} = {vb}",
            )
    date = str(config.get("rank", {}).get("reference_date", ""))
    if date and not _DATE.fullmatch(date):
        fail("rank.reference_date", f'must be "" or a date YYYY-MM-DD, got {date!r}')
