"""The report in a real browser (headless Chromium): every figure loads, nothing errors
on the console, nothing is requested from the network, a hostile phenotype name is shown
as text and never run, and the tables hold the rows the run wrote."""

import numpy as np
import pandas as pd
import pytest

from cli.main import app
from tests.browser import browser_missing, visit

EVIL = "<script>alert(1)</script>"

pytestmark = [pytest.mark.external,
              pytest.mark.skipif(browser_missing() is not None,
                                 reason=browser_missing() or "")]


@pytest.fixture(scope="module")
def report_page(complete_sim, tmp_path_factory):
    """GWAS (with loci and regional plots) and h2 of three phenotypes, one named EVIL."""
    from typer.testing import CliRunner

    runner = CliRunner()
    run = tmp_path_factory.mktemp("browser") / "run"
    run.mkdir()
    lat = pd.read_csv(complete_sim / "truth/latent.tsv", sep="\t")
    rng = np.random.default_rng(3)
    pheno = run / "pheno.tsv"
    pd.DataFrame({"IID": lat["IID"], "BAG_FS": lat["latent_factor"] + rng.normal(0, .5, 300),
                  "BAG_RNCE": lat["latent_factor"] + rng.normal(0, .4, 300),
                  EVIL: rng.normal(size=300)}).to_csv(pheno, sep="\t", index=False)
    bfile = str(complete_sim / "genotypes/cohort")
    for args in (["gwas", "--bfile", bfile, "--pheno", str(pheno), "--engine", "plink2",
                  "--set", "pca.n_pcs=2", "--set", "genome_wide_p=1e-4", "--out",
                  str(run / "gwas")],
                 ["h2", "--bfile", bfile, "--pheno", str(pheno), "--grm-cutoff", "0",
                  "--out", str(run / "h2")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", "--run", str(run)])
    assert res.exit_code == 0, res.output
    return run / "report" / "index.html"


def test_report_in_headless_chromium(report_page, tmp_path):
    seen = visit(report_page, screenshot=tmp_path / "page.png")
    assert seen.alert is None  # the hostile name never ran
    assert len(seen.images) >= 8
    assert all(i["complete"] and i["naturalWidth"] > 0 for i in seen.images), \
        [i for i in seen.images if not i["naturalWidth"]]
    assert any("regional_" in i["src"] for i in seen.images)  # a regional plot per locus
    # one scale: every figure shown at 96 px per inch of its 200-dpi PNG (fonts alike),
    # unless the page is narrower than the figure
    scale = [i["shown"] / i["naturalWidth"] for i in seen.images if i["shown"] < 1100]
    assert scale and all(abs(x - 96 / 200) < 0.01 for x in scale), scale
    errors = [c for c in seen.console if c["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    assert seen.requests and all(u.startswith("file://") for u in seen.requests), \
        [u for u in seen.requests if not u.startswith("file://")]
    assert EVIL in seen.text  # shown as text
    summary = next(t for t in seen.tables if t[0][:2] == ["phenotype", "samples"])
    assert sorted(r[0] for r in summary[1:]) == sorted(["BAG_FS", "BAG_RNCE", EVIL])
    h2 = next(t for t in seen.tables if t[0][:3] == ["phenotype", "method", "backend"])
    assert len(h2) == 4 and {r[1] for r in h2[1:]} == {"greml"}
    assert (tmp_path / "page.png").stat().st_size > 20_000


def test_tables_fit_a_1400_pixel_window(report_page):
    """Tables people read fit the page without horizontal scrolling at 1,400 px (issue 30:
    labels, not column names, and rounded numbers)."""
    seen = visit(report_page, width=1400)
    assert seen.overflowing == [], seen.overflowing
