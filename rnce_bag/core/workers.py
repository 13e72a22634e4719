"""Signals in forked worker processes (multiprocessing pools, DataLoader workers)."""

from __future__ import annotations

import signal


def worker_signals(*_args: object) -> None:
    """Restore SIGTERM's default and ignore Ctrl-C in a forked worker.

    A worker forked from the CLI inherits its SIGTERM handler, which turns the signal into
    an exception so the parent can clean up. ``Pool.terminate`` and the DataLoader stop
    workers with SIGTERM: a worker that turned it into an exception while blocked on a
    queue lock hung a demo run, after every image was written. Ctrl-C is the parent's to
    handle. Usable as a Pool ``initializer`` or a DataLoader ``worker_init_fn``.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
