"""README.md's install section lists every parameter of template.yaml with its default: a
parameter added to the template without a row (or whose default changed) fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
HEADING = "### Parameters"


def _template_parameters() -> dict[str, Any]:
    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return dict(template["Parameters"])


def readme_rows(text: str) -> dict[str, tuple[str, str]]:
    """{parameter: (default, effect)} from the table under HEADING."""
    section = text.split(f"\n{HEADING}\n", 1)[1].split("\n#", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


def shown_default(value: Any) -> str:
    """How the table shows a template default: `value`, or "empty"."""
    text = str(value)
    return "empty" if text == "" else f"`{text}`"


@pytest.fixture(scope="module")
def rows() -> dict[str, tuple[str, str]]:
    return readme_rows((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_parameters_when_compared_with_the_template_lists_each_one_once(
    rows: dict[str, tuple[str, str]],
) -> None:
    assert set(rows) == set(_template_parameters())


def test_readme_parameters_when_compared_with_the_template_show_its_defaults(
    rows: dict[str, tuple[str, str]],
) -> None:
    for name, spec in _template_parameters().items():
        default, effect = rows[name]
        expected = shown_default(spec["Default"]) if "Default" in spec else "required"
        assert default == expected, name
        assert len(effect) >= 20, f"{name}: say what it does"


def test_readme_parameters_when_a_parameter_has_no_row_fail() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    without = re.sub(r"\n\| `KmsKeyArn` \|[^\n]*", "", text)

    assert set(_template_parameters()) - set(readme_rows(without)) == {"KmsKeyArn"}
