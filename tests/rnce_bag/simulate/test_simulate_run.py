"""The tiny preset against its planted truth. Tolerances are stated per test."""

import hashlib
import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from rnce_bag.core.errors import InputError
from rnce_bag.core.schema import read_table
from rnce_bag.resources import load_gene_table
from rnce_bag.simulate.config import preset_config
from rnce_bag.simulate.run import simulate
from tests.helpers import read_bed


def _bim(d):
    return pd.read_csv(d / "genotypes/cohort.bim", sep="\t", header=None, dtype={0: str},
                       names=["chrom", "id", "cm", "pos", "a1", "a2"])


@pytest.fixture(scope="module")
def geno(tiny_sim):
    n = len(pd.read_csv(tiny_sim / "genotypes/cohort.fam", sep=" ", header=None))
    g = read_bed(tiny_sim / "genotypes/cohort", n).astype(float)
    g[g < 0] = np.nan
    return g


def _standardise(g):
    x = np.where(np.isnan(g), np.nanmean(g, axis=1, keepdims=True), g)
    return (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)


def test_layout_and_manifest(tiny_sim):
    for rel in ("cohort.tsv", "genotypes/cohort.bed", "genotypes/cohort.bim",
                "genotypes/cohort.fam", "truth/truth.json", "truth/causal_variants.tsv",
                "expression/celltype_specificity.tsv", "truth/latent.tsv", "run.json"):
        assert (tiny_sim / rel).is_file(), rel
    cohort = read_table(tiny_sim / "cohort.tsv", "cohort")
    assert len(cohort) == 200
    for iid, t1, fs in zip(cohort["IID"], cohort["t1_path"], cohort["freesurfer_dir"],
                           strict=True):
        assert (tiny_sim / t1).is_file() and t1 == f"images/{iid}.nii.gz"
        for f in ("aseg.stats", "lh.aparc.stats", "rh.aparc.stats"):
            assert (tiny_sim / fs / "stats" / f).is_file()
    assert not list(tiny_sim.parent.glob(".*partial"))
    assert json.loads((tiny_sim / "run.json").read_text())["status"] == "ok"


def test_demography_and_clinical_labels(tiny_sim):
    c = read_table(tiny_sim / "cohort.tsv", "cohort")
    normative = c["amyloid"].isna()
    assert c.loc[normative, "age"].between(45, 85).all()
    assert set(c["diagnosis"]) == {"CN", "MCI", "AD"}
    assert c["site"].nunique() == 4
    clin = c[~normative]
    rate = clin.groupby("diagnosis")["amyloid"].mean()
    assert rate["AD"] > rate["MCI"] > rate["CN"]
    conv = c["conversion_years"].dropna()
    assert (c.loc[c["conversion_years"].notna(), "diagnosis"] == "MCI").all()
    assert (conv <= 2).sum() >= 5  # enough for the tiny probes; rates: the test below
    fu = c.loc[~normative, "followup_years"]
    assert fu.notna().all() and (fu <= 5).all() and c.loc[normative, "followup_years"].isna().all()
    assert (c["clinical"] == (~normative).astype(int)).all()
    lat = pd.read_csv(tiny_sim / "truth/latent.tsv", sep="\t")
    etiv = lat.set_index("IID")["eTIV_true"].reindex(c["IID"]).to_numpy()
    assert etiv[c["sex"].to_numpy() == "M"].mean() > etiv[c["sex"].to_numpy() == "F"].mean() + 1e5


def test_same_seed_same_bytes_other_seed_differs(tiny_sim, tmp_path):
    def digests(d):
        return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(d.rglob("*")) if p.is_file() and p.name != "run.json"}

    again = simulate(preset_config("tiny"), tmp_path / "again")
    assert digests(again) == digests(tiny_sim)
    cfg = preset_config("tiny").model_copy(update={"seed": 1})
    cfg.images.write = False
    other = simulate(cfg, tmp_path / "other")
    assert (other / "genotypes/cohort.bed").read_bytes() != (
        tiny_sim / "genotypes/cohort.bed").read_bytes()


def test_genotypes_are_grch37_with_rsids(tiny_sim):
    bim = _bim(tiny_sim)
    assert len(bim) == 5000 and bim["id"].is_unique and bim["id"].str.match(r"rs\d+$").all()
    assert set(bim["chrom"]) == {str(c) for c in range(1, 23)}
    for _, sub in bim.groupby("chrom"):
        assert sub["pos"].is_monotonic_increasing and sub["pos"].is_unique


