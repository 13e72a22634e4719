"""Hail engine: the only module that imports ``hail``.

Hail runs on a local Spark session (``local[*]``) by default and on a Spark cluster
when given a master URL; the same code serves both.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from rnce_bag.core.errors import ExternalToolError
from rnce_bag.core.tools import find_executable

log = logging.getLogger(__name__)

_JAVA_WARNING = "Hail was built and tested with Java 11"


def init_hail(
    spark_master: str = "local[*]",
    tmp_dir: str | os.PathLike[str] | None = None,
    log_path: str | os.PathLike[str] | None = None,
    driver_memory_gb: int = 8,
    quiet: bool = True,
) -> Any:
    """Start (or reuse) a Hail session and return the ``hail`` module.

    Parameters
    ----------
    spark_master
        Spark master URL: ``local[*]``, ``local[2]``, ``spark://host:7077``, ``yarn``.
    tmp_dir
        Hail's temporary directory (defaults to a fresh folder under the system temp).
    log_path
        Hail log file (defaults to one inside ``tmp_dir``).
    driver_memory_gb
        Spark driver memory for local sessions.
    quiet
        Hide Spark's progress output.

    Raises
    ------
    ExternalToolError
        If Java is missing or the Spark session cannot start (exit code 3).
    """
    if find_executable("java") is None and not os.environ.get("JAVA_HOME"):
        raise ExternalToolError(
            "Hail needs a Java runtime (JRE 11 or 17) but 'java' is not on PATH",
            hint="install one: sudo apt-get install openjdk-17-jre-headless",
        )
    import hail as hl

    if hl.utils.java.Env._hc is not None:  # already running in this process
        return hl
    tmp = Path(tmp_dir) if tmp_dir else Path(tempfile.mkdtemp(prefix="rnce-bag-hail-"))
    tmp.mkdir(parents=True, exist_ok=True)
    logfile = Path(log_path) if log_path else tmp / "hail.log"
    spark_conf = {"spark.driver.memory": f"{driver_memory_gb}g"}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_JAVA_WARNING)
            hl.init(
                master=spark_master,
                tmp_dir=str(tmp),
                local_tmpdir=str(tmp),
                log=str(logfile),
                quiet=quiet,
                spark_conf=spark_conf,
                default_reference="GRCh37",
                idempotent=True,
            )
    except Exception as exc:  # py4j / Spark errors come in many types
        raise ExternalToolError(
            f"Hail could not start a Spark session on master '{spark_master}': "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            hint=f"see the Hail log {logfile}; check 'java -version' and JAVA_HOME",
        ) from exc
    return hl


def probe_local_spark(timeout: float = 240.0) -> dict[str, Any]:
    """Start Hail on ``local[1]`` in a child process, count a small table, stop.

    Returns
    -------
    dict
        ``ok`` (bool), ``hail`` and ``spark`` versions, ``seconds`` to start and count,
        and ``error`` when it failed.
    """
    cmd = [sys.executable, "-m", "gwas.engines.hail", "--probe"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"no answer within {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"ok": False, "error": tail[0]}


def _probe() -> dict[str, Any]:
    import time

    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="rnce-bag-probe-") as tmp:
            hl = init_hail("local[1]", tmp_dir=tmp, driver_memory_gb=1)
            count = hl.utils.range_table(100, n_partitions=2).count()
            spark = hl.spark_context().version
            version = hl.version()
            hl.stop()
        return {"ok": count == 100, "hail": version, "spark": spark,
                "seconds": round(time.perf_counter() - start, 1)}
    except Exception as exc:  # report every failure as data, the caller decides
        return {"ok": False, "error": str(exc).splitlines()[0] if str(exc) else repr(exc)}


if __name__ == "__main__":  # pragma: no cover - exercised through probe_local_spark
    if sys.argv[1:] == ["--probe"]:
        print(json.dumps(_probe()))
