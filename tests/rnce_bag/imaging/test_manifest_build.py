"""``rnce-bag manifest``: cohort.tsv from a FreeSurfer SUBJECTS_DIR and a BIDS dataset laid
out as users have them (sessions, several runs, subjects in one source only, FreeSurfer's
own template subjects), and what is missing listed per subject."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from cli.main import app


def _layout(tiny_sim, root):
    """SUBJECTS_DIR with 4 subjects + fsaverage; BIDS with 4 subjects (3 shared), one with
    two sessions, one with two T1w runs."""
    cohort = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t").head(5)
    iids = list(cohort["IID"])
    subjects_dir, bids = root / "subjects", root / "bids"
    for iid in iids[:4]:
        shutil.copytree(tiny_sim / "freesurfer" / iid, subjects_dir / iid)
    (subjects_dir / iids[0] / "mri").mkdir()
    (subjects_dir / iids[0] / "mri" / "brainmask.mgz").write_bytes(b"")
    (subjects_dir / "fsaverage" / "mri").mkdir(parents=True)
    (subjects_dir / iids[3] / "stats" / "lh.aparc.stats").unlink()
    for k, iid in enumerate([iids[0], iids[1], iids[2], iids[4]]):
        sessions = ["ses-2", "ses-1"] if k == 1 else [None]
        for ses in sessions:
            anat = bids / iid / (ses or "") / "anat"
            anat.mkdir(parents=True)
            runs = ["_run-2", "_run-1"] if k == 2 else [""]
            for run in runs:
                name = f"{iid}{'_' + ses if ses else ''}{run}_T1w.nii.gz"
                shutil.copyfile(tiny_sim / "images" / f"{iid}.nii.gz", anat / name)
    pd.DataFrame({"participant_id": [iids[0], iids[1], iids[2], iids[4]],
                  "age": [70.5, 64, "n/a", 80], "sex": ["F", "male", "M", "x"]}).to_csv(
        bids / "participants.tsv", sep="\t", index=False)
    return subjects_dir, bids, iids


def test_manifest_from_subjects_dir_and_bids(tiny_sim, tmp_path, runner):
    subjects_dir, bids, iids = _layout(tiny_sim, tmp_path)
    res = runner.invoke(app, ["manifest", "--subjects-dir", str(subjects_dir), "--bids",
                              str(bids), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "out" / "cohort.tsv", sep="\t", keep_default_na=False)
    table = table.set_index("IID")
    assert sorted(table.index) == sorted(iids)  # fsaverage is not a subject
    first, second, third, fourth, fifth = (table.loc[i] for i in iids)
    assert first["missing"] == "" and first["sex"] == "F" and float(first["age"]) == 70.5
    assert second["session"] == "1" and "ses-1" in second["t1_path"]  # sorted: ses-1 first
    assert second["sex"] == "M" and "brainmask" in second["missing"].split(",")
    assert "run-1" in third["t1_path"] and "age" in third["missing"].split(",")
    assert set(fourth["missing"].split(",")) >= {"t1", "aparc_stats", "age", "sex"}
    assert fourth["t1_path"] == "NA"  # no BIDS T1, no mri/orig.mgz
    assert set(fifth["missing"].split(",")) >= {"freesurfer_dir", "sex"}  # sex 'x'
    report = json.loads((tmp_path / "out" / "manifest_report.json").read_text())
    assert report["only_freesurfer"] == [iids[3].removeprefix("sub-")]
    assert report["only_bids"] == [iids[4].removeprefix("sub-")]
    assert "2 sessions, took ses-1" in report["choices"][iids[1]]
    assert report["n_complete"] == 1


def test_manifest_session_choice_and_freesurfer_t1(tiny_sim, tmp_path, runner):
    """--session picks a session; without BIDS the T1 is FreeSurfer's mri/orig.mgz."""
    subjects_dir, bids, iids = _layout(tiny_sim, tmp_path)
    res = runner.invoke(app, ["manifest", "--bids", str(bids), "--session", "2", "--out",
                              str(tmp_path / "s2")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "s2" / "cohort.tsv", sep="\t", keep_default_na=False)
    row = table.set_index("IID").loc[iids[1]]
    assert row["session"] == "2" and "ses-2" in row["t1_path"]
    assert table.set_index("IID").loc[iids[0], "t1_path"] == "NA"  # no session 2
    orig = subjects_dir / iids[1] / "mri"
    orig.mkdir()
    shutil.copyfile(tiny_sim / "images" / f"{iids[1]}.nii.gz", orig / "orig.mgz")
    res = runner.invoke(app, ["manifest", "--subjects-dir", str(subjects_dir), "--out",
                              str(tmp_path / "fs")])
    assert res.exit_code == 2 and "orig.mgz" in res.output  # a NIfTI named .mgz: refused
    (orig / "orig.mgz").unlink()
    import nibabel as nib

    img = nib.load(tiny_sim / "images" / f"{iids[1]}.nii.gz")
    nib.save(nib.MGHImage(img.get_fdata().astype("float32"), img.affine), orig / "orig.mgz")
    res = runner.invoke(app, ["manifest", "--subjects-dir", str(subjects_dir), "--out",
                              str(tmp_path / "fs")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "fs" / "cohort.tsv", sep="\t", keep_default_na=False)
    assert table.set_index("IID").loc[iids[1], "t1_path"].endswith("mri/orig.mgz")


def test_manifest_refuses_bad_sources(tmp_path, runner):
    res = runner.invoke(app, ["manifest", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--subjects-dir" in res.output
    res = runner.invoke(app, ["manifest", "--bids", str(tmp_path / "nowhere"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "not a folder" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(app, ["manifest", "--subjects-dir", str(tmp_path / "empty"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "no subject found" in res.output
    assert not (tmp_path / "o").exists()  # nothing half-written
