"""Logging and progress bars, configured by the CLI only.

Libraries log with ``logging.getLogger(__name__)`` and report progress through an
optional callback; the CLI installs a rich handler on stderr (and an optional plain
log file) and draws rich progress bars.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Protocol

from rnce_bag.core.errors import InputError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ProgressCallback(Protocol):
    """Called by long-running library code: ``advance`` units done of ``total``."""

    def __call__(self, advance: int = 1, total: int | None = None,
                 description: str | None = None) -> None: ...


def configure_logging(verbose: int = 0, debug: bool = False,
                      log_file: str | os.PathLike[str] | None = None) -> None:
    """Install handlers on the root logger.

    Parameters
    ----------
    verbose
        0: warnings, 1: info, 2+: debug.
    debug
        Debug level and full tracebacks.
    log_file
        Also write every record at debug level to this file.
    """
    from rich.logging import RichHandler

    level = logging.DEBUG if debug or verbose >= 2 else logging.INFO if verbose == 1 else (
        logging.WARNING)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = RichHandler(level=level, show_path=debug, rich_tracebacks=debug, markup=False)
    root.addHandler(console)
    if log_file is not None:
        try:
            fh = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--log-file '{log_file}': cannot open it for writing "
                             f"({exc.strerror or exc})",
                             hint="create its folder first or choose another path") from None
        fh.setLevel(logging.DEBUG)
        fh.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(fh)
        root.setLevel(logging.DEBUG)
    else:
        root.setLevel(level)
    for noisy in ("py4j", "matplotlib", "PIL", "urllib3", "numba"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class LineProgress:
    """Progress for a log, not a terminal: rich's bars print only when they stop there, so
    a 15-minute step said nothing (issue 28). This one prints a plain line per task when
    it starts, every ``every`` seconds while it runs (done / total, elapsed) and when it
    ends. The subset of rich's ``Progress`` interface the stages use."""

    def __init__(self, every: float = 30.0, out=None) -> None:
        import sys
        import time

        self.every, self._out = every, out or sys.stderr
        self._clock = time.monotonic
        self._tasks: dict[int, dict] = {}

    def _say(self, t: dict, final: bool = False) -> None:
        elapsed = int(self._clock() - t["start"])
        count = f"{t['done']:g}" + (f"/{t['total']:g}" if t["total"] else "")
        self._out.write(f"  {t['description']}: {count}, {elapsed // 60}:{elapsed % 60:02d}"
                        + (" done" if final else "") + "\n")
        self._out.flush()
        t["said"] = self._clock()

    def add_task(self, description: str, total: float | None = None, **_) -> int:
        key = len(self._tasks)
        now = self._clock()
        self._tasks[key] = {"description": description, "total": total, "done": 0,
                            "start": now, "said": now}
        return key

    def update(self, task: int, completed: float | None = None, total: float | None = None,
               advance: float | None = None, description: str | None = None, **_) -> None:
        t = self._tasks[task]
        if total is not None:
            t["total"] = total
        if description is not None:
            t["description"] = description
        t["done"] = completed if completed is not None else t["done"] + (advance or 0)
        if t["total"] and t["done"] >= t["total"]:
            if not t.get("ended"):
                t["ended"] = True
                self._say(t, final=True)
        elif self._clock() - t["said"] >= self.every:
            self._say(t)

    def advance(self, task: int, advance: float = 1) -> None:
        self.update(task, advance=advance)

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc) -> None:
        for t in self._tasks.values():
            if not t.get("ended") and exc[0] is None:
                t["ended"] = True
                self._say(t, final=True)


def make_progress(transient: bool = False, disable: bool = False):
    """A rich Progress with spinner, bar, counts, rate and ETA (for the CLI); where stderr
    is not a terminal (a log, CI, ``make demo > log``) a :class:`LineProgress`."""
    import sys

    if not disable and not sys.stderr.isatty():
        return LineProgress()
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=transient,
        disable=disable,
    )


class Heartbeat:
    """Says, every ``every`` seconds, how long the step announced last has been running,
    once it has run ``after`` seconds: for steps that report nothing of their own (a Hail
    PCA, one plink2 call), so that no step over ten seconds runs silently.

    Use as a context manager around the work; :meth:`wrap` turns a progress callback into
    one that also announces the step its message names.
    """

    def __init__(self, say: Callable[[str], None], every: float = 30.0,
                 after: float = 10.0) -> None:
        import threading

        self._say, self.every, self.after = say, every, after
        self._label: str | None = None
        self._since = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def step(self, label: str) -> None:
        import time

        self._label, self._since = label, time.monotonic()

    def wrap(self, progress: Callable[[str], None]) -> Callable[[str], None]:
        def announce(msg: str) -> None:
            self.step(msg)
            progress(msg)
        return announce

    def _run(self) -> None:
        import time

        while not self._stop.wait(self.every):
            label, elapsed = self._label, time.monotonic() - self._since
            if label and elapsed >= self.after:
                minutes, seconds = divmod(int(elapsed), 60)
                took = f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
                self._say(f"  ... still on '{label[:60]}': {took}")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
