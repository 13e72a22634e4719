"""Run a command in a child process and measure it (shared by the benchmark scripts)."""

from __future__ import annotations

import os
import time


def run_timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB, the child's ru_maxrss) of ``cmd``; exits on failure."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: become the command, so its rusage is the command's alone
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024**2


def run_measured(cmd: list[str]) -> dict[str, float]:
    """``wall_s``, ``cpu_s`` (user + system, the command and the children it waited for)
    and ``peak_rss_gb`` of ``cmd``. CPU seconds compare tools fairly when the machine is
    shared; wall seconds when it is not."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}")
    return {"wall_s": round(time.perf_counter() - start, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 2)}
