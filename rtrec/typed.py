"""Typed settings from YAML / JSON values: one checker for every config section.

Config files and ``--set`` overrides arrive as plain YAML values. Each section is a dataclass;
:func:`build` turns a mapping into it, naming an unknown key (with the known ones) or a value
of the wrong type, so a typo fails when the config loads rather than hours into a run. Whole
numbers are accepted where a float is expected (JSON writes 4 for 4.0); a bool is never taken
for a number. A section class with a ``validate()`` method has it called after it is built.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any


def checked(value: Any, kind: Any, where: str) -> Any:
    """``value`` if it fits the type ``kind``, else a ValueError naming the setting."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        for option in args:
            try:
                return checked(value, option, where)
            except ValueError:
                continue
    elif kind is type(None):
        if value is None:
            return value
    elif origin in (list, tuple) and isinstance(value, (list, tuple)):
        return [checked(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is dict and isinstance(value, dict):
        return {str(k): checked(v, args[1], f"{where}.{k}") for k, v in value.items()}
    elif kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    elif kind is Any or (
        isinstance(kind, type)
        and isinstance(value, kind)
        and not (isinstance(value, bool) and kind is not bool)
    ):
        return value
    name = getattr(kind, "__name__", None) or str(kind)
    raise ValueError(f"{where} must be {name}, got {value!r} ({type(value).__name__})")


def mapping(value: Any, where: str) -> dict[str, Any]:
    """A section's values: a mapping (None for an empty section), else a clear error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping of settings, got {value!r}")
    return value


def build(
    cls: type,
    values: dict[str, Any],
    where: str,
    sections: Mapping[tuple[type, str], type] = {},  # noqa: B006 (read only)
    noun: str = "setting",
) -> Any:
    """``cls(**values)`` with every value checked; ``sections`` maps ``(cls, field)`` to the
    dataclass of a nested section (built by its own ``from_dict`` where it has one)."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown {noun}(s) {unknown}; known: {sorted(known)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in values.items():
        sub, inner = sections.get((cls, name)), f"{where}.{name}"
        if sub is None:
            kwargs[name] = checked(value, hints[name], inner)
        elif hasattr(sub, "from_dict"):
            kwargs[name] = sub.from_dict(mapping(value, inner), inner)
        else:
            kwargs[name] = build(sub, mapping(value, inner), inner, sections)
    built = cls(**kwargs)
    if hasattr(built, "validate"):
        try:
            return built.validate()
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from err
    return built
