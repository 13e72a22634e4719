"""Orchestration of ``rnce-bag simulate``: one synthetic cohort with planted truth.

Output layout (``out/``)::

    cohort.tsv                          manifest (paths relative to out/)
    genotypes/cohort.{bed,bim,fam}      PLINK 1 binary, GRCh37, rsIDs, ~1% missing
    images/<IID>.nii.gz                 T1 in MNI152 space (unless images.write is false);
                                        with images.native.write, in a native scanner
                                        space, the MNI rendering in truth/images_mni/ and
                                        the transform in truth/native_transforms.tsv
    freesurfer/<IID>/stats/{aseg,lh.aparc,rh.aparc}.stats   FreeSurfer 7 format
    expression/celltype_specificity.tsv FUMA-format expression per cell type (a reference
                                        panel like FUMA's, not truth: which cell types
                                        the causal genes favour is in truth.json)
    truth/truth.json                    generative parameters and realised values
    truth/causal_variants.tsv           causal variants with effects
    truth/latent.tsv                    latent factors per subject
    run.json                            provenance

Everything is written into a hidden sibling folder first and moved into place at the
end, so an interrupted run leaves nothing that looks complete; a rerun starts again
from the seed and gives byte-identical files (run.json's timestamps aside).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnce_bag.core.config import dump_config
from rnce_bag.core.errors import InputError
from rnce_bag.core.io import ensure_writable_dir, write_table, write_text
from rnce_bag.core.outdir import check_removable, folder_lock, remove_leftover, remove_owned
from rnce_bag.core.outputs import output_path, write_output
from rnce_bag.core.provenance import RunRecord
from rnce_bag.resources import load_gene_table
from rnce_bag.simulate import anatomy, freesurfer, genotypes
from rnce_bag.simulate.celltypes import CELL_TYPES, TARGET_CELL_TYPES, specificity_table
from rnce_bag.simulate.cohort import disease_summary, simulate_cohort
from rnce_bag.simulate.config import SimulateConfig
from rnce_bag.simulate.families import (
    Pedigree,
    cohort_dosages,
    family_effect,
    family_summary,
    plan_families,
    relative_pairs,
)
from rnce_bag.simulate.genetics import choose_causal, genetic_value, white_matter_ageing
from rnce_bag.simulate.genome import AUTOSOMES, GRCH37_LENGTHS, PLANTED_LOCI, simulated_lengths
from rnce_bag.simulate.measures import (
    APARC_THICK_DISEASE,
    ASEG_DISEASE,
    THICK_DISEASE_OTHER,
    measured,
    reference_aparc,
    reference_aseg,
    true_anatomy,
    true_regions,
)

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
DISEASE_YEARS = 8.0
MANIFEST_COLUMNS = ["IID", "FID", "age", "sex", "site", "diagnosis", "amyloid",
                    "conversion_years", "followup_years", "clinical", "t1_path",
                    "freesurfer_dir"]
STREAMS = ("population", "cohort", "genotypes", "missing", "celltypes", "causal", "effects",
           "environment", "hidden", "anatomy", "freesurfer", "images", "sites",
           "wm_effects", "wm_environment", "families")  # appended: earlier streams keep
#                                                            their draws


def _streams(seed: int) -> dict[str, np.random.Generator]:
    seqs = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(STREAMS, seqs, strict=True)}


def _zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def _site_effects(n_sites: int, rng: np.random.Generator) -> pd.DataFrame:
    """Scanner characteristics per site: gain, contrast, bias field, noise."""
    return pd.DataFrame({
        "site": [f"site{k + 1}" for k in range(n_sites)],
        "gain": rng.uniform(0.8, 1.2, n_sites),
        "gamma": rng.uniform(0.85, 1.15, n_sites),
        "noise_factor": rng.uniform(0.7, 1.5, n_sites),
        "bias": [tuple(rng.normal(0, 0.08, 9)) for _ in range(n_sites)],
    })


def simulate(cfg: SimulateConfig, out: str | os.PathLike[str], progress: Progress | None = None,
             overwrite: bool = False) -> Path:
    """Simulate a cohort into ``out`` and return the path.

    Parameters
    ----------
    cfg
        Validated configuration (a preset or a user file).
    out
        Output directory; must be absent or empty unless ``overwrite``.
    progress
        ``progress(stage, done, total)`` callback.
    overwrite
        Replace an existing non-empty ``out``.

    Raises
    ------
    InputError
        If ``out`` is not writable, or holds files and ``overwrite`` is false.
    """
    out = Path(os.path.abspath(out))  # '..' is resolved here, never followed later
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not overwrite:
            raise InputError(f"output directory '{out}' already exists and is not empty",
                             hint="choose a new --out, or pass --overwrite to replace it")
        check_removable(out, "simulate")  # before any work: refuse what is not ours
    ensure_writable_dir(out.parent if out.parent != Path("") else Path("."))
    staging = out.parent / f".{out.name}.partial"
    remove_leftover(staging, "simulate")  # only a working folder of ours, never a link
    staging.mkdir(parents=True)
    try:
        with folder_lock(staging), RunRecord(staging, "simulate", config=dump_config(cfg),
                                             seeds={"seed": cfg.seed}, tools=(),
                                             owns_folder=True) as record:
            _simulate_into(cfg, staging, progress or (lambda *a: None))
            from rnce_bag.stages import SIMULATE

            for path in (output_path(SIMULATE, "manifest", staging),
                         Path(f"{output_path(SIMULATE, 'bfile', staging)}.bed"),
                         staging / "truth" / "truth.json"):
                record.add_output(path)
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        remove_owned(out, "simulate")
        os.replace(staging, out)
        # run.json records the staging paths; point them at the final folder
        run_json = out / "run.json"
        write_text(run_json, run_json.read_text().replace(str(staging), str(out)))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _simulate_into(cfg: SimulateConfig, out: Path, progress: Progress) -> None:
    rng = _streams(cfg.seed)
    n = cfg.cohort.n_subjects
    n_b = max(1, int(round(n * cfg.genotypes.fraction_pop_b)))
    n_a = n - n_b
    order = rng["population"].permutation(n)  # cohort row i is msprime individual order[i]
    pop = np.where(order < n_a, "A", "B")
    cohort = simulate_cohort(cfg.cohort, cfg.disease, pop, rng["cohort"])
    ped = None
    if cfg.families.fraction > 0:  # relatives: children of founders (rnce_bag.simulate.families)
        ped = plan_families(pop, cohort["clinical"].to_numpy() == 0, cohort["age"].to_numpy(),
                            cfg.families.fraction, dict(cfg.families.kinds), rng["families"])
    chroms, variants = _chromosomes(cfg, n, *((ped.n_founders_a, ped.n_founders_b) if ped
                                              else (n_a, n_b)), rng, progress)
    genes = load_gene_table("GRCh37")
    genes = genes[genes["chromosome"].isin(AUTOSOMES)].drop_duplicates("symbol")
    symbols = sorted(genes["symbol"].unique())
    spec_table, specific = specificity_table(symbols, rng["celltypes"])
    causal = choose_causal(variants, genes, specific, cfg.genetics, rng["causal"])
    causal_dos, missing_rate = _write_genotypes(cfg, out, chroms, variants, order, cohort,
                                                causal["row"].to_numpy(), rng, progress, ped)
    lat = _latents(cfg, cohort, pop, causal, causal_dos, rng, ped)
    anat = true_anatomy(lat.brain_age, lat.severity, cohort["eTIV"].to_numpy(),
                        rng["anatomy"])
    fs = measured(anat, rng["freesurfer"])
    _write_freesurfer(out, cohort, fs, rng["freesurfer"], progress)
    sites = _site_effects(cfg.cohort.n_sites, rng["sites"]).set_index("site")
    if cfg.images.write:
        _write_images(cfg, out, cohort, anat, lat.severity, lat.hidden, sites, rng["images"],
                      progress)
    _write_manifest(cfg, out, cohort, fs)
    from rnce_bag.stages import SIMULATE

    # the expression reference (input of enrichment, as FUMA's tables are), then truth
    (out / "expression").mkdir()
    write_output(SIMULATE, "celltypes", spec_table, out)
    tdir = out / "truth"
    tdir.mkdir(exist_ok=True)  # images.native puts its renderings there first
    cv = _causal_truth(cfg, variants, causal, causal_dos, lat)
    write_table(cv, tdir / "causal_variants.tsv")
    write_output(SIMULATE, "truth_latent", _latent_truth(cohort, pop, lat, anat), out)
    truth = _truth_record(cfg, n, len(variants), n_a, n_b, missing_rate, lat, cv, specific,
                          sites, cohort)
    if ped is not None:
        relatives = relative_pairs(ped, cohort["IID"].astype(str).to_numpy())
        write_output(SIMULATE, "truth_relatives", relatives, out)
        truth["families"] = family_summary(ped, relatives, cfg.families)
    write_text(tdir / "truth.json", json.dumps(truth, indent=2, sort_keys=False) + "\n")


def _chromosomes(cfg: SimulateConfig, n: int, n_a: int, n_b: int, rng: dict,
                 progress: Progress) -> tuple[list, pd.DataFrame]:
    """The coalescent per chromosome and the variant table (rsids, allele counts, MAF)."""
    done = [0]

    def chrom_done(_c: str) -> None:
        done[0] += 1
        progress("coalescent simulation", done[0], len(AUTOSOMES))

    chroms = genotypes.simulate_chromosomes(cfg.genotypes, n_a, n_b,
                                            int(rng["genotypes"].integers(2**31)), chrom_done)
    variants = pd.concat([c.variants for c in chroms], ignore_index=True)
    m = len(variants)
    rs_start = int(rng["genotypes"].integers(1_000_000, 5_000_000))
    variants.insert(1, "rsid", [f"rs{rs_start + 7 * i}" for i in range(m)])
    n_hap = 2 * (n_a + n_b)  # the founders' haplotypes (n_a + n_b = n without families)
    variants["maf"] = np.minimum(variants["a1_count"], n_hap - variants["a1_count"]) / n_hap
    return chroms, variants


def _write_genotypes(cfg: SimulateConfig, out: Path, chroms: list, variants: pd.DataFrame,
                     order: np.ndarray, cohort: pd.DataFrame, causal_rows: np.ndarray,
                     rng: dict, progress: Progress, ped: Pedigree | None = None
                     ) -> tuple[np.ndarray, float]:
    """One pass per chromosome: dosages -> ``genotypes/cohort.bed`` (with missing calls)
    and the causal variants' dosages (n, k); returns those and the missing-call rate.
    With a pedigree, children's dosages come from their parents' transmitted gametes."""
    from rnce_bag.simulate.plink import write_bed, write_bim, write_fam

    n, m = len(cohort), len(variants)
    var_rate, sample_mult = genotypes.missingness_model(m, n, cfg.genotypes.missing_rate,
                                                        rng["missing"])
    causal_dos = np.zeros((n, causal_rows.size), dtype=np.int8)
    missing_count = [0]

    def blocks():
        start = 0
        for k, ch in enumerate(chroms):
            if ped is None:
                dos = genotypes.dosages(ch.ts, order)
            else:
                pos = variants["position"].to_numpy()[start:start + ch.variants.shape[0]]
                dos = cohort_dosages(ch.ts.genotype_matrix(), ped, pos,
                                     GRCH37_LENGTHS[ch.chromosome], rng["families"])
            stop = start + dos.shape[0]
            sel = (causal_rows >= start) & (causal_rows < stop)
            causal_dos[:, sel] = dos[causal_rows[sel] - start].T
            block = genotypes.apply_missing(dos, var_rate[start:stop], sample_mult,
                                            rng["missing"])
            missing_count[0] += int((block < 0).sum())
            start = stop
            progress("writing genotypes", k + 1, len(chroms))
            yield block

    gdir = out / "genotypes"
    gdir.mkdir()
    write_bed(gdir / "cohort.bed", blocks())
    write_bim(gdir / "cohort.bim", variants["chromosome"], variants["rsid"], variants["cm"],
              variants["position"], variants["a1"], variants["a2"])
    write_fam(gdir / "cohort.fam", cohort["FID"], cohort["IID"], cohort["sex"])
    return causal_dos, missing_count[0] / (n * m)


@dataclass
class _Latent:
    """The planted latent factors per subject (n,) and the causal effects (k,)."""

    g: np.ndarray
    beta_std: np.ndarray
    beta_allele: np.ndarray
    e: np.ndarray
    latent: np.ndarray
    age: np.ndarray
    severity: np.ndarray
    brain_age: np.ndarray
    wm: dict
    wm_age: np.ndarray
    hidden: np.ndarray


def _latents(cfg: SimulateConfig, cohort: pd.DataFrame, pop: np.ndarray,
             causal: pd.DataFrame, causal_dos: np.ndarray, rng: dict,
             ped: Pedigree | None = None) -> _Latent:
    """Genetic value, environment and brain age; the image-only white-matter signal.
    With a pedigree and ``families.shared_environment`` (c2), c2 of the environment's
    variance is shared by a family's members."""
    n = len(cohort)
    h2 = cfg.genetics.h2
    g, beta_std, beta_allele = genetic_value(causal_dos, causal["variance"].to_numpy(), h2,
                                             rng["effects"])
    e = rng["environment"].normal(0, np.sqrt(1 - h2), n)
    c2 = cfg.families.shared_environment
    if ped is not None and c2 > 0:
        e = e * np.sqrt((1 - h2 - c2) / (1 - h2)) + family_effect(ped.family, c2,
                                                                  rng["families"])
    latent = g + e + cfg.genetics.pop_b_shift * (pop == "B")
    age = cohort["age"].to_numpy()
    severity = cohort["severity"].to_numpy()
    brain_age = age + cfg.cohort.brain_age_sd_years * latent + DISEASE_YEARS * severity
    wm = white_matter_ageing(causal_dos, causal["variance"].to_numpy(), g, cfg.genetics, rng)
    wm_age = (age + cfg.cohort.brain_age_sd_years * wm["wm_factor"]
              + cfg.disease.wm_disease_years * cohort["wm_pathology"].to_numpy()
              + cfg.genetics.wm_noise_years * rng["hidden"].normal(0, 1, n))
    hidden = _zscore(wm_age)  # the image's white-matter signal, SD units
    return _Latent(g, beta_std, beta_allele, e, latent, age, severity, brain_age, wm, wm_age,
                   hidden)


