"""``rnce-bag config``: validate a YAML config and print it resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from cli.app import app
from cli.configs import CONFIG_MODELS, model_for
from cli.options import SetOption
from rnce_bag.core.config import dump_config, load_config


@app.command("config")
def config_command(
    path: Annotated[Path, typer.Argument(help="YAML file under configs/<kind>/ (or use --kind).")],
    kind: Annotated[
        str | None,
        typer.Option(help=f"Config kind: {', '.join(sorted(CONFIG_MODELS))}."),
    ] = None,
    set_: SetOption = None,
) -> None:
    """Validate a config file (with overrides) and print the resolved values as YAML."""
    _, model = model_for(path, kind)
    cfg = load_config(path, model, set_ or [])
    typer.echo(yaml.safe_dump(dump_config(cfg), sort_keys=False).rstrip())
