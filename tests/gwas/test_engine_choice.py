"""Which GWAS engine runs (issue 30, item 5): one default, ``auto``, in the config, the
command's help, the study and the README; the run says which engine and why."""

from __future__ import annotations

import pytest

from gwas.config import GwasConfig, resolve_engine, with_engine


def _cfg(**kw) -> GwasConfig:
    return GwasConfig.model_validate(kw)


def present(name):
    return f"/usr/bin/{name}"


def absent(name):
    return None


@pytest.mark.parametrize(("kw", "which", "engine", "why"), [
    ({}, present, "plink2", "one machine and plink2 on PATH"),
    ({}, absent, "hail", "plink2 is not on PATH"),
    ({"hail": {"spark_master": "spark://head:7077"}}, present, "hail", "a Spark cluster"),
    ({"hail": {"spark_master": "local[2]"}}, present, "plink2", "one machine"),
    ({"engine": "hail"}, present, "hail", "chosen"),
    ({"engine": "plink2"}, absent, "plink2", "chosen"),  # exit 3 later, naming apt-get
])
def test_auto_picks_plink2_on_one_machine_and_hail_for_a_cluster(kw, which, engine, why):
    got, reason = resolve_engine(_cfg(**kw), which=which)
    assert got == engine and why in reason


def test_one_default_everywhere(repo_root):
    import yaml

    from pipeline.study import StagesBlock

    assert GwasConfig().engine == "auto"
    shipped = yaml.safe_load((repo_root / "configs/gwas/default.yaml").read_text())
    assert shipped["engine"] == "auto"
    assert StagesBlock.model_fields["gwas_engine"].default == "auto"
    assert with_engine(GwasConfig())[0].engine in ("hail", "plink2")  # never 'auto' in a run
