"""The heartbeat that keeps a long step from running silently (issue 30, item 5)."""

from __future__ import annotations

import time

from rnce_bag.core.logging import Heartbeat


def test_a_step_over_the_threshold_says_how_long_it_runs_and_a_quick_one_does_not():
    said: list[str] = []
    with Heartbeat(said.append, every=0.05, after=0.12) as beat:
        tell = beat.wrap(said.append)
        tell("quick step")
        time.sleep(0.08)  # below `after`: nothing but the announcement
        quiet = list(said)
        tell("ancestry PCs (Hail hwe_normalized_pca)")
        time.sleep(0.4)
    assert quiet == ["quick step"]
    beats = [s for s in said if s.startswith("  ... still on")]
    assert beats and all("ancestry PCs (Hail hwe_normalized_pca)" in s for s in beats)
    assert beats[-1].endswith(" s")
    n = len(said)
    time.sleep(0.15)
    assert len(said) == n  # stopped with the block
