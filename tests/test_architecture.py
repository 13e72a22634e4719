"""Layout, import boundaries, lint and configs: the project's own rules, enforced."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_cli_import_is_light():
    code = ("import sys, cli.main; heavy = [m for m in ('torch', 'hail', 'pyspark', "
            "'matplotlib', 'sklearn') if m in sys.modules]; print(heavy); "
            "sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_linter_contracts():
    exe = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_ruff_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "."], capture_output=True,
                          text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_layout():
    for path in ("pyproject.toml", "Makefile", "README.md", ".ci/run", "rnce_bag/core",
                 "gwas", "cli", "configs", "tests", "reports", "benchmarks"):
        assert (REPO / path).exists(), path


def test_every_config_loads():
    from cli.configs import CONFIG_MODELS, model_for
    from rnce_bag.core.config import load_config

    files = sorted((REPO / "configs").rglob("*.yaml"))
    assert files, "configs/ has no YAML"
    for path in files:
        kind, model = model_for(path)
        assert kind in CONFIG_MODELS
        load_config(path, model)


@pytest.mark.parametrize("contract_source", ["gwas", "rnce_bag"])
def test_contract_is_declared(contract_source):
    text = (REPO / "pyproject.toml").read_text()
    assert f'source_modules = ["{contract_source}"]' in text


def test_benchmark_scripts_do_not_shadow_packages():
    # `python benchmarks/X.py` puts benchmarks/ first on sys.path: a gwas.py there would
    # hide the gwas package from the script
    names = {p.stem for p in (REPO / "benchmarks").glob("*.py")}
    assert not names & {"gwas", "cli", "rnce_bag"}


def test_docs_live_in_the_repository():
    """Every relative link of the README and docs/ resolves inside the repository, and
    no text sends the reader to a folder outside it (../shared was never shipped)."""
    import re

    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    assert {p.name for p in pages} >= {"README.md", "ARCHITECTURE.md", "method.md"}
    for page in pages:
        text = page.read_text()
        assert "../shared" not in text, page
        for target in re.findall(r"\]\(([^)#\s]+)\)", text):
            if "://" in target:
                continue
            path = (page.parent / target).resolve()
            assert path.exists() and REPO in path.parents, (page.name, target)
    for source in [*REPO.glob("rnce_bag/**/*.py"), *REPO.glob("gwas/**/*.py")]:
        text = source.read_text()
        assert "../shared" not in text and not re.search(r"(?<!docs/)ARCHITECTURE\.md",
                                                         text), source


def test_thresholds_and_probe_tasks_are_defined_once():
    """The genome-wide and suggestive p and the probe task names each appear as a literal
    in one place of the code (issue 31): setting a run's threshold then moves every line,
    locus and class that uses it."""
    found: dict[object, list[str]] = {5e-8: [], 1e-5: [], "conversion_3y": []}
    for at, value in _literals():  # the simulator's own constants are not thresholds
        if type(value) in (float, str) and value in found:
            found[value].append(at)

    def files(key):
        return [f.split(":")[0] for f in found[key]]

    assert files(5e-8) == ["gwas/config.py"], found[5e-8]
    assert [f for f in files(1e-5) if f.startswith("gwas/")] == ["gwas/config.py"], found[1e-5]
    assert set(files("conversion_3y")) == {"rnce_bag/probes.py"}, found["conversion_3y"]


def _literals(packages=("rnce_bag", "gwas", "report", "cli", "pipeline")):
    """(file:line, value) of every constant in the packages' code (the simulator's own
    constants aside)."""
    import ast

    for package in packages:
        for source in sorted((REPO / package).rglob("*.py")):
            if "simulate" in source.parts:
                continue
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Constant):
                    yield f"{source.relative_to(REPO)}:{node.lineno}", node.value


def test_methods_are_named_in_their_own_module_only():
    """A method's name is written once, in its module of rnce_bag/ssl/methods (issue 31):
    the configs, the CLI and a study's defaults ask the registry."""
    where = {"simclr": set(), "barlow": set()}
    for at, value in _literals():
        if value in where:
            where[value].add(at.split(":")[0])
    assert where == {"simclr": {"rnce_bag/ssl/methods/simclr.py"},
                     "barlow": {"rnce_bag/ssl/methods/barlow.py"}}


def test_windows_and_brain_age_defaults_are_defined_once():
    """The gene windows (35/10 kb), the clustering gap (1,000 kb), the clumping and regional
    windows (500 kb) and the cross-fitting folds appear as literals only where they are
    defined (issue 31, item 3)."""
    import ast

    def integer_defaults(path, suffix):
        """Integer literals given as the default of a parameter or field named *suffix."""
        tree = ast.parse((REPO / path).read_text())
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.arguments):
                args = node.posonlyargs + node.args
                pairs = list(zip(args[len(args) - len(node.defaults):], node.defaults, strict=True))
                pairs += [(a, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)
                          if d]
                found += [d.value for a, d in pairs if a.arg.endswith(suffix)
                          and isinstance(d, ast.Constant) and type(d.value) is int]
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id.endswith(suffix) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) == "Field" and node.value.args \
                    and isinstance(node.value.args[0], ast.Constant):
                found.append(node.value.args[0].value)
        return found

    for path in ("gwas/enrich_run.py", "gwas/stages.py", "cli/enrich_cmd.py",
                 "gwas/enrichment.py", "gwas/loci.py", "gwas/regions.py",
                 "gwas/locus_plots.py", "gwas/config.py"):
        if path != "gwas/config.py":
            assert not {35, 10, 1000, 500} & set(integer_defaults(path, "_kb")), path
    # in the config only the LD-pruning window of the PCA is a literal (its one place)
    assert integer_defaults("gwas/config.py", "_kb") == [1000]
    assert integer_defaults("rnce_bag/brainage/regressor.py", "_splits") == []
    assert integer_defaults("rnce_bag/brainage/regressor.py", "_repeats") == []


def test_declared_file_names_are_written_once():
    """A declared output's file name is a literal only in its stage's declaration (issue
    31): writers and readers find it through the declaration (``output_path(GWAS, ...)``,
    ``write_output``), so renaming a file is one edit. Work files of an external tool that
    happen to share a name (plink2's own pheno.tsv) and the word ``grm`` are not outputs."""
    from pipeline.registry import OUTPUTS

    files = {o.file for outs in OUTPUTS.values() for o in outs.values()} - {"grm"}
    declarations = {"rnce_bag/stages.py", "gwas/stages.py", "report/stages.py",
                    "pipeline/oracle.py"}
    found = [f"{at} {value}" for at, value in _literals()
             if isinstance(value, str) and value in files
             and at.split(":")[0] not in declarations | {"gwas/engines/plink2.py"}]
    assert found == []


def test_write_output_validates_before_writing(tmp_path):
    import pandas as pd

    from gwas.stages import GWAS
    from rnce_bag.core.errors import SchemaError
    from rnce_bag.core.outputs import write_output

    bad = pd.DataFrame({"phenotype": ["BAG_FS"], "n_samples": ["many"], "n_variants": [10],
                        "lambda_gc": [1.0], "mean_chi2": [1.0], "n_genome_wide": [0],
                        "min_p": [0.5]})
    with pytest.raises(SchemaError, match=r"summary\.tsv.*n_samples"):
        write_output(GWAS, "summary", bad, tmp_path)
    assert not (tmp_path / "summary.tsv").exists()
    good = bad.assign(n_samples=300)
    assert write_output(GWAS, "summary", good, tmp_path) == tmp_path / "summary.tsv"
    with pytest.raises(TypeError, match="declaration"):
        write_output("gwas", "summary", good, tmp_path)
