"""Which genome build summary statistics are on, from positions alone.

Two kinds of evidence, both bundled (nothing is downloaded):

- well-known SNPs (APOE, HBB, LCT, FTO, TCF7L2, MTHFR, F5, TP53) by rsID at their
  GRCh37 and GRCh38 positions (dbSNP);
- chromosome lengths: a variant past the end of a chromosome in one build but not
  in the other.

:func:`check_build` raises :class:`InputError` (exit 2) when the evidence contradicts
the build the user declared; with no evidence either way it accepts the declaration.
Known SNPs outweigh chromosome lengths (a variant near a chromosome end can be an
artefact; a named SNP at its exact position is not).
"""

from __future__ import annotations

import pandas as pd

from rnce_bag.core.errors import InputError

BUILDS = ("GRCh37", "GRCh38")

# rsid -> (chromosome, GRCh37 position, GRCh38 position)
KNOWN_SNPS: dict[str, tuple[str, int, int]] = {
    "rs429358": ("19", 45411941, 44908684),  # APOE e4
    "rs7412": ("19", 45412079, 44908822),  # APOE e2
    "rs334": ("11", 5248232, 5227002),  # HBB sickle
    "rs4988235": ("2", 136608646, 135851076),  # LCT/MCM6
    "rs9939609": ("16", 53820527, 53786615),  # FTO
    "rs7903146": ("10", 114758349, 112998590),  # TCF7L2
    "rs1801133": ("1", 11856378, 11796321),  # MTHFR C677T
    "rs6025": ("1", 169519049, 169549811),  # F5 Leiden
    "rs1042522": ("17", 7579472, 7676154),  # TP53 P72R
}

CHROM_LENGTHS: dict[str, dict[str, int]] = {
    "GRCh37": {"1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276,
               "5": 180915260, "6": 171115067, "7": 159138663, "8": 146364022,
               "9": 141213431, "10": 135534747, "11": 135006516, "12": 133851895,
               "13": 115169878, "14": 107349540, "15": 102531392, "16": 90354753,
               "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520,
               "21": 48129895, "22": 51304566, "X": 155270560},
    "GRCh38": {"1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555,
               "5": 181538259, "6": 170805979, "7": 159345973, "8": 145138636,
               "9": 138394717, "10": 133797422, "11": 135086622, "12": 133275309,
               "13": 114364328, "14": 107043718, "15": 101991189, "16": 90338345,
               "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
               "21": 46709983, "22": 50818468, "X": 156040895},
}


def build_evidence(ssf: pd.DataFrame) -> dict[str, list[str]]:
    """Evidence for each build: ``{"GRCh37": [reasons], "GRCh38": [reasons]}``.

    Known-SNP reasons come first in each list and start with ``rs``.

    Parameters
    ----------
    ssf : DataFrame
        Columns ``chromosome``, ``base_pair_location`` and optionally ``rsid``.
    """
    out: dict[str, list[str]] = {b: [] for b in BUILDS}
    chrom = ssf["chromosome"].astype(str).str.replace("chr", "", regex=False)
    pos = pd.to_numeric(ssf["base_pair_location"], errors="coerce")
    if "rsid" in ssf.columns:
        ids = ssf["rsid"].astype(str)
        for rsid, (c, p37, p38) in KNOWN_SNPS.items():
            hit = (ids == rsid).to_numpy()
            if not hit.any():
                continue
            c_hit, p_hit = chrom[hit].iloc[0], int(pos[hit].iloc[0])
            if c_hit == c and p_hit == p37:
                out["GRCh37"].append(f"{rsid} at {c}:{p37} (its GRCh37 position)")
            elif c_hit == c and p_hit == p38:
                out["GRCh38"].append(f"{rsid} at {c}:{p38} (its GRCh38 position)")
    top = pd.DataFrame({"c": chrom, "p": pos}).groupby("c")["p"].max()
    for c, p in top.items():
        lengths = {b: CHROM_LENGTHS[b].get(str(c)) for b in BUILDS}
        if None in lengths.values() or pd.isna(p):
            continue
        for b, other in (("GRCh37", "GRCh38"), ("GRCh38", "GRCh37")):
            if p > lengths[other] and p <= lengths[b]:
                out[b].append(f"chromosome {c} position {int(p):,} lies past its end in "
                              f"{other} ({lengths[other]:,} bp)")
    return out


def check_build(ssf: pd.DataFrame, build: str, source: str) -> dict[str, list[str]]:
    """Raise :class:`InputError` when ``ssf`` looks like the other build than ``build``."""
    if build not in BUILDS:
        raise InputError(f"--build {build!r}: expected one of {', '.join(BUILDS)}")
    ev = build_evidence(ssf)
    other = BUILDS[1 - BUILDS.index(build)]
    snps = {b: [r for r in ev[b] if r.startswith("rs")] for b in BUILDS}
    if snps[build] or snps[other]:
        wrong = len(snps[other]) > len(snps[build])
    else:
        wrong = bool(ev[other]) and not ev[build]
    if wrong:
        raise InputError(
            f"{source}: the summary statistics look like {other}, not {build}: "
            + "; ".join(ev[other][:3]),
            hint=f"pass --build {other}, or lift the positions over to {build} first")
    return ev
