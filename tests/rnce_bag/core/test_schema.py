import pandas as pd
import pytest

from rnce_bag.core.errors import SchemaError
from rnce_bag.core.schema import SCHEMAS, get_schema, read_table, validate_frame

COHORT = (
    "IID\tFID\tage\tsex\tsite\tdiagnosis\tamyloid\tconversion_years\tt1_path\tfreesurfer_dir\n"
    "s1\tf1\t61.5\tF\tA\tCN\tNA\t\timg/s1.nii.gz\tfs/s1\n"
    "s2\tf2\t70\tM\tB\tMCI\t1\t2.5\timg/s2.nii.gz\tfs/s2\n"
    "s3\tf3\t80.25\tF\tA\tAD\t1\tNA\timg/s3.nii.gz\tfs/s3\n"
)


def _cohort(tmp_path, text=COHORT, name="cohort.tsv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reads_and_types_cohort(tmp_path):
    df = read_table(_cohort(tmp_path), "cohort")
    assert list(df["IID"]) == ["s1", "s2", "s3"]
    assert df["age"].dtype == "float64" and df["age"].iloc[2] == 80.25
    assert str(df["amyloid"].dtype) == "Int64" and pd.isna(df["amyloid"].iloc[0])
    assert pd.isna(df["conversion_years"].iloc[0]) and df["conversion_years"].iloc[1] == 2.5


def test_csv_and_parquet_roundtrip(tmp_path):
    df = read_table(_cohort(tmp_path), "cohort")
    csv = tmp_path / "c.csv"
    df.to_csv(csv, index=False)
    assert read_table(csv, "cohort")["age"].tolist() == df["age"].tolist()
    pq = tmp_path / "c.parquet"
    df.to_parquet(pq)
    assert read_table(pq, "cohort")["IID"].tolist() == ["s1", "s2", "s3"]


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("s2\tf2\t70\t", "s1\tf2\t70\t", r"row 2 \(line 3\), column 'IID': duplicated value 's1' "
         r"\(first seen in row 1\)"),
        ("\t70\tM", "\tseventy\tM", r"row 2 \(line 3\), column 'age': expected a finite number, "
         r"found 'seventy'"),
        ("\t70\tM", "\tinf\tM", r"column 'age': expected a finite number"),
        ("\t70\tM", "\t\tM", r"row 2 \(line 3\), column 'age': missing value"),
        ("\tMCI\t", "\tSCD\t", r"column 'diagnosis': expected one of CN, MCI, AD, found 'SCD'"),
        ("\tMCI\t1\t", "\tMCI\t2\t", r"column 'amyloid': expected one of 0, 1"),
        ("\tMCI\t1\t", "\tMCI\t0.5\t", r"column 'amyloid': expected an integer"),
        ("\t70\tM", "\t170\tM", r"column 'age': expected a value in \[0, 130\]"),
    ],
)
def test_errors_name_file_column_row(tmp_path, old, new, match):
    p = _cohort(tmp_path, COHORT.replace(old, new, 1))
    with pytest.raises(SchemaError, match=match) as exc:
        read_table(p, "cohort")
    assert str(p) in str(exc.value) and exc.value.exit_code == 2


def test_missing_column_lists_found(tmp_path):
    p = _cohort(tmp_path, COHORT.replace("diagnosis", "dx"))
    with pytest.raises(SchemaError, match="missing required column.*diagnosis.*found columns: "
                       "IID, FID"):
        read_table(p, "cohort")


def test_optional_columns_may_be_absent(tmp_path):
    text = "\n".join("\t".join(line.split("\t")[:8]) for line in COHORT.splitlines()) + "\n"
    assert len(read_table(_cohort(tmp_path, text), "cohort")) == 3


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("IID\tFID\tage\tsex\tsite\tdiagnosis\tamyloid\tconversion_years\n", "no data rows"),
        ("IID\tIID\n1\t2\n", "column .IID. appears twice"),
    ],
)
def test_degenerate_files(tmp_path, text, match):
    with pytest.raises(SchemaError, match=match):
        read_table(_cohort(tmp_path, text), "cohort")


def test_missing_file(tmp_path):
    with pytest.raises(SchemaError, match="not found"):
        read_table(tmp_path / "nope.tsv", "cohort")


def test_pattern_columns_and_extra():
    df = pd.DataFrame({"IID": ["a", "b"], "z0": ["0.1", "0.2"], "z1": [1.0, 2.0]})
    out = validate_frame(df, "embeddings", source="emb.parquet")
    assert out["z0"].dtype == "float64"
    with pytest.raises(SchemaError, match="unexpected column 'age'"):
        validate_frame(df.assign(age=1.0), "embeddings")
    with pytest.raises(SchemaError, match="at least 1 column"):
        validate_frame(df[["IID"]], "embeddings")
    with pytest.raises(SchemaError, match=r"emb.parquet, row 2, column 'z1'"):
        validate_frame(df.assign(z1=[1.0, float("nan")]), "embeddings", source="emb.parquet")


def test_plink_pheno_keeps_minus9(tmp_path):
    p = tmp_path / "pheno.tsv"
    p.write_text("#FID\tIID\tBAG_FS\nf1\ts1\t-9\nf2\ts2\tNA\n")
    df = read_table(p, "gwas_pheno")
    assert df["BAG_FS"].iloc[0] == -9 and pd.isna(df["BAG_FS"].iloc[1])


def test_whitespace_separated(tmp_path):
    p = tmp_path / "pheno.txt"
    p.write_text("#FID IID BAG_FS\nf1 s1 0.5\n")
    assert read_table(p, "gwas_pheno")["BAG_FS"].iloc[0] == 0.5


def test_registry_covers_data_contracts():
    for name in ("cohort", "freesurfer_features", "embeddings", "brain_age", "gwas_pheno",
                 "gwas_covar", "sumstats", "heritability", "genetic_correlation", "loci",
                 "celltypes"):
        assert get_schema(name).name == name
    assert set(SCHEMAS) >= {"cohort", "sumstats"}
    with pytest.raises(KeyError, match="expected one of"):
        get_schema("nope")
