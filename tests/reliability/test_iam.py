"""The template's IAM, read as a reviewer would: least privilege that a test can check.

moto does not evaluate IAM, so the policies are checked by parsing template.yaml (cfn-lint's own
YAML loader, which understands !Sub and friends): no `*` action, no mutating action on `*`
without a condition, Route 53 record changes only with the record-type and name conditions,
ACM changes only on certificates carrying this resource's ownership tag, and no permission the
code never uses (every action maps to a boto3 call that appears in the handler's source).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
SECTION = "IAM"
READ_ONLY_PREFIXES = ("Describe", "List", "Get")
#: Actions the Lambda service uses on the function's behalf, not calls in the code.
RUNTIME_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
#: With KmsKeyArn set, DynamoDB uses the key with the caller's permissions (kms:ViaService).
SERVICE_ACTIONS = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}
#: Calls made by a library the code hands the client to (Powertools idempotency's DynamoDB
#: persistence layer: conditional put, read, update, delete of one item).
LIBRARY_CALLS = {
    "dynamodb:GetItem": "aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py",
    "dynamodb:PutItem": "aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py",
    "dynamodb:UpdateItem": "aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py",
    "dynamodb:DeleteItem": "aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py",
}
#: ACM authorizes the tags passed to RequestCertificate as AddTagsToCertificate.
IMPLIED_BY = {"acm:AddTagsToCertificate": "acm:RequestCertificate"}


def _template() -> Any:
    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return template


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every role policy, as (role/policy/Sid, statement)."""
    for name, resource in _template()["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in _policies(resource):
            for statement in policy["PolicyDocument"]["Statement"]:
                if isinstance(statement, dict) and "Fn::If" in statement:
                    statement = statement["Fn::If"][1]  # the granted branch
                if not isinstance(statement, dict) or "Effect" not in statement:
                    continue
                where = f"{name}/{policy['PolicyName']}/{statement.get('Sid', '?')}"
                yield where, statement


def _policies(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The role's policies; of a policy under `Fn::If` (KmsKeyArn's), the granted branch."""
    for policy in role["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        yield policy


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _handler_source() -> str:
    return "\n".join(path.read_text() for path in (ROOT / "handler").rglob("*.py"))


def _library_source(relative: str) -> str:
    import aws_lambda_powertools

    site = Path(aws_lambda_powertools.__file__).resolve().parents[1]
    return (site / relative).read_text()


def test_template_iam_grants_no_wildcard_action(figures: Any) -> None:
    offenders = [
        f"{where}: {action}"
        for where, statement in statements()
        for action in _listed(statement["Action"])
        if action == "*" or str(action).endswith(":*")
    ]

    figures.record(SECTION, "wildcard actions", len(offenders), "0", not offenders)
    assert offenders == []


def test_template_iam_grants_no_mutating_action_on_every_resource_without_a_condition(
    figures: Any,
) -> None:
    offenders = [
        f"{where}: {action}"
        for where, statement in statements()
        if "*" in _listed(statement["Resource"]) and "Condition" not in statement
        for action in _listed(statement["Action"])
        if not str(action).split(":")[1].startswith(READ_ONLY_PREFIXES)
    ]

    figures.record(
        SECTION, "mutating actions on * without a condition", len(offenders), "0", not offenders
    )
    assert offenders == []


def test_template_iam_changes_records_only_for_validation_cnames() -> None:
    changes = [
        statement
        for _, statement in statements()
        if "route53:ChangeResourceRecordSets" in _listed(statement["Action"])
    ]

    assert changes, "the function must be able to write validation records"
    for statement in changes:
        condition = statement["Condition"]
        assert condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"]
        assert condition["ForAllValues:StringEquals"][
            "route53:ChangeResourceRecordSetsRecordTypes"
        ] == ["CNAME"]
        patterns = condition["ForAllValues:StringLike"][
            "route53:ChangeResourceRecordSetsNormalizedRecordNames"
        ]
        for name in ACM_VALIDATION_NAMES:
            assert any(_iam_like(pattern, name) for pattern in patterns), (name, patterns)
        for name in NOT_VALIDATION_NAMES:
            assert not any(_iam_like(pattern, name) for pattern in patterns), (name, patterns)


#: Names of ACM's validation CNAMEs (normalized: lowercase, no trailing dot).
ACM_VALIDATION_NAMES = (
    "_3639ac514e785e898d2646601fa951d5.example.com",
    "_3639ac514e785e898d2646601fa951d5.www.shop.example.co.uk",
)
#: Underscore records other systems keep in the same zones: the role must not reach them.
NOT_VALIDATION_NAMES = (
    "_acme-challenge.example.com",
    "_acme-challenge.www.example.com",
    "_dmarc.example.com",
    "_domainconnect.example.com",
    "_amazonses.example.com",
    "_github-challenge-org.example.com",
    "example.com",
)


def _iam_like(pattern: str, value: str) -> bool:
    """IAM's StringLike: `*` any run of characters, `?` exactly one, nothing else special."""
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def test_failure_function_role_grants_only_what_the_failure_path_uses() -> None:
    template = _template()
    role = template["Resources"]["CertificateFailureFunction"]["Properties"]["Role"]
    assert role == {"Fn::GetAtt": ["CertificateFailureFunctionRole", "Arn"]}
    actions = {
        action
        for where, statement in statements()
        if where.startswith("CertificateFailureFunctionRole/")
        for action in _listed(statement["Action"])
    }
    assert actions, "the failure function needs the table and its log group"
    services = {action.split(":")[0] for action in actions}
    assert services <= {"logs", "dynamodb", "acm", "kms"}, services  # kms: only with KmsKeyArn
    assert not {a for a in actions if a.startswith("acm:")} - {
        "acm:ListCertificates",
        "acm:DescribeCertificate",
        "acm:ListTagsForCertificate",
        "acm:DeleteCertificate",
    }


def test_template_iam_changes_only_certificates_with_the_ownership_tag() -> None:
    mutating = {
        "acm:DeleteCertificate",
        "acm:RemoveTagsFromCertificate",
        "acm:UpdateCertificateOptions",
        "acm:AddTagsToCertificate",
        "acm:RequestCertificate",
    }
    found = set()
    for where, statement in statements():
        actions = set(_listed(statement["Action"])) & mutating
        if not actions:
            continue
        found |= actions
        keys = set(statement.get("Condition", {}).get("StringLike", {}))
        assert keys & {
            "aws:ResourceTag/dns-certificate:stack-id",
            "aws:RequestTag/dns-certificate:stack-id",
        }, f"{where} changes certificates without the ownership-tag condition"
    assert found == mutating


def test_template_iam_grants_no_permission_the_code_never_uses(figures: Any) -> None:
    source = _handler_source()
    granted = {
        str(action) for _, statement in statements() for action in _listed(statement["Action"])
    }
    unused = []
    for action in sorted(granted - RUNTIME_ACTIONS - SERVICE_ACTIONS):
        if action in IMPLIED_BY and IMPLIED_BY[action] in granted:
            continue
        operation = action.split(":")[1]
        method = {"lambda:InvokeFunction": "invoke"}.get(action, _snake(operation))
        where = _library_source(LIBRARY_CALLS[action]) if action in LIBRARY_CALLS else source
        # a call `.method(`, a bound method handed on (`call(client.method, ...)`) or a
        # paginator `get_paginator("method")`
        if not re.search(rf"\.{method}[(,)]|get_paginator\(\s*\"{method}\"", where):
            unused.append(action)

    figures.record(SECTION, "permissions the code never uses", len(unused), "0", not unused)
    assert unused == []


@pytest.mark.parametrize("action", ["route53:GetChange"])
def test_template_iam_no_longer_grants_what_the_code_dropped(action: str) -> None:
    granted = {str(each) for _, statement in statements() for each in _listed(statement["Action"])}

    assert action not in granted


def _route53_statements() -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Each statement granting record changes, with the condition of its `Fn::If` (or None)."""
    for resource in _template()["Resources"].values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in _policies(resource):
            for statement in policy["PolicyDocument"]["Statement"]:
                condition = None
                if isinstance(statement, dict) and "Fn::If" in statement:
                    condition, statement = statement["Fn::If"][0], statement["Fn::If"][1]
                if isinstance(statement, dict) and "route53:ChangeResourceRecordSets" in _listed(
                    statement.get("Action", [])
                ):
                    yield condition, statement


def test_template_iam_deletes_records_only_when_record_cleanup_is_enabled() -> None:
    template = _template()
    by_action = {
        tuple(
            s["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsActions"]
        ): c
        for c, s in _route53_statements()
    }

    assert by_action == {("UPSERT",): None, ("DELETE",): "RecordCleanupEnabled"}
    assert template["Conditions"]["RecordCleanupEnabled"] == {
        "Fn::Equals": [{"Ref": "EnableRecordCleanup"}, "true"]
    }
    assert template["Parameters"]["EnableRecordCleanup"]["Default"] == "false"
