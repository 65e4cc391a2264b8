"""tools/iam_check.py: an action or condition key AWS does not document fails `make lint`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools import iam_check
from tools.iam_check import Database, Statement, check_statement, statements

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def database() -> Database:
    return Database()


def _problems(body: dict[str, Any], database: Database) -> list[str]:
    return check_statement(Statement("test", body), database)[0]


def test_iam_check_when_run_on_the_project_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert iam_check.main([]) == 0
    assert "every action and condition key documented" in capsys.readouterr().err


def test_iam_check_when_run_reads_the_readme_policies_too() -> None:
    found = iam_check.readme_statements()

    actions = {str(a) for s in found for a in iam_check._listed(s.body["Action"])}
    assert {"sts:AssumeRole", "route53:ChangeResourceRecordSets"} <= actions


@pytest.mark.parametrize(
    "action",
    [
        "acm:ListCertificateDomainValidation",  # one letter short
        "route53:ChangeResourceRecordSet",
        "acm:Describe*Zone",  # a wildcard that matches nothing
        "certificatemanager:DescribeCertificate",  # no such service prefix
        "ListCertificates",
    ],
)
def test_iam_check_when_an_action_is_not_documented_fails(action: str, database: Database) -> None:
    problems = _problems({"Effect": "Allow", "Action": action, "Resource": "*"}, database)

    assert problems and action in problems[0]


@pytest.mark.parametrize(
    "action",
    ["acm:ListCertificateDomainValidations", "kms:GenerateDataKey*", "ACM:describeCertificate"],
)
def test_iam_check_when_an_action_is_documented_or_in_the_table_passes(
    action: str, database: Database
) -> None:
    assert _problems({"Effect": "Allow", "Action": action, "Resource": "*"}, database) == []


@pytest.mark.parametrize(
    ("action", "key"),
    [
        # a key of another service
        ("acm:DeleteCertificate", "route53:ChangeResourceRecordSetsActions"),
        # a misspelt key of the action's own service
        ("route53:ChangeResourceRecordSets", "route53:ChangeResourceRecordSetsNormalizedNames"),
        # a tag key the action does not support (ListCertificates has no resource)
        ("acm:ListCertificates", "aws:ResourceTag/owner"),
        ("acm:RequestCertificate", "aws:NotAGlobalKey"),
    ],
)
def test_iam_check_when_a_condition_key_is_not_documented_for_the_action_fails(
    action: str, key: str, database: Database
) -> None:
    body = {
        "Effect": "Allow",
        "Action": action,
        "Resource": "*",
        "Condition": {"StringEquals": {key: "x"}},
    }

    problems = _problems(body, database)

    assert problems and key in problems[0]


@pytest.mark.parametrize(
    ("action", "key"),
    [
        ("acm:RequestCertificate", "aws:RequestTag/dns-certificate:stack-id"),
        ("acm:DeleteCertificate", "aws:ResourceTag/dns-certificate:stack-id"),
        (
            "route53:ChangeResourceRecordSets",
            "route53:ChangeResourceRecordSetsNormalizedRecordNames",
        ),
        ("kms:Decrypt", "kms:ViaService"),
        ("sts:AssumeRole", "aws:PrincipalOrgID"),
        ("acm:RequestCertificate", "acm:DomainNames"),
    ],
)
def test_iam_check_when_a_condition_key_is_documented_passes(
    action: str, key: str, database: Database
) -> None:
    body = {
        "Effect": "Allow",
        "Action": action,
        "Resource": "*",
        "Condition": {"ForAllValues:StringLike": {key: "x"}},
    }

    assert _problems(body, database) == []


def test_iam_check_when_a_statement_is_conditional_checks_both_branches() -> None:
    policy = {
        "PolicyDocument": {
            "Statement": [
                {
                    "Fn::If": [
                        "Cond",
                        {"Effect": "Allow", "Action": "acm:Nope", "Resource": "*"},
                        {"Effect": "Allow", "Action": "acm:AlsoNope", "Resource": "*"},
                    ]
                }
            ]
        }
    }
    nested = {"Policies": [{"Fn::If": ["Other", policy, {"Ref": "AWS::NoValue"}]}]}

    found = list(statements({"Role": {"Properties": nested}}, "t:"))

    assert [s.body["Action"] for s in found] == ["acm:Nope", "acm:AlsoNope"]


def test_iam_check_when_the_table_names_an_operation_botocore_lacks_fails(
    monkeypatch: pytest.MonkeyPatch, database: Database
) -> None:
    monkeypatch.setitem(
        iam_check.EXTRA_ACTIONS,
        "acm:ListCertificateDomainValidation",
        iam_check.Extra(source="x", botocore=("acm", "ListCertificateDomainValidation")),
    )

    assert any("has no ListCertificateDomainValidation" in p for p in database.check_extras())


def test_iam_check_when_a_template_has_an_unknown_action_exits_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "bad.yaml"
    template.write_text(
        "Resources:\n"
        "  Role:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        "        Statement:\n"
        "          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com},"
        " Action: sts:AssumeRole}\n"
        "      Policies:\n"
        "        - PolicyName: p\n"
        "          PolicyDocument:\n"
        "            Statement:\n"
        "              - {Effect: Allow, Action: route53:ChangeRecordSets, Resource: '*'}\n",
        encoding="utf-8",
    )

    assert iam_check.main([str(template), "--no-readme"]) == 1
    assert "route53:ChangeRecordSets is not an action AWS documents" in capsys.readouterr().err


def test_iam_check_when_a_readme_policy_is_not_json_fails(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text('Copy this:\n\n```json\n{"Statement": [{"Effect": "Allow",}]}\n```\n')

    with pytest.raises(SystemExit, match="json block 1"):
        iam_check.readme_statements(readme)
