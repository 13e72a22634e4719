"""Declarative configuration: YAML files -> pydantic models -> plain kwargs.

Every YAML is read with ``yaml.safe_load``; dotted overrides (``--set train.lr=1e-4``)
are applied to the raw mapping before validation, so an override is checked exactly
like a value in the file. Validation errors are reported one per line as
``[section -> key] message`` and raised as :class:`ConfigError` (exit code 2).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rnce_bag.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are validated on set."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


#: deepest nesting a config, a study or a --set value may have (the deepest setting is 3)
MAX_YAML_DEPTH = 32


class StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses duplicate keys and aliases (so no alias bomb)."""

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML API
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in rnce-bag configs",
                event.start_mark)
        depth = getattr(self, "_depth", 0)
        if depth >= MAX_YAML_DEPTH:  # before Python's recursion limit, with a line number
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_YAML_DEPTH} levels (no rnce-bag "
                "setting is)", self.peek_event().start_mark)
        self._depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML API
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML mapping with ``safe_load``.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, or is not a mapping.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file '{p}' not found", hint="check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file '{p}' cannot be read: {exc}") from exc
    try:
        data = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"config file '{p}' is not valid YAML{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file '{p}': expected a mapping of sections at the top level, "
            f"found {type(data).__name__}"
        )
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``"a.b.c=value"`` into ``(["a", "b", "c"], parsed value)``.

    The value is parsed as YAML (``true``, ``[1, 2]``, ``null``); a plain string that
    reads as a number (``1e-4``, which YAML 1.1 leaves a string) becomes a float.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(
            f"override {text!r}: expected KEY=VALUE with a dotted key, e.g. train.lr=1e-4"
        )
    try:
        value = yaml.load(raw, Loader=StrictLoader) if raw.strip() else ""  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: value is not valid YAML: {exc}") from exc
    if isinstance(value, str):
        try:
            value = float(value) if value.strip() else value
        except ValueError:
            pass
    return key.split("."), value


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a deep copy of ``data`` with each dotted override set.

    Intermediate mappings are created as needed; an override that descends into a
    non-mapping value is an error naming the key.
    """
    result = _deep_copy(data)
    for text in overrides:
        keys, value = parse_override(text)
        node = result
        for depth, key in enumerate(keys[:-1]):
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                path = " -> ".join(keys[: depth + 1])
                raise ConfigError(
                    f"override {text!r}: [{path}] is a value, not a section; "
                    f"cannot set a key inside it"
                )
            node = child
        node[keys[-1]] = value
    return result


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Render pydantic errors one per line as ``[section -> key] message``."""
    lines = []
    for err in exc.errors():
        loc = " -> ".join(str(part) for part in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against the documented keys)"
        elif "input" in err and err["type"] != "missing":
            found = repr(err["input"])
            if len(found) > 80:  # never echo a huge value back
                found = found[:60] + f"... ({len(found)} characters)"
            msg = f"{msg} (found {found})"
        lines.append(f"[{loc}] {msg}")
    return f"invalid config {source}: " + "; ".join(lines)


def validate_config(
    data: Mapping[str, Any], model: type[M], source: str = "(overrides)"
) -> M:
    """Validate a raw mapping against ``model``; raise :class:`ConfigError` on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from exc


def load_config(
    path: str | os.PathLike[str] | None,
    model: type[M],
    overrides: Iterable[str] = (),
) -> M:
    """Load ``path`` (or the model's defaults when ``None``), apply overrides, validate.

    Parameters
    ----------
    path
        YAML file, or ``None`` to start from the model's defaults.
    model
        A :class:`StrictModel` subclass.
    overrides
        Dotted ``KEY=VALUE`` strings, applied in order.
    """
    data = load_yaml(path) if path is not None else {}
    data = apply_overrides(data, overrides)
    source = f"'{path}'" if path is not None else "(defaults)"
    return validate_config(data, model, source)


def dump_config(config: BaseModel) -> dict[str, Any]:
    """The resolved config as plain JSON-compatible data (saved with every run)."""
    return config.model_dump(mode="json")


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}
