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

#: the signal this invocation received (None: none). A library may turn the
#: KeyboardInterrupt a signal raises into an error of its own (pandas' C parser reports
#: "Calling read(nbytes) on source failed" when a read is interrupted, and drops the
#: interrupt): with this record such an error still exits as the interruption it is.
_RECEIVED: dict[str, int | None] = {"signal": None}


def _raise_on_signals() -> None:
    """SIGTERM raises :class:`Terminated` (cleanup runs as for Ctrl-C), SIGINT
    ``KeyboardInterrupt``; both are recorded in :data:`_RECEIVED` first."""
    _RECEIVED["signal"] = None

    def on_term(signum, frame):  # noqa: ARG001 - signal API
        _RECEIVED["signal"] = signal.SIGTERM
        raise Terminated()

    def on_int(signum, frame):
        _RECEIVED["signal"] = signal.SIGINT
        signal.default_int_handler(signum, frame)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_int)


def _exit_interrupted(sig: int) -> None:
    """Exit 143 (SIGTERM) or 130 (SIGINT) with the resume hint."""
    if sig == signal.SIGTERM:
        _echo_err("terminated (SIGTERM); rerun the same command to resume")
        raise click.exceptions.Exit(143) from None
    _echo_err("interrupted; rerun the same command to resume")
    raise click.exceptions.Exit(130) from None


def _exit_if_interrupted() -> None:
    """Exit as an interruption when a signal arrived, whatever error it surfaced as."""
    if _RECEIVED["signal"] is not None:
        _exit_interrupted(_RECEIVED["signal"])


def _debug_enabled(ctx: click.Context) -> bool:
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    return bool(obj.get("debug"))


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


class ErrorMappingGroup(TyperGroup):
    """Click group that turns rnce-bag errors into exit codes and one-line messages."""

    def invoke(self, ctx: click.Context):  # noqa: D401 - click API
        _raise_on_signals()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except RnceBagError as exc:
            _exit_if_interrupted()  # e.g. a malformed-file error from an interrupted read
            if _debug_enabled(ctx):
                _echo_err(traceback.format_exc().rstrip())
            _echo_err(f"error: {exc.message}")
            if exc.hint:
                _echo_err(f"  hint: {exc.hint}")
            raise click.exceptions.Exit(exc.exit_code) from None
        except Terminated:
            _exit_interrupted(signal.SIGTERM)
        except BrokenPipeError:  # the reader left (``rnce-bag gwas --help | head``): click
            raise  # quiets the streams and exits 1, as for the top-level help
        except KeyboardInterrupt:
            _exit_interrupted(signal.SIGINT)
        except OSError as exc:
            from rnce_bag.core.io import DISK_FULL, disk_full

            _exit_if_interrupted()

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
        an ``except`` block: the traceback is the one being handled); 143 / 130 when the
        error came from an interruption."""
        _exit_if_interrupted()
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
