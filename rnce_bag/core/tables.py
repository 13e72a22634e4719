"""The declared tables of the data contracts: each table's columns, kinds and bounds.

Declarations only (no pandas, no validation): :mod:`rnce_bag.core.schema` validates
frames and files against them, and :mod:`rnce_bag.core.outputs` names the schema of each
declared output. A new table is one :class:`TableSchema` in :data:`SCHEMAS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "float", "int"]

#: Text tokens read as missing in every table. ``-9`` is *not* one of them: PLINK's
#: missing phenotype code is accepted only where a reader is told so explicitly.
NA_TOKENS: frozenset[str] = frozenset({"", "NA", "na", "NaN", "nan", "N/A", "."})


@dataclass(frozen=True)
class Column:
    """Declared column of a table.

    Parameters
    ----------
    name
        Exact column name, or a regular expression when used in ``TableSchema.patterns``.
    kind
        ``str``, ``float`` (finite) or ``int``.
    nullable
        Whether missing values (``NA_TOKENS`` / NaN) are allowed.
    unique
        Whether values must be unique (subject IDs).
    choices
        Allowed values (after conversion to ``kind``), or ``None``.
    lo, hi
        Inclusive bounds for numeric columns.
    required
        Whether the column must be present.
    """

    name: str
    kind: Kind = "str"
    nullable: bool = False
    unique: bool = False
    choices: tuple[object, ...] | None = None
    lo: float | None = None
    hi: float | None = None
    required: bool = True


@dataclass(frozen=True)
class TableSchema:
    """A table's declared columns.

    ``patterns`` are ``(regex, Column)`` pairs applying to every column whose full
    name matches; ``min_pattern_columns`` is how many such columns must exist.
    Columns matching neither are rejected when ``allow_extra`` is false.
    """

    name: str
    columns: tuple[Column, ...]
    patterns: tuple[Column, ...] = ()
    min_pattern_columns: int = 0
    allow_extra: bool = True
    description: str = ""
    allow_empty: bool = False

    def column(self, name: str) -> Column | None:
        """The declaration covering column ``name`` (exact first, then patterns)."""
        for col in self.columns:
            if col.name == name:
                return col
        for pat in self.patterns:
            if re.fullmatch(pat.name, name):
                return pat
        return None


_ID = Column("IID", "str", unique=True)

SCHEMAS: dict[str, TableSchema] = {
    s.name: s
    for s in (
        TableSchema(
            "cohort",
            (
                _ID,
                Column("FID", "str"),
                Column("age", "float", lo=0, hi=130),
                Column("sex", "str", choices=("F", "M")),
                Column("site", "str"),
                Column("diagnosis", "str", choices=("CN", "MCI", "AD")),
                Column("amyloid", "int", nullable=True, choices=(0, 1)),
                Column("conversion_years", "float", nullable=True, lo=0),
                Column("followup_years", "float", nullable=True, lo=0, required=False),
                Column("clinical", "int", nullable=True, choices=(0, 1), required=False),
                Column("t1_path", "str", nullable=True, required=False),
                Column("freesurfer_dir", "str", nullable=True, required=False),
            ),
            description="cohort manifest, one row per subject",
        ),
        TableSchema(
            "freesurfer_features",
            (_ID, Column("eTIV", "float", lo=0)),
            patterns=(Column(r"(?!IID$).+", "float"),),
            min_pattern_columns=1,
            allow_extra=False,
            description="FreeSurfer measures, one column per measure",
        ),
        TableSchema(
            "embeddings",
            (_ID,),
            patterns=(Column(r"z\d+", "float"), Column(r"p\d+_z\d+", "float")),
            min_pattern_columns=1,
            allow_extra=False,
            description="image representations z0..z{d-1}",
        ),
        TableSchema(
            "brain_age",
            (_ID, Column("age", "float", lo=0, hi=130), Column("fold", "int", nullable=True)),
            patterns=(
                Column(r"pred_\w+", "float", nullable=True),
                Column(r"bag_\w+", "float", nullable=True),
            ),
            min_pattern_columns=2,
            description="brain age predictions and bias-corrected gaps per representation",
        ),
        TableSchema(
            "gwas_pheno",
            (Column("#FID", "str"), Column("IID", "str", unique=True)),
            patterns=(Column(r"(?!#FID$|IID$).+", "float", nullable=True),),
            min_pattern_columns=1,
            description="PLINK 2 phenotype file",
        ),
        TableSchema(
            "relatives",
            (
                Column("IID1", "str"),
                Column("IID2", "str"),
                Column("kinship", "float", hi=1),
                Column("degree", "int", nullable=True, choices=(0, 1, 2, 3)),
                Column("removed", "str", nullable=True),
            ),
            allow_extra=False,
            allow_empty=True,
            description="pairs of third degree or closer (KING-robust kinship) and which of "
                        "the pair relatedness QC removed",
        ),
        TableSchema(
            "gwas_covar",
            (Column("#FID", "str", required=False), Column("IID", "str", unique=True)),
            patterns=(Column(r"(?!#FID$|IID$).+", "float", nullable=True),),
            min_pattern_columns=1,
            description="PLINK 2 covariate file (numeric, one-hot encoded)",
        ),
        TableSchema(
            "sumstats",
            (
                Column("chromosome", "str"),
                Column("base_pair_location", "int", lo=1),
                Column("effect_allele", "str"),
                Column("other_allele", "str"),
                Column("beta", "float", nullable=True),
                Column("standard_error", "float", nullable=True, lo=0),
                Column("effect_allele_frequency", "float", nullable=True, lo=0, hi=1),
                Column("p_value", "float", nullable=True, lo=0, hi=1),
                Column("variant_id", "str"),
                Column("rsid", "str", nullable=True),
                Column("n", "int", lo=0),
            ),
            description="GWAS-SSF summary statistics",
        ),
        TableSchema(
            "heritability",
            (
                Column("phenotype", "str"),
                Column("method", "str", choices=("greml", "ldsc")),
                Column("backend", "str"),
                Column("h2", "float", nullable=True),
                Column("h2_se", "float", nullable=True, lo=0),
                Column("intercept", "float", nullable=True, required=False),
                Column("n", "int", nullable=True, lo=0, required=False),
                Column("pval", "float", nullable=True, lo=0, hi=1, required=False),
                Column("status", "str"),
            ),
            description="SNP heritability estimates, one row per phenotype",
        ),
        TableSchema(
            "genetic_correlation",
            (
                Column("p1", "str"),
                Column("p2", "str"),
                Column("method", "str", choices=("greml", "ldsc")),
                Column("rg", "float", nullable=True),
                Column("rg_se", "float", nullable=True, lo=0),
                Column("p", "float", nullable=True, lo=0, hi=1),
                Column("n", "int", nullable=True, lo=0),
                Column("status", "str"),
            ),
            description="genetic correlations between phenotype pairs",
        ),
        TableSchema(
            "gwas_summary",
            (
                Column("phenotype", "str", unique=True),
                Column("n_samples", "int", lo=0),
                Column("n_variants", "int", lo=0),
                Column("lambda_gc", "float", nullable=True),
                Column("mean_chi2", "float", nullable=True, lo=0),
                Column("n_genome_wide", "int", lo=0),
                Column("min_p", "float", nullable=True, lo=0, hi=1),
            ),
            description="one row per phenotype of a GWAS",
        ),
        TableSchema(
            "loci",
            (
                Column("phenotype", "str"),
                Column("locus_id", "str"),
                Column("lead_variant", "str"),
                Column("chromosome", "str"),
                Column("position", "int", lo=1),
                Column("p_value", "float", lo=0, hi=1),
                Column("start", "int", lo=0, required=False),
                Column("end", "int", lo=0, required=False),
                Column("genes", "str", nullable=True),
                Column("nearest_gene", "str", nullable=True, required=False),
            ),
            description="lead loci with genes (locus_id counts within a phenotype)",
            allow_empty=True,
        ),
        TableSchema(
            "regions",
            (
                Column("phenotype", "str"),
                Column("locus_id", "str"),
                Column("lead_variant", "str"),
                Column("chromosome", "str"),
                Column("position", "int", lo=1),
                Column("variant_id", "str"),
                Column("rsid", "str", nullable=True),
                Column("beta", "float", nullable=True),
                Column("standard_error", "float", nullable=True, lo=0),
                Column("p_value", "float", nullable=True, lo=0, hi=1),
                Column("r2", "float", nullable=True, lo=0, hi=1.000001),
                Column("cm", "float", nullable=True, lo=0),
            ),
            description="variants around each lead locus with r2 to the lead (and is_lead)",
            allow_empty=True,
        ),
        TableSchema(
            "celltypes",
            (
                Column("dataset", "str"),
                Column("cell_type", "str"),
                Column("beta", "float", nullable=True),
                Column("beta_se", "float", nullable=True, lo=0),
                Column("p_value", "float", nullable=True, lo=0, hi=1),
                Column("method", "str"),
            ),
            description="cell-type enrichment results",
        ),
        TableSchema(
            "genes",
            (Column("gene", "str"), Column("chromosome", "str"), Column("start", "int", lo=0),
             Column("stop", "int", lo=0), Column("n_snps", "int", lo=0),
             Column("z", "float", nullable=True), Column("p", "float", lo=0, hi=1)),
            description="gene-level association (MAGMA-style mean chi^2)",
            allow_empty=True,
        ),
        TableSchema(
            "headline",
            (
                Column("representation", "str", unique=True),
                Column("mae", "float", lo=0),
                Column("h2", "float", nullable=True, required=False),
                Column("h2_se", "float", nullable=True, required=False),
                Column("rg", "float", nullable=True, required=False),
                Column("rg_se", "float", nullable=True, required=False),
                Column("rg_status", "str", nullable=True, required=False),
                Column("n_loci", "int", nullable=True, lo=0, required=False),
                Column("lead_loci", "str", nullable=True, required=False),
                Column("top_cell_type", "str", nullable=True, required=False),
            ),
            patterns=(Column(r"auc_\w+", "float", nullable=True, lo=0, hi=1),
                      Column(r"p_\w+", "float", nullable=True, lo=0, hi=1)),
            allow_extra=False,
            description="one row per BAG: MAE, h2, rg with FS, loci, top cell type, AUCs",
        ),
        TableSchema(
            "probe",
            (
                Column("task", "str"),
                Column("representation", "str"),
                Column("n", "int", lo=0),
                Column("n_pos", "int", lo=0),
                Column("auc", "float", nullable=True, lo=0, hi=1),
                Column("ci_low", "float", nullable=True),
                Column("ci_high", "float", nullable=True),
                Column("balanced_accuracy", "float", nullable=True, lo=0, hi=1),
                Column("age_pos", "float", nullable=True, required=False),
                Column("age_neg", "float", nullable=True, required=False),
            ),
            description="linear-probe AUCs (95% DeLong CI) per task and representation",
        ),
        TableSchema(
            "probe_pairs",
            (
                Column("task", "str"),
                Column("rep_a", "str"),
                Column("rep_b", "str"),
                Column("auc_a", "float", nullable=True),
                Column("auc_b", "float", nullable=True),
                Column("auc_diff", "float", nullable=True),
                Column("p_delong", "float", nullable=True, lo=0, hi=1),
                Column("p_holm", "float", nullable=True, lo=0, hi=1, required=False),
            ),
            description="paired DeLong tests between representations (p_holm: Holm-adjusted "
                        "over every test of the table)",
            allow_empty=True,
        ),
        TableSchema(
            "registration_qc",
            (
                _ID,
                Column("status", "str"),
                Column("similarity", "float", nullable=True, lo=-1, hi=1),
                Column("mask_dice", "float", nullable=True, lo=0, hi=1),
                Column("skull_strip", "str", choices=("freesurfer", "template")),
                Column("seconds", "float", nullable=True, lo=0),
                Column("cached", "str", choices=("True", "False")),
                Column("t1_path", "str", nullable=True),
            ),
            description="registration to MNI152 per subject: status (ok, ok; check: ..., "
                        "failed: <message>), correlation with the template and brain-mask "
                        "Dice after registration",
        ),
        TableSchema(
            "brain_age_figure",
            (_ID, Column("age", "float", lo=0, hi=130)),
            description="per-subject values behind the brain-age figures",
        ),
    )
}
