"""A method added from one file: VICReg (Bardes et al. 2022, ICLR), as a plug-in.

``RNCE_BAG_PLUGINS=vicreg_method`` (this folder on ``PYTHONPATH``) makes ``--method
vicreg`` and ``methods: [vicreg]`` work everywhere; the suite uses it to show that a
method is one module (tests/plugins/test_plugins.py).
"""

from __future__ import annotations

from rnce_bag.ssl.methods import SSLMethod


def loss(z1, z2, a, cfg) -> dict:
    """``25 invariance + 25 variance + 1 covariance`` (the paper's weights).

    Invariance: mean squared difference of the views; variance: mean hinge
    ``max(0, 1 - std)`` of each dimension (std with eps 1e-4); covariance: sum of the
    squared off-diagonal covariances over the dimension ``d``; z1, z2 (B, d).
    """
    import torch
    import torch.nn.functional as F

    z1, z2 = z1.float(), z2.float()
    inv = F.mse_loss(z1, z2)
    var = sum(torch.relu(1 - torch.sqrt(z.var(0) + 1e-4)).mean() for z in (z1, z2))
    cov = 0.0
    for z in (z1, z2):
        zc = z - z.mean(0)
        c = zc.T @ zc / (z.shape[0] - 1)
        cov = cov + (c.pow(2).sum() - torch.diagonal(c).pow(2).sum()) / z.shape[1]
    total = 25 * inv + 25 * var + cov
    return {"loss": total, "invariance": inv, "variance": var, "covariance": cov}


METHOD = SSLMethod("vicreg", "VICReg", loss, order=30)
