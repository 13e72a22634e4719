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


def test_progress_in_a_log_prints_lines_while_it_runs():
    """Where stderr is not a terminal, rich's bars print only when they stop: a 15-minute
    simulate said nothing in a log (issue 28). LineProgress says start, every `every`
    seconds, and the end."""
    import io

    from rnce_bag.core.logging import LineProgress, make_progress

    out = io.StringIO()
    with LineProgress(every=0.05, out=out) as bar:
        task = bar.add_task("rendering T1 images", total=4)
        bar.update(task, completed=1)
        time.sleep(0.08)
        bar.update(task, completed=2)  # past `every`: a line
        bar.update(task, completed=3)  # too soon: none
        bar.update(task, completed=4)  # the end: a line
        other = bar.add_task("embedding", total=None)
        bar.advance(other, 5)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("  rendering T1 images: 2/4, 0:00")
    assert lines[1].startswith("  rendering T1 images: 4/4") and lines[1].endswith("done")
    assert lines[2].startswith("  embedding: 5, ") and lines[2].endswith("done")
    assert len(lines) == 3
    assert isinstance(make_progress(), LineProgress)  # pytest's stderr is not a terminal


def test_signals_wait_until_publishing_ends():
    """A SIGTERM that arrives while a run publishes acts only after it (a signal mid-publish
    left two new files beside the old run.json: found by the property test)."""
    import os
    import signal

    import pytest

    from rnce_bag.core.outdir import signals_deferred

    class Stop(Exception):
        pass

    def handler(*_):
        raise Stop

    old = signal.signal(signal.SIGTERM, handler)
    done = []
    try:
        with pytest.raises(Stop):
            with signals_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                done.append("published")
    finally:
        signal.signal(signal.SIGTERM, old)
    assert done == ["published"]
