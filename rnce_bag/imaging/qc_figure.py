"""The registration QC figure: mid-slices of registered T1s over the template's outline.

One row per subject (the lowest brain-mask overlap first, so the registrations to look at
come first), three columns (sagittal, coronal, axial slices through the grid's centre),
the MNI152 brain mask's outline in orange. Returns a matplotlib ``Figure``; the caller
saves it.
"""

from __future__ import annotations

import numpy as np


def registration_figure(subjects: list[tuple[str, np.ndarray, str]], mask: np.ndarray):
    """Mid-slices of each registered image.

    Parameters
    ----------
    subjects
        ``(IID, volume (X, Y, Z) on the template grid, caption)`` per subject shown.
    mask
        The template's brain mask on the same grid (bool (X, Y, Z)).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = max(1, len(subjects))
    fig, axes = plt.subplots(n, 3, figsize=(6.6, 2.1 * n), squeeze=False)
    centre = [s // 2 for s in mask.shape]
    cuts = [(lambda v, c=centre[0]: v[c, :, :]), (lambda v, c=centre[1]: v[:, c, :]),
            (lambda v, c=centre[2]: v[:, :, c])]
    for row, (iid, volume, caption) in enumerate(subjects):
        hi = float(np.percentile(volume[mask], 99)) if mask.any() else float(volume.max())
        for col, (cut, name) in enumerate(zip(cuts, ("sagittal", "coronal", "axial"),
                                              strict=True)):
            ax = axes[row][col]
            ax.imshow(cut(volume).T, origin="lower", cmap="gray", vmin=0, vmax=hi or 1)
            ax.contour(cut(mask).T.astype(float), levels=[0.5], colors="#E69F00",
                       linewidths=0.7)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(name)
        axes[row][0].set_ylabel(f"{iid}\n{caption}", fontsize=7)
    fig.suptitle("Registered T1s (orange: MNI152 brain mask)")
    fig.tight_layout()
    return fig
