"""Options shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a config value with a dotted key, e.g. --set qc.maf=0.05 "
        "(repeatable; the value is parsed as YAML).",
        metavar="KEY=VALUE",
    ),
]
