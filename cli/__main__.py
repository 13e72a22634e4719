"""``python -m cli`` runs the CLI (used by ``torchrun -m cli train ...``)."""

from cli.main import app

app(prog_name="rnce-bag")
