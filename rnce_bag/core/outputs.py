"""The one registry of what each stage writes: file name and schema.

A stage's folder holds the files below; every other stage, the pipeline, the report and
the demo summary find them here (never by a file name of their own) and read tables
through :func:`read_output`, which validates them against their schema (errors name the
file, the column and the row). Names with ``{phenotype}`` are formatted per phenotype
(:func:`rnce_bag.core.names.file_stem` of it).

``schema`` is a name in :data:`rnce_bag.core.schema.SCHEMAS` for tables, ``None`` for
other files (JSON, Parquet without a contract, GRM prefixes, folders).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Output:
    """One file (or prefix) a stage writes into its folder."""

    file: str
    schema: str | None = None
    description: str = ""


OUTPUTS: dict[str, dict[str, Output]] = {
    "simulate": {
        "manifest": Output("cohort.tsv", "cohort", "cohort manifest"),
        "bfile": Output("genotypes/cohort", None, "PLINK 1 fileset prefix"),
        "celltypes": Output("expression/celltype_specificity.tsv", None,
                            "FUMA-format expression reference (not truth: the planted "
                            "enrichment is in truth/truth.json)"),
        "truth_latent": Output("truth/latent.tsv", None, "ORACLE only: true latent values"),
    },
    "features": {
        "features": Output("features.parquet", "freesurfer_features"),
        "report": Output("features_report.json"),
    },
    "train": {"model": Output("model.pt"), "checkpoint": Output("checkpoint.pt"),
              "metrics": Output("metrics.jsonl")},
    "embed": {"embeddings": Output("embeddings.parquet", "embeddings")},
    "brain_age": {
        "bag": Output("bag.tsv", "brain_age"),
        "pheno": Output("pheno.tsv", "gwas_pheno", "PLINK 2 phenotypes BAG_<rep>"),
        "covar": Output("covar.tsv", "gwas_covar", "PLINK 2 covariates"),
        "metrics": Output("metrics.json"),
        "figure_data": Output("figure_data.tsv", "brain_age_figure"),
    },
    "probe": {
        "scores": Output("probe.tsv", "probe"),
        "pairs": Output("probe_pairs.tsv", "probe_pairs"),
        "predictions": Output("probe_predictions.parquet"),
    },
    "gwas": {
        "sumstats": Output("{phenotype}.tsv.gz", "sumstats"),
        "sumstats_index": Output("{phenotype}.tsv.gz.tbi", None, "tabix index of the "
                                 "BGZF summary statistics"),
        "sumstats_meta": Output("{phenotype}-meta.yaml", None, "GWAS-SSF metadata"),
        "summary": Output("summary.tsv", "gwas_summary"),
        "loci": Output("loci.tsv", "loci"),
        "suggestive_loci": Output("loci_suggestive.tsv", "loci", "loci at the suggestive "
                                  "threshold of phenotypes with no genome-wide one"),
        "regions": Output("regions.tsv.gz", "regions", "variants around each lead with "
                          "r2 to the lead (regional plots)"),
        "pcs": Output("pcs.tsv", None),
        "covariates": Output("covariates.tsv", "gwas_covar",
                             "the association's covariates with PCs (h2 and rg reuse them)"),
        "report": Output("gwas_report.json"),
    },
    "h2": {"heritability": Output("heritability.tsv", "heritability"),
           "grm": Output("grm", None, "binary GRM prefix (GREML from --bfile)")},
    "rg": {"rg": Output("rg.tsv", "genetic_correlation")},
    "enrich": {"genes": Output("genes.tsv", "genes"),
               "celltypes": Output("celltypes.tsv", "celltypes")},
    "oracle": {"oracle": Output("oracle.tsv", None)},
    "report": {"page": Output("index.html")},
    "compare": {"result": Output("compare.json"), "page": Output("index.html")},
}


def output_path(stage: str, name: str, folder: str | os.PathLike[str],
                phenotype: str | None = None) -> Path:
    """Where ``stage`` writes its output ``name`` inside ``folder``.

    Raises
    ------
    KeyError
        For a stage or output not in :data:`OUTPUTS` (a programming error).
    """
    spec = OUTPUTS[stage][name]
    file = spec.file
    if "{phenotype}" in file:
        from rnce_bag.core.names import file_stem

        if phenotype is None:
            raise KeyError(f"output {stage}.{name} is per phenotype: pass phenotype=")
        file = file.format(phenotype=file_stem(phenotype))
    return Path(folder) / file


def read_output(stage: str, name: str, folder: str | os.PathLike[str],
                phenotype: str | None = None) -> pd.DataFrame:
    """Read and validate the table ``name`` of ``stage`` in ``folder``."""
    from rnce_bag.core.schema import read_table

    return read_table(output_path(stage, name, folder, phenotype), OUTPUTS[stage][name].schema)


def read_output_if_exists(stage: str, name: str, folder: str | os.PathLike[str],
                          phenotype: str | None = None) -> pd.DataFrame | None:
    """:func:`read_output`, or ``None`` when the stage did not write the file."""
    path = output_path(stage, name, folder, phenotype)
    return read_output(stage, name, folder, phenotype) if path.exists() else None
