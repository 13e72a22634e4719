"""The pipeline's pieces: study configs, stage keys, selection, lock."""

from pathlib import Path

import pytest
import yaml

from cli.run_cmd import DEMO_PRESETS
from pipeline.plan import plan
from pipeline.runner import Stage, fingerprint, run_lock, select, stage_key
from pipeline.study import StudyConfig
from rnce_bag.core.errors import InputError
from rnce_bag.stages import FeaturesParams


def _demo_study(name):
    from rnce_bag.core.presets import load_preset

    return load_preset("study", name)


@pytest.mark.parametrize("name", DEMO_PRESETS)
def test_demo_presets_are_the_shipped_study_files(repo_root, name):
    """One copy: the demo runs configs/study/<name>.yaml, whose training config resolves
    to the shipped configs/ssl/ from any folder."""
    from rnce_bag.core.presets import preset_path

    study = StudyConfig.model_validate(_demo_study(name))
    assert preset_path("study", name).resolve() == (repo_root / "configs" / "study" /
                                                    f"{name}.yaml").resolve()
    stages = {s.name: s for s in plan(study, Path("/"), Path("/tmp/run"))}
    cfg = stages["train_rnce"].params.config
    assert cfg.is_file() and cfg.resolve() == (repo_root / study.stages.train.config).resolve()


def test_real_data_template_validates(repo_root):
    StudyConfig.model_validate(yaml.safe_load(
        (repo_root / "configs" / "study" / "template.yaml").read_text()))


def test_study_needs_one_genotype_source():
    with pytest.raises(ValueError, match="exactly one of"):
        StudyConfig.model_validate({"cohort": {"manifest": "m.tsv"}})
    with pytest.raises(ValueError, match="unknown stage"):
        StudyConfig.model_validate({"simulate": {}, "skip": ["nope"]})


def test_stage_key_follows_inputs_params_deps_and_code(tmp_path):
    f = tmp_path / "x.tsv"
    f.write_text("a\n")
    params = FeaturesParams(out=tmp_path / "a", manifest=f)
    st = Stage("s", "features", params, [f])
    k = stage_key(st, ["d"], "c1")
    assert k == stage_key(st, ["d"], "c1")
    assert k != stage_key(st, ["d2"], "c1") and k != stage_key(st, ["d"], "c2")
    # the output folder is not part of the key (the partial folder replaces it)
    moved = Stage("s", "features", params.model_copy(update={"out": tmp_path / "b"}), [f])
    assert stage_key(moved, ["d"], "c1") == k
    other = Stage("s", "features", params.model_copy(update={"icv_normalise": True}), [f])
    assert stage_key(other, ["d"], "c1") != k
    f.write_text("b\n")
    assert stage_key(st, ["d"], "c1") != k
    assert fingerprint(tmp_path / "missing") == "missing"


def test_plan_order_and_selection(tmp_path):
    study = StudyConfig.model_validate(_demo_study("tiny"))
    stages = plan(study, Path.cwd(), tmp_path)
    names = [s.name for s in stages]
    assert names[:3] == ["simulate", "features", "train_rnce"] and names[-1] == "report"
    assert select(stages, "train") == {"train_rnce", "train_simclr", "train_barlow"}
    assert select(stages, "rg") == {"rg_fs_rnce", "rg_fs_simclr", "rg_fs_barlow",
                                    "rg_fs_fs_rnce"}  # the study's, not the oracle's
    # the oracle: ordinary stages, selected together by their group or one by name
    oracle = [s.name for s in stages if s.group == "oracle"]
    assert select(stages, "oracle") == set(oracle) and len(oracle) == 8
    assert select(stages, "oracle_h2") == {"oracle_h2"}
    assert oracle[0] == "oracle_features" and oracle[-1] == "oracle" \
        and names.index("oracle") < names.index("report")
    h2 = next(s for s in stages if s.name == "oracle_h2")
    assert h2.params.grm == str(tmp_path / "h2" / "grm") and "h2" in h2.deps  # study's GRM
    ba = next(s for s in stages if s.name == "brain_age").params.features
    assert "FS_RNCE=FS+RNCE" in ba  # the combined row, its own BAG
    with pytest.raises(InputError, match="no stage called"):
        select(stages, "trian")
    skipped = plan(StudyConfig.model_validate({**_demo_study("tiny"),
                                               "skip": ["train", "probe"]}), Path.cwd(),
                   tmp_path)
    assert not any(s.kind in ("train", "embed", "probe") for s in skipped)


def test_lock_excludes_a_second_run(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(InputError, match="another run"):
            with run_lock(tmp_path):
                pass
    with run_lock(tmp_path):  # released
        pass


def test_plan_passes_cohort_filters_to_the_genetic_stages(tmp_path):
    for name in ("keep.txt", "drop.txt", "snps.txt"):
        (tmp_path / name).write_text("x\n")
    # a list option takes one file or several (their union, as PLINK 2 reads them)
    study = StudyConfig.model_validate({
        "cohort": {"manifest": "m.tsv", "bfile": "g", "keep": "keep.txt",
                   "remove": ["drop.txt", "snps.txt"], "extract": "snps.txt",
                   "chr": "1-22"}})
    stages = {s.name: s for s in plan(study, tmp_path, tmp_path / "run")}
    want = {"keep": [tmp_path / "keep.txt"],
            "remove": [tmp_path / "drop.txt", tmp_path / "snps.txt"],
            "extract": [tmp_path / "snps.txt"], "exclude": None, "chr": "1-22"}
    for name in ("gwas", "h2"):
        params = stages[name].params
        assert {k: getattr(params, k) for k in want} == want, name
        assert tmp_path / "keep.txt" in stages[name].inputs  # a changed list reruns
    rg = stages["rg_fs_rnce"].params  # the h2 GRM already holds the filtered samples/variants
    assert rg.grm == str(tmp_path / "run" / "h2" / "grm") and rg.bfile is None
    assert rg.keep is None and rg.extract is None
    oracle = [s for s in stages if s.startswith("oracle")]
    assert oracle == []  # oracle rows only for simulated cohorts
