"""The typed-settings checker every config section is built with."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from rtrec.typed import build, checked, mapping


@dataclass
class Inner:
    rate: float = 0.5
    names: list[str] = field(default_factory=list)

    def validate(self) -> Inner:
        if self.rate > 1:
            raise ValueError("rate must be at most 1")
        return self


@dataclass
class Outer:
    size: int = 1
    label: str | None = None
    inner: Inner = field(default_factory=Inner)


SECTIONS = {(Outer, "inner"): Inner}


def test_values_are_checked_against_the_field_types():
    assert checked(4, float, "x") == 4.0 and isinstance(checked(4, float, "x"), float)
    assert checked(None, str | None, "x") is None
    assert checked(["a"], list[str], "x") == ["a"]
    assert checked({"a": 1}, dict[str, float], "x") == {"a": 1.0}
    with pytest.raises(ValueError, match=r"x must be int, got True \(bool\)"):
        checked(True, int, "x")
    with pytest.raises(ValueError, match=r"x\[1\] must be str"):
        checked(["a", 2], list[str], "x")


def test_sections_are_built_nested_and_validated_with_their_path():
    built = build(Outer, {"size": 3, "inner": {"rate": 1, "names": ["n"]}}, "config", SECTIONS)
    assert built == Outer(size=3, inner=Inner(rate=1.0, names=["n"]))
    with pytest.raises(ValueError, match=r"config.inner: unknown setting\(s\) \['rat'\]; known"):
        build(Outer, {"inner": {"rat": 1}}, "config", SECTIONS)
    with pytest.raises(ValueError, match="config.inner: rate must be at most 1"):
        build(Outer, {"inner": {"rate": 2}}, "config", SECTIONS)
    with pytest.raises(ValueError, match="config.inner must be a mapping"):
        build(Outer, {"inner": 3}, "config", SECTIONS)
    assert mapping(None, "s") == {}
