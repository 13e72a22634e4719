"""The genotype source of a GWAS: one of a PLINK 1 fileset, BGEN + .sample or VCF, as one
file or one per chromosome, with the checks every engine relies on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gwas.genotype_files import (
    AUTOSOMES,
    BFILE_SUFFIXES,
    PLACEHOLDER,
    expand,
    genotype_paths,
    is_template,
)
from gwas.plink_io import open_bed, read_fam
from rnce_bag.core.errors import InputError


@dataclass
class GenotypeInput:
    """One of ``bfile`` (prefix), ``bgen`` + ``sample``, or ``vcf``.

    Each may be a per-chromosome template (``geno/chr{chrom}``): :meth:`per_file` expands
    it to one input per chromosome file, which the engines analyse together.
    """

    bfile: str | None = None
    bgen: str | None = None
    sample: str | None = None
    vcf: str | None = None

    def check(self) -> None:
        given = [x for x in (self.bfile, self.bgen, self.vcf) if x]
        if len(given) != 1:
            raise InputError("give exactly one of --bfile, --bgen (with --sample) or --vcf")
        if self.bgen and not self.sample:
            raise InputError("--bgen needs --sample (the .sample file)")
        for f in genotype_paths(self.bfile, self.bgen, self.sample, self.vcf):
            if not f.is_file():
                raise InputError(f"genotype file '{f}' not found")
            if self.vcf and f.suffix in (".gz", ".bgz"):
                with open(f, "rb") as fh:
                    if fh.read(2) != b"\x1f\x8b":
                        raise InputError(f"--vcf '{f}' is named {f.suffix} but is not gzip "
                                         "(BGZF) compressed",
                                         hint="compress it with 'bgzip', or drop the suffix "
                                              "if it is plain text")
        if self.bfile:  # .bed size against .bim x .fam, magic bytes, .bim fields, same .fam
            open_bed(self.bfile)
            return
        if self.bgen:  # the IDs a BGEN stores must be the .sample file's, in its order
            for part in self.per_file():
                _check_bgen_samples(part.bgen, part.sample, part.samples())
        if self.split:
            parts = self.per_file()
            first = parts[0].samples()
            for part in parts[1:]:
                ids = part.samples()
                if len(ids) != len(first) or not (ids["IID"].to_numpy()
                                                  == first["IID"].to_numpy()).all():
                    raise InputError(f"{part.bgen or part.vcf}: the samples (or their order) "
                                     f"differ from {parts[0].bgen or parts[0].vcf}",
                                     hint="per-chromosome files must hold the same samples "
                                          "in the same order")

    @property
    def split(self) -> bool:
        """Whether the genotypes come as one file per chromosome."""
        return any(is_template(x) for x in (self.bfile, self.bgen, self.vcf))

    def files(self) -> list[Path]:
        """Every file of this genotype source (templates expanded)."""
        return genotype_paths(self.bfile, self.bgen, self.sample, self.vcf)

    def per_file(self, autosomes: bool = False) -> list[GenotypeInput]:
        """One input per chromosome file (the input itself if it is one file); with
        ``autosomes``, the files of chromosomes 1-22 only (what the association tests)."""
        main = self.bfile or self.bgen or self.vcf
        if not is_template(main):
            return [self]
        suffixes = BFILE_SUFFIXES if self.bfile else ("",)
        option = "--bfile" if self.bfile else "--bgen" if self.bgen else "--vcf"
        files = expand(str(main), suffixes, option)
        parts = []
        for chrom, path in files.files:
            if autosomes and chrom not in AUTOSOMES:
                continue
            sample = self.sample.replace(PLACEHOLDER, chrom) if self.sample else None
            parts.append(GenotypeInput(path if self.bfile else None,
                                       path if self.bgen else None, sample,
                                       path if self.vcf else None))
        return parts

    def missing_autosomes(self) -> list[str]:
        """Autosomes a per-chromosome template has no file for."""
        main = self.bfile or self.bgen or self.vcf
        if not is_template(main):
            return []
        suffixes = BFILE_SUFFIXES if self.bfile else ("",)
        return list(expand(str(main), suffixes).missing_autosomes)

    def samples(self) -> pd.DataFrame:
        """``FID IID`` of the genotyped samples, in file order."""
        if self.split:
            return self.per_file()[0].samples()
        if self.bfile:
            return read_fam(self.bfile)[["FID", "IID"]]
        if self.bgen:
            return read_oxford_sample(self.sample)
        import gzip
        import zlib

        opener = gzip.open if str(self.vcf).endswith((".gz", ".bgz")) else open
        try:
            with opener(self.vcf, "rt") as fh:
                for line in fh:
                    if line.startswith("#CHROM"):
                        ids = line.rstrip("\n").split("\t")[9:]
                        return pd.DataFrame({"FID": ids, "IID": ids})
                    if not line.startswith("#"):
                        break
        except (EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
            raise InputError(f"--vcf '{self.vcf}': its header cannot be read ({exc})",
                             hint="check that the file is a complete VCF") from None
        raise InputError(f"--vcf '{self.vcf}': no #CHROM header line before the first record",
                         hint="a VCF names its samples on the '#CHROM POS ID ...' line")


def read_oxford_sample(path: str | os.PathLike[str]) -> pd.DataFrame:
    """``FID IID`` of an Oxford ``.sample`` file (header line, type line, then ``ID_1
    [ID_2 ...]`` per sample; IID is ``ID_2`` when present), read through the guarded
    text reader (encodings, compression, empty files: exit 2 naming the line)."""
    from rnce_bag.core.textfile import read_text_file

    lines = [ln.split() for ln in read_text_file(path, "--sample file").splitlines()
             if ln.strip()]
    if len(lines) < 3 or not lines[0] or lines[0][0] != "ID_1":
        raise InputError(f"--sample file '{path}': not an Oxford .sample file (a header "
                         "'ID_1 ...', a type line '0 ...', then one line per sample)")
    two = len(lines[0]) > 1 and lines[0][1] == "ID_2"
    short = next((i for i, f in enumerate(lines[2:], start=3) if two and len(f) < 2), None)
    if short is not None:
        raise InputError(f"--sample file '{path}', line {short}: no ID_2 field")
    return pd.DataFrame({"FID": [f[0] for f in lines[2:]],
                         "IID": [f[1] if two else f[0] for f in lines[2:]]}, dtype=object)


def _check_bgen_samples(bgen: str | None, sample: str | None, listed: pd.DataFrame) -> None:
    """The IDs stored in ``bgen`` (if any) equal the ``.sample`` file's, in order."""
    from gwas.genotype_files import bgen_sample_ids

    stored = bgen_sample_ids(bgen)
    if stored is None:
        return
    if len(stored) != len(listed):
        raise InputError(f"{bgen} stores {len(stored)} samples; --sample {sample} lists "
                         f"{len(listed)}", hint="give the .sample file written with this BGEN")
    for column in ("IID", "FID"):
        if list(listed[column].astype(str)) == stored:
            return
    iid = listed["IID"].astype(str).tolist()
    i = next(k for k, (a, b) in enumerate(zip(stored, iid, strict=True)) if a != b)
    raise InputError(f"{bgen}: sample {i + 1} stored in the BGEN is {stored[i]!r}, but line "
                     f"{i + 3} of --sample {sample} names {iid[i]!r}; the genotypes would go "
                     "to the wrong people",
                     hint="give the .sample file written with this BGEN (per-chromosome "
                          "files with different sample orders need one .sample each: "
                          "--sample 'chr{chrom}.sample')")
