import pandas as pd
import pytest

from gwas.heritability.gcta import parse_log, reml_command, write_gcta_inputs
from gwas.heritability.greml import GremlResult
from gwas.heritability.hsq import format_hsq, h2_from_hsq, parse_hsq, read_hsq, rg_from_hsq
from rnce_bag.core.errors import InputError

BIVAR = """Source\tVariance\tSE
V(G)_tr1\t0.479\t0.041
V(G)_tr2\t0.392\t0.040
C(G)_tr12\t0.380\t0.034
V(e)_tr1\t0.521\t0.038
V(e)_tr2\t0.608\t0.039
C(e)_tr12\t0.101\t0.030
Vp_tr1\t1.000\t0.016
Vp_tr2\t1.000\t0.016
V(G)/Vp_tr1\t0.479\t0.040
V(G)/Vp_tr2\t0.392\t0.040
rG\t0.877\t0.035
logL\t-4630.120
n\t5000
"""
PREVALENCE = """Source\tVariance\tSE
V(G)\t0.069\t0.012
V(e)\t0.180\t0.012
Vp\t0.249\t0.005
V(G)/Vp\t0.277\t0.048
V(G)/Vp_L\t0.463\t0.080
logL\t1234.567
logL0\t1210.001
LRT\t49.132
df\t1
Pval\t1.2e-12
n\t4000
"""
NO_LRT = "Source\tVariance\tSE\nV(G)\t0.4\t0.1\nV(e)\t0.6\t0.1\nVp\t1.0\t0.02\n" \
         "V(G)/Vp\t0.4\t0.1\nlogL\t-10.5\nn\t100\n"


def test_real_gcta_fixture(shared_dir):
    p = read_hsq(shared_dir / "fixtures/gcta/subset.hsq")
    t = h2_from_hsq(p)
    assert t["h2"] == 0.000001 and t["h2_se"] == 0.051529 and t["n"] == 500
    assert t["logL"] == -250.361 and t["logL0"] == -250.356 and t["pval"] == 0.5
    assert p["components"]["V(e)"] == (0.984988, 0.077204)


def test_bivariate_prevalence_and_no_lrt():
    rg = rg_from_hsq(parse_hsq(BIVAR))
    assert rg["rg"] == 0.877 and rg["rg_se"] == 0.035 and rg["h2_1"] == 0.479
    liab = h2_from_hsq(parse_hsq(PREVALENCE))
    assert liab["h2"] == 0.463 and liab["scale"] == "liability" and liab["LRT"] == 49.132
    t = h2_from_hsq(parse_hsq(NO_LRT))
    assert t["h2"] == 0.4 and t["logL0"] is None and t["pval"] is None
    with pytest.raises(InputError, match="no rG"):
        rg_from_hsq(parse_hsq(NO_LRT))


def test_write_is_gcta_layout_and_roundtrips(shared_dir):
    r = GremlResult(vg=1e-6, ve=0.984988, vg_se=0.050756, ve_se=0.077204, vp=0.984989,
                    vp_se=0.062368, h2=1e-6, h2_se=0.051529, logl=-250.361, logl0=-250.356,
                    lrt=0.0, pval=0.5, n=500, iterations=5, converged=True, constrained=True)
    text = format_hsq(r)
    assert text == (shared_dir / "fixtures/gcta/subset.hsq").read_text()  # byte for byte
    assert h2_from_hsq(parse_hsq(text))["h2_se"] == 0.051529


@pytest.mark.parametrize(("text", "match"), [("foo\n", "not a GCTA .hsq"),
                                             ("Source\tVariance\tSE\nV(G)\tx\t1\n", "line 2")])
def test_bad_hsq(text, match):
    with pytest.raises(InputError, match=match):
        parse_hsq(text)


def test_command_and_inputs(tmp_path):
    ph = pd.DataFrame({"FID": ["f1", "f2"], "IID": ["s1", "s2"], "y": [1.5, None]})
    qc = pd.DataFrame({"FID": ["f1", "f2"], "IID": ["s1", "s2"], "age": [50.0, 60.0]})
    files = write_gcta_inputs(tmp_path, ph, qc, None)
    assert (tmp_path / "gcta.phen").read_text() == "f1\ts1\t1.5\nf2\ts2\tNA\n"
    cmd = reml_command("gcta64", "grm", files, "out/BAG", mpheno=2, threads=4)
    assert cmd == ["gcta64", "--grm", "grm", "--pheno", str(files["phen"]), "--reml",
                   "--mpheno", "2", "--qcovar", str(files["qcovar"]), "--thread-num", "4",
                   "--out", "out/BAG"]
    biv = reml_command("gcta64", "grm", files, "o", bivar=(1, 2), prevalence=0.1)
    assert biv[5:8] == ["--reml-bivar", "1", "2"] and "--prevalence" in biv
    log = tmp_path / "x.log"
    log.write_text("Iteration 1, logL = -3\nIteration 2, logL = -2\nLog-likelihood ratio "
                   "converged.\nSummary result of REML analysis:\n")
    assert parse_log(log) == {"errors": [], "iterations": 2, "converged": True,
                              "constrained": False}
