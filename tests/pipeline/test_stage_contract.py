"""The stage contract: typed params, one registry of stages and of outputs, a command
that is only a mapping of flags onto params, a plan that takes every upstream path from
the upstream stage's declared outputs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import app
from gwas.stages import GWAS, H2
from pipeline.plan import plan
from pipeline.registry import OUTPUTS, STAGES, stage
from pipeline.study import STAGE_ORDER, StudyConfig
from rnce_bag.core.errors import InputError, SchemaError
from rnce_bag.core.outputs import output_path, read_output
from rnce_bag.core.schema import SCHEMAS
from rnce_bag.core.stage import StageParams, make_params, write_params


def test_every_stage_kind_has_a_params_model_and_a_function():
    assert set(STAGES) - set(STAGE_ORDER) == {"compare", "manifest"}  # commands, not steps
    for kind in STAGES:
        model, function = stage(kind)
        assert issubclass(model, StageParams) and "out" in model.model_fields
        assert callable(function)
        assert kind in OUTPUTS, kind
    with pytest.raises(InputError, match="unknown stage kind"):
        stage("nope")


def test_every_output_schema_is_registered():
    for kind, outputs in OUTPUTS.items():
        for name, spec in outputs.items():
            assert spec.schema is None or spec.schema in SCHEMAS, (kind, name)
    assert output_path(GWAS, "sumstats", "/r/gwas", phenotype="BAG_FS") == \
        Path("/r/gwas/BAG_FS.tsv.gz")
    with pytest.raises(KeyError, match="per phenotype"):
        output_path(GWAS, "sumstats", "/r/gwas")


def test_read_output_names_file_column_and_row(tmp_path):
    (tmp_path / "summary.tsv").write_text(
        "phenotype\tn_samples\tn_variants\tlambda_gc\tmean_chi2\tn_genome_wide\tmin_p\n"
        "BAG_FS\t300\t2000\t1.01\t1.02\t0\t1e-4\n"
        "BAG_RNCE\t300\tmany\t1.0\t1.0\t0\t0.5\n")
    with pytest.raises(SchemaError, match=r"summary\.tsv.*line 3.*n_variants.*'many'"):
        read_output(GWAS, "summary", tmp_path)
    (tmp_path / "loci.tsv").write_text(
        "phenotype\tlocus_id\tlead_variant\tchromosome\tposition\tp_value\tgenes\n")
    assert len(read_output(GWAS, "loci", tmp_path)) == 0  # no loci is a valid result


def test_read_output_types_undeclared_columns_as_pandas_would(tmp_path):
    (tmp_path / "heritability.tsv").write_text(
        "phenotype\tmethod\tbackend\th2\th2_se\tn\tpval\tLRT\tconverged\tstatus\n"
        "BAG_FS\tgreml\tembedded\t0.4\t0.06\t300\t1e-5\t19.5\tTrue\tok\n"
        "BAG_X\tgreml\tembedded\tNA\tNA\tNA\tNA\tNA\tFalse\tfailed: too few\n")
    h = read_output(H2, "heritability", tmp_path)
    assert h["LRT"].dtype.kind == "f" and h["LRT"].isna().tolist() == [False, True]
    assert h["converged"].tolist() == [True, False]
    assert int(h["n"].max()) == 300 and h["status"].iloc[1] == "failed: too few"


def test_make_params_names_the_option():
    from gwas.stages import H2Params

    with pytest.raises(InputError, match=r"--grm-cutoff: .*less than or equal to 1"):
        make_params(H2Params, out=Path("o"), grm_cutoff=2)
    with pytest.raises(InputError, match="--method"):
        make_params(H2Params, out=Path("o"), method="haseman")


def test_params_file_runs_the_stage_and_bad_documents_exit_2(runner, tmp_path):
    res = runner.invoke(app, ["stage", "--params", str(tmp_path / "missing.json")])
    assert res.exit_code == 2 and "not a stage params document" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "h2", "params": {"out": "o", "grm_cutoff": "high"}}))
    res = runner.invoke(app, ["stage", "--params", str(bad)])
    assert res.exit_code == 2 and "grm_cutoff" in res.output


def _paths_in(params: StageParams) -> list[str]:
    vals = []
    for name, value in params.model_dump(mode="json").items():
        if name == "out":
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str):
                vals.append(v.split("=", 1)[1] if "=" in v else v)
    return vals


@pytest.mark.parametrize("preset,registration", [("tiny", None), ("demo", None),
                                                  ("tiny", {"transform": "affine"})])
def test_plan_takes_upstream_paths_from_declared_outputs(preset, registration, tmp_path):
    """Every path a stage reads inside the run folder is a declared output (or the
    folder) of a stage it depends on: a renamed output cannot break a study silently.
    With a registration block, register runs first and every imaging stage reads its
    manifest."""
    from rnce_bag.core.presets import load_preset

    root = tmp_path / "run"
    study = load_preset("study", preset)
    if registration is not None:
        study["stages"]["registration"] = registration
    stages = plan(StudyConfig.model_validate(study), Path.cwd(), root)
    by_name = {s.name: s for s in stages}
    if registration is not None:
        assert [s.name for s in stages][:3] == ["simulate", "register", "features"]
        registered = str(root / "register" / "manifest.tsv")
        assert str(by_name["features"].params.manifest) == registered
        assert str(by_name["train_rnce"].params.manifest) == registered
        assert "register" in by_name["features"].deps
    declared: dict[str, set[str]] = {}
    for s in stages:
        folder = root / s.name
        names = {str(folder)}
        for name, spec in OUTPUTS[s.kind].items():
            if "{phenotype}" in spec.file:
                names |= {str(folder / spec.file.format(phenotype=f"BAG_{r}"))
                          for r in ("FS", "RNCE", "SIMCLR", "BARLOW", "FS_RNCE")}
            else:
                names.add(str(output_path(STAGES[s.kind], name, folder)))
        declared[s.name] = names
    checked = 0
    for s in stages:
        upstream = set().union(*(declared[d] for d in _closure(s.name, by_name)))
        for value in _paths_in(s.params):
            if value.startswith(str(root)) and not value.startswith(str(root / "cache")) \
                    and value != str(root):
                assert value in upstream, (s.name, value)
                checked += 1
    assert checked > 20


def _closure(name, by_name):
    seen, todo = set(), list(by_name[name].deps)
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo += by_name[d].deps
    return seen


@pytest.mark.external
def test_stage_params_equal_the_command(complete_sim, tmp_path, runner):
    """The command is a mapping of flags onto params: `rnce-bag gwas FLAGS` and the same
    params given as JSON to `python -m cli stage` (the pipeline's way) write the same
    summary statistics, loci and covariates."""
    from gwas.stages import GwasParams

    res = runner.invoke(app, ["gwas", "--bfile", str(complete_sim / "genotypes/cohort"),
                              "--pheno", str(complete_sim / "pheno.tsv"), "--pheno-name",
                              "LATENT", "--covar", str(complete_sim / "covar.tsv"),
                              "--engine", "plink2", "--set", "pca.n_pcs=3", "--out",
                              str(tmp_path / "cmd")])
    assert res.exit_code == 0, res.output
    params = GwasParams(out=tmp_path / "json", bfile=str(complete_sim / "genotypes/cohort"),
                        pheno=complete_sim / "pheno.tsv", pheno_name=["LATENT"],
                        covar=complete_sim / "covar.tsv",
                        overrides=["pca.n_pcs=3", "engine=plink2"])
    doc = write_params(tmp_path / "gwas.json", "gwas", params)
    proc = subprocess.run([sys.executable, "-m", "cli", "stage", "--params", str(doc)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lead loci" in proc.stdout  # the same summary lines as the command
    for name in ("LATENT.tsv.gz", "loci.tsv", "covariates.tsv", "summary.tsv"):
        assert (tmp_path / "cmd" / name).read_bytes() == (tmp_path / "json" / name
                                                          ).read_bytes(), name
