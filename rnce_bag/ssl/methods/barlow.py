"""Barlow Twins: the views' cross-correlation pushed to the identity (Zbontar et al.
2021), a generic baseline."""

from __future__ import annotations

from rnce_bag.ssl.methods import SSLMethod


def loss(z1, z2, a, cfg) -> dict:
    from rnce_bag.ssl.losses import barlow_twins

    value = barlow_twins(z1, z2, cfg.barlow_lambda)
    return {"loss": value, "barlow": value}


METHOD = SSLMethod("barlow", "Barlow Twins", loss, order=20)
