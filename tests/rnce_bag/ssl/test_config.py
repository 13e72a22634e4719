"""SSL config: presets validate, per-stage batch sizes, guards on the residual space."""

import numpy as np
import pytest

from rnce_bag.core.config import load_config
from rnce_bag.core.errors import ConfigError
from rnce_bag.core.schema import read_table
from rnce_bag.imaging.dataset import FeatureScaler
from rnce_bag.imaging.patches import load_layout
from rnce_bag.ssl.config import SSLConfig
from rnce_bag.ssl.train import fit_aux, stage_steps


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
    cfg = SSLConfig.model_validate({"data": {"batch_size": 32}, "encoder": {"out_dim": 64},
                                    "stage2": {"batch_size": 256}})
    assert cfg.rnce_warnings() == []  # no cap and nothing fitted: nothing known yet
    w = cfg.rnce_warnings({1: 16, 2: 125})
    assert any("stage 1: batch 32 does not exceed the representation size + auxiliary "
               "dimensions (64 + 16)" in x for x in w)
    assert not any("stage 2" in x for x in w)  # 256 > 64 + 125
    assert any("stage 2" in x for x in cfg.rnce_warnings({1: 16, 2: 200}))
    capped = SSLConfig.model_validate({**cfg.model_dump(), "loss": {"max_aux_dim": 16}})
    assert any("stage 1" in x for x in capped.rnce_warnings())
    assert SSLConfig.model_validate({**cfg.model_dump(), "method": "simclr"}
                                    ).rnce_warnings({1: 16, 2: 125}) == []


def test_fitted_sets_that_fill_the_batch_are_refused():
    cfg = SSLConfig.model_validate({"data": {"batch_size": 32}, "stage2": {"batch_size": 256}})
    assert cfg.aux_problem({1: 30, 2: 125}) is None
    assert "stage 1: 31 auxiliary dimensions" in cfg.aux_problem({1: 31, 2: 125})
    assert "stage 2" in cfg.aux_problem({1: 8, 2: 255})


@pytest.mark.parametrize("preset", ["demo", "demo-long", "paper"])
def test_presets_train_rnce_as_specified(repo_root, preset, tiny_features):
    """Each preset's batches exceed representation + auxiliary dimensions as fitted on a
    simulated cohort's FreeSurfer features (the real 266 columns, the real patch layout)."""
    cfg = load_config(repo_root / f"configs/ssl/{preset}.yaml", SSLConfig)
    table = read_table(tiny_features, "freesurfer_features")
    names = [c for c in table.columns if c != "IID"]
    x = table[names].to_numpy(dtype=np.float64)
    aux = fit_aux(cfg, FeatureScaler.fit(x).transform(x), names,
                  load_layout(cfg.data.patch_layout))
    dims = aux.stage_dims()
    assert dims[2] > 16  # the image-level set is not cut to a fixed handful of components
    assert cfg.rnce_warnings(dims) == [] and cfg.aux_problem(dims) is None
