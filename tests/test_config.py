"""Configuration: documented defaults, user files laid over them, typos caught."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.areas import AreaParams
from pipeline.config import ConfigError, default_config, load_config
from pipeline.embed import EmbedParams
from pipeline.enrich import EnrichParams
from pipeline.match import MatchParams
from pipeline.rank import RankParams
from pipeline.triage import TriageParams


@pytest.mark.parametrize(
    ("table", "params"),
    [
        ("enrich", EnrichParams),
        ("embed", EmbedParams),
        ("match", MatchParams),
        ("areas", AreaParams),
        ("rank", RankParams),
        ("triage", TriageParams),
    ],
)
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
