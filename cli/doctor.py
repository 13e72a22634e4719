"""``rnce-bag doctor``: every backend with its version, status and install command."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from typing import Annotated

import typer

from cli.app import app

#: Backends without which the embedded default pipeline cannot run.
REQUIRED = ("python", "torch", "java", "hail")


@dataclass
class Check:
    """One row of the doctor table."""

    backend: str
    version: str
    status: str  # ok | missing | failed | skipped
    detail: str
    install: str


def collect(spark: bool = True) -> list[Check]:
    """Probe every backend; ``spark=False`` skips starting Hail's local Spark."""
    from gwas.engines.hail import probe_local_spark
    from rnce_bag.core.provenance import package_versions
    from rnce_bag.core.tools import TOOLS, probe_tool
    from rnce_bag.devices import torch_status

    rows = [Check("python", sys.version.split()[0], "ok", sys.executable, "")]
    ts = torch_status()
    if ts["ok"]:
        cuda = (f"CUDA {ts['cuda_version']}: {', '.join(ts['devices'])}" if ts["cuda"]
                else "CPU only (no CUDA device)")
        rows.append(Check("torch", ts["version"], "ok", f"{cuda}; {ts['threads']} threads", ""))
    else:
        rows.append(Check("torch", "-", "failed", ts["error"], "make setup (pip install "
                          "torch==2.13.0)"))
    java = probe_tool("java")
    rows.append(_tool_row(java))
    hail_version = package_versions(["hail"])["hail"]
    if hail_version is None:
        rows.append(Check("hail", "-", "missing", "not installed", "make setup"))
    elif not java.found:
        rows.append(Check("hail", hail_version, "failed", "needs Java", TOOLS["java"].install))
    elif not spark:
        rows.append(Check("hail", hail_version, "skipped", "local Spark start not tried "
                          "(run 'rnce-bag doctor' without --no-spark)", ""))
    else:
        res = probe_local_spark()
        if res.get("ok"):
            rows.append(Check("hail", res["hail"], "ok", f"local Spark {res['spark']} started "
                              f"on Java {java.version} in {res['seconds']} s; block products "
                              f"used {res['blas']} BLAS", ""))
        else:
            rows.append(Check("hail", hail_version, "failed", f"local Spark: {res.get('error')}",
                              "check 'java -version' and JAVA_HOME"))
    rows.append(_blas_row())
    ants_version = package_versions(["antspyx"])["antspyx"]
    rows.append(Check("antspyx", ants_version or "-", "ok" if ants_version else "missing",
                      "ANTs registration ('rnce-bag register')" if ants_version else
                      "disabled: 'rnce-bag register' (ANTs registration to MNI152)",
                      "" if ants_version else "make setup (pip install --no-deps "
                      "antspyx==0.6.3)"))
    for name in ("plink2", "gemma", "gcta64", "ldsc.py", "bolt", "chromium"):
        rows.append(_tool_row(probe_tool(name)))
    return rows


def _blas_row() -> Check:
    """Whether Hail's block products (LD pruning, PCA) get native BLAS."""
    from gwas.engines.hail_blas import prepare

    setup = prepare()
    if setup.native:
        return Check("hail BLAS", "native", "ok", setup.detail, "")
    return Check("hail BLAS", "F2J", "missing", setup.detail,
                 "sudo apt-get install gcc (builds the libgfortran.so.3 shim)")


def _tool_row(status) -> Check:
    if not status.found:
        return Check(status.name, "-", "missing", f"disabled: {status.purpose}", status.install)
    return Check(status.name, status.version or "?", "ok",
                 f"{status.path}" + (f" ({status.detail})" if status.detail else ""), "")


def render(rows: list[Check]) -> None:
    """Print the table with rich."""
    from rich.console import Console
    from rich.table import Table

    colour = {"ok": "green", "missing": "yellow", "failed": "red", "skipped": "cyan"}
    table = Table(title="rnce-bag doctor", show_lines=False)
    for col in ("backend", "version", "status", "detail", "install"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.backend, r.version, f"[{colour[r.status]}]{r.status}[/]",
                      r.detail, r.install)
    Console(width=max(120, Console().width)).print(table)


@app.command()
def doctor(
    spark: Annotated[bool, typer.Option("--spark/--no-spark",
                                        help="Start Hail on a local Spark session "
                                        "(about 10 s).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
    = False,
) -> None:
    """Check every backend (torch, Java + Hail, plink2, gemma, gcta64, ldsc.py, chromium).

    Exits 3 when a backend the embedded default needs (torch, Java, Hail) fails;
    missing optional tools only disable their backend.
    """
    rows = collect(spark=spark)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        render(rows)
    broken = [r.backend for r in rows if r.backend in REQUIRED and r.status in ("missing",
                                                                             "failed")]
    if broken:
        typer.echo(f"error: required backend(s) not working: {', '.join(broken)}", err=True)
        raise typer.Exit(3)
