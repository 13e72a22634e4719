"""A study's stages in order, each with its typed params.

Input paths come from the upstream stage's declared outputs
(:func:`rnce_bag.core.outputs.output_path`), never from file names of this module;
options come from the study YAML. Nothing here runs anything (see
:mod:`pipeline.runner`).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.runner import Stage
from pipeline.study import STAGE_ORDER, StudyConfig
from rnce_bag.core.outputs import output_path
from rnce_bag.core.stage import StageParams


def covariate_columns(covar: Path, names: list[str] | None) -> list[str]:
    """``names``, or every covariate column of the PLINK 2 file ``covar``."""
    if names:
        return list(names)
    header = covar.read_text().split("\n", 1)[0].split("\t")
    return [c for c in header if c not in ("#FID", "FID", "IID")]


def plan(study: StudyConfig, study_dir: Path, root: Path) -> list[Stage]:
    """The stages of ``study`` in order (see :data:`pipeline.study.STAGE_ORDER`).

    Parameters
    ----------
    study
        The validated study.
    study_dir
        Folder that relative paths of the study resolve against.
    root
        The run folder (absolute); stage ``name`` writes into ``root/name``.
    """
    from gwas.genotype_files import genotype_paths
    from gwas.stages import EnrichParams, GwasParams, H2Params, ReportParams, RgParams
    from pipeline.oracle import OracleParams
    from rnce_bag.core.presets import shipped
    from rnce_bag.stages import (
        BrainAgeParams,
        EmbedParams,
        FeaturesParams,
        ProbeParams,
        SimulateParams,
        TrainParams,
    )

    def rel(p: str | None) -> Path | None:
        if p is None:
            return None
        q = Path(p)
        return q if q.is_absolute() else (study_dir / q).resolve()

    def preset_rel(p: str) -> Path:  # configs/... beside the study, else the shipped preset
        q = rel(p)
        if q is not None and q.exists():
            return q
        return shipped(p) or q  # type: ignore[return-value]

    st: list[Stage] = []
    c, s = study.cohort, study.stages
    if study.simulate is not None:
        sim = study.simulate
        base = root / "simulate"
        st.append(Stage("simulate", "simulate", SimulateParams(
            out=base, preset=sim.preset, overrides=[*sim.set, f"seed={sim.seed}"])))
        manifest = output_path("simulate", "manifest", base)
        bfile = str(output_path("simulate", "bfile", base))
        geno: dict = {"bfile": bfile}
        celltypes = [output_path("simulate", "celltypes", base)]
        ext: list[Path] = []
        up = ["simulate"]
    else:
        manifest = rel(c.manifest)  # type: ignore[assignment]
        bfile = str(rel(c.bfile)) if c.bfile else ""
        geno = ({"bfile": bfile} if c.bfile else
                {"bgen": str(rel(c.bgen)), "sample": str(rel(c.sample)) if c.sample else None}
                if c.bgen else {"vcf": str(rel(c.vcf))})
        celltypes = [rel(x) for x in c.celltypes]  # type: ignore[misc]
        # every genotype file (per-chromosome templates expanded): the stage keys hash them
        gfiles = genotype_paths(bfile or None, geno.get("bgen"), geno.get("sample"),
                                geno.get("vcf"))
        ext = [manifest, *gfiles]  # type: ignore[list-item]
        up = []
    ld = str(rel(c.ld_bfile)) if c.ld_bfile else bfile
    # --keep/--remove/--extract/--exclude/--chr of the genetic stages (PLINK semantics)
    filters: dict = {k: [rel(p) for p in ([v] if isinstance(v, str) else v)]
                     for k in ("keep", "remove", "extract", "exclude") if (v := getattr(c, k))}
    flt_inputs = [p for paths in filters.values() for p in paths]
    if c.chr:
        filters["chr"] = c.chr

    def folder(name: str) -> Path:
        return root / name

    features = output_path("features", "features", folder("features"))
    if "features" not in study.skip:
        st.append(Stage("features", "features", FeaturesParams(
            out=folder("features"), manifest=manifest, atlases=s.features_atlases),
            ext[:1], up))
    reps = {"FS": features}
    trained = "train" not in study.skip and "embed" not in study.skip
    if "train" not in study.skip:
        cfg = preset_rel(s.train.config)
        for m in s.train.methods:
            st.append(Stage(f"train_{m}", "train", TrainParams(
                out=folder(f"train_{m}"), manifest=manifest, features=features, config=cfg,
                method=m, cache_dir=folder("cache"), overrides=s.train.set),
                [cfg, *ext[:1]], [*up, "features"], resumable=True))
            if "embed" not in study.skip:
                st.append(Stage(f"embed_{m}", "embed", EmbedParams(
                    out=folder(f"embed_{m}"), run=folder(f"train_{m}"), manifest=manifest,
                    cache_dir=folder("cache")), ext[:1], [f"train_{m}"]))
                reps[m.upper()] = output_path("embed", "embeddings", folder(f"embed_{m}"))
    rep_args = [f"{name}={path}" for name, path in reps.items()]
    bag_names = set(reps)
    for combo in s.combined:  # e.g. FS+RNCE -> its own row FS_RNCE, never RNCE itself
        parts = combo.upper().split("+")
        if all(p in reps for p in parts):
            rep_args.append(f"{'_'.join(parts)}={'+'.join(parts)}")
            bag_names.add("_".join(parts))
    rep_deps = ["features", *[f"embed_{m}" for m in s.train.methods if trained]]
    if "brain_age" not in study.skip:
        config = preset_rel(s.brain_age_config) if s.brain_age_config else None
        st.append(Stage("brain_age", "brain_age", BrainAgeParams(
            out=folder("brain_age"), manifest=manifest, features=rep_args, config=config,
            overrides=s.brain_age_set), [*ext[:1], *([config] if config else [])],
            [*up, *rep_deps]))
    if "probe" not in study.skip:
        st.append(Stage("probe", "probe", ProbeParams(
            out=folder("probe"), manifest=manifest, features=rep_args), ext[:1],
            [*up, *rep_deps]))
    pheno = output_path("brain_age", "pheno", folder("brain_age"))
    bag_covar = output_path("brain_age", "covar", folder("brain_age"))
    covariates = output_path("gwas", "covariates", folder("gwas"))
    if "gwas" not in study.skip:
        config = preset_rel(s.gwas_config) if s.gwas_config else None
        names = s.covar_names

        def with_covariates(p: StageParams) -> StageParams:
            return p.model_copy(update={"covar_name": covariate_columns(bag_covar, names)})

        st.append(Stage("gwas", "gwas", GwasParams(
            out=folder("gwas"), **geno, pheno=pheno, covar=bag_covar, config=config,
            overrides=[*s.gwas_set, f"engine={s.gwas_engine}"], **filters),
            [*ext[1:], *flt_inputs, *([config] if config else [])], [*up, "brain_age"],
            dynamic=with_covariates))
    grm = output_path("h2", "grm", folder("h2"))
    if "h2" not in study.skip and ld:
        st.append(Stage("h2", "h2", H2Params(
            out=folder("h2"), bfile=ld, pheno=pheno, covar=covariates,
            grm_cutoff=s.grm_cutoff, **filters), [*ext[1:], *flt_inputs],
            [*up, "brain_age", "gwas"]))
    if "rg" not in study.skip and ld:
        for a, b in s.rg_pairs:
            if a.upper() not in bag_names or b.upper() not in bag_names:
                continue
            # the h2 stage's GRM (same genotypes, the filters' samples and variants)
            # instead of computing it once per pair
            source = {"grm": str(grm)} if "h2" not in study.skip else {"bfile": ld, **filters}
            st.append(Stage(f"rg_{a.lower()}_{b.lower()}", "rg", RgParams(
                out=folder(f"rg_{a.lower()}_{b.lower()}"), **source, pheno=pheno,
                pheno_name=[f"BAG_{a.upper()}", f"BAG_{b.upper()}"], covar=covariates,
                grm_cutoff=s.grm_cutoff), ext[1:],
                [*up, "brain_age", "gwas", *(["h2"] if "h2" not in study.skip else [])]))
    if "enrich" not in study.skip and ld and celltypes:
        for name in s.enrich_phenotypes:
            if name.upper() not in reps:
                continue
            # LD scores depend on the reference and the tables, not the BAG: one
            # computation serves every enrich stage of the study
            st.append(Stage(f"enrich_{name.lower()}", "enrich", EnrichParams(
                out=folder(f"enrich_{name.lower()}"),
                sumstats=output_path("gwas", "sumstats", folder("gwas"),
                                     phenotype=f"BAG_{name.upper()}"),
                bfile=ld, celltypes=celltypes, build=c.build, ldsc_seg=s.enrich_ldsc_seg,
                ld_cache=folder("cache") / "ldsc" if s.enrich_ldsc_seg else None),
                [*ext[1:], *([] if study.simulate else celltypes)], [*up, "gwas"]))
    if study.simulate is not None and "oracle" not in study.skip and "features" not in \
            study.skip:
        # ORACLE rows (simulated cohorts only; the one stage that reads truth/, labelled)
        with_h2 = "h2" not in study.skip
        st.append(Stage("oracle", "oracle", OracleParams(
            out=folder("oracle"), cohort=root / "simulate", features=features,
            grm=str(grm) if with_h2 else None), [], [*up, "features",
                                                     *(["h2"] if with_h2 else [])]))
    if "report" not in study.skip:
        deps = [x.name for x in st if x.kind != "report"]
        st.append(Stage("report", "report", ReportParams(out=folder("report"), run=root),
                        [], deps))
    unknown = [x.kind for x in st if x.kind not in STAGE_ORDER]
    assert not unknown, unknown
    return st
