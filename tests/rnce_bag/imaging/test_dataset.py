import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from rnce_bag.core.errors import InputError
from rnce_bag.imaging.dataset import FeatureScaler, build_dataset
from rnce_bag.imaging.nifti import PreprocessParams
from rnce_bag.imaging.patches import load_layout


@pytest.fixture(scope="module")
def features_path(tiny_features):
    return tiny_features


def test_items_and_loader_with_workers(tiny_sim, features_path, tmp_path):
    ds, scaler = build_dataset(tiny_sim / "cohort.tsv", features_path, load_layout(),
                               PreprocessParams(spacing=4.0), tmp_path / "cache")
    assert len(ds) == 200
    item = ds[0]
    assert item["iid"] == "sub-0001" and item["patches"].shape == (18, 1, 20, 20, 20)
    assert item["patches"].dtype == torch.float32 and item["features"].shape == (272,)
    assert ds.patch_index.shape[0] == 18 and (ds.patch_index >= 0).sum(1).min() > 0
    batches = list(DataLoader(ds, batch_size=32, num_workers=2))
    assert sum(len(b["iid"]) for b in batches) == 200
    assert batches[0]["patches"].shape == (32, 18, 1, 20, 20, 20)
    # standardised on these subjects
    x = torch.cat([b["features"] for b in batches]).numpy()
    assert np.allclose(x.mean(0)[x.std(0) > 0], 0, atol=1e-4)
    # second pass comes from the cache, identical
    again = next(iter(DataLoader(ds, batch_size=32, num_workers=0)))
    assert torch.equal(again["patches"], batches[0]["patches"])


def test_scaler_from_training_subjects():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    s = FeatureScaler.fit(x)
    assert np.allclose(s.transform(np.array([[2.0, 5.0]])), [[0.0, 0.0]])
    assert s.std[1] == 1.0


def test_subjects_without_features(tiny_sim, features_path, tmp_path):
    import pandas as pd

    f = pd.read_parquet(features_path).iloc[5:]
    p = tmp_path / "f.parquet"
    f.to_parquet(p, index=False)
    with pytest.raises(InputError, match="5 manifest subject"):
        build_dataset(tiny_sim / "cohort.tsv", p, load_layout(), PreprocessParams(spacing=4.0),
                      tmp_path / "c")


def test_missing_image_names_row(tiny_sim, features_path, tmp_path):
    import pandas as pd

    m = pd.read_csv(tiny_sim / "cohort.tsv", sep="\t")
    m["t1_path"] = [str(tiny_sim / x) for x in m["t1_path"]]
    m.loc[2, "t1_path"] = str(tmp_path / "missing.nii.gz")
    mp = tmp_path / "m.tsv"
    m.to_csv(mp, sep="\t", index=False)
    with pytest.raises(InputError, match=r"row 3 \(line 4\), subject sub-0003: t1_path"):
        build_dataset(mp, features_path, load_layout(), PreprocessParams(spacing=4.0),
                      tmp_path / "c")