def _write_freesurfer(out: Path, cohort: pd.DataFrame, fs, fs_rng: np.random.Generator,
                      progress: Progress) -> None:
    """``freesurfer/<IID>/stats/{aseg,lh.aparc,rh.aparc}.stats`` per subject."""
    n = len(cohort)
    glob = freesurfer.global_measures(fs)
    for i, iid in enumerate(cohort["IID"]):
        stats = out / "freesurfer" / iid / "stats"
        stats.mkdir(parents=True)
        write_text(stats / "aseg.stats", freesurfer.render_aseg(iid, fs, glob.iloc[i], i, fs_rng))
        for hemi in ("lh", "rh"):
            write_text(stats / f"{hemi}.aparc.stats",
                       freesurfer.render_aparc(iid, hemi, fs, glob.iloc[i], i))
        if (i + 1) % 50 == 0 or i + 1 == n:
            progress("writing FreeSurfer stats", i + 1, n)


def _write_manifest(cfg: SimulateConfig, out: Path, cohort: pd.DataFrame, fs) -> None:
    from rnce_bag.stages import SIMULATE

    manifest = cohort.copy()
    manifest["eTIV"] = fs.etiv
    manifest["t1_path"] = [f"images/{i}.nii.gz" for i in manifest["IID"]] if cfg.images.write \
        else pd.NA
    manifest["freesurfer_dir"] = [f"freesurfer/{i}" for i in manifest["IID"]]
    write_output(SIMULATE, "manifest", manifest[MANIFEST_COLUMNS], out)


