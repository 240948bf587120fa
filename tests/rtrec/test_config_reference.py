"""docs/configuration.md is generated from the config's own docstrings and is current."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rtrec import config as c
from rtrec.config_reference import _field_docs, _sections, reference_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_has_a_description():
    missing = [
        f"{name}.{field.name}"
        for name, cls in [("", c.RtrecConfig), *_sections()]
        for field in dataclasses.fields(cls)
        if field.name not in _field_docs(cls)
        and not dataclasses.is_dataclass(field.default_factory)
        and (cls, field.name) not in c._SECTIONS
    ]
    assert not missing, f"settings without a docstring under them: {missing}"


def test_the_reference_page_is_current():
    assert DOC.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/configuration.md is stale: run `rtrec config reference > docs/configuration.md`"
    )
