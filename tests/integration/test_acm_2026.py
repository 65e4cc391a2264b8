"""Issue 9: today's ACM (exportable and N2 certificates, the CT opt-out's end, hidden listings)
and the native AWS::CertificateManager::Certificate's property block, through the handler."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from dns_certificate.certificates import TRANSPARENCY_OPT_OUT_WARNING
from dns_certificate.context import Runtime
from tests.integration.harness import Harness


@pytest.fixture(autouse=True)
def _exportable_certificates_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about what ACM accepts: the provider's policy allows exports here
    (AllowExportableCertificates "true"); tests/unit/test_policy.py covers the refusal."""
    monkeypatch.setenv("ALLOW_EXPORT", "true")


PCA_ARN = (
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)


def native_public(zones: dict[str, str]) -> dict[str, Any]:
    """A public certificate's block as written for AWS::CertificateManager::Certificate."""
    return {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.com", "shop.example.org"],
        "ValidationMethod": "DNS",
        "DomainValidationOptions": [
            {"DomainName": "example.com", "HostedZoneId": zones["example.com"]},
            {"DomainName": "www.example.com", "ValidationDomain": "example.com"},
            {"DomainName": "shop.example.org", "HostedZoneId": zones["example.org"]},
        ],
        "KeyAlgorithm": "EC_prime256v1",
        "CertificateTransparencyLoggingPreference": "ENABLED",
        "CertificateExport": "ENABLED",
        "Tags": [{"Key": "team", "Value": "web"}],
    }


NATIVE_PRIVATE: dict[str, Any] = {
    "DomainName": "internal.example.com",
    "CertificateAuthorityArn": PCA_ARN,
    "KeyAlgorithm": "RSA_2048",
    "Tags": [{"Key": "team", "Value": "platform"}],
}


# ---- 1. drop-in for the native resource ------------------------------------------------------


@pytest.mark.parametrize("block", ["public", "private"])
def test_native_property_block_verbatim_is_issued(
    harness: Harness, zones: dict[str, str], block: str
) -> None:
    # Between them the two blocks use every property of AWS::CertificateManager::Certificate.
    properties = native_public(zones) if block == "public" else NATIVE_PRIVATE

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.describe(answer.physical_id)["Status"] == "ISSUED"
    tags = harness.tags(answer.physical_id)
    assert tags["team"] == properties["Tags"][0]["Value"]


def test_native_public_block_sends_each_setting_to_acm_in_its_api_spelling(
    harness: Harness, zones: dict[str, str]
) -> None:
    answer = harness.run(harness.event("create.json", properties=native_public(zones)))

    assert answer.status == "SUCCESS", answer.reason
    (request,) = harness.calls.of("acm", "RequestCertificate")
    assert request.params["ValidationMethod"] == "DNS"
    assert request.params["KeyAlgorithm"] == "EC_prime256v1"
    assert request.params["Options"] == {
        "CertificateTransparencyLoggingPreference": "ENABLED",
        "Export": "ENABLED",
    }
    assert "DomainValidationOptions" not in request.params  # ValidationDomain is EMAIL's
    assert "CertificateExport" not in request.params
    certificate = harness.describe(answer.physical_id)
    assert certificate["Options"]["Export"] == "ENABLED"
    # Each name's record went to the zone the block named.
    assert len(harness.records(zones["example.com"])) == 2  # example.com, www.example.com
    assert len(harness.records(zones["example.org"])) == 1


# ---- 2. exportable certificates --------------------------------------------------------------