def _causal_truth(cfg: SimulateConfig, variants: pd.DataFrame, causal: pd.DataFrame,
                  causal_dos: np.ndarray, lat: _Latent) -> pd.DataFrame:
    """``truth/causal_variants.tsv``: each causal variant, its gene, category and effect."""
    cv = variants.loc[causal["row"].to_numpy(),
                      ["rsid", "chromosome", "position", "a1", "a2", "maf"]]
    cv = cv.reset_index(drop=True)
    cv.insert(0, "variant_id", cv["chromosome"] + ":" + cv["position"].astype(str) + ":"
              + cv["a2"] + ":" + cv["a1"])
    cv["a1_freq"] = causal_dos.mean(axis=0) / 2
    cv["gene"] = causal["gene"].to_numpy()
    cv["category"] = causal["category"].to_numpy()
    cv["variance_share"] = causal_dos.astype(float).std(axis=0) ** 2 * lat.beta_allele**2
    cv["beta_std"] = lat.beta_std
    cv["beta_a1"] = lat.beta_allele
    cv["beta_a1_years"] = lat.beta_allele * cfg.cohort.brain_age_sd_years
    return cv


def _latent_truth(cohort: pd.DataFrame, pop: np.ndarray, lat: _Latent, anat) -> pd.DataFrame:
    """``truth/latent.tsv``: every planted per-subject quantity."""
    wm = lat.wm
    return pd.DataFrame({
        "IID": cohort["IID"], "population": pop, "genetic_value": lat.g,
        "environment": lat.e, "latent_factor": lat.latent, "age": lat.age,
        "true_brain_age": lat.brain_age, "true_brain_age_gap": lat.brain_age - lat.age,
        "disease_severity": lat.severity, "hidden_signal": lat.hidden,
        "eTIV_true": anat.etiv,
        "wm_genetic_value": wm["wm_genetic_value"], "wm_environment": wm["wm_environment"],
        "wm_factor": wm["wm_factor"], "wm_pathology": cohort["wm_pathology"].to_numpy(),
        "wm_brain_age": lat.wm_age, "apoe4": cohort["apoe4"].to_numpy(),
        "wm_process": cohort["wm_process"].to_numpy(),
        "conversion_hazard": cohort["conversion_hazard"].to_numpy(),
        **true_regions(anat),
    })


