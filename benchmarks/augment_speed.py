"""Batched tensor augmentations (rnce_bag.ssl.augment) vs TorchIO on the same work.

Usage: python benchmarks/augment_speed.py [--batch 16] [--reps 3]

Both produce one augmented view of a batch of subjects, 18 patches of 20^3 voxels
(4 mm) each, with the same kinds of transform: affine (rotation 5 deg, scale 5%,
translation), bias field, gamma, blur and noise. TorchIO applies its transforms
subject by subject (the 18 patches as 18 channels of one image, so one subject's
parameters are shared by its patches, as in rnce-bag). TorchIO is optional: the script
says so and measures rnce-bag alone when it is not importable (``pip install torchio``).
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    import torch

    from rnce_bag.ssl.augment import augment
    from rnce_bag.ssl.config import AugmentConfig

    torch.manual_seed(0)
    x = torch.rand(args.batch, 18, 1, 20, 20, 20)
    cfg = AugmentConfig()
    g = torch.Generator().manual_seed(0)
    augment(x, cfg, g)
    start = time.perf_counter()
    for _ in range(args.reps):
        augment(x, cfg, g)
    ours = args.batch * args.reps / (time.perf_counter() - start)
    print(f"rnce-bag batched augment: {ours:.1f} subjects/s")
    try:
        import torchio as tio
    except ImportError:
        print("torchio not installed: no comparison (pip install torchio)")
        return
    transform = tio.Compose([
        tio.RandomAffine(scales=0.05, degrees=5, translation=1.0),
        tio.RandomBiasField(coefficients=0.3, order=2),
        tio.RandomGamma(log_gamma=0.3),
        tio.RandomBlur(std=(0, 1)),
        tio.RandomNoise(std=(0, 0.03)),
    ])
    subjects = [tio.Subject(t1=tio.ScalarImage(tensor=x[i, :, 0])) for i in range(args.batch)]
    transform(subjects[0])
    start = time.perf_counter()
    for _ in range(args.reps):
        torch.stack([transform(s)["t1"].data for s in subjects])
    theirs = args.batch * args.reps / (time.perf_counter() - start)
    print(f"TorchIO {tio.__version__}, subject by subject: {theirs:.1f} subjects/s")
    print(f"batched / TorchIO = {ours / theirs:.1f}x")


if __name__ == "__main__":
    main()
