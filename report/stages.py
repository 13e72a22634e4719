"""The run-wide report's stages: ``rnce-bag report`` (the HTML page of a run folder) and
``rnce-bag compare`` (two BAGs side by side). They read the declared outputs of every
other stage (brain age, probes, GWAS, h2/rg, enrichment, oracle) and write nothing else.
"""

from __future__ import annotations

from pathlib import Path

from rnce_bag.core.errors import InputError
from rnce_bag.core.outputs import Output, StageSpec, output_path
from rnce_bag.core.stage import Echo, Outputs, StageParams, silent


class ReportParams(StageParams):
    """The HTML page of a run folder."""

    run: Path


def run_report(params: ReportParams, echo: Echo = silent) -> Outputs:
    """``index.html`` and ``figures/`` (PNG + SVG) for everything in ``run``."""
    from report.page import build_report, collect
    from rnce_bag.core.outdir import expected_writes, staged_run
    collect(params.run)  # a run folder with something to report, before --out is made
    with staged_run(params.out, "report", writes=expected_writes(REPORT),
                    protect=[params.run / "run.json"], config={"run": str(params.run)},
                    tools=()) as (stage, _):
        build_report(params.run, stage)
    page = output_path(REPORT, "page", params.out)
    echo(f"report: {page}")
    return {"page": page}


REPORT = StageSpec("report", {
    "page": Output("index.html"),
}, ReportParams, run_report)


class CompareParams(StageParams):
    """Two BAGs of a run side by side (``rnce-bag compare``)."""

    run: Path
    a: str
    b: str


def run_compare(params: CompareParams, echo: Echo = silent) -> Outputs:
    """``compare.json``, the Miami plot and a report page with the comparison."""
    import json

    from report.page import build_report, collect, compare_bags
    from rnce_bag.core.io import ensure_writable_dir, write_text
    from rnce_bag.core.outdir import expected_writes, staged_run
    a, b = params.a, params.b
    if not a.strip() or not b.strip():
        raise InputError("--a and --b name the two phenotypes to compare; one is empty",
                         hint="e.g. --a BAG_FS --b BAG_RNCE")
    if a == b:
        raise InputError(f"--a and --b are both {a!r}: a comparison needs two different "
                         "phenotypes", hint="e.g. --a BAG_FS --b BAG_RNCE")
    with staged_run(params.out, "compare", writes=expected_writes(COMPARE),
                    protect=[params.run / "run.json"],
                    config={"run": str(params.run), "a": a, "b": b}, tools=()) as (stage, _):
        result = compare_bags(collect(params.run), a, b,
                              ensure_writable_dir(stage / "figures"))
        write_text(output_path(COMPARE, "result", stage),
                   json.dumps(result, indent=2, default=str) + "\n")
        build_report(params.run, stage, compare=(a, b))
    page = output_path(COMPARE, "page", params.out)
    if result.get("verdict"):  # the answer first
        echo(f"verdict: {result['verdict']}")
    for r in result["rows"]:
        echo(f"{r['quantity']}: {a} {r[a]} | {b} {r[b]} | {r['difference']}")
    echo(f"report with the comparison: {page}")
    return {"result": output_path(COMPARE, "result", params.out), "page": page}


#: ``rnce-bag compare``: a command with the stage contract, not a step of a study
COMPARE = StageSpec("compare", {
    "result": Output("compare.json"),
    "page": Output("index.html"),
}, CompareParams, run_compare)


__all__ = ["CompareParams", "ReportParams", "run_compare", "run_report"]