def _truth_record(cfg: SimulateConfig, n: int, m: int, n_a: int, n_b: int,
                  missing_rate: float, lat: _Latent, cv: pd.DataFrame, specific: dict,
                  sites: pd.DataFrame, cohort: pd.DataFrame) -> dict:
    """``truth/truth.json``: the settings, the models as formulas and what was realised."""
    g, wm, h2 = lat.g, lat.wm, cfg.genetics.h2
    total = g + lat.e
    return {
        "seed": cfg.seed,
        "preset": cfg.preset,
        "config": dump_config(cfg),
        "n_subjects": n,
        "n_variants": m,
        "n_pop_a": n_a,
        "n_pop_b": n_b,
        "h2_target": h2,
        "h2_realised": float(np.var(g) / np.var(total)),
        "missing_call_rate": missing_rate,
        "brain_age_model": {
            "brain_age": "age + brain_age_sd_years * latent_factor + disease_years * severity",
            "brain_age_sd_years": cfg.cohort.brain_age_sd_years,
            "disease_years": DISEASE_YEARS,
            "latent_factor": "genetic_value + environment + pop_b_shift * [population == B]",
            "pop_b_shift": cfg.genetics.pop_b_shift,
            "hidden_signal": "zscore(wm_brain_age); in images only (white-matter intensity "
                             "and texture), not in FreeSurfer stats",
            "wm_brain_age": "age + brain_age_sd_years * wm_factor + wm_disease_years * "
                            "wm_pathology + wm_noise_years * noise",
            "wm_factor": "wm_genetic_value + wm_environment",
            "wm_genetic_value": "sqrt(h2_wm / h2) (rho_wm g + sqrt(1 - rho_wm^2) g2), g2 from "
                                "a second set of effects on the same causal variants, "
                                "orthogonal to g",
            "wm_disease_years": cfg.disease.wm_disease_years,
            "h2_wm": cfg.genetics.h2_wm,
            "rho_wm": cfg.genetics.rho_wm,
            "wm_noise_years": cfg.genetics.wm_noise_years,
        },
        "h2_wm_realised": float(np.var(wm["wm_genetic_value"]) / np.var(wm["wm_factor"])),
        "rg_wm_realised": float(np.corrcoef(g, wm["wm_genetic_value"])[0, 1])
        if cfg.genetics.h2_wm > 0 else None,
        "planted_loci": [
            {"locus": lo.name, "gene": lo.gene, "chromosome": lo.chromosome,
             "gene_start": lo.start, "gene_stop": lo.stop,
             "causal_variant": cv.loc[k, "rsid"], "position": int(cv.loc[k, "position"]),
             "maf": float(cv.loc[k, "maf"]),
             "variance_share": float(cv.loc[k, "variance_share"])}
            for k, lo in enumerate(PLANTED_LOCI)
        ],
        "celltypes": {"cell_types": list(CELL_TYPES), "enriched": list(TARGET_CELL_TYPES),
                      "n_specific_per_cell_type": len(specific[CELL_TYPES[0]]),
                      "causal_by_category": cv["category"].value_counts().sort_index()
                      .to_dict()},
        "genome": {"build": "GRCh37", "chromosome_lengths": GRCH37_LENGTHS,
                   "simulated_lengths": simulated_lengths(cfg.genotypes.simulated_mb),
                   "note": "positions are stretched from the simulated sequence onto GRCh37; "
                           "planted loci get a denser share (locus_sim_fraction)"},
        "sites": {s: {"gain": float(r.gain), "gamma": float(r.gamma),
                      "noise_factor": float(r.noise_factor)} for s, r in sites.iterrows()},
        "disease_model": {
            "parameters": dump_config(cfg.disease),
            "sources": "rnce_bag.simulate.config.DiseaseConfig (docstring and field "
                       "descriptions) and the preset's comments",
            "atrophy_log_change_per_stage": {"aseg": ASEG_DISEASE,
                                             "aparc_thickness": APARC_THICK_DISEASE,
                                             "aparc_thickness_other": THICK_DISEASE_OTHER},
            "realised": disease_summary(cohort),
        },
        "freesurfer": {"version": freesurfer.FS_VERSION,
                       "measurement_noise": {"volume_sd": 0.03, "thickness_sd": 0.02,
                                             "etiv_sd": 0.02}},
    }


