"""The runtime pins agree wherever they are written: requirements-runtime.in (what a person
edits), handler/requirements.txt (its lock, with hashes, which sam build installs),
pyproject.toml's dependencies and requirements-dev.txt (what the tests run against)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from tools.check_build import canonical, locked_requirements

ROOT = Path(__file__).resolve().parents[2]


def _pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            requirement = Requirement(text)
            found[canonical(requirement.name)] = str(requirement.specifier)
    return found


def _runtime_in() -> dict[str, str]:
    return _pins((ROOT / "requirements-runtime.in").read_text("utf-8").splitlines())


def test_runtime_pins_when_compared_with_the_lock_are_locked_at_the_same_versions() -> None:
    locked = {
        name: str(requirement.specifier)
        for name, (requirement, _) in locked_requirements(
            ROOT / "handler" / "requirements.txt"
        ).items()
    }
    wanted = _runtime_in()

    assert wanted and all(spec.startswith("==") for spec in wanted.values())
    assert {name: locked.get(name) for name in wanted} == wanted


def test_runtime_pins_when_compared_with_pyproject_and_dev_requirements_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    dev = _pins((ROOT / "requirements-dev.txt").read_text("utf-8").splitlines())
    wanted = _runtime_in()

    assert _pins(project["dependencies"]) == wanted
    assert {name: dev.get(name) for name in wanted} == wanted
