"""SimCLR: NT-Xent of the two views (Chen et al. 2020), a generic baseline."""

from __future__ import annotations

from rnce_bag.ssl.methods import SSLMethod


def loss(z1, z2, a, cfg) -> dict:
    from rnce_bag.ssl.losses import nt_xent

    value = nt_xent(z1, z2, cfg.tau)
    return {"loss": value, "nce": value}


METHOD = SSLMethod("simclr", "SimCLR", loss, order=10)
