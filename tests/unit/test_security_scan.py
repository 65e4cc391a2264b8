"""What a platform team's security review sees in template.yaml: checkov's skips reach the
resources it scans (the plain translation), each with its reason, and the cheap fixes are there
(customer managed key, reserved concurrency, point-in-time recovery, a table that is kept).

`make lint` runs checkov itself (its own virtualenv, a few seconds); these tests only read the
templates, so that a translation that drops the skips, or a fix that is undone, fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]

from tools.plain_template import translate_file

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "template.yaml", *sorted((ROOT / "examples").glob("*.yaml"))]


def _read(path: Path) -> dict[str, Any]:
    template, matches = decode(str(path))
    assert not matches, matches
    return dict(template)


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return _read(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def plain() -> dict[str, Any]:
    return translate_file(ROOT / "template.yaml")


def _skips(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return list(resource.get("Metadata", {}).get("checkov", {}).get("skip", []))


def test_checkov_skips_when_sam_translates_the_template_stay_on_the_scanned_functions(
    sam: dict[str, Any], plain: dict[str, Any]
) -> None:
    functions = {
        name: resource
        for name, resource in sam["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert functions
    for name, resource in functions.items():
        assert _skips(resource), f"{name} has no checkov skips to carry"
        translated = plain["Resources"][name]
        assert translated["Type"] == "AWS::Lambda::Function"
        assert _skips(translated) == _skips(resource)


@pytest.mark.parametrize("path", SCANNED, ids=lambda path: path.name)
def test_checkov_skips_when_read_name_a_check_and_say_why(path: Path) -> None:
    for name, resource in _read(path)["Resources"].items():
        for skip in _skips(resource):
            assert str(skip.get("id", "")).startswith("CKV_"), f"{name}: {skip}"
            assert len(str(skip.get("comment", ""))) >= 40, f"{name}: {skip} gives no reason"


def test_requests_table_when_deployed_is_kept_and_recoverable(sam: dict[str, Any]) -> None:
    table = sam["Resources"]["RequestsTable"]

    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    recovery = table["Properties"]["PointInTimeRecoverySpecification"]
    assert recovery["PointInTimeRecoveryEnabled"] is True


def _if_key(value: Any) -> Any:
    """`!If [HasKmsKey, !Ref KmsKeyArn, !Ref AWS::NoValue]`: the condition and both branches."""
    assert isinstance(value, dict) and set(value) == {"Fn::If"}, value
    return value["Fn::If"]


def test_kms_key_when_set_encrypts_table_log_groups_and_environment(sam: dict[str, Any]) -> None:
    resources = sam["Resources"]
    key = {"Ref": "KmsKeyArn"}
    no_value = {"Ref": "AWS::NoValue"}
    assert sam["Parameters"]["KmsKeyArn"]["Default"] == ""
    assert sam["Conditions"]["HasKmsKey"] == {"Fn::Not": [{"Fn::Equals": [key, ""]}]}

    encrypted = {
        "RequestsTable": resources["RequestsTable"]["Properties"]["SSESpecification"][
            "KMSMasterKeyId"
        ],
        "CertificateLogGroup": resources["CertificateLogGroup"]["Properties"]["KmsKeyId"],
        "CertificateFailureLogGroup": resources["CertificateFailureLogGroup"]["Properties"][
            "KmsKeyId"
        ],
        **{
            name: resource["Properties"]["KmsKeyArn"]
            for name, resource in resources.items()
            if resource["Type"] == "AWS::Serverless::Function"
        },
    }
    assert len(encrypted) == 5
    for name, value in encrypted.items():
        assert _if_key(value) == ["HasKmsKey", key, no_value], name
    sse = resources["RequestsTable"]["Properties"]["SSESpecification"]
    assert _if_key(sse["SSEType"]) == ["HasKmsKey", "KMS", no_value]


def test_kms_key_when_set_is_usable_by_the_role_through_dynamodb_only(
    sam: dict[str, Any],
) -> None:
    granted = []
    for name, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"]["Policies"]:
            if "Fn::If" not in policy:
                text = str(policy)
                assert "kms:" not in text, f"{name}: a KMS permission without KmsKeyArn"
                continue
            condition, granted_branch, otherwise = policy["Fn::If"]
            assert (condition, otherwise) == ("HasKmsKey", {"Ref": "AWS::NoValue"})
            for statement in granted_branch["PolicyDocument"]["Statement"]:
                assert statement["Resource"] == {"Ref": "KmsKeyArn"}
                assert statement["Condition"] == {
                    "StringEquals": {
                        "kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}
                    }
                }
                granted.append(name)
    assert granted, "no role may use the key"


def test_reserved_concurrency_when_set_limits_the_certificate_function(
    sam: dict[str, Any], plain: dict[str, Any]
) -> None:
    parameter = sam["Parameters"]["ReservedConcurrency"]
    assert parameter["Default"] == ""
    value = sam["Resources"]["CertificateFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert _if_key(value) == [
        "HasReservedConcurrency",
        {"Ref": "ReservedConcurrency"},
        {"Ref": "AWS::NoValue"},
    ]
    translated = plain["Resources"]["CertificateFunction"]["Properties"]
    assert translated["ReservedConcurrentExecutions"] == value
