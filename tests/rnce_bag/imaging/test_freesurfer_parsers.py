"""FreeSurfer parsers on the real bert (FS 7.2) and fabian (FS 6) files: exact values."""

import pytest

from rnce_bag.core.errors import InputError
from rnce_bag.imaging.freesurfer import (
    aparc_features,
    parse_stats,
    read_stats_table,
    subject_features,
)


@pytest.fixture()
def bert(shared_dir):
    return shared_dir / "fixtures/freesurfer/bert/stats"


@pytest.fixture()
def fabian(shared_dir):
    return shared_dir / "fixtures/freesurfer/fabian/stats"


def test_bert_aseg_exact(bert):
    st = parse_stats(bert / "aseg.stats")
    assert st.measures["eTIV"].value == 1520021.264474
    assert st.measures["BrainSegVol"].value == 1218061.0
    assert st.fs_version == "7.2.0-beta" and st.header["subjectname"] == "bert"
    t = st.table.set_index("StructName")
    assert t.loc["Left-Lateral-Ventricle", "Volume_mm3"] == 7316.9
    assert t.loc["Left-Lateral-Ventricle", "NVoxels"] == 6943
    assert t.loc["Right-Hippocampus", "Volume_mm3"] == 4591.8
    assert t.loc["Left-Thalamus", "SegId"] == 10
    assert len(t) == 45


def test_bert_aparc_exact(bert):
    st = parse_stats(bert / "lh.aparc.stats")
    assert st.measures["MeanThickness"].value == 2.60273
    assert st.measures["WhiteSurfArea"].value == 84499.5
    feats = aparc_features(st)
    assert feats["aparc.lh.bankssts.thickness"] == 2.805
    assert feats["aparc.lh.bankssts.area"] == 821
    assert feats["aparc.lh.insula.volume"] == 7377
    assert feats["aparc.lh.superiorfrontal.thickness"] == 2.985
    assert feats["global.lh.MeanThickness"] == 2.60273


def test_bert_other_atlases_and_files(bert):
    a2009 = aparc_features(parse_stats(bert / "lh.aparc.a2009s.stats"), "aparc.a2009s")
    assert a2009["aparc.a2009s.lh.G_and_S_frontomargin.thickness"] == 2.501
    dkt = aparc_features(parse_stats(bert / "rh.aparc.DKTatlas.stats"), "aparc.DKTatlas")
    assert sum(k.endswith(".thickness") for k in dkt) == 31
    assert len(parse_stats(bert / "wmparc.stats").table) == 70
    brainvol = parse_stats(bert / "brainvol.stats")
    assert brainvol.measures["SubCortGrayVol"].value == 61020.0 and brainvol.table.empty


def test_fabian_fs6_missing_comma(fabian):
    st = parse_stats(fabian / "lh.aparc.stats")
    cortex = st.measures["CortexVol"]
    assert cortex.value == 553998.311189 and cortex.description == (
        "Total cortical gray matter volume") and cortex.units == "mm^3"
    assert st.measures["eTIV"].value == 1670487.274486
    assert st.measures["MeanThickness"].value == 2.50461
    assert aparc_features(st)["aparc.lh.bankssts.thickness"] == 2.657
    assert st.fs_version.startswith("$Id: mris_anatomical_stats.c")


def test_subject_features_bert(bert):
    feats, info = subject_features(bert, ("aparc", "aparc.a2009s", "aparc.DKTatlas"))
    assert feats["eTIV"] == 1520021.264474
    assert feats["aseg.Left-Hippocampus.volume"] == 4422.1
    assert feats["aparc.rh.insula.thickness"] == pytest.approx(float(
        [ln.split()[4] for ln in (bert / "rh.aparc.stats").read_text().splitlines()
         if ln.startswith("insula")][0]))
    assert not any("Holes" in k for k in feats) and "global.eTIV" not in feats
    assert info["fs_version"] == "7.2.0-beta"


def test_thalamus_proper_renamed(tmp_path, bert):
    text = (bert / "aseg.stats").read_text().replace("Left-Thalamus ", "Left-Thalamus-Proper ")
    (tmp_path / "aseg.stats").write_text(text)
    t = parse_stats(tmp_path / "aseg.stats").table
    assert "Left-Thalamus" in set(t["StructName"]) and "Left-Thalamus-Proper" not in set(
        t["StructName"])


def test_volume_not_nvoxels_for_submm(tmp_path, bert):
    # 0.8 mm voxels: a structure of 4422.1 mm^3 has 8637 voxels; use Volume_mm3
    for f in ("aseg.stats", "lh.aparc.stats", "rh.aparc.stats"):
        (tmp_path / f).write_text((bert / f).read_text())
    p = tmp_path / "aseg.stats"
    p.write_text(p.read_text().replace("     4508     4422.1", "     8637     4422.1")
                 .replace("# VoxelVolume_mm3 1 ", "# VoxelVolume_mm3 0.512 "))
    assert parse_stats(p).table.set_index("StructName").loc["Left-Hippocampus", "NVoxels"] == 8637
    feats, _ = subject_features(tmp_path)
    assert feats["aseg.Left-Hippocampus.volume"] == 4422.1


@pytest.mark.parametrize(("edit", "match"), [
    (lambda t: t.replace("# ColHeaders", "# Nothing"), "before any '# ColHeaders'"),
    (lambda t: t + "  46 999  12\n", r"line 125: expected 10 fields"),
    (lambda t: t.replace("  1   4      6943     7316.9", "  1   4      6943     73x6.9"),
     "column 'Volume_mm3' is not a number"),
    (lambda t: t.replace("# Measure BrainSeg, BrainSegVol, Brain Segmentation Volume, "
                         "1218061.000000, mm^3", "# Measure BrainSeg"), "malformed '# Measure'"),
    (lambda t: "", "no '# ColHeaders'"),
])
def test_malformed_files(tmp_path, bert, edit, match):
    p = tmp_path / "aseg.stats"
    p.write_text(edit((bert / "aseg.stats").read_text()))
    with pytest.raises(InputError, match=match) as exc:
        parse_stats(p)
    assert str(p) in str(exc.value) and exc.value.exit_code == 2


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        parse_stats(tmp_path / "aseg.stats")


def test_stats2table_outputs(tmp_path):
    aseg = tmp_path / "aseg.tsv"
    aseg.write_text("Measure:volume\tLeft-Lateral-Ventricle\tLeft-Thalamus-Proper\tBrainSegVol\t"
                    "EstimatedTotalIntraCranialVol\nbert\t7316.9\t8066.3\t1218061\t1520021.26\n")
    a = read_stats_table(aseg)
    assert a.loc[0, "aseg.Left-Thalamus.volume"] == 8066.3
    assert a.loc[0, "eTIV"] == 1520021.26 and a.loc[0, "global.BrainSegVol"] == 1218061
    aparc = tmp_path / "lh.tsv"
    aparc.write_text("lh.aparc.thickness\tlh_bankssts_thickness\tlh_MeanThickness_thickness\t"
                     "BrainSegVolNotVent\teTIV\nbert\t2.805\t2.60273\t1199378\t1520021.26\n")
    b = read_stats_table(aparc)
    assert b.loc[0, "aparc.lh.bankssts.thickness"] == 2.805
    assert b.loc[0, "global.lh.MeanThickness"] == 2.60273 and b.loc[0, "IID"] == "bert"
    bad = tmp_path / "bad.tsv"
    bad.write_text("foo\tbar\n1\t2\n")
    with pytest.raises(InputError, match="not an asegstats2table"):
        read_stats_table(bad)
