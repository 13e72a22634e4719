"""R-NCE: NT-Xent in the residual space orthogonal to the FreeSurfer features, plus the
reconstruction term that makes the representation span them (docs/method.md)."""

from __future__ import annotations

from rnce_bag.ssl.methods import SSLMethod


def loss(z1, z2, a, cfg) -> dict:
    from rnce_bag.ssl.losses import rnce_loss

    return rnce_loss(z1, z2, a, cfg.tau, cfg.alpha, cfg.ridge)


#: no projection head: the residual is taken of the representation itself, and a
#: non-linear head on it could bring the FreeSurfer information back
METHOD = SSLMethod("rnce", "R-NCE", loss, uses_auxiliary=True, projection_head=False, order=0)
