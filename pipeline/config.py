"""Run configuration: TOML, one table per stage, every key documented in default_config.toml.

``load_config(path)`` reads the packaged defaults and lays the user's file over them. An
unknown table or key is an error naming the file and the key, so a typo never silently falls
back to a default.
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

P = TypeVar("P")

__all__ = ["ConfigError", "default_config", "load_config", "section", "stage_params"]


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


def default_config() -> dict[str, dict[str, Any]]:
    """The packaged defaults (``pipeline/default_config.toml``)."""
    text = resources.files("pipeline").joinpath("default_config.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], override: dict[str, Any], where: str, origin: str) -> None:
    for key, value in override.items():
        if key not in base:
            raise ConfigError(f"{origin}: unknown key {where}{key!r}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: {where}{key!r} must be a table")
            _merge(base[key], value, f"{where}{key}.", origin)
        else:
            expected = type(base[key])
            ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
            if not ok or (expected is int and isinstance(value, bool)):
                raise ConfigError(
                    f"{origin}: {where}{key} must be {expected.__name__}, got {value!r}"
                )
            base[key] = float(value) if expected is float else value


def load_config(
    path: str | Path | None = None, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Defaults, then the TOML file at ``path``, then ``overrides`` (from the command line)."""
    config = copy.deepcopy(default_config())
    if path is not None:
        p = Path(path)
        try:
            user = tomllib.loads(p.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{p}: no such config file") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
        _merge(config, user, "", str(p))
    if overrides:
        _merge(config, overrides, "", "command line")
    return config


def section(config: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """One stage's table (a copy), ready for ``SomeParams(**section(config, "rank"))``."""
    return dict(config.get(name, {}))


def stage_params(cls: type[P], config: dict[str, dict[str, Any]], table: str) -> P:
    """``cls(**config[table])``, with TOML arrays turned back into the tuples Params hold."""
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in section(config, table).items()}
    return cls(**values)