def _write_images(cfg, out, cohort, anat, severity, hidden, sites, rng, progress) -> None:
    space = anatomy.load_template(cfg.images.resolution_mm, seed=cfg.seed)
    aseg = reference_aseg()
    names = aseg["StructName"].to_numpy()
    vent_cols = np.isin(names, ["Left-Lateral-Ventricle", "Right-Lateral-Ventricle",
                                "3rd-Ventricle"])
    ref_vent = aseg["Volume_mm3"].to_numpy()[vent_cols].sum()
    hl, hr = (np.flatnonzero(names == s)[0] for s in ("Left-Hippocampus", "Right-Hippocampus"))
    ref_h = aseg["Volume_mm3"].to_numpy()
    ref_thick = reference_aparc()["ThickAvg"].to_numpy()
    etiv_scale = anat.etiv / freesurfer.reference_anatomy().etiv[0]
    head = etiv_scale ** (1 / 3)
    subjects, paths = [], []
    (out / "images").mkdir()
    seeds = rng.integers(0, 2**31 - 1, len(cohort))
    for i, (iid, site) in enumerate(zip(cohort["IID"], cohort["site"], strict=True)):
        st = sites.loc[site]
        subjects.append(anatomy.SubjectImage(
            seed=int(seeds[i]),
            head_scale=float(head[i]),
            # ventricle and hippocampus changes beyond what head size explains
            ventricle_scale=float((anat.aseg_volume[i, vent_cols].sum() / ref_vent
                                   / etiv_scale[i]) ** (1 / 3)),
            hippocampus_scale=(float((anat.aseg_volume[i, hl] / ref_h[hl]
                                      / etiv_scale[i] ** 0.8) ** (1 / 3)),
                               float((anat.aseg_volume[i, hr] / ref_h[hr]
                                      / etiv_scale[i] ** 0.8) ** (1 / 3))),
            thinning=float(1 - np.mean(anat.aparc["ThickAvg"][i] / ref_thick)),
            temporal_thinning=float(0.1 * severity[i]),
            hidden=float(hidden[i]),
            site_gain=float(st.gain),
            site_gamma=float(st.gamma),
            site_bias=tuple(float(b) for b in st.bias),
            noise=float(cfg.images.noise * st.noise_factor),
            deformation_mm=float(cfg.images.deformation_mm),
            native=_native(cfg.images.native, int(seeds[i])),
        ))
        paths.append(str(out / "images" / f"{iid}.nii.gz"))
    count = [0]
    mni_paths = None
    if cfg.images.native.write:  # the MNI renderings and the true transforms are truth
        from rnce_bag.stages import SIMULATE

        (out / "truth" / "images_mni").mkdir(parents=True)
        mni_paths = [str(out / "truth" / "images_mni" / f"{i}.nii.gz") for i in cohort["IID"]]
        write_output(SIMULATE, "truth_native", native_table(cohort["IID"], subjects), out)

    def tick() -> None:
        count[0] += 1
        if count[0] % 10 == 0 or count[0] == len(paths):
            progress("rendering T1 images", count[0], len(paths))

    anatomy.render_all(space, subjects, paths, workers=cfg.images.workers, progress=tick,
                       mni_paths=mni_paths)


def _native(native, seed: int):
    """The subject's native head placement (None unless ``images.native.write``)."""
    if not native.write:
        return None
    return anatomy.native_space(seed, native.rotation_deg, native.translation_mm,
                                native.scale_sd, native.shear_sd, native.warp_mm)


def native_table(iids, subjects) -> pd.DataFrame:
    """``truth/native_transforms.tsv``: per subject the 3 x 4 native -> MNI matrix
    (``m<row><col>``, mm), the warp's SD and seed."""
    rows = []
    for iid, s in zip(iids, subjects, strict=True):
        m = np.asarray(s.native.matrix)
        rows.append({"IID": iid, **{f"m{r}{c}": float(m[r, c]) for r in range(3)
                                    for c in range(4)},
                     "warp_mm": s.native.warp_mm, "warp_seed": s.native.seed})
    return pd.DataFrame(rows)
