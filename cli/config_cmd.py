"""``rnce-bag config``: list the shipped presets, or validate a YAML config (a file, or a
preset as ``kind/name``) and print it resolved."""

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
    path: Annotated[Path | None, typer.Argument(
        help="YAML file under configs/<kind>/ (or use --kind), or a shipped preset as "
             "kind/name (e.g. ssl/demo). Without it: the shipped presets.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(help=f"Config kind: {', '.join(sorted(CONFIG_MODELS))}."),
    ] = None,
    set_: SetOption = None,
) -> None:
    """Validate a config file (with overrides) and print the resolved values as YAML;
    without a file, list the presets shipped with the package and where they are."""
    from rnce_bag.core.presets import configs_root, preset_names, preset_path

    if path is None:
        root = configs_root()
        typer.echo(f"presets shipped in {root} (copy one, edit it, pass it with --config):")
        for k in sorted(CONFIG_MODELS):
            names = preset_names(k)
            if names:
                typer.echo(f"  {k}: {', '.join(names)}")
        return
    if not path.exists() and len(path.parts) == 2 and path.parts[0] in CONFIG_MODELS:
        kind = kind or path.parts[0]
        path = preset_path(path.parts[0], path.stem)
    _, model = model_for(path, kind)
    cfg = load_config(path, model, set_ or [])
    typer.echo(yaml.safe_dump(dump_config(cfg), sort_keys=False).rstrip())
