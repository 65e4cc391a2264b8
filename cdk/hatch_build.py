"""Vendor the function's property rules into the construct's package at build time.

The construct checks properties with the function's own rules: `properties.py` of
`handler/dns_certificate` and every module it imports, found by following its relative imports.
In a clone of the repository they are read from `../handler`; an sdist already carries the
copies made when it was built, and a wheel built from it takes those.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Where the copies go, inside the package.
RULES_PACKAGE = "dns_certificate_cdk/_rules"


def rule_modules(handler_package: Path) -> list[str]:
    """`properties.py` and every module of the package it imports, directly or not."""
    found: list[str] = []
    pending = ["properties"]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.append(name)
        tree = ast.parse((handler_package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    pending.append(node.module.split(".")[0])
                else:
                    pending.extend(alias.name for alias in node.names)
    return sorted(f"{name}.py" for name in found)


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        handler_package = Path(self.root).resolve().parent / "handler" / "dns_certificate"
        if not (handler_package / "properties.py").is_file():
            return  # building from an sdist: the copies are in src/ already
        target = RULES_PACKAGE if self.target_name == "wheel" else f"src/{RULES_PACKAGE}"
        for module in rule_modules(handler_package):
            build_data["force_include"][str(handler_package / module)] = f"{target}/{module}"
