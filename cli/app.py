"""The Typer application object and the mapping of errors to exit codes.

Exit codes: 0 ok, 2 bad input or config, 3 external tool missing or failing,
1 unexpected. A user error prints ``error: <reason>`` (and a hint line) on stderr,
never a traceback; ``--debug`` prints the traceback as well.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback

import click
import typer
from typer.core import TyperGroup

from rnce_bag.core.errors import RnceBagError, Terminated


def _raise_on_sigterm() -> None:
    """Turn SIGTERM into :class:`Terminated`, so cleanup runs as for Ctrl-C."""

    def handler(signum, frame):  # noqa: ARG001 - signal API
        raise Terminated()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def _debug_enabled(ctx: click.Context) -> bool:
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    return bool(obj.get("debug"))


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


class ErrorMappingGroup(TyperGroup):
    """Click group that turns rnce-bag errors into exit codes and one-line messages."""

    def invoke(self, ctx: click.Context):  # noqa: D401 - click API
        _raise_on_sigterm()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except RnceBagError as exc:
            if _debug_enabled(ctx):
                _echo_err(traceback.format_exc().rstrip())
            _echo_err(f"error: {exc.message}")
            if exc.hint:
                _echo_err(f"  hint: {exc.hint}")
            raise click.exceptions.Exit(exc.exit_code) from None
        except Terminated:
            _echo_err("terminated (SIGTERM); rerun the same command to resume")
            raise click.exceptions.Exit(143) from None
        except BrokenPipeError:  # the reader left (``rnce-bag gwas --help | head``): click
            raise  # quiets the streams and exits 1, as for the top-level help
        except KeyboardInterrupt:
            _echo_err("interrupted; rerun the same command to resume")
            raise click.exceptions.Exit(130) from None
        except OSError as exc:
            from rnce_bag.core.io import DISK_FULL, disk_full

            if exc.errno not in DISK_FULL:
                return self._unexpected(ctx, exc)
            err = disk_full(exc.filename)
            _echo_err(f"error: {err.message}\n  hint: {err.hint}")
            raise click.exceptions.Exit(err.exit_code) from None
        except Exception as exc:
            return self._unexpected(ctx, exc)

    @staticmethod
    def _unexpected(ctx: click.Context, exc: Exception):
        """Exit 1 for what rnce-bag did not expect, asking for a bug report (called from
        an ``except`` block: the traceback is the one being handled)."""
        if _debug_enabled(ctx):
            _echo_err(traceback.format_exc().rstrip())
        _echo_err(
            f"error: unexpected {type(exc).__name__}: {exc}\n"
            "  hint: rerun with --debug for the traceback and report it as a bug"
        )
        raise click.exceptions.Exit(1) from None


app = typer.Typer(
    name="rnce-bag",
    cls=ErrorMappingGroup,
    help="Brain MRI -> R-NCE representations -> Brain Age Gap -> GWAS, heritability, "
    "genetic correlation and cell-type enrichment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version_string() -> str:
    """``rnce-bag X.Y.Z (python A.B.C)``."""
    from rnce_bag import __version__

    return f"rnce-bag {__version__} (python {sys.version.split()[0]})"