def test_missing_calls_about_one_percent(geno):
    # mean missing rate 1% (tolerance 0.7-1.5%), a few variants fail a 98% call rate
    assert 0.007 < np.isnan(geno).mean() < 0.015
    assert 0 < (np.isnan(geno).mean(1) > 0.02).mean() < 0.1


def test_maf_spectrum_skewed_to_rare(geno):
    p = np.nanmean(geno, axis=1) / 2
    counts, _ = np.histogram(np.minimum(p, 1 - p), bins=[0.01, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert np.all(np.diff(counts) < 0), counts


def test_ld_decays_with_distance(tiny_sim, geno):
    bim = _bim(tiny_sim)
    p = np.nanmean(geno, axis=1) / 2
    common = np.minimum(p, 1 - p) >= 0.05
    near, far = [], []
    for _, sub in bim[common].groupby("chrom"):
        x = _standardise(geno[sub.index])
        r2 = (x @ x.T / x.shape[1]) ** 2
        d = np.abs(sub["pos"].to_numpy()[:, None] - sub["pos"].to_numpy()[None, :])
        iu = np.triu_indices(len(sub), 1)
        near.extend(r2[iu][d[iu] < 1e6])
        far.extend(r2[iu][d[iu] > 2e7])
    # measured: ~0.29 within 1 Mb, ~0.02 beyond 20 Mb (the sampling floor is 1/n = 0.005)
    assert np.mean(near) > 5 * np.mean(far)


def test_population_structure_on_pc1(tiny_sim, geno):
    from sklearn.metrics import roc_auc_score

    p = np.nanmean(geno, axis=1) / 2
    x = _standardise(geno[np.minimum(p, 1 - p) >= 0.05])
    u, _, _ = np.linalg.svd(x.T, full_matrices=False)
    lat = pd.read_csv(tiny_sim / "truth/latent.tsv", sep="\t")
    auc = roc_auc_score(lat["population"] == "B", u[:, 0])
    assert max(auc, 1 - auc) > 0.95


def test_causal_variants_and_heritability(tiny_sim, geno):
    truth = json.loads((tiny_sim / "truth/truth.json").read_text())
    # realised h2 is var(g) / var(g + e): 0.4 +/- 0.08 at n = 200
    assert truth["h2_realised"] == pytest.approx(0.4, abs=0.08)
    cv = pd.read_csv(tiny_sim / "truth/causal_variants.tsv", sep="\t", dtype={"chromosome": str})
    assert len(cv) == 50 and cv["rsid"].is_unique
    assert cv["gene"].iloc[0] == "MAPT" and cv["gene"].iloc[1] == "IRAG1"
    mapt = truth["planted_loci"][0]
    assert mapt["gene_start"] <= mapt["position"] <= mapt["gene_stop"] and mapt["maf"] >= 0.05
    genes = load_gene_table("GRCh37").set_index("symbol")
    for _, row in cv.iterrows():
        g = genes.loc[[row["gene"]]]
        assert ((g["chromosome"] == row["chromosome"]) & (g["start"] <= row["position"])
                & (g["stop"] >= row["position"])).any(), row["gene"]
    n_ct = cv["category"].str.startswith("celltype:").sum()
    assert n_ct == round(0.7 * 48)
    # the .bed holds the genotypes the genetic value was built from: corr > 0.97 (the
    # ~1% missing calls are mean-imputed here, which costs ~0.01)
    bim = _bim(tiny_sim).reset_index().set_index("id")
    rows = bim.loc[cv["rsid"], "index"].to_numpy()
    x = geno[rows].T
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    lat = pd.read_csv(tiny_sim / "truth/latent.tsv", sep="\t")
    rebuilt = x @ cv["beta_a1"].to_numpy()
    assert np.corrcoef(rebuilt, lat["genetic_value"])[0, 1] > 0.97


def test_celltype_table_is_fuma_format(tiny_sim):
    t = pd.read_csv(tiny_sim / "expression/celltype_specificity.tsv", sep="\t")
    assert t.columns[0] == "GENE" and t.columns[-1] == "Average"
    assert {"oligodendrocytes", "astrocytes"} <= set(t.columns)
    cells = t.columns[1:-1]
    assert np.allclose(t[cells].mean(axis=1), t["Average"], atol=1e-3)
    cv = pd.read_csv(tiny_sim / "truth/causal_variants.tsv", sep="\t")
    ct = cv[cv["category"] == "celltype:oligodendrocytes"]["gene"]
    sub = t.set_index("GENE").loc[ct]
    assert (sub["oligodendrocytes"] > sub["Average"] + 1).all()


def test_freesurfer_stats_follow_anatomy(tiny_sim, shared_dir):
    from tests.rnce_bag.simulate.test_freesurfer_writer import _header_shape

    c = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    lat = pd.read_csv(tiny_sim / "truth/latent.tsv", sep="\t")
    hippo, vent = [], []
    for iid in c["IID"]:
        text = (tiny_sim / "freesurfer" / iid / "stats/aseg.stats").read_text()
        rows = {ln.split()[4]: float(ln.split()[3]) for ln in text.splitlines()
                if not ln.startswith("#")}
        hippo.append(rows["Left-Hippocampus"] + rows["Right-Hippocampus"])
        vent.append(rows["Left-Lateral-Ventricle"] + rows["Right-Lateral-Ventricle"])
    assert np.corrcoef(hippo, lat["true_brain_age"])[0, 1] < -0.3
    assert np.corrcoef(vent, lat["true_brain_age"])[0, 1] > 0.3
    for name in ("aseg", "lh.aparc", "rh.aparc"):
        ours = (tiny_sim / "freesurfer" / c["IID"][0] / f"stats/{name}.stats").read_text()
        bert = (shared_dir / f"fixtures/freesurfer/bert/stats/{name}.stats").read_text()
        ref_h = [_header_shape(x) for x in bert.splitlines() if x.startswith("#")]
        our_h = [_header_shape(x) for x in ours.splitlines() if x.startswith("#")]
        assert ref_h == our_h


def test_images_have_template_geometry(tiny_sim):
    from nilearn.datasets import load_mni152_template

    ref = load_mni152_template(resolution=4)
    c = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    lat = pd.read_csv(tiny_sim / "truth/latent.tsv", sep="\t")
    img = nib.load(tiny_sim / c["t1_path"][0])
    assert img.shape == ref.shape and np.allclose(img.affine, ref.affine)
    assert img.get_data_dtype() == np.int16 and int(img.header["sform_code"]) == 4
    data = img.get_fdata()
    brain = ref.get_fdata() > 0.5
    # white-matter-like intensities ~1000 x site gain; background is noise only
    assert 400 < np.median(data[brain]) < 1300 and np.median(data[~brain]) < 100
    assert np.isfinite(data).all()
    # the hidden signal darkens white matter: brain intensity falls with it (r < -0.2)
    med = [np.median(nib.load(tiny_sim / p).get_fdata()[brain]) for p in c["t1_path"][:80]]
    assert np.corrcoef(med, lat["hidden_signal"][:80])[0, 1] < -0.2


def test_refuses_non_empty_out(tiny_sim):
    with pytest.raises(InputError, match="not empty"):
        simulate(preset_config("tiny"), tiny_sim)


def test_white_matter_factor_is_heritable_and_correlated(tiny_sim):
    """The hidden channel: Var(g_w) = h2_wm (sample), corr(g, g_w) = rho_wm exactly, the
    image signal is z(wm brain age) and follows age positively; FreeSurfer never sees it."""
    truth = json.loads((tiny_sim / "truth/truth.json").read_text())
    lat = pd.read_csv(tiny_sim / "truth/latent.tsv", sep="\t")
    gw = lat["wm_genetic_value"].to_numpy()
    assert gw.var() == pytest.approx(0.6, rel=1e-4)  # the file holds 6 significant digits
    assert np.corrcoef(gw, lat["genetic_value"])[0, 1] == pytest.approx(0.6, abs=1e-5)
    assert truth["rg_wm_realised"] == pytest.approx(0.6, abs=1e-9)
    np.testing.assert_allclose(lat["wm_factor"], gw + lat["wm_environment"], atol=1e-4)
    h = lat["hidden_signal"].to_numpy()
    assert abs(h.mean()) < 1e-3 and h.std() == pytest.approx(1, abs=1e-3)
    assert np.corrcoef(h, lat["wm_brain_age"])[0, 1] > 0.9999
    assert np.corrcoef(h, lat["age"])[0, 1] > 0.5
    # normative subjects have no white-matter pathology; in patients the image shows the
    # white-matter process and nothing else: amyloid is not drawn into the T1
    cohort = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t").set_index("IID")
    wp = lat.set_index("IID")["wm_pathology"]
    assert (wp[cohort["amyloid"].isna()] == 0).all()
    np.testing.assert_array_equal(wp, lat.set_index("IID")["wm_process"])


def test_disease_model_is_ordered_and_amyloid_is_not_rendered():
    """The calibrated disease model at a size where its shares are stable: stage CN < MCI
    < AD with overlap; amyloid rising with diagnosis and e4; about 27% of MCI converting
    within 2 years (the baseline hazard is solved for it); drop-out censors some; amyloid
    reaches the image only through the stage and the white-matter process (given both,
    amyloid adds nothing to what is rendered)."""
    from rnce_bag.simulate.cohort import disease_summary, simulate_cohort
    from rnce_bag.simulate.config import CohortConfig, DiseaseConfig

    d = DiseaseConfig()
    c = simulate_cohort(CohortConfig(n_subjects=20000, clinical_fraction=1.0), d,
                        np.full(20000, "A"), np.random.default_rng(5))
    s = disease_summary(c)
    stage = {dx: s[dx]["mean_stage"] for dx in ("CN", "MCI", "AD")}
    assert stage["CN"] < stage["MCI"] < stage["AD"]
    mci, ad = c.loc[c["diagnosis"] == "MCI", "severity"], c.loc[c["diagnosis"] == "AD", "severity"]
    assert (mci > ad.quantile(0.25)).mean() > 0.1  # MCI and AD overlap
    amy = {dx: s[dx]["amyloid_positive"] for dx in ("CN", "MCI", "AD")}
    assert 0.2 < amy["CN"] < 0.4 and 0.5 < amy["MCI"] < 0.7 and 0.8 < amy["AD"] < 0.95
    h = c.loc[c["diagnosis"] == "MCI", "conversion_hazard"].to_numpy()
    assert np.mean(1 - np.exp(-2 * h)) == pytest.approx(d.conversion_2y, abs=1e-6)
    # observed among those followed 2 years or converted before drop-out: censored
    # non-converters are left out, which raises the share a little (as in ADNI analyses)
    assert d.conversion_2y - 0.01 < s["conversion_2y"]["share"] < d.conversion_2y + 0.05
    assert s["conversion_3y"]["share"] > s["conversion_2y"]["share"]
    assert s["conversion_2y"]["n_censored"] > 0
    # ages are matched across diagnoses (ADNI's design): within 1 year
    ages = [s[dx]["mean_age"] for dx in ("CN", "MCI", "AD")]
    assert max(ages) - min(ages) < 1.0
    # what is rendered (stage, white-matter pathology) carries amyloid only through the
    # shifts the model states: the residual of wm_pathology after its amyloid shift is
    # independent of amyloid
    resid = c["wm_pathology"] - d.amyloid_wm_shift * c["amyloid"].astype(float)
    a = c["amyloid"].astype(float)
    assert abs(np.corrcoef(resid, a)[0, 1]) < 0.03


def test_disease_config_is_validated():
    from pydantic import ValidationError

    from rnce_bag.simulate.config import DiseaseConfig

    with pytest.raises(ValidationError, match="stage_mean needs the keys"):
        DiseaseConfig(stage_mean={"CN": 0.1, "MCI": 0.4})
    with pytest.raises(ValidationError, match="Beta distribution"):
        DiseaseConfig(stage_sd={"CN": 0.04, "MCI": 0.6, "AD": 0.14})
    with pytest.raises(ValidationError, match="at most 1"):
        DiseaseConfig(share_mci=0.7, share_ad=0.4)


def test_negative_control_hides_nothing_heritable():
    from rnce_bag.simulate.config import GeneticsConfig
    from rnce_bag.simulate.genetics import white_matter_ageing

    rng = {k: np.random.default_rng(i) for i, k in enumerate(("wm_effects",
                                                              "wm_environment"))}
    dos = np.random.default_rng(0).binomial(2, 0.3, (500, 20)).astype(np.int8)
    g = np.random.default_rng(1).normal(0, np.sqrt(0.4), 500)
    out = white_matter_ageing(dos, np.full(20, 0.02), g, GeneticsConfig(h2_wm=0.0), rng)
    assert not out["wm_genetic_value"].any()
    assert out["wm_factor"].std() == pytest.approx(1.0, abs=0.1)
    assert preset_config("demo-control").genetics.h2_wm == 0
    assert preset_config("demo").genetics.h2_wm == 0.6
