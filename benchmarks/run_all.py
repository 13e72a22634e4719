"""``make bench``: every benchmark script at a quick scale -> benchmarks/results.md.

Each script runs in its own process under ``/usr/bin/time`` (wall seconds, peak RSS);
its own output (which holds the ratios to the peers it times in the same run: PLINK 2,
GEMMA, SimCLR ...) is copied into the results file with a description of the machine.
Full-scale numbers measured by hand are in ``benchmarks/results-full-scale.md``.

Usage: python benchmarks/run_all.py [--out benchmarks/results.md] [--only NAME]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOGS = HERE / "logs"


def scripts(cohort: Path) -> list[tuple[str, list[str]]]:
    """(script, arguments) at the quick scale ``make bench`` uses."""
    return [
        ("simulate_presets.py", ["tiny"]),
        ("dataloader_throughput.py", ["--cohort", str(cohort)]),
        ("train_throughput.py", ["--config", "configs/ssl/tiny.yaml", "--steps", "3"]),
        ("augment_speed.py", []),
        ("gwas_engines.py", ["--n-subjects", "2000", "--n-variants", "20000"]),
        ("greml.py", ["--replicates", "5", "--sizes", "1000"]),
        ("enrichment_null.py", [str(cohort), "--replicates", "5"]),
        ("report_plots.py", ["--variants", "1000000"]),
        ("oracle_ceiling.py", ["--cohort", str(cohort), "--out", str(cohort.parent / "oracle")]),
        ("spacing_choice.py", ["--cohort", str(cohort), "--spacing", "6", "8", "--n", "200",
                               "--epochs", "1", "--config", "configs/ssl/tiny.yaml",
                               "--out", str(cohort.parent / "spacing")]),
    ]


#: lines of tools' chatter (PLINK 2 and GEMMA banners, Spark warnings, progress bars)
#: that go to the log files, not to results.md
NOISE = re.compile(
    r"WARN |^PLINK v|^\(C\) 20|^Logging to|^Options in effect|^  --|^Start time|^End time|"
    r"MiB RAM detected|^Using up to|founders\) loaded|^/\S+\.(fam|bim)\.$|variants loaded"
    r" from|phenotypes? loaded|covariates (loaded|transformed)|^Calculating|^--glm|^Results "
    r"written|name>\.glm|^GEMMA |^Reading Files|^## |^Start Eigen|^pve estimate|^se\(pve\)|"
    r"^\s*=*\s*\d+%\s*$|\u2501|^\d+\.\d+$")
TMP = re.compile(r"/tmp/rnce-[\w-]+")


def clean(text: str) -> str:
    """The result lines of a script's output: tools' chatter dropped, temporary folders
    shown as ``<tmp>``."""
    return "\n".join(TMP.sub("<tmp>", line) for line in text.splitlines()
                     if not NOISE.search(line)).strip()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                       if x.startswith("MemTotal")).split()[1]) / 1024**2
    except (OSError, StopIteration):
        mem = float("nan")
    tools = []
    for tool in ("plink2", "gemma"):
        path = shutil.which(tool)
        tools.append(f"{tool} {'present' if path else 'absent'}")
    return (f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM; "
            f"Python {platform.python_version()}; {', '.join(tools)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    sections, rows = [], []
    with tempfile.TemporaryDirectory(prefix="rnce-bench-") as tmp:
        from rnce_bag.simulate.config import preset_config
        from rnce_bag.simulate.run import simulate

        cohort = simulate(preset_config("tiny"), Path(tmp) / "tiny")
        for script, extra in scripts(cohort):
            if args.only and args.only not in script:
                continue
            print(f"== {script} {' '.join(extra)}", flush=True)
            cmd = ["/usr/bin/time", "-f", "__TIME__ %e %M", sys.executable,
                   str(HERE / script), *extra]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  cwd=HERE.parent)
            timing = [x for x in proc.stderr.splitlines() if x.startswith("__TIME__")]
            wall, rss = (float(timing[-1].split()[1]), float(timing[-1].split()[2]) / 1024**2) \
                if timing else (float("nan"), float("nan"))
            status = "ok" if proc.returncode == 0 else f"failed ({proc.returncode})"
            rows.append(f"| `{script} {' '.join(extra[:4])}` | {wall:.1f} | {rss:.2f} | "
                        f"{status} |")
            log = LOGS / f"{Path(script).stem}.log"
            log.parent.mkdir(exist_ok=True)
            log.write_text(f"$ {' '.join(cmd[3:])}\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
            body = clean(proc.stdout) or "(no output)"
            if proc.returncode != 0:
                body += "\n" + "\n".join(proc.stderr.strip().splitlines()[-15:])
            sections.append(f"## {script}\n\n```\n{body}\n```\n(full output: "
                            f"`benchmarks/logs/{log.name}`)\n")
            print(body, flush=True)
    text = [
        "# Benchmark results (`make bench`)",
        "",
        f"Generated {_dt.date.today().isoformat()} by `python benchmarks/run_all.py` on: "
        f"{machine()}.",
        "Absolute times are noisy on a shared machine; compare the ratios each script "
        "measures against its peers in the same run. Full-scale runs (10,000 x 100,000 "
        "GWAS, demo-scale GREML, the demo training) are in `results-full-scale.md`.",
        "",
        "| script (quick scale) | wall s | peak RSS GB (incl. children it waits for) | "
        "status |",
        "|---|---|---|---|",
        *rows,
        "",
        *sections,
    ]
    args.out.write_text("\n".join(text))
    print(f"wrote {args.out}")
    if any("failed" in r for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
