"""Issue 9 end to end: the strict emulator's ACM of late 2026, and an Amazon N2 certificate's
stack through the local CloudFormation."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.driver import LocalCloudFormation
from local.emulator import Emulator, validation_record


def _request(emulator: Emulator, name: str, **extra: Any) -> str:
    arn = emulator.acm().request_certificate(DomainName=name, ValidationMethod="DNS", **extra)
    return str(arn["CertificateArn"])


def _listed(emulator: Emulator, **filters: Any) -> set[str]:
    summaries = emulator.acm().list_certificates(**filters)["CertificateSummaryList"]
    return {summary["CertificateArn"] for summary in summaries}


# ---- the emulator ----------------------------------------------------------------------------


def test_emulator_list_certificates_hides_what_acm_hides_by_default(emulator: Emulator) -> None:
    rsa = _request(emulator, "rsa.example.com")
    ec = _request(emulator, "ec.example.com", KeyAlgorithm="EC_secp384r1")
    n2 = _request(emulator, "n2.example.com", RootHierarchyType="N2_AMAZON_MANAGED")
    n2_ec = _request(
        emulator,
        "n2ec.example.com",
        RootHierarchyType="N2_SFG2_AMAZON_MANAGED",
        KeyAlgorithm="EC_prime256v1",
    )
    every_key = {"keyTypes": ["RSA_2048", "EC_prime256v1", "EC_secp384r1"]}
    both_roots = ["N2_AMAZON_MANAGED", "N2_SFG2_AMAZON_MANAGED"]

    assert _listed(emulator) == {rsa}
    assert _listed(emulator, Includes=every_key) == {rsa, ec}
    assert _listed(emulator, RootHierarchyTypes=both_roots) == {n2}
    assert _listed(emulator, Includes=every_key, RootHierarchyTypes=both_roots) == {n2, n2_ec}
    assert _listed(emulator, Includes=every_key, RootHierarchyTypes=["N2_SFG2_AMAZON_MANAGED"]) == {
        n2_ec
    }
    assert set(emulator.certificate_arns()) == {rsa, ec, n2, n2_ec}


def test_emulator_describe_certificate_shows_what_was_requested(emulator: Emulator) -> None:
    arn = _request(
        emulator,
        "example.com",
        RootHierarchyType="N2_AMAZON_MANAGED",
        CertificateUsage="CLIENT_AUTH_ONLY",
        KeyAlgorithm="EC_secp384r1",
        Options={"Export": "ENABLED"},
    )
    plain = _request(emulator, "www.example.com")

    certificate = emulator.describe(arn)
    default = emulator.describe(plain)

    assert certificate is not None and default is not None
    assert certificate["KeyAlgorithm"] == "EC_secp384r1"
    assert certificate["RootHierarchyType"] == "N2_AMAZON_MANAGED"
    assert certificate["CertificateUsage"] == "CLIENT_AUTH_ONLY"
    assert certificate["Options"]["Export"] == "ENABLED"
    assert default["KeyAlgorithm"] == "RSA_2048"
    assert "RootHierarchyType" not in default and "CertificateUsage" not in default
    assert default["Options"]["Export"] == "DISABLED"


@pytest.mark.parametrize(
    "extra",
    [
        {"RootHierarchyType": "N2_AMAZON_MANAGED", "ValidationMethod": "EMAIL"},
        {"CertificateUsage": "CLIENT_AND_SERVER_AUTH"},
        {"RootHierarchyType": "N2_SFG2_AMAZON_MANAGED", "CertificateUsage": "CLIENT_AUTH_ONLY"},
        {"RootHierarchyType": "N2_AMAZON_MANAGED", "KeyAlgorithm": "RSA_4096"},
        {"KeyAlgorithm": "EC_secp521r1"},
        {
            "RootHierarchyType": "N2_AMAZON_MANAGED",
            "CertificateAuthorityArn": "arn:aws:acm-pca:us-east-1:123456789012:"
            "certificate-authority/12345678-1234-1234-1234-123456789012",
        },
    ],
)
def test_emulator_request_certificate_refuses_what_acm_refuses(
    emulator: Emulator, extra: dict[str, Any]
) -> None:
    arguments = {"DomainName": "example.com", "ValidationMethod": "DNS", **extra}

    with pytest.raises(ClientError) as raised:
        emulator.acm().request_certificate(**arguments)

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert emulator.certificate_arns() == []


# ---- through the local CloudFormation ---------------------------------------------------------


def test_n2_certificate_stack_is_created_issued_and_deleted(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = cfn.stack("n2")
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["api.example.org"],
        "RootHierarchyType": "N2_SFG2_AMAZON_MANAGED",
        "KeyAlgorithm": "EC_secp384r1",
    }

    created = stack.create({"Certificate": properties})

    assert created.status == "CREATE_COMPLETE", created.step("Certificate").reason
    assert created.problems == []
    arn = stack.physical_id("Certificate")
    certificate = emulator.describe(arn)
    assert certificate is not None
    assert certificate["Status"] == "ISSUED"
    assert certificate["RootHierarchyType"] == "N2_SFG2_AMAZON_MANAGED"
    assert certificate["CertificateUsage"] == "CLIENT_AND_SERVER_AUTH"
    assert certificate["KeyAlgorithm"] == "EC_secp384r1"
    assert emulator.cname_records(hosted_zones["example.org"]) == dict(
        [validation_record("api.example.org")]
    )

    deleted = stack.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.problems == []
    assert emulator.certificate_arns() == []


def test_n2_usage_change_replaces_the_certificate(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = cfn.stack("n2-usage")
    base = {"DomainName": "example.com", "RootHierarchyType": "N2_AMAZON_MANAGED"}
    assert stack.create({"Certificate": base}).status == "CREATE_COMPLETE"
    old_arn = stack.physical_id("Certificate")

    updated = stack.update({"Certificate": {**base, "CertificateUsage": "CLIENT_AUTH_ONLY"}})

    assert updated.status == "UPDATE_COMPLETE", updated.step("Certificate", "update").reason
    new_arn = stack.physical_id("Certificate")
    assert new_arn != old_arn
    assert emulator.certificate_arns() == [new_arn]  # the old one was deleted in the cleanup
    certificate = emulator.describe(new_arn)
    assert certificate is not None and certificate["CertificateUsage"] == "CLIENT_AUTH_ONLY"


def test_rollback_when_an_n2_ec384_request_response_was_lost_leaves_nothing(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """ACM made the N2 EC certificate but its answer was lost; the rollback Delete finds it
    although ListCertificates lists neither N2 nor EC certificates unless asked."""
    emulator.rules.inject_fault(
        "acm:RequestCertificate", "InvalidParameterException", after_effect=True
    )
    stack = cfn.stack("n2-lost")
    properties = {
        "DomainName": "example.com",
        "RootHierarchyType": "N2_AMAZON_MANAGED",
        "KeyAlgorithm": "EC_secp384r1",
    }

    operation = stack.create({"Certificate": properties})

    assert operation.status == "ROLLBACK_COMPLETE"
    assert operation.problems == []
    assert emulator.rules.calls["acm:RequestCertificate"] == 1
    assert operation.step("Certificate", "rollback").status == "SUCCESS"
    assert emulator.certificate_arns() == []
