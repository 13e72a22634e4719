"""Hail on a real Spark standalone cluster (a master and one worker on 127.0.0.1).

Started with the scripts pyspark ships (``spark-class ...deploy.master.Master`` and
``...deploy.worker.Worker``); ``rnce-bag gwas --engine hail --spark-master
spark://127.0.0.1:PORT`` runs with a *relative* ``--out`` (the case that failed: the
executors resolved Hail's temporary folder in their own working folder); the master's
application list shows that the run used the cluster; the summary statistics equal a
``local[*]`` run. Both daemons are stopped, also on failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.hail, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _master_json(ui: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as r:  # noqa: S310
        return json.loads(r.read())


@pytest.fixture()
def standalone_cluster(tmp_path):
    home = _spark_home()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(tmp_path / "spark-logs")}
    port, ui, wui = _free_port(), _free_port(), _free_port()
    cls = str(home / "bin" / "spark-class")
    logs = tmp_path / "daemons.log"
    procs = []
    try:
        with open(logs, "w") as fh:
            procs.append(subprocess.Popen(
                [cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                 "--port", str(port), "--webui-port", str(ui)], env=env, stdout=fh,
                stderr=subprocess.STDOUT))
            procs.append(subprocess.Popen(
                [cls, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
                 "--host", "127.0.0.1", "--cores", "2", "--memory", "3g", "--webui-port",
                 str(wui), "--work-dir", str(tmp_path / "spark-work")], env=env, stdout=fh,
                stderr=subprocess.STDOUT))
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if _master_json(ui).get("aliveworkers", 0) >= 1:
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            pytest.fail("the standalone cluster did not start:\n" + logs.read_text()[-3000:])
        yield f"spark://127.0.0.1:{port}", ui
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _gwas(sim: Path, cwd: Path, out: str, *extra: str) -> subprocess.CompletedProcess:
    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    return subprocess.run(
        [sys.executable, "-m", "cli", "gwas", "--bfile", str(sim / "genotypes/cohort"),
         "--pheno", str(sim / "pheno.tsv"), "--pheno-name", "LATENT", "--engine", "hail",
         "--set", "pca.n_pcs=2", "--set", "hail.driver_memory_gb=2", "--out", out, *extra],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.extended
def test_gwas_on_a_standalone_cluster_equals_local(complete_sim, tmp_path, standalone_cluster):
    master, ui = standalone_cluster
    res = _gwas(complete_sim, tmp_path, "on_cluster", "--spark-master", master)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    apps = _master_json(ui)
    ran = apps.get("completedapps", []) + apps.get("activeapps", [])
    assert ran, f"no application on the cluster: {apps}"
    local = _gwas(complete_sim, tmp_path, "local")
    assert local.returncode == 0, (local.stdout + local.stderr)[-4000:]
    a = pd.read_csv(tmp_path / "on_cluster" / "LATENT.tsv.gz", sep="\t")
    b = pd.read_csv(tmp_path / "local" / "LATENT.tsv.gz", sep="\t")
    assert len(a) == len(b) > 1000
    pd.testing.assert_frame_equal(a, b)


def test_a_remote_master_needs_a_shared_tmp_dir():
    from gwas.engines.hail import check_shared_tmp

    check_shared_tmp("local[*]", "/tmp/x", explicit=False)
    check_shared_tmp("spark://127.0.0.1:7077", "/tmp/x", explicit=False)
    check_shared_tmp("yarn", "hdfs:///user/me/tmp", explicit=True)
    from rnce_bag.core.errors import InputError

    with pytest.raises(InputError, match="(?s)remote but the default tmp_dir .* hail.tmp_dir=URI"):
        check_shared_tmp("spark://node-17.cluster:7077", "/scratch/out/work/hail-tmp", False)
    with pytest.raises(InputError, match="remote but hail.tmp_dir '/tmp/x'"):
        check_shared_tmp("yarn", "/tmp/x", explicit=True)
