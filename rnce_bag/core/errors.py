"""Error hierarchy shared by every package.

Each class carries the exit code the CLI returns (``exit_code``: 2 bad input or config,
3 external tool, 1 otherwise); user errors never show a traceback unless ``--debug``.
Messages follow one pattern: what was expected, what was found, where (file, column,
row) and how to fix it.
"""

from __future__ import annotations


class RnceBagError(Exception):
    """Base class of every error rnce-bag raises on purpose.

    Parameters
    ----------
    message
        One-line reason, naming the file/field/value at fault.
    hint
        Optional second line: how to fix it.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class InputError(RnceBagError):
    """A user-supplied file, table or argument is malformed or inconsistent."""

    exit_code = 2


class ConfigError(InputError):
    """A YAML config or a ``--set`` override is invalid."""


class SchemaError(InputError):
    """A table does not match its declared schema (names file, column, row)."""


class ExternalToolError(RnceBagError):
    """A required external program (plink2, gcta64, java, ...) is missing or failed."""

    exit_code = 3


class StageError(RnceBagError):
    """A pipeline stage failed for a reason that is not the user's input."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM received: handled like Ctrl-C (partial outputs cleaned, run.json says
    ``interrupted``), with exit code 143 (128 + 15) as shells expect."""
