"""``rnce-bag train`` / ``rnce-bag embed`` through the CLI on the tiny cohort."""

import json

import pytest

from cli.main import app
from rnce_bag.core.schema import read_table

pytestmark = pytest.mark.slow

SMALL = ["--set", "encoder.width=2", "--set", "encoder.max_width=4", "--set",
         "stage1.max_steps=2", "--set", "stage2.max_steps=2", "--set", "data.spacing_mm=8",
         "--set", "threads=1"]


def _train(runner, tiny_sim, tiny_features, out, *extra):
    return runner.invoke(app, ["train", "--manifest", str(tiny_sim / "cohort.tsv"),
                               "--features", str(tiny_features), "--out", str(out),
                               "--config", "configs/ssl/tiny.yaml", *SMALL, *extra])


def test_train_embed_then_brain_age(runner, tiny_sim, tiny_features, tmp_path, repo_root,
                                    monkeypatch):
    monkeypatch.chdir(repo_root)
    run = tmp_path / "run"
    res = _train(runner, tiny_sim, tiny_features, run)
    assert res.exit_code == 0, res.output
    assert "2 + 2 steps" in res.output
    assert (run / "model.pt").exists() and (run / "config.yaml").exists()
    assert json.loads((run / "run.json").read_text())["status"] == "ok"

    again = _train(runner, tiny_sim, tiny_features, run)
    assert again.exit_code == 2 and "--resume" in again.output

    emb = tmp_path / "emb"
    res = runner.invoke(app, ["embed", "--run", str(run), "--manifest",
                              str(tiny_sim / "cohort.tsv"), "--out", str(emb)])
    assert res.exit_code == 0, res.output
    assert read_table(emb / "embeddings.parquet", "embeddings").shape == (200, 65)

    res = runner.invoke(app, ["brain-age", "--manifest", str(tiny_sim / "cohort.tsv"),
                              "--features", f"RNCE={emb / 'embeddings.parquet'}", "--out",
                              str(tmp_path / "ba"), "--set", "min_train_subjects=20"])
    assert res.exit_code == 0, res.output
    assert "bag_rnce" in read_table(tmp_path / "ba" / "bag.tsv", "brain_age").columns


def test_bad_method_and_config(runner, tiny_sim, tiny_features, tmp_path, repo_root,
                               monkeypatch):
    monkeypatch.chdir(repo_root)
    res = _train(runner, tiny_sim, tiny_features, tmp_path / "a", "--method", "byol")
    assert res.exit_code == 2 and "rnce, simclr or barlow" in res.output
    res = _train(runner, tiny_sim, tiny_features, tmp_path / "b", "--set", "loss.max_aux_dim=40")
    assert res.exit_code == 2 and "max_aux_dim" in res.output
    # without a cap, the 95%-variance sets of the widest patch fill a batch of 16: refused
    # once fitted, with the file and the settings that fix it
    res = _train(runner, tiny_sim, tiny_features, tmp_path / "c", "--set", "loss.max_aux_dim=null")
    assert res.exit_code == 2, res.output
    assert "span the whole centred batch of 16" in res.output and "aux_variance" in res.output
    res = runner.invoke(app, ["embed", "--run", str(tmp_path / "nothing"), "--manifest",
                              str(tiny_sim / "cohort.tsv"), "--out", str(tmp_path / "e")])
    assert res.exit_code == 2 and "checkpoint not found" in res.output


def test_scanner_model_through_the_cli(runner, tiny_sim, tiny_features, tmp_path, repo_root,
                                       monkeypatch):
    """A config naming a scanner model trains with the derived ranges (printed); naming it
    beside explicit ranges is exit 2, saying which fields to remove."""
    import re

    monkeypatch.chdir(repo_root)
    res = _train(runner, tiny_sim, tiny_features, tmp_path / "a", "--set",
                 "augment.scanner=wide")
    assert res.exit_code == 2, res.output
    assert "remove augment.bias_field" in " ".join(res.output.split())
    text = (repo_root / "configs/ssl/tiny.yaml").read_text()
    config = tmp_path / "scanner.yaml"
    config.write_text(re.sub(r"(?ms)^augment:.*?(?=^stage1:)", "augment:\n  scanner: typical\n",
                             text))
    res = runner.invoke(app, ["train", "--manifest", str(tiny_sim / "cohort.tsv"),
                              "--features", str(tiny_features), "--out", str(tmp_path / "b"),
                              "--config", str(config), *SMALL])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "augmentations from the 'typical' scanner model at 8 mm" in out
    assert "translate_vox 0.25" in out and "noise 0.03" in out  # 2 mm / 8 mm; native SD
