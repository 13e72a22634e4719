import gzip

import nibabel as nib
import numpy as np
import pytest

from rnce_bag.core.errors import InputError
from rnce_bag.imaging.grid import mni_grid
from rnce_bag.imaging.nifti import (
    PreprocessCache,
    PreprocessParams,
    brain_mask,
    load_nifti,
    preprocess,
    resample_to_grid,
)


@pytest.fixture(scope="module")
def mni4():
    from nilearn.datasets import load_mni152_template

    return load_mni152_template(resolution=4)


def _save(img, path):
    nib.save(img, path)
    return path


def test_grid_matches_nilearn(mni4):
    assert mni_grid(4).shape == mni4.shape and np.allclose(mni_grid(4).affine, mni4.affine)


def test_preprocess_on_grid_image(tmp_path, mni4):
    p = _save(nib.Nifti1Image((np.asarray(mni4.dataobj) * 900).astype(np.int16), mni4.affine),
              tmp_path / "t1.nii.gz")
    vol = preprocess(p, PreprocessParams(spacing=4.0))
    mask = brain_mask(4.0)
    assert vol.shape == mni_grid(4).shape and vol.dtype == np.float32
    assert np.all(vol[~mask] == 0) and 0.4 < np.median(vol[mask]) < 1.0
    assert vol.max() <= 1.5


def test_reorientation_and_resampling_agree(tmp_path, mni4):
    data = np.asarray(mni4.dataobj, dtype=np.float32)
    ref = preprocess(_save(nib.Nifti1Image(data, mni4.affine), tmp_path / "a.nii.gz"),
                     PreprocessParams(spacing=4.0))
    # the same image stored LAS (x flipped) must give the same RAS volume
    flip = mni4.affine.copy()
    flip[0, 0] = -4
    flip[0, 3] = mni4.affine[0, 3] + 4 * (data.shape[0] - 1)
    las = preprocess(_save(nib.Nifti1Image(data[::-1], flip), tmp_path / "b.nii.gz"),
                     PreprocessParams(spacing=4.0))
    assert np.allclose(ref, las, atol=1e-5)
    # and a 2 mm version resampled to 4 mm is close to the 4 mm one (trilinear, r > 0.95)
    from nilearn.datasets import load_mni152_template

    t2 = load_mni152_template(resolution=2)
    v2 = preprocess(_save(t2, tmp_path / "c.nii.gz"), PreprocessParams(spacing=4.0))
    m = brain_mask(4.0)
    assert np.corrcoef(v2[m], ref[m])[0, 1] > 0.95


def test_resample_identity():
    g = mni_grid(4)
    x = np.random.default_rng(0).random(g.shape).astype(np.float32)
    assert resample_to_grid(x, g.affine, g) is not None
    assert np.array_equal(resample_to_grid(x, g.affine, g), x)


@pytest.mark.parametrize(("make", "match"), [
    (lambda d, a: b"not a nifti at all", "cannot be read as NIfTI"),
    (lambda d, a: "truncate", "cannot be read as NIfTI"),
    (lambda d, a: nib.Nifti1Image(np.stack([d, d], -1), a), "expected a 3D volume"),
    (lambda d, a: nib.Nifti1Image(np.where(d > 0.5, np.nan, d), a), "non-finite voxel"),
    (lambda d, a: nib.Nifti1Image(d[:20, :20, :20], a), "does not cover the MNI152 brain"),
])
def test_bad_images(tmp_path, mni4, make, match):
    data = np.asarray(mni4.dataobj, dtype=np.float32)
    p = tmp_path / "bad.nii.gz"
    obj = make(data, mni4.affine)
    if isinstance(obj, bytes):
        p.write_bytes(gzip.compress(obj))
    elif obj == "truncate":
        nib.save(nib.Nifti1Image(data, mni4.affine), p)
        p.write_bytes(p.read_bytes()[:2000])
    else:
        nib.save(obj, p)
    with pytest.raises(InputError, match=match) as exc:
        load_nifti(p)
    assert str(p) in str(exc.value) and exc.value.exit_code == 2


def test_cache_reads_no_nifti_second_time(tmp_path, mni4, monkeypatch):
    p = _save(mni4, tmp_path / "t1.nii.gz")
    params = PreprocessParams(spacing=4.0)
    cache = PreprocessCache(tmp_path / "cache", params)
    first = np.array(cache.get(p))
    import rnce_bag.imaging.nifti as mod

    def boom(*a, **k):
        raise AssertionError("NIfTI opened on a cached read")

    monkeypatch.setattr(mod, "load_nifti", boom)
    monkeypatch.setattr(mod, "sha256_file", boom)
    second = cache.get(p)
    assert isinstance(second, np.memmap) and np.array_equal(first, second)
    assert (cache.hits, cache.misses) == (1, 1)
    # other parameters -> another cache entry
    other = PreprocessCache(tmp_path / "cache", PreprocessParams(spacing=4.0, clip=1.0))
    assert other.dir != cache.dir
