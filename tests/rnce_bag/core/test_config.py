from pathlib import Path

import pytest
from pydantic import Field

from rnce_bag.core.config import (
    StrictModel,
    apply_overrides,
    load_config,
    load_yaml,
    parse_override,
)
from rnce_bag.core.errors import ConfigError, InputError


class Train(StrictModel):
    lr: float = Field(1e-3, gt=0)
    epochs: int = 10
    method: str = "rnce"


class Root(StrictModel):
    seed: int = 0
    train: Train = Train()


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_load_defaults_and_file(tmp_path):
    assert load_config(None, Root).train.lr == 1e-3
    cfg = load_config(_write(tmp_path, "seed: 3\ntrain:\n  epochs: 5\n"), Root)
    assert (cfg.seed, cfg.train.epochs, cfg.train.lr) == (3, 5, 1e-3)


@pytest.mark.parametrize(
    ("text", "keys", "value"),
    [
        ("train.lr=1e-4", ["train", "lr"], 1e-4),  # YAML 1.1 would keep '1e-4' a string
        ("train.epochs=7", ["train", "epochs"], 7),
        ("flag=true", ["flag"], True),
        ("xs=[1, 2]", ["xs"], [1, 2]),
        ("name=rnce", ["name"], "rnce"),
        ("path=", ["path"], ""),
    ],
)
def test_parse_override(text, keys, value):
    assert parse_override(text) == (keys, value)


@pytest.mark.parametrize("bad", ["noequals", "=3", "a..b=1", ".a=1"])
def test_parse_override_rejects(bad):
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override(bad)


def test_overrides_apply_and_validate(tmp_path):
    cfg = load_config(_write(tmp_path, "train:\n  lr: 0.1\n"), Root,
                      ["train.lr=1e-4", "seed=9"])
    assert cfg.train.lr == pytest.approx(1e-4) and cfg.seed == 9


def test_apply_overrides_does_not_mutate():
    data = {"train": {"lr": 1.0}}
    out = apply_overrides(data, ["train.lr=2"])
    assert data["train"]["lr"] == 1.0 and out["train"]["lr"] == 2


def test_override_into_value_is_error():
    with pytest.raises(ConfigError, match=r"\[seed\] is a value"):
        apply_overrides({"seed": 1}, ["seed.x=2"])


def test_error_names_section_and_key(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(_write(tmp_path, "train:\n  lr: -1\n  epochz: 3\n"), Root)
    msg = str(exc.value)
    assert "[train -> lr]" in msg and "greater than 0" in msg
    assert "[train -> epochz] unknown key" in msg
    assert isinstance(exc.value, InputError) and exc.value.exit_code == 2


def test_bad_override_type(tmp_path):
    with pytest.raises(ConfigError, match=r"\[train -> epochs\].*found 'many'"):
        load_config(None, Root, ["train.epochs=many"])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("train: [1, 2\n", "not valid YAML at line"),
        ("- a\n- b\n", "expected a mapping"),
        ("!!python/object:os.system {}\n", "not valid YAML"),  # safe_load refuses tags
    ],
)
def test_bad_yaml(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_yaml(_write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "nope.yaml")


def test_empty_file_is_defaults(tmp_path):
    assert load_config(_write(tmp_path, ""), Root) == Root()
