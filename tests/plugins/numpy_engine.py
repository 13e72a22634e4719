"""An engine added from one file: ordinary least squares in numpy, as a plug-in.

``RNCE_BAG_PLUGINS=numpy_engine`` makes ``--engine numpy`` work everywhere. PLINK 1
input only; QC on sample and variant call rate and MAF (no HWE test: its count is 0);
missing calls mean-imputed per variant; ancestry PCs from the SVD of the standardised
genotypes of common variants (no LD pruning). The suite uses it to show that an engine is
one module and that the shared steps make its outputs the other engines' tables
(tests/plugins/test_plugins.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from gwas.engines import EngineRequest, EngineResult, GwasEngine, analysed
from gwas.plink_io import open_bed
from gwas.sumstats import to_ssf
from rnce_bag.core.errors import InputError


def run(req: EngineRequest) -> EngineResult:
    if not req.geno.bfile:
        raise InputError("--engine numpy reads PLINK 1 filesets only", hint="use --bfile")
    cfg, say = req.cfg, req.say
    reader = open_bed(req.geno.bfile)
    iids = reader.fam["IID"].astype(str)
    idx = np.flatnonzero(iids.isin(req.samples.iids).to_numpy())
    bim = reader.bim
    autosomal = bim["chromosome"].astype(str).str.removeprefix("chr").isin(
        [str(c) for c in range(1, 23)]).to_numpy()
    if req.variant_keep is not None:
        autosomal &= bim["id"].isin(req.variant_keep["variant_id"]).to_numpy()
    rows = np.flatnonzero(autosomal)
    g = reader.read(rows, idx)  # (m, n) A1 counts, NaN missing
    say("QC (numpy)", "inputs")
    sample_ok = np.isnan(g).mean(axis=0) <= 1 - cfg.qc.sample_call_rate
    g = g[:, sample_ok]
    kept = iids.to_numpy()[idx][sample_ok].tolist()
    call_ok = np.isnan(g).mean(axis=1) <= 1 - cfg.qc.variant_call_rate
    freq = np.nanmean(g, axis=1) / 2
    maf_ok = np.minimum(freq, 1 - freq) >= cfg.qc.maf
    alive = call_ok & maf_ok
    counts = {"samples_in": len(idx), "samples_removed_call_rate": int((~sample_ok).sum()),
              "variants_in": len(rows), "variants_removed_call_rate": int((~call_ok).sum()),
              "variants_removed_maf": int((call_ok & ~maf_ok).sum()),
              "variants_removed_hwe": 0, "variants_out": int(alive.sum()),
              "samples_out": len(kept)}
    g, rows, freq = g[alive], rows[alive], freq[alive]
    g = np.where(np.isnan(g), 2 * freq[:, None], g)
    say("", "qc")
    pcs = None
    if cfg.pca.n_pcs > 0:
        common = np.minimum(freq, 1 - freq) >= cfg.pca.min_maf
        x = (g[common] - 2 * freq[common, None]) / np.sqrt(
            2 * freq[common, None] * (1 - freq[common, None]))
        u, _, _ = np.linalg.svd(x.T, full_matrices=False)
        pcs = pd.DataFrame(u[:, :cfg.pca.n_pcs],
                           columns=[f"PC{k + 1}" for k in range(cfg.pca.n_pcs)])
        pcs.insert(0, "IID", kept)
        say("", "pca")
    pheno, covar = analysed(req.samples, pcs, kept)
    order = pd.Index(kept)
    results = {}
    for name in [c for c in pheno.columns if c != "IID"]:
        y = pheno.set_index("IID")[name].reindex(order).to_numpy(float)
        c = covar.set_index("IID").reindex(order).to_numpy(float)
        use = ~np.isnan(y) & ~np.isnan(c).any(axis=1)
        design = np.column_stack([np.ones(use.sum()), c[use]])
        q, _ = np.linalg.qr(design)
        yr = y[use] - q @ (q.T @ y[use])  # Frisch-Waugh-Lovell: residualise y and g
        gr = g[:, use] - (g[:, use] @ q) @ q.T
        sxx = (gr ** 2).sum(axis=1)
        beta = gr @ yr / sxx
        dof = use.sum() - design.shape[1] - 1
        resid = (yr ** 2).sum() - beta ** 2 * sxx
        se = np.sqrt(resid / dof / sxx)
        p = 2 * stats.t.sf(np.abs(beta / se), dof)
        sub = bim.iloc[rows]
        results[name] = to_ssf(pd.DataFrame({
            "chromosome": sub["chromosome"].to_numpy(),
            "base_pair_location": sub["position"].astype(np.int64).to_numpy(),
            "effect_allele": sub["a1"].to_numpy(), "other_allele": sub["a2"].to_numpy(),
            "beta": beta, "standard_error": se, "p_value": p,
            "effect_allele_frequency": g[:, use].mean(axis=1) / 2,
            "rsid": sub["id"].to_numpy(), "n": np.full(len(rows), int(use.sum()))}),
            f"numpy engine results for {name}")
    say("", "association")
    return EngineResult(results, counts, pcs, {"note": "numpy engine: no HWE filter; missing "
                                                       "calls mean-imputed"})


ENGINE = GwasEngine("numpy", "numpy OLS", run, order=50)
