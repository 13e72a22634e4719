"""Forked workers do not inherit the CLI's SIGTERM handler (a demo run once hung on it).

The check forks, so it runs in a fresh interpreter: a pytest-xdist worker may hold a
Hail JVM gateway, its threads and pyspark's SIGINT handler, and forking such a process
is what the check must not depend on (one full-suite run lost its worker to it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHECK = '''
import multiprocessing as mp
import signal

from rnce_bag.core.errors import Terminated
from rnce_bag.core.workers import worker_signals


def _raise_terminated(signum, frame):
    raise Terminated()


def _handlers(_):
    return tuple(str(signal.getsignal(s)) for s in (signal.SIGTERM, signal.SIGINT))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _raise_terminated)
    with mp.get_context("fork").Pool(2, initializer=worker_signals) as pool:
        seen = set(pool.map(_handlers, range(4)))
    assert seen == {(str(signal.SIG_DFL), str(signal.SIG_IGN))}, seen
    with mp.get_context("fork").Pool(1) as pool:  # without it: the CLI's handler
        inherited = pool.apply(_handlers, (0,))[0]
    assert "_raise_terminated" in inherited, inherited
    print("ok")
'''


def test_pool_workers_get_default_sigterm_and_ignore_ctrl_c(tmp_path):
    script = tmp_path / "check_workers.py"
    script.write_text(CHECK)
    repo = Path(__file__).resolve().parents[3]
    res = subprocess.run([sys.executable, str(script)], cwd=repo, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(repo)})
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stdout + res.stderr
