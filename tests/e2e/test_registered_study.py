"""A study whose T1s are native-space images: the register stage runs first and every
imaging stage reads its manifest, through to the report (about 6 minutes: extended)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from cli.main import app
from rnce_bag.core.presets import load_preset


@pytest.mark.extended
def test_tiny_study_from_native_images(tmp_path, runner):
    pytest.importorskip("ants", reason="needs antspyx: make setup installs it")
    study = load_preset("study", "tiny")
    study["name"] = "tiny-registered"
    study["simulate"]["set"] = ["images.native.write=true"]
    study["stages"]["registration"] = {"transform": "affine-quick", "spacing": 4, "jobs": 2}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    res = runner.invoke(app, ["run", str(tmp_path / "study.yaml"), "--out",
                              str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    run = tmp_path / "run"
    qc = pd.read_csv(run / "register" / "registration_qc.tsv", sep="\t")
    assert qc["status"].str.startswith("ok").all() and (qc["mask_dice"] > 0.9).all()
    embedded = pd.read_parquet(run / "embed_rnce" / "embeddings.parquet")
    assert set(embedded["IID"]) == set(qc["IID"])
    assert "Registration to MNI152" in (run / "report" / "index.html").read_text()
