"""``rnce-bag register``: ANTs registration of native-space T1s to MNI152, against the
simulator's planted transforms (truth, for this test only) and on real images that ship
in nibabel and nilearn; the cache, the resume and a failing subject."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from cli.main import app
from rnce_bag.imaging.registration import dice, masked_correlation, template, to_ants

ants = pytest.importorskip("ants", reason="needs antspyx: make setup installs it")


def test_to_ants_puts_voxels_where_itk_reads_them(tmp_path):
    """An oblique image converted in memory equals ITK reading the NIfTI file."""
    from scipy.spatial.transform import Rotation

    affine = np.eye(4)
    affine[:3, :3] = Rotation.from_euler("xyz", [10, -20, 95], degrees=True).as_matrix() \
        @ np.diag([1.2, 0.9, 1.5])
    affine[:3, 3] = [30, -40, 12]
    data = np.random.default_rng(0).random((7, 8, 9)).astype(np.float32)
    nib.save(nib.Nifti1Image(data, affine), tmp_path / "x.nii.gz")
    read, ours = ants.image_read(str(tmp_path / "x.nii.gz")), to_ants(data, affine)
    assert np.allclose(read.origin, ours.origin, atol=1e-4)
    assert np.allclose(read.spacing, ours.spacing, atol=1e-5)
    assert np.allclose(read.direction, ours.direction, atol=1e-5)
    assert np.array_equal(read.numpy(), ours.numpy())


def test_dice_and_masked_correlation():
    a = np.zeros((4, 4, 4), bool)
    a[:2] = True
    b = np.zeros_like(a)
    b[1:3] = True
    assert dice(a, b) == pytest.approx(0.5)
    assert dice(a, a) == 1.0
    x = np.random.default_rng(1).random(a.shape)
    assert masked_correlation(x, 2 * x + 1, a) == pytest.approx(1.0)
    assert masked_correlation(x, -x, a) == pytest.approx(-1.0)


@pytest.fixture(scope="module")
def native_sim(tmp_path_factory):
    """20 subjects (the simulator's minimum) whose T1s are written in a native scanner
    space (4 mm)."""
    from rnce_bag.simulate.config import SimulateConfig
    from rnce_bag.simulate.run import simulate

    out = tmp_path_factory.mktemp("native") / "sim"
    simulate(SimulateConfig.model_validate({
        "cohort": {"n_subjects": 20},
        "genotypes": {"n_variants": 2000, "simulated_mb": 4.0},
        "images": {"resolution_mm": 4, "workers": 2, "native": {"write": True}}}), out)
    return out


def test_native_images_hold_the_planted_transform(native_sim):
    truth = pd.read_csv(native_sim / "truth" / "native_transforms.tsv", sep="\t")
    cohort = pd.read_csv(native_sim / "cohort.tsv", sep="\t")
    assert list(truth["IID"]) == list(cohort["IID"]) and len(truth) == 20
    m = truth[[f"m{r}{c}" for r in range(3) for c in range(3)]].to_numpy().reshape(-1, 3, 3)
    assert not np.allclose(m, np.eye(3))  # moved, and no more than a head tilt
    assert np.all(np.abs(np.linalg.det(m) - 1) < 0.3)
    iid = cohort["IID"].iloc[0]
    native = nib.load(native_sim / "images" / f"{iid}.nii.gz")
    mni = nib.load(native_sim / "truth" / "images_mni" / f"{iid}.nii.gz")
    assert native.header.get_sform(coded=True)[1] == 1  # scanner space, not MNI
    assert native.shape != mni.shape
    # the native voxel at x shows the MNI rendering at matrix @ x (warp aside): compare the
    # brain's centre of mass
    mat = np.eye(4)
    mat[:3, :] = truth.iloc[0][[f"m{r}{c}" for r in range(3) for c in range(4)]] \
        .to_numpy(float).reshape(3, 4)

    def centre(img):
        d = np.asarray(img.dataobj, float)
        ijk = np.array(np.nonzero(d > 0.3 * d.max())).mean(axis=1)
        return img.affine[:3, :3] @ ijk + img.affine[:3, 3]

    moved = mat[:3, :3] @ centre(native) + mat[:3, 3]
    assert np.linalg.norm(moved - centre(mni)) < 6  # mm, at 4 mm voxels


def test_register_recovers_the_mni_images(native_sim, tmp_path, runner):
    """Affine registration of the native images: each registered image matches the
    subject's MNI rendering (truth) and the template's brain mask; a rerun comes from the
    cache byte for byte; a damaged image fails alone."""
    manifest = pd.read_csv(native_sim / "cohort.tsv", sep="\t").head(6)
    manifest["t1_path"] = [str(native_sim / p) for p in manifest["t1_path"]]
    manifest["freesurfer_dir"] = [str(native_sim / p) for p in manifest["freesurfer_dir"]]
    bad = tmp_path / "damaged.nii.gz"
    bad.write_bytes(b"not a nifti")
    damaged = manifest.iloc[:1].assign(IID="sub-damaged", t1_path=str(bad))
    pd.concat([manifest, damaged]).to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    out = tmp_path / "reg"
    args = ["register", "--manifest", str(tmp_path / "m.tsv"), "--out", str(out),
            "--transform", "affine", "--spacing", "4", "--jobs", "2"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "registered 6 of 7" in res.output and "sub-damaged" in res.output
    qc = pd.read_csv(out / "registration_qc.tsv", sep="\t").set_index("IID")
    assert qc.loc["sub-damaged", "status"].startswith("failed: T1 image")
    ok = qc.drop("sub-damaged")
    assert ok["status"].str.startswith("ok").all() and (ok["skull_strip"] == "template").all()
    assert (ok["mask_dice"] > 0.9).all(), ok
    t1, mask, _ = template(4.0)
    truth = {iid: np.asarray(nib.load(native_sim / "truth" / "images_mni" / f"{iid}.nii.gz")
                             .dataobj, np.float32) for iid in ok.index}
    for iid in ok.index:
        reg = np.asarray(nib.load(out / "images" / f"{iid}.nii.gz").dataobj, np.float32)
        assert reg.shape == truth[iid].shape == mask.shape
        # TRUTH: the registered image is its own subject's MNI rendering (r > 0.8; affine
        # registration also removes the head size the rendering keeps), closer to it than
        # to any other subject's
        own = masked_correlation(reg, truth[iid], mask)
        others = [masked_correlation(reg, v, mask) for k, v in truth.items() if k != iid]
        assert own > 0.8 and own > max(others), (iid, own, max(others))
        assert (out / "transforms" / iid / "affine.mat").is_file()
    written = pd.read_csv(out / "manifest.tsv", sep="\t")
    assert list(written["IID"]) == list(ok.index)
    assert written["t1_path"].str.startswith("images/").all()
    from rnce_bag.imaging.nifti import load_nifti

    load_nifti(out / written["t1_path"].iloc[0])  # passes the imaging stages' validation
    report = json.loads((out / "register_report.json").read_text())
    assert report["n_registered"] == 6 and report["failed"][0]["IID"] == "sub-damaged"
    assert (out / "registration_qc.png").stat().st_size > 10_000
    res = runner.invoke(app, ["report", "--run", str(out), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "Registration to MNI152" in page and "6 of 7 T1s registered" in page
    assert "sub-damaged" in page and (tmp_path / "rep/figures/registration_qc.png").exists()
    before = {p.name: p.read_bytes() for p in (out / "images").iterdir()}
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "(6 from the cache)" in res.output, res.output
    assert {p.name: p.read_bytes() for p in (out / "images").iterdir()} == before


def test_register_real_images_under_a_known_transform(tmp_path, runner):
    """nilearn's MNI152 template moved by a known rigid transform and written as a scanner
    image (as ADNI's T1s come), and nibabel's real anatomical test image: both register,
    and the moved template comes back onto itself."""
    from nilearn.datasets import load_mni152_template
    from scipy.spatial.transform import Rotation

    from rnce_bag.imaging.grid import Grid
    from rnce_bag.imaging.nifti import resample_to_grid

    tpl = load_mni152_template(resolution=2)
    move = np.eye(4)
    move[:3, :3] = Rotation.from_euler("xyz", [8, -5, 4], degrees=True).as_matrix()
    move[:3, 3] = [6, -9, 14]
    grid = Grid((110, 130, 110), 2.0, (-110.0, -130.0, -110.0))
    # scanner voxel at world x shows the template at move @ x
    moved = resample_to_grid(np.asarray(tpl.get_fdata(), np.float32),
                             np.linalg.inv(move) @ tpl.affine, grid)
    nib.save(nib.Nifti1Image(moved, grid.affine), tmp_path / "moved.nii.gz")
    import nibabel.testing

    anat = f"{nibabel.testing.data_path}/anatomical.nii"
    pd.DataFrame({"IID": ["moved", "anatomical"],
                  "t1_path": [str(tmp_path / "moved.nii.gz"), anat]}).to_csv(
        tmp_path / "m.tsv", sep="\t", index=False)
    res = runner.invoke(app, ["register", "--manifest", str(tmp_path / "m.tsv"), "--out",
                              str(tmp_path / "reg"), "--transform", "affine",
                              "--spacing", "4"])
    assert res.exit_code == 0, res.output
    qc = pd.read_csv(tmp_path / "reg" / "registration_qc.tsv", sep="\t").set_index("IID")
    assert qc["status"].str.startswith("ok").all(), qc
    assert qc.loc["moved", "mask_dice"] > 0.95 and qc.loc["moved", "similarity"] > 0.95
    # nibabel's anatomical.nii is a 66 x 82 x 50 mm crop, not a whole brain: it registers
    # and the QC flags it
    assert "check: mask Dice" in qc.loc["anatomical", "status"]


def test_register_strips_the_skull_with_freesurfers_brainmask(native_sim, tmp_path, runner):
    """A subject whose FreeSurfer folder holds mri/brainmask.mgz (written in FreeSurfer's
    own conformed LIA grid, 1 mm-like voxels of another shape): the T1 is masked with it
    through both affines, a skull added outside it is gone, and N4 runs."""
    from scipy.ndimage import binary_dilation

    iid = pd.read_csv(native_sim / "cohort.tsv", sep="\t")["IID"].iloc[7]
    img = nib.load(native_sim / "images" / f"{iid}.nii.gz")
    data = np.asarray(img.dataobj, np.float32)
    brain = data > 0.1 * np.percentile(data[data > 0], 99)
    skull = binary_dilation(brain, iterations=3) & ~binary_dilation(brain, iterations=1)
    with_skull = np.where(skull, 1.5 * data.max(), data).astype(np.float32)
    nib.save(nib.Nifti1Image(with_skull, img.affine), tmp_path / "t1.nii.gz")
    fs = tmp_path / "fs" / iid / "mri"
    fs.mkdir(parents=True)
    lia = nib.as_closest_canonical(nib.Nifti1Image(brain.astype(np.uint8), img.affine))
    lia = lia.as_reoriented(nib.orientations.axcodes2ornt("LIA"))  # FreeSurfer's orientation
    nib.save(nib.MGHImage(np.asarray(lia.dataobj, np.uint8), lia.affine), fs / "brainmask.mgz")
    pd.DataFrame({"IID": [iid], "t1_path": [str(tmp_path / "t1.nii.gz")],
                  "freesurfer_dir": [str(fs.parent)]}).to_csv(tmp_path / "m.tsv", sep="\t",
                                                              index=False)
    res = runner.invoke(app, ["register", "--manifest", str(tmp_path / "m.tsv"), "--out",
                              str(tmp_path / "reg"), "--transform", "affine-quick",
                              "--spacing", "4", "--n4"])
    assert res.exit_code == 0, res.output
    qc = pd.read_csv(tmp_path / "reg" / "registration_qc.tsv", sep="\t").iloc[0]
    assert qc["skull_strip"] == "freesurfer" and qc["status"] == "ok", qc.to_dict()
    assert qc["mask_dice"] > 0.9
    report = json.loads((tmp_path / "reg" / "register_report.json").read_text())
    assert report["settings"]["n4"] is True
    reg = np.asarray(nib.load(tmp_path / "reg" / "images" / f"{iid}.nii.gz").dataobj)
    t1, mask, _ = template(4.0)
    assert reg[~binary_dilation(mask, iterations=2)].max() < 0.5 * reg[mask].max()  # no skull


def test_a_worker_that_dies_fails_alone(native_sim, tmp_path, runner, monkeypatch):
    """A registration that kills its worker process (as an ITK crash would) breaks the
    pool; the subjects queued with it are run again, and only the one that dies is
    marked failed."""
    import os
    import shutil

    import rnce_bag.imaging.registration as registration

    original = registration.register_t1

    def crashing(t1_path, *args, **kwargs):
        if "crash" in str(t1_path):
            os._exit(1)  # the forked worker dies, no exception
        return original(t1_path, *args, **kwargs)

    monkeypatch.setattr(registration, "register_t1", crashing)
    manifest = pd.read_csv(native_sim / "cohort.tsv", sep="\t").iloc[10:13]
    manifest = manifest[["IID"]].assign(t1_path=[str(native_sim / "images" / f"{i}.nii.gz")
                                                 for i in manifest["IID"]])
    shutil.copyfile(manifest["t1_path"].iloc[0], tmp_path / "crash.nii.gz")
    crash = pd.DataFrame({"IID": ["sub-crash"], "t1_path": [str(tmp_path / "crash.nii.gz")]})
    pd.concat([crash, manifest]).to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    res = runner.invoke(app, ["register", "--manifest", str(tmp_path / "m.tsv"), "--out",
                              str(tmp_path / "reg"), "--transform", "affine-quick",
                              "--spacing", "4", "--jobs", "2"])
    assert res.exit_code == 0, res.output
    qc = pd.read_csv(tmp_path / "reg" / "registration_qc.tsv", sep="\t").set_index("IID")
    assert qc.loc["sub-crash", "status"].startswith("failed: the registration process died")
    assert qc.drop("sub-crash")["status"].str.startswith("ok").all(), qc["status"]


def test_register_refuses_bad_manifests(tmp_path, runner):
    """No t1_path column, or no subject registrable: exit 2 naming the file, nothing
    written."""
    (tmp_path / "m.tsv").write_text("IID\tage\nA\t70\n")
    res = runner.invoke(app, ["register", "--manifest", str(tmp_path / "m.tsv"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "no t1_path column" in res.output
    (tmp_path / "bad.nii.gz").write_bytes(b"not a nifti")
    (tmp_path / "m2.tsv").write_text(f"IID\tt1_path\nA\t{tmp_path / 'bad.nii.gz'}\n"
                                     f"B\t{tmp_path / 'missing.nii.gz'}\n")
    res = runner.invoke(app, ["register", "--manifest", str(tmp_path / "m2.tsv"), "--out",
                              str(tmp_path / "o"), "--transform", "affine-quick"])
    assert res.exit_code == 2 and "no subject could be registered" in res.output
    assert "not found" in res.output
    assert not (tmp_path / "o" / "registration_qc.tsv").exists()
