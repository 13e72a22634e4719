"""Phenotype and covariate files of a simulated cohort for the GWAS benchmarks.

P1 is the latent factor, P2 the true brain-age gap (both from the simulator's ``truth/``:
benchmark inputs with known genetics, never the product's); covariates age and sex.
"""

from __future__ import annotations

from pathlib import Path


def write_gwas_inputs(sim: Path, out: Path) -> tuple[Path, Path]:
    """``out/pheno.tsv`` (``#FID IID P1 P2``) and ``out/covar.tsv`` (``#FID IID age sex``)."""
    import pandas as pd

    lat = pd.read_csv(sim / "truth/latent.tsv", sep="\t")
    coh = pd.read_csv(sim / "cohort.tsv", sep="\t")
    pd.DataFrame({"#FID": lat["IID"], "IID": lat["IID"], "P1": lat["latent_factor"],
                  "P2": lat["true_brain_age_gap"]}).to_csv(out / "pheno.tsv", sep="\t",
                                                          index=False)
    cov = coh[["FID", "IID", "age"]].rename(columns={"FID": "#FID"})
    cov["sex"] = (coh["sex"] == "M").astype(int)
    cov.to_csv(out / "covar.tsv", sep="\t", index=False)
    return out / "pheno.tsv", out / "covar.tsv"
