"""SSL config: presets validate, per-stage batch sizes, guards on the residual space."""

import pytest

from rnce_bag.core.config import load_config
from rnce_bag.core.errors import ConfigError
from rnce_bag.ssl.config import SSLConfig
from rnce_bag.ssl.train import stage_steps


@pytest.mark.parametrize("name", ["tiny", "demo", "paper"])
def test_presets_validate(repo_root, name):
    cfg = load_config(repo_root / "configs" / "ssl" / f"{name}.yaml", SSLConfig)
    assert cfg.encoder.n_layers == 13 and cfg.encoder.out_dim == 64
    assert cfg.aggregator.n_layers == 3 and cfg.aggregator.n_heads == 2


def test_stage_batch_size_overrides_the_data_batch():
    cfg = SSLConfig.model_validate({"data": {"batch_size": 16},
                                    "stage2": {"batch_size": 128}})
    assert cfg.batch_size(1) == 16 and cfg.batch_size(2) == 128
    assert stage_steps(cfg.stage2, 1000, cfg.batch_size(2)) == 7
    assert stage_steps(cfg.stage1, 1000, cfg.batch_size(1)) == 62


def test_aux_dim_must_leave_a_residual_space():
    with pytest.raises(ValueError, match="max_aux_dim"):
        SSLConfig.model_validate({"data": {"batch_size": 32}, "stage1": {"batch_size": 8},
                                  "loss": {"max_aux_dim": 8}})
    with pytest.raises(ConfigError, match="out_dim"):
        load_config(None, SSLConfig, ["encoder.out_dim=65"])


def test_rnce_warns_when_the_batch_leaves_the_terms_vacuous():
    small = SSLConfig.model_validate({"data": {"batch_size": 32},
                                      "encoder": {"out_dim": 64}, "loss": {"max_aux_dim": 16},
                                      "stage2": {"batch_size": 128}})
    w = small.rnce_warnings()
    assert any("stage 1: batch 32 does not exceed" in x for x in w)
    assert any("remove 52%" in x for x in w) and not any("stage 2" in x for x in w)
    assert SSLConfig.model_validate({**small.model_dump(), "method": "simclr"}
                                    ).rnce_warnings() == []


@pytest.mark.parametrize("preset", ["demo", "demo-long", "paper"])
def test_presets_train_rnce_as_specified(repo_root, preset):
    cfg = load_config(repo_root / f"configs/ssl/{preset}.yaml", SSLConfig)
    assert cfg.rnce_warnings() == []
