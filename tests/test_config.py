"""Configuration: documented defaults, user files laid over them, typos caught."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pipeline.config import RANGES, ConfigError, check_ranges, default_config, load_config
from pipeline.graph import CONFIG_TABLES, Config, load_settings
from pipeline.utils.io import json_text


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


# --- issue 13: ranges on every value, checked where the config loads ------------------------


def test_every_numeric_default_has_a_range_rule_and_passes_it() -> None:
    numeric = {
        f"{table}.{key}"
        for table, values in default_config().items()
        for key, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    assert numeric == set(RANGES), "add a rule to pipeline.config.RANGES for each numeric key"
    check_ranges(default_config())


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ("[match]\ntop_k = -1", "match.top_k", ">= 0"),
        ("[run]\nseed = -1", "run.seed", "in [0, 4294967295]"),
        ("[enrich]\nn_process = -3", "enrich.n_process", ">= 1"),
        ("[rank]\nw_semantic = nan", "rank.w_semantic", "finite"),
        ("[rank]\nw_title = inf", "rank.w_title", "finite"),
        ("[rank]\nw_lexical = -0.5", "rank.w_lexical", ">= 0"),
        ("[areas]\ndistance_threshold = 5", "areas.distance_threshold", "in (0, 2]"),
        ("[embed]\nmax_chars = 0", "embed.max_chars", ">= 1"),
        ("[match]\nmin_semantic = 1.5", "match.min_semantic", "in [-1, 1]"),
        ("[triage]\nscore_change = -0.1", "triage.score_change", "in [0, 1]"),
        ("[rank]\nsemantic_floor = 0.9\nsemantic_ceiling = 0.5", "rank.semantic_floor", "below"),
        ("[areas]\nmin_size = 50\nmax_size = 10", "areas.min_size", "at most"),
        ('[rank]\nreference_date = "soon"', "rank.reference_date", "YYYY-MM-DD"),
    ],
)
def test_out_of_range_values_name_the_file_and_key(
    tmp_path: Path, toml: str, key: str, words: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.endswith(f"({path} / {key})")
    assert words in message


def test_command_line_values_are_range_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"\(command line / run\.seed\)"):
        load_config(None, {"run": {"seed": -1}})


def test_unusable_config_files_are_errors_with_file_and_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"[run]\n# caf\xe9\nseed = 1\n")
    with pytest.raises(ConfigError, match=rf"not UTF-8 .*\({latin}:2\)"):
        load_config(latin)
    broken = tmp_path / "broken.toml"
    broken.write_text("[run]\nseed = 1\n[rank\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"not valid TOML.*\({broken}:3\)"):
        load_config(broken)
    with pytest.raises(ConfigError, match=rf"is a folder.*\({tmp_path}\)"):
        load_config(tmp_path)


def test_run_json_text_never_holds_a_bare_nan() -> None:
    text = json_text({"score": float("nan"), "nested": [1.0, float("inf")], "ok": 0.5})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"score": None, "nested": [1.0, None], "ok": 0.5}


@pytest.mark.parametrize(("key", "value"), [("embed.backend", "cuda"), ("areas.method", "kmeans")])
def test_a_word_outside_its_choices_names_the_key(tmp_path: Path, key: str, value: str) -> None:
    table, name = key.split(".")
    path = tmp_path / "c.toml"
    path.write_text(f'[{table}]\n{name} = "{value}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{key} must be one of .*{value}"):
        load_config(path)
