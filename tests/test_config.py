"""Configuration: documented defaults, user files laid over them, typos caught."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.config import ConfigError, default_config, load_config
from pipeline.graph import CONFIG_TABLES, Config, load_settings


@pytest.mark.parametrize(("table", "params"), sorted(CONFIG_TABLES.items()))
def test_default_config_matches_each_stage_params(table: str, params: type) -> None:
    """default_config.toml is the one place defaults are documented: it must not drift."""
    defaults = default_config()[table]
    fields = {f.name: f for f in dataclasses.fields(params)}
    assert set(defaults) == set(fields)
    built = params(**{k: tuple(v) if isinstance(v, list) else v for k, v in defaults.items()})
    for name, value in defaults.items():
        got = getattr(built, name)
        assert (list(got) if isinstance(got, tuple) else got) == value, name
        assert (getattr(params(), name)) == got, f"{table}.{name} differs from the dataclass"


def test_user_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "my.toml"
    path.write_text("[run]\nseed = 7\n", encoding="utf-8")
    config = load_config(path)
    assert config["run"]["seed"] == 7
    assert config["rank"] == default_config()["rank"]


def test_typo_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[rank]\nwieght_semantic = 1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"typo\.toml.*wieght_semantic"):
        load_config(path)


def test_wrong_type_and_bad_toml_are_errors(tmp_path: Path) -> None:
    bad_type = tmp_path / "t.toml"
    bad_type.write_text('[run]\nseed = "seven"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="seed must be int"):
        load_config(bad_type)
    broken = tmp_path / "b.toml"
    broken.write_text("[run\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")


def test_command_line_overrides_win(tmp_path: Path) -> None:
    config = load_config(None, {"run": {"seed": 3}})
    assert config["run"]["seed"] == 3


def test_every_table_is_a_typed_config_field() -> None:
    """One typed Config holds every table: no stage reads a TOML key on its own."""
    assert set(default_config()) == set(CONFIG_TABLES)
    config = load_settings()
    for table, params in CONFIG_TABLES.items():
        assert isinstance(getattr(config, table), params)


def test_overrides_reach_the_typed_config(tmp_path: Path) -> None:
    path = tmp_path / "my.toml"
    path.write_text("[committees]\ntop_m = 3\n", encoding="utf-8")
    config = load_settings(path, {"match": {"top_k": 4}})
    assert config.committees.top_m == 3
    assert config.match.top_k == 4
    overlaid = config.overlay({"rank": {"hide_declared": True}})
    assert overlaid.rank.hide_declared and overlaid.match.top_k == 4
    assert not config.rank.hide_declared  # frozen: the original is unchanged
    assert isinstance(overlaid, Config)
