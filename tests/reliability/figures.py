"""The figure collector: `figures.record(...)` in a test, one table at the end of the run.

Rows live in the session's config (so every test of the session adds to one table). Under
pytest-xdist each worker hands its rows to the controller through `workeroutput`, the channel
xdist provides for this, and the controller prints the table. The fixture and the hooks are
imported by tests/conftest.py, which every run loads (the xdist controller too, whatever path
is named), so the table prints with `make reliability`, `make test` and `-n 2` alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pytest

_WORKER_OUTPUT_KEY = "reliability_figures"
_ROWS = pytest.StashKey[list["Figure"]]()


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    value: int | float | str
    target: str = ""
    ok: bool = True


class Figures:
    """What a test hands to the report: one row per figure."""

    def __init__(self, rows: list[Figure]) -> None:
        self._rows = rows

    def record(
        self,
        section: str,
        name: str,
        value: int | float | str,
        target: str = "",
        ok: bool = True,
    ) -> None:
        self._rows.append(Figure(section, name, value, target, ok))

    @property
    def rows(self) -> list[Figure]:
        return list(self._rows)


def _rows(config: pytest.Config) -> list[Figure]:
    return config.stash.setdefault(_ROWS, [])


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(_rows(request.config))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker: send this worker's rows to the controller."""
    output: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if output is not None:
        output[_WORKER_OUTPUT_KEY] = [asdict(row) for row in _rows(session.config)]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """In the xdist controller: collect a finished worker's rows."""
    output = getattr(node, "workeroutput", None) or {}
    rows = _rows(node.config)
    rows.extend(Figure(**row) for row in output.get(_WORKER_OUTPUT_KEY, []))


def format_table(rows: list[Figure]) -> list[str]:
    """The rows grouped by section (sections in order of first appearance), aligned."""
    sections = list(dict.fromkeys(row.section for row in rows))
    ordered = [row for section in sections for row in rows if row.section == section]
    header = ("section", "figure", "value", "target", "ok")
    cells = [header] + [
        (row.section, row.name, str(row.value), row.target, "yes" if row.ok else "NO")
        for row in ordered
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
             for line in cells]  # fmt: skip
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return [line.rstrip() for line in lines]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if getattr(config, "workeroutput", None) is not None:
        return  # a worker: the controller prints the table
    rows = _rows(config)
    if not rows:
        return
    terminalreporter.write_sep("=", "Reliability figures")
    for line in format_table(rows):
        terminalreporter.write_line(line)
