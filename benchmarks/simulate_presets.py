"""Wall time and peak memory of `rnce-bag simulate` per preset.

Usage: python benchmarks/simulate_presets.py [tiny demo large ...]
Each preset runs in a child process so its peak RSS (ru_maxrss of the child) is its
own. Results are appended to benchmarks/output/simulate_presets.tsv and printed.
Targets from the issue: tiny < 30 s; demo < 5 min and < 4 GB on 2 cores.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from timing import run_timed  # benchmarks/ is on sys.path when a script runs

TARGETS = {"tiny": (30, 4.0), "demo": (300, 4.0), "large": (None, None)}


def run(preset: str) -> dict:
    exe = Path(sys.executable).parent / "rnce-bag"
    with tempfile.TemporaryDirectory(prefix="rnce-bench-") as tmp:
        out = Path(tmp) / preset
        cmd = [str(exe), "simulate", "--preset", preset, "--out", str(out)]
        if preset == "large":
            cmd.append("--no-images")
        wall, rss = run_timed(cmd)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"preset": preset, "wall_s": round(wall, 1), "peak_rss_gb": round(rss, 2),
            "output_gb": round(size / 1024**3, 2)}


def main(presets: list[str]) -> None:
    rows = [run(p) for p in presets]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    outdir = Path(__file__).parent / "output"
    outdir.mkdir(exist_ok=True)
    with open(outdir / "simulate_presets.tsv", "a") as fh:
        for r in rows:
            fh.write(f"{time.strftime('%Y-%m-%d')}\t{machine}\t{r['preset']}\t{r['wall_s']}\t"
                     f"{r['peak_rss_gb']}\t{r['output_gb']}\n")
    print(f"machine: {machine}")
    print("preset\twall_s\tpeak_rss_gb\toutput_gb\ttarget")
    for r in rows:
        t = TARGETS.get(r["preset"], (None, None))
        target = f"< {t[0]} s, < {t[1]} GB" if t[0] else "-"
        print(f"{r['preset']}\t{r['wall_s']}\t{r['peak_rss_gb']}\t{r['output_gb']}\t{target}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["tiny"])
