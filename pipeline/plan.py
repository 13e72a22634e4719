"""A study's stages in order, each with its typed params.

Input paths come from the upstream stage's declared outputs
(:func:`rnce_bag.core.outputs.output_path`), never from file names of this module;
options come from the study YAML. Nothing here runs anything (see
:mod:`pipeline.runner`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gwas.stages import GWAS, H2
from pipeline.runner import Stage
from pipeline.study import STAGE_ORDER, StudyConfig
from rnce_bag.core.outputs import output_path
from rnce_bag.core.stage import StageParams
from rnce_bag.stages import BRAIN_AGE, EMBED, FEATURES, SIMULATE


def covariate_columns(covar: Path, names: list[str] | None) -> list[str]:
    """``names``, or every covariate column of the PLINK 2 file ``covar``."""
    if names:
        return list(names)
    header = covar.read_text().split("\n", 1)[0].split("\t")
    return [c for c in header if c not in ("#FID", "FID", "IID")]


@dataclass
class _Cohort:
    """Where a study's data are: simulated (the simulate stage's outputs) or given."""

    manifest: Path
    geno: dict                # bfile, or bgen + sample, or vcf (GwasParams' fields)
    bfile: str
    ld: str                   # LD reference of h2/rg/enrich (default: the genotypes)
    celltypes: list[Path]
    ext: list[Path]           # external inputs the stage keys hash: manifest, genotypes
    up: list[str]             # the stage the cohort comes from (simulate), if any
    filters: dict             # --keep/--remove/--extract/--exclude/--chr of genetic stages
    flt_inputs: list[Path]


class _Planner:
    """Builds a study's stages in order: each step appends its stages (see :func:`plan`)."""

    def __init__(self, study: StudyConfig, study_dir: Path, root: Path) -> None:
        self.study, self.study_dir, self.root = study, study_dir, root
        self.s = study.stages
        self.stages: list[Stage] = []

    def rel(self, p: str | None) -> Path | None:
        if p is None:
            return None
        q = Path(p)
        return q if q.is_absolute() else (self.study_dir / q).resolve()

    def preset_rel(self, p: str) -> Path:  # configs/... beside the study, else shipped
        from rnce_bag.core.presets import shipped

        q = self.rel(p)
        if q is not None and q.exists():
            return q
        return shipped(p) or q  # type: ignore[return-value]

    def folder(self, name: str) -> Path:
        return self.root / name

    def runs(self, stage: str) -> bool:
        return stage not in self.study.skip

    def add(self, *args, **kwargs) -> None:
        self.stages.append(Stage(*args, **kwargs))

    def cohort(self) -> _Cohort:
        """The simulate stage (a simulated cohort) or the study's own files."""
        from gwas.genotype_files import genotype_paths
        from rnce_bag.stages import SimulateParams

        study, c, rel = self.study, self.study.cohort, self.rel
        if study.simulate is not None:
            sim = study.simulate
            base = self.folder("simulate")
            self.add("simulate", "simulate", SimulateParams(
                out=base, preset=sim.preset, overrides=[*sim.set, f"seed={sim.seed}"]))
            manifest = output_path(SIMULATE, "manifest", base)
            bfile = str(output_path(SIMULATE, "bfile", base))
            geno: dict = {"bfile": bfile}
            celltypes = [output_path(SIMULATE, "celltypes", base)]
            ext: list[Path] = []
            up = ["simulate"]
        else:
            manifest = rel(c.manifest)  # type: ignore[assignment]
            bfile = str(rel(c.bfile)) if c.bfile else ""
            geno = ({"bfile": bfile} if c.bfile else
                    {"bgen": str(rel(c.bgen)), "sample": str(rel(c.sample)) if c.sample
                     else None} if c.bgen else {"vcf": str(rel(c.vcf))})
            celltypes = [rel(x) for x in c.celltypes]  # type: ignore[misc]
            # every genotype file (per-chromosome templates expanded): the keys hash them
            gfiles = genotype_paths(bfile or None, geno.get("bgen"), geno.get("sample"),
                                    geno.get("vcf"))
            ext = [manifest, *gfiles]  # type: ignore[list-item]
            up = []
        ld = str(rel(c.ld_bfile)) if c.ld_bfile else bfile
        filters: dict = {k: [rel(p) for p in ([v] if isinstance(v, str) else v)]
                         for k in ("keep", "remove", "extract", "exclude")
                         if (v := getattr(c, k))}
        flt_inputs = [p for paths in filters.values() for p in paths]
        if c.chr:
            filters["chr"] = c.chr
        manifest, up = self.register(manifest, ext, up)
        return _Cohort(manifest, geno, bfile, ld, celltypes, ext, up, filters, flt_inputs)

    def register(self, manifest: Path, ext: list[Path], up: list[str]
                 ) -> tuple[Path, list[str]]:
        """With a ``stages.registration`` block, the register stage; the manifest every later
        stage reads is then its output (t1_path -> the registered images; subjects whose
        registration failed are left out, listed in its registration_qc.tsv)."""
        from rnce_bag.stages import REGISTER, RegisterParams

        block = self.s.registration
        if block is None or not self.runs("register"):
            return manifest, up
        self.add("register", "register", RegisterParams(
            out=self.folder("register"), manifest=manifest, transform=block.transform,
            spacing=block.spacing, n4=block.n4, jobs=block.jobs,
            cache_dir=self.folder("cache")), ext[:1], up)
        return output_path(REGISTER, "manifest", self.folder("register")), [*up, "register"]

    def representations(self, co: _Cohort) -> tuple[dict[str, Path], list[str]]:
        """features, then train + embed per method: the representations (name -> table)
        and the stages that make them."""
        from rnce_bag.ssl.methods import get as get_method
        from rnce_bag.stages import EmbedParams, FeaturesParams, TrainParams

        s, folder = self.s, self.folder
        features = output_path(FEATURES, "features", folder("features"))
        if self.runs("features"):
            self.add("features", "features", FeaturesParams(
                out=folder("features"), manifest=co.manifest, atlases=s.features_atlases),
                co.ext[:1], co.up)
        reps = {"FS": features}
        trained = self.runs("train") and self.runs("embed")
        if self.runs("train"):
            cfg = self.preset_rel(s.train.config)
            for m in s.train.methods:
                self.add(f"train_{m}", "train", TrainParams(
                    out=folder(f"train_{m}"), manifest=co.manifest, features=features,
                    config=cfg, method=m, cache_dir=folder("cache"), overrides=s.train.set),
                    [cfg, *co.ext[:1]], [*co.up, "features"], resumable=True)
                if self.runs("embed"):
                    self.add(f"embed_{m}", "embed", EmbedParams(
                        out=folder(f"embed_{m}"), run=folder(f"train_{m}"),
                        manifest=co.manifest, cache_dir=folder("cache")), co.ext[:1],
                        [f"train_{m}"])
                    reps[get_method(m).representation] = output_path(
                        EMBED, "embeddings", folder(f"embed_{m}"))
        return reps, ["features", *[f"embed_{m}" for m in s.train.methods if trained]]

    def phenotypes(self, co: _Cohort, reps: dict[str, Path], rep_deps: list[str]
                   ) -> set[str]:
        """brain_age and probe on every representation and combination; the BAG names."""
        from rnce_bag.stages import BrainAgeParams, ProbeParams

        s, folder = self.s, self.folder
        rep_args = [f"{name}={path}" for name, path in reps.items()]
        bag_names = set(reps)
        for combo in s.combined:  # e.g. FS+RNCE -> its own row FS_RNCE, never RNCE itself
            parts = combo.upper().split("+")
            if all(p in reps for p in parts):
                rep_args.append(f"{'_'.join(parts)}={'+'.join(parts)}")
                bag_names.add("_".join(parts))
        if self.runs("brain_age"):
            config = self.preset_rel(s.brain_age_config) if s.brain_age_config else None
            self.add("brain_age", "brain_age", BrainAgeParams(
                out=folder("brain_age"), manifest=co.manifest, features=rep_args,
                config=config, overrides=s.brain_age_set),
                [*co.ext[:1], *([config] if config else [])], [*co.up, *rep_deps])
        if self.runs("probe"):
            self.add("probe", "probe", ProbeParams(
                out=folder("probe"), manifest=co.manifest, features=rep_args), co.ext[:1],
                [*co.up, *rep_deps])
        return bag_names

    def genetics(self, co: _Cohort, reps: dict[str, Path], bag_names: set[str]) -> Path:
        """gwas, h2, rg per pair and enrich per phenotype; returns the GRM path."""
        from gwas.stages import EnrichParams, GwasParams, H2Params, RgParams

        s, folder, up, ext, ld = self.s, self.folder, co.up, co.ext, co.ld
        pheno = output_path(BRAIN_AGE, "pheno", folder("brain_age"))
        bag_covar = output_path(BRAIN_AGE, "covar", folder("brain_age"))
        covariates = output_path(GWAS, "covariates", folder("gwas"))
        if self.runs("gwas"):
            config = self.preset_rel(s.gwas_config) if s.gwas_config else None
            names = s.covar_names

            def with_covariates(p: StageParams) -> StageParams:
                return p.model_copy(update={"covar_name": covariate_columns(bag_covar, names)})

            self.add("gwas", "gwas", GwasParams(
                out=folder("gwas"), **co.geno, pheno=pheno, covar=bag_covar, config=config,
                overrides=[*s.gwas_set, f"engine={s.gwas_engine}"], **co.filters),
                [*ext[1:], *co.flt_inputs, *([config] if config else [])],
                [*up, "brain_age"], dynamic=with_covariates)
        grm = output_path(H2, "grm", folder("h2"))
        if self.runs("h2") and ld:
            self.add("h2", "h2", H2Params(
                out=folder("h2"), bfile=ld, pheno=pheno, covar=covariates,
                grm_cutoff=s.grm_cutoff, **co.filters), [*ext[1:], *co.flt_inputs],
                [*up, "brain_age", "gwas"])
        if self.runs("rg") and ld:
            for a, b in s.rg_pairs:
                if a.upper() not in bag_names or b.upper() not in bag_names:
                    continue
                # the h2 stage's GRM (same genotypes, the filters' samples and variants)
                # instead of computing it once per pair
                source = {"grm": str(grm)} if self.runs("h2") else {"bfile": ld, **co.filters}
                self.add(f"rg_{a.lower()}_{b.lower()}", "rg", RgParams(
                    out=folder(f"rg_{a.lower()}_{b.lower()}"), **source, pheno=pheno,
                    pheno_name=[f"BAG_{a.upper()}", f"BAG_{b.upper()}"], covar=covariates,
                    grm_cutoff=s.grm_cutoff), ext[1:],
                    [*up, "brain_age", "gwas", *(["h2"] if self.runs("h2") else [])])
        if self.runs("enrich") and ld and co.celltypes:
            for name in s.enrich_phenotypes:
                if name.upper() not in reps:
                    continue
                # LD scores depend on the reference and the tables, not the BAG: one
                # computation serves every enrich stage of the study
                self.add(f"enrich_{name.lower()}", "enrich", EnrichParams(
                    out=folder(f"enrich_{name.lower()}"),
                    sumstats=output_path(GWAS, "sumstats", folder("gwas"),
                                         phenotype=f"BAG_{name.upper()}"),
                    bfile=ld, celltypes=co.celltypes, build=self.study.cohort.build,
                    ldsc_seg=s.enrich_ldsc_seg,
                    ld_cache=folder("cache") / "ldsc" if s.enrich_ldsc_seg else None),
                    [*ext[1:], *([] if self.study.simulate else co.celltypes)], [*up, "gwas"])
        return grm

    def closing(self, co: _Cohort, grm: Path) -> None:
        """The oracle's stages (simulated cohorts only) and the report over every stage."""
        from pipeline.oracle import oracle_stages
        from report.stages import ReportParams

        folder = self.folder
        if self.study.simulate is not None and self.runs("oracle") \
                and self.runs("oracle_features") and self.runs("features"):
            # ORACLE rows (simulated cohorts only; oracle_features is the one stage that
            # reads truth/, labelled), through ordinary stages on the h2 stage's GRM
            with_h2 = self.runs("h2")
            self.stages += oracle_stages(
                self.root / "simulate", self.root,
                output_path(FEATURES, "features", folder("features")),
                grm=str(grm) if with_h2 else None, probes=self.runs("probe"),
                deps=[*co.up, "features"],
                grm_deps=["h2"] if with_h2 else [])
        if self.runs("report"):
            deps = [x.name for x in self.stages if x.kind != "report"]
            self.add("report", "report", ReportParams(out=folder("report"), run=self.root),
                     [], deps)


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
    p = _Planner(study, study_dir, root)
    cohort = p.cohort()
    reps, rep_deps = p.representations(cohort)
    bag_names = p.phenotypes(cohort, reps, rep_deps)
    grm = p.genetics(cohort, reps, bag_names)
    p.closing(cohort, grm)
    unknown = [x.kind for x in p.stages if x.kind not in STAGE_ORDER]
    assert not unknown, unknown
    return p.stages