def test_update_when_export_changes_replaces_the_certificate(harness: Harness) -> None:
    old = {"DomainName": "example.com"}
    old_arn = harness.create(old)
    new = {"DomainName": "example.com", "Options": {"Export": "ENABLED"}}

    answer = harness.run(
        harness.event(
            "update-replace.json", properties=new, old_properties=old, physical_id=old_arn
        )
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != old_arn
    (_, replacement) = harness.calls.of("acm", "RequestCertificate")
    assert replacement.params["Options"] == {"Export": "ENABLED"}


# ---- 3. Amazon N2 certificates ---------------------------------------------------------------


def test_create_when_n2_requested_sends_acm_spelling_and_is_issued(
    harness: Harness, runtime: Runtime
) -> None:
    properties = {
        "DomainName": "example.com",
        "RootHierarchyType": "N2_AMAZON_MANAGED",
        "CertificateUsage": "CLIENT_AUTH_ONLY",
        "KeyAlgorithm": "EC_secp384r1",
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    (request,) = harness.calls.of("acm", "RequestCertificate")
    assert request.params["RootHierarchyType"] == "N2_AMAZON_MANAGED"
    assert request.params["CertificateUsage"] == "CLIENT_AUTH_ONLY"
    assert request.params["KeyAlgorithm"] == "EC_secp384r1"
    assert request.params["ValidationMethod"] == "DNS"


@pytest.mark.parametrize(
    ("change", "value"),
    [("RootHierarchyType", "N2_SFG2_AMAZON_MANAGED"), ("CertificateUsage", "CLIENT_AUTH_ONLY")],
)
def test_update_when_root_hierarchy_or_usage_changes_replaces(
    harness: Harness, change: str, value: str
) -> None:
    old = {"DomainName": "example.com", "RootHierarchyType": "N2_AMAZON_MANAGED"}
    old_arn = harness.create(old)
    new = {**old, change: value}

    answer = harness.run(
        harness.event(
            "update-replace.json", properties=new, old_properties=old, physical_id=old_arn
        )
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != old_arn


# ---- 4. nothing the resource made is invisible to it -----------------------------------------


def test_rollback_when_n2_ec384_create_failed_after_the_request_leaves_nothing_behind(
    harness: Harness,
) -> None:
    # ACM made the certificate, but its answer never arrived: the Create fails without an ARN
    # and the rollback Delete must find the certificate by listing, although ListCertificates
    # hides N2 and EC certificates unless asked for them.
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org"],
        "RootHierarchyType": "N2_SFG2_AMAZON_MANAGED",
        "KeyAlgorithm": "EC_secp384r1",
    }
    harness.faults.lose_request_response = True
    create = harness.event("create.json", properties=properties)
    failed = harness.run(create)
    harness.faults.lose_request_response = False
    assert failed.status == "FAILED"
    assert not failed.physical_id.startswith("arn:")
    assert len(harness.certificates()) == 1

    answer = harness.run(
        harness.event(
            "delete.json", properties=create["ResourceProperties"], physical_id=failed.physical_id
        )
    )

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []


# ---- 6. certificate transparency -------------------------------------------------------------


def _warnings(output: io.StringIO) -> list[str]:
    records = [json.loads(line) for line in output.getvalue().splitlines() if line.strip()]
    return [r["message"] for r in records if r.get("level") == "WARNING"]


def test_create_when_transparency_disabled_passes_it_on_and_warns_once(
    harness: Harness, log_output: io.StringIO
) -> None:
    properties = {
        "DomainName": "example.com",
        "CertificateTransparencyLoggingPreference": "DISABLED",
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    (request,) = harness.calls.of("acm", "RequestCertificate")
    assert request.params["Options"] == {"CertificateTransparencyLoggingPreference": "DISABLED"}
    assert _warnings(log_output).count(TRANSPARENCY_OPT_OUT_WARNING) == 1


def test_create_when_transparency_enabled_does_not_warn(
    harness: Harness, log_output: io.StringIO
) -> None:
    properties = {
        "DomainName": "example.com",
        "Options": {"CertificateTransparencyLoggingPreference": "ENABLED"},
    }

    assert harness.run(harness.event("create.json", properties=properties)).status == "SUCCESS"
    assert TRANSPARENCY_OPT_OUT_WARNING not in _warnings(log_output)


# ---- 7. clear refusals, before any AWS call --------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"ValidationMethod": "HTTP"},
        {"ManagedBy": "CLOUDFRONT"},
        {"ValidationMethod": "HTTP", "ManagedBy": "CLOUDFRONT"},
        {"ValidationMethod": "SMS"},
        {"RootHierarchyType": "N2_SFG2_AMAZON_MANAGED", "CertificateUsage": "CLIENT_AUTH_ONLY"},
        {"CertificateExport": "ENABLED", "Options": {"Export": "DISABLED"}},
    ],
)
def test_create_when_properties_are_refused_fails_before_any_aws_call(
    harness: Harness, extra: dict[str, Any]
) -> None:
    answer = harness.run(
        harness.event("create.json", properties={"DomainName": "example.com", **extra})
    )

    assert answer.status == "FAILED"
    assert len(answer.reason) < 256
    assert harness.calls.calls == []
    if "ManagedBy" in extra or extra.get("ValidationMethod") in ("HTTP", "SMS"):
        assert "requested through CloudFront" in answer.reason
        assert "DNS or EMAIL" in answer.reason


def test_update_when_transparency_disabled_with_native_spelling_is_in_place_and_warns_once(
    harness: Harness, log_output: io.StringIO
) -> None:
    old = {
        "DomainName": "example.com",
        "Options": {"CertificateTransparencyLoggingPreference": "ENABLED"},
    }
    arn = harness.create(old)
    new = {"DomainName": "example.com", "CertificateTransparencyLoggingPreference": "DISABLED"}

    answer = harness.run(
        harness.event("update-replace.json", properties=new, old_properties=old, physical_id=arn)
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    (call,) = harness.calls.of("acm", "UpdateCertificateOptions")
    assert call.params["Options"] == {"CertificateTransparencyLoggingPreference": "DISABLED"}
    assert _warnings(log_output).count(TRANSPARENCY_OPT_OUT_WARNING) == 1
