"""Forked workers do not inherit the CLI's SIGTERM handler (a demo run once hung on it)."""

from __future__ import annotations

import multiprocessing as mp
import signal

from rnce_bag.core.errors import Terminated
from rnce_bag.core.workers import worker_signals


def _raise_terminated(signum, frame):  # noqa: ARG001 - as the CLI installs it
    raise Terminated()


def _handlers(_: int) -> tuple[str, str]:
    return tuple(str(signal.getsignal(s)) for s in (signal.SIGTERM, signal.SIGINT))


def test_pool_workers_get_default_sigterm_and_ignore_ctrl_c():
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with mp.get_context("fork").Pool(2, initializer=worker_signals) as pool:
            seen = set(pool.map(_handlers, range(4)))
        assert seen == {(str(signal.SIG_DFL), str(signal.SIG_IGN))}
        with mp.get_context("fork").Pool(1) as pool:  # without it: the CLI's handler
            assert "_raise_terminated" in pool.apply(_handlers, (0,))[0]
    finally:
        signal.signal(signal.SIGTERM, old)
