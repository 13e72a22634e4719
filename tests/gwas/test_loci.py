import numpy as np
import pandas as pd

from gwas.loci import annotate_genes, clump
from gwas.plink_io import BedReader
from rnce_bag.simulate.plink import write_bed, write_bim, write_fam


def test_clump_groups_ld_and_separates_independent(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    base = rng.integers(0, 3, n)
    g = np.vstack([base, base, rng.integers(0, 3, n), base]).astype(np.int8)
    g[1, :20] = rng.integers(0, 3, 20)  # near-copy of variant 0 (r2 ~ 0.9)
    prefix = tmp_path / "t"
    write_bed(f"{prefix}.bed", [g])
    write_bim(f"{prefix}.bim", ["17"] * 4, ["rs0", "rs1", "rs2", "rs3"], [0] * 4,
              [44_000_000, 44_010_000, 44_020_000, 46_000_000], ["A"] * 4, ["G"] * 4)
    write_fam(f"{prefix}.fam", [f"s{i}" for i in range(n)], [f"s{i}" for i in range(n)],
              ["M"] * n)
    ssf = pd.DataFrame({"chromosome": "17", "base_pair_location": [44_000_000, 44_010_000,
                                                                   44_020_000, 46_000_000],
                        "rsid": ["rs0", "rs1", "rs2", "rs3"], "variant_id": ["a", "b", "c", "d"],
                        "p_value": [1e-20, 1e-15, 1e-9, 1e-12]})
    loci = clump(ssf, BedReader(prefix))
    # rs0 leads and takes rs1 (LD); rs2 is independent; rs3 is > 500 kb away
    assert loci["lead_variant"].tolist() == ["rs0", "rs3", "rs2"]
    assert loci.loc[0, "n_variants"] == 2 and loci.loc[0, "end"] == 44_010_000
    genes = annotate_genes(loci)
    assert "MAPT" in genes.loc[0, "genes"].split(",") and genes.loc[0, "nearest_gene"] == "MAPT"


def test_irag1_not_mrvi1():
    loci = pd.DataFrame({"locus_id": ["l1"], "lead_variant": ["rs"], "chromosome": ["11"],
                         "position": [10_650_000], "p_value": [1e-10], "start": [10_640_000],
                         "end": [10_660_000], "n_variants": [1]})
    out = annotate_genes(loci)
    assert out.loc[0, "nearest_gene"] == "IRAG1" and "MRVI1" not in out.loc[0, "genes"]
    from rnce_bag.resources import load_gene_table

    g38 = load_gene_table("GRCh38").set_index("symbol").loc["IRAG1"]
    mid = int((g38["start"] + g38["stop"]) // 2)
    l38 = loci.assign(position=mid, start=mid, end=mid)
    assert annotate_genes(l38, build="GRCh38").loc[0, "nearest_gene"] == "IRAG1"
