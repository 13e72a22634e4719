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
    import ast

    found: dict[object, list[str]] = {5e-8: [], 1e-5: [], "conversion_3y": []}
    for package in ("rnce_bag", "gwas", "cli", "pipeline"):
        for source in sorted((REPO / package).rglob("*.py")):
            if "simulate" in source.parts:
                continue  # the simulator's own constants are not thresholds
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Constant) and type(node.value) in (float, str) \
                        and node.value in found:
                    found[node.value].append(f"{source.relative_to(REPO)}:{node.lineno}")
    def files(key):
        return [f.split(":")[0] for f in found[key]]

    assert files(5e-8) == ["gwas/config.py"], found[5e-8]
    assert [f for f in files(1e-5) if f.startswith("gwas/")] == ["gwas/config.py"], found[1e-5]
    assert set(files("conversion_3y")) == {"rnce_bag/probes.py"}, found["conversion_3y"]
