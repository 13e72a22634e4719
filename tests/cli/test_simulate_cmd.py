import pandas as pd
import pytest

from cli.main import app
from rnce_bag.core.config import dump_config, load_config
from rnce_bag.simulate.config import SimulateConfig, preset_config, preset_names


def test_simulate_small_no_images(runner, tmp_path):
    out = tmp_path / "sim"
    res = runner.invoke(app, ["simulate", "--out", str(out), "--n-subjects", "40",
                              "--n-variants", "1200", "--no-images", "--seed", "3",
                              "--set", "genetics.n_causal=20"])
    assert res.exit_code == 0, res.output
    assert "simulated 40 subjects x 1200 variants" in res.output
    cohort = pd.read_csv(out / "cohort.tsv", sep="\t")
    assert len(cohort) == 40 and cohort["t1_path"].isna().all()
    assert not (out / "images").exists()
    assert sum(1 for _ in open(out / "genotypes/cohort.bim")) == 1200


@pytest.mark.parametrize(("args", "text"), [
    (["--n-subjects", "10"], "[cohort -> n_subjects]"),
    (["--preset", "huge"], "unknown preset 'huge'"),
    (["--n-variants", "50"], "n_variants"),
    (["--set", "genetics.h2=1.5"], "[genetics -> h2]"),
])
def test_bad_arguments_exit_2(runner, tmp_path, args, text):
    out = tmp_path / "sim"
    res = runner.invoke(app, ["simulate", "--out", str(out), *args])
    assert res.exit_code == 2 and text in res.output, res.output
    assert not out.exists()


def test_unwritable_out_exit_2(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(app, ["simulate", "--out", str(blocker / "sim"), "--no-images"])
    assert res.exit_code == 2 and "cannot create output directory" in res.output


def test_non_empty_out_exit_2(runner, tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--no-images"])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (tmp_path / "keep.txt").exists()


def test_config_file(runner, tmp_path, repo_root):
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path / "s"), "--config",
                              str(repo_root / "configs/simulate/tiny.yaml"), "--n-subjects",
                              "30", "--no-images", "--set", "genetics.n_causal=10"])
    assert res.exit_code == 0, res.output


def test_presets_are_the_shipped_yaml_files(repo_root):
    """One copy: configs/ (the repository's link) is the package's configs/simulate/."""
    from rnce_bag.core.presets import configs_root

    assert preset_names() == ["demo", "demo-control", "large", "tiny"]
    assert (repo_root / "configs").resolve() == configs_root().resolve()
    for name in preset_names():
        assert preset_config(name).preset == name
        from_file = load_config(repo_root / f"configs/simulate/{name}.yaml", SimulateConfig)
        assert dump_config(from_file) == dump_config(preset_config(name))
