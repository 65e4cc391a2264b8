"""The strict emulator itself: what it refuses and when it issues, without the handler.

If these fail, the end-to-end tests prove less than they claim: each checks one way in which
plain moto is more lenient than AWS (see ../shared/README.md).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.route53.models import Route53Backend

from local.emulator import Emulator, StrictSettings, moto_is_patched, validation_record

LOAD_BALANCER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/1"


def _change(action: str, name: str, value: str, ttl: int = 300) -> dict[str, Any]:
    return {
        "Action": action,
        "ResourceRecordSet": {
            "Name": name,
            "Type": "CNAME",
            "TTL": ttl,
            "ResourceRecords": [{"Value": value}],
        },
    }


def _apply(emulator: Emulator, zone_id: str, *changes: dict[str, Any]) -> None:
    emulator.route53().change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": list(changes)}
    )


def _error(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return {key: str(value) for key, value in raised.value.response["Error"].items()}


def _status(emulator: Emulator, arn: str) -> str:
    certificate = emulator.describe(arn)
    assert certificate is not None
    return str(certificate["Status"])


def _wait_for_records(emulator: Emulator, arn: str, count: int) -> dict[str, tuple[str, str]]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        records = emulator.validation_records(arn)
        if len(records) == count:
            return records
        time.sleep(0.05)
    raise AssertionError(f"ACM never showed {count} validation records for {arn}")


# ---- Route 53 -------------------------------------------------------------------------------


def test_two_changes_for_one_record_in_a_batch_are_refused_and_nothing_is_applied(
    emulator: Emulator, hosted_zones: dict[str, str]
) -> None:
    zone = hosted_zones["example.com"]
    name, value = validation_record("example.com")
    other_name, other_value = validation_record("www.example.com")

    error = _error(
        lambda: _apply(
            emulator,
            zone,
            _change("UPSERT", other_name, other_value),
            _change("UPSERT", name, value),
            _change("UPSERT", name.upper(), value),  # the same name: DNS is case-insensitive
        )
    )

    assert error["Code"] == "InvalidChangeBatch"
    assert emulator.cname_records(zone) == {}  # all or nothing: the first change did not stick


def test_delete_must_match_an_existing_record_exactly(
    emulator: Emulator, hosted_zones: dict[str, str]
) -> None:
    zone = hosted_zones["example.com"]
    name, value = validation_record("example.com")

    absent = _error(lambda: _apply(emulator, zone, _change("DELETE", name, value)))
    _apply(emulator, zone, _change("CREATE", name, value))
    other_ttl = _error(lambda: _apply(emulator, zone, _change("DELETE", name, value, ttl=60)))
    other_value = _error(lambda: _apply(emulator, zone, _change("DELETE", name, "x.example.")))
    again = _error(lambda: _apply(emulator, zone, _change("CREATE", name, value)))

    assert absent["Code"] == "InvalidChangeBatch" and "not found" in absent["Message"]
    assert other_ttl["Code"] == other_value["Code"] == "InvalidChangeBatch"
    assert again["Code"] == "InvalidChangeBatch" and "already exists" in again["Message"]
    assert emulator.cname_records(zone) == {name: value}
    # DELETE then CREATE of one record in one batch is how a value is replaced: allowed.
    _apply(emulator, zone, _change("DELETE", name, value), _change("CREATE", name, "y.example."))
    _apply(emulator, zone, _change("DELETE", name, "y.example."))
    assert emulator.cname_records(zone) == {}


def test_cname_at_the_apex_and_outside_the_zone_are_refused(
    emulator: Emulator, hosted_zones: dict[str, str]
) -> None:
    zone = hosted_zones["example.com"]

    apex = _error(lambda: _apply(emulator, zone, _change("UPSERT", "example.com.", "x.example.")))
    outside = _error(lambda: _apply(emulator, zone, _change("UPSERT", "a.example.org.", "x.")))

    assert apex["Code"] == outside["Code"] == "InvalidChangeBatch"


def test_list_hosted_zones_by_name_starts_at_the_name(
    emulator: Emulator, hosted_zones: dict[str, str]
) -> None:
    """Like Route 53, and unlike plain moto: zones after the name are listed too."""
    listed = emulator.route53().list_hosted_zones_by_name(DNSName="www.example.com")
    names = [zone["Name"] for zone in listed["HostedZones"]]

    assert names == ["example.org."]  # com.example.www < org.example


# ---- ACM ------------------------------------------------------------------------------------


def test_every_domain_gets_its_own_validation_record(emulator: Emulator) -> None:
    arn = emulator.acm().request_certificate(
        DomainName="example.com",
        SubjectAlternativeNames=["*.example.com", "www.example.org", "api.example.org"],
        ValidationMethod="DNS",
    )["CertificateArn"]

    records = _wait_for_records(emulator, arn, 4)

    assert records["example.com"] == records["*.example.com"]  # as in ACM
    distinct = {records[name] for name in ("example.com", "www.example.org", "api.example.org")}
    assert len(distinct) == 3
    assert len({value for _name, value in distinct}) == 3
    assert records["www.example.org"][0].endswith(".www.example.org.")


def test_records_show_up_late(emulator: Emulator) -> None:
    emulator.rules.settings.records_delay = 1.0
    arn = emulator.acm().request_certificate(
        DomainName="example.com", SubjectAlternativeNames=["www.example.org"]
    )["CertificateArn"]

    assert emulator.validation_records(arn) == {}
    assert len(_wait_for_records(emulator, arn, 2)) == 2


def test_issuance_waits_for_the_exact_records_in_public_zones(
    emulator: Emulator, hosted_zones: dict[str, str]
) -> None:
    delay = emulator.rules.settings.issue_delay
    arn = emulator.acm().request_certificate(
        DomainName="example.com", SubjectAlternativeNames=["www.example.org"]
    )["CertificateArn"]
    records = _wait_for_records(emulator, arn, 2)
    com_name, com_value = records["example.com"]
    org_name, org_value = records["www.example.org"]

    time.sleep(delay + 0.2)
    assert _status(emulator, arn) == "PENDING_VALIDATION"  # no records: moto would have issued

    _apply(emulator, hosted_zones["example.com (private)"], _change("UPSERT", com_name, com_value))
    _apply(emulator, hosted_zones["example.org"], _change("UPSERT", org_name, org_value + "x"))
    _apply(emulator, hosted_zones["example.com"], _change("UPSERT", com_name, com_value))
    time.sleep(delay + 0.2)
    assert _status(emulator, arn) == "PENDING_VALIDATION"  # private zone, wrong value

    _apply(emulator, hosted_zones["example.org"], _change("UPSERT", org_name, org_value))
    assert _status(emulator, arn) == "PENDING_VALIDATION"  # not before the delay
    time.sleep(delay + 0.2)
    assert _status(emulator, arn) == "ISSUED"


def test_failures_can_be_forced(emulator: Emulator, hosted_zones: dict[str, str]) -> None:
    acm = emulator.acm()
    forced = acm.request_certificate(DomainName="example.com")["CertificateArn"]
    caa = acm.request_certificate(DomainName="www.example.org")["CertificateArn"]
    emulator.rules.force_status(forced, "FAILED", "ADDITIONAL_VERIFICATION_REQUIRED")
    emulator.rules.fail_validation("www.example.org", reason="CAA_ERROR")
    emulator.rules.settings.validation_timeout = 0.1
    timed_out = acm.request_certificate(DomainName="api.example.org")["CertificateArn"]
    time.sleep(emulator.rules.settings.issue_delay + 0.1)

    first = emulator.describe(forced) or {}
    second = emulator.describe(caa) or {}
    assert (first["Status"], first["FailureReason"]) == (
        "FAILED",
        "ADDITIONAL_VERIFICATION_REQUIRED",
    )
    assert (second["Status"], second["FailureReason"]) == ("FAILED", "CAA_ERROR")
    assert _status(emulator, timed_out) == "VALIDATION_TIMED_OUT"


def test_a_certificate_in_use_cannot_be_deleted(emulator: Emulator) -> None:
    acm = emulator.acm()
    held = acm.request_certificate(DomainName="example.com")["CertificateArn"]
    briefly = acm.request_certificate(DomainName="www.example.org")["CertificateArn"]
    emulator.rules.mark_in_use(held, LOAD_BALANCER)
    emulator.rules.mark_in_use(briefly, LOAD_BALANCER, refuse_deletes=2)

    refused = _error(lambda: acm.delete_certificate(CertificateArn=held))
    assert refused["Code"] == "ResourceInUseException"
    assert (emulator.describe(held) or {})["InUseBy"] == [LOAD_BALANCER]
    emulator.rules.release(held)
    acm.delete_certificate(CertificateArn=held)

    for _ in range(2):
        code = _error(lambda: acm.delete_certificate(CertificateArn=briefly))["Code"]
        assert code == "ResourceInUseException"
    acm.delete_certificate(CertificateArn=briefly)
    assert emulator.certificate_arns() == []


def test_idempotency_token_must_fit_acm_pattern(emulator: Emulator) -> None:
    acm = emulator.acm()
    request_id = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"  # a CloudFormation RequestId as is

    error = _error(
        lambda: acm.request_certificate(DomainName="example.com", IdempotencyToken=request_id)
    )
    first = acm.request_certificate(DomainName="example.com", IdempotencyToken="abc123")
    second = acm.request_certificate(
        DomainName="example.com", IdempotencyToken="abc123", Tags=[{"Key": "k", "Value": "v"}]
    )

    assert error["Code"] == "ValidationException"
    assert first["CertificateArn"] == second["CertificateArn"]


# ---- every API ------------------------------------------------------------------------------


def test_throttling_answers_each_service_own_error(
    emulator: Emulator, hosted_zones: dict[str, str]
) -> None:
    emulator.rules.throttle(1.0, apis=["acm:ListCertificates", "route53:ListHostedZonesByName"])
    acm, route53 = emulator.acm(), emulator.route53()

    acm.list_certificates()
    route53.list_hosted_zones_by_name(DNSName="example.com")
    acm_error = _error(acm.list_certificates)
    route53_error = _error(lambda: route53.list_hosted_zones_by_name(DNSName="example.com"))
    route53.list_hosted_zones()  # other APIs have their own budget

    assert acm_error["Code"] == "ThrottlingException"
    assert route53_error["Code"] == "Throttling"
    assert emulator.rules.throttled["acm:ListCertificates"] == 1
    emulator.rules.throttle(None)
    acm.list_certificates()


def test_throttling_with_a_rate_per_api(emulator: Emulator, hosted_zones: dict[str, str]) -> None:
    """AWS's quotas differ per API; `route53:*` is one budget for every Route 53 API."""
    emulator.rules.throttle({"acm:ListCertificates": 2.0, "route53:*": 1.0})
    acm, route53 = emulator.acm(), emulator.route53()

    acm.list_certificates()
    acm.list_certificates()  # a burst of two
    listing = _error(acm.list_certificates)
    route53.list_hosted_zones()
    by_name = _error(lambda: route53.list_hosted_zones_by_name(DNSName="example.com"))
    emulator.acm().get_account_configuration()  # not named: never throttled

    assert listing["Code"] == "ThrottlingException"
    assert by_name["Code"] == "Throttling"  # the same bucket as ListHostedZones
    assert emulator.rules.throttled == {
        "acm:ListCertificates": 1,
        "route53:ListHostedZonesByName": 1,
    }
    with pytest.raises(ValueError):
        emulator.rules.throttle({"route53:*": 1.0}, apis=["route53:GetChange"])
    emulator.rules.throttle(None)
    route53.list_hosted_zones_by_name(DNSName="example.com")


def test_a_fault_after_the_effect(emulator: Emulator) -> None:
    emulator.rules.inject_fault(
        "acm:RequestCertificate", "InternalFailure", after_effect=True, status=500
    )

    error = _error(lambda: emulator.acm().request_certificate(DomainName="example.com"))

    assert error["Code"] == "InternalFailure"
    assert len(emulator.certificate_arns()) == 1  # done, though the caller was told otherwise


def test_moto_is_restored_when_the_emulator_stops() -> None:
    originals = (
        CertBundle.describe,
        CertBundle.check,
        AWSCertificateManagerBackend.delete_certificate,
        Route53Backend.change_resource_record_sets,
    )
    with Emulator(settings=StrictSettings()) as aws:
        assert moto_is_patched()
        assert CertBundle.describe is not originals[0]
        with pytest.raises(RuntimeError):
            Emulator().start()  # the patches are process-wide: one emulator at a time
        endpoint = aws.endpoint_url

    assert not moto_is_patched()
    assert (
        CertBundle.describe,
        CertBundle.check,
        AWSCertificateManagerBackend.delete_certificate,
        Route53Backend.change_resource_record_sets,
    ) == originals
    import os

    assert os.environ.get("AWS_ENDPOINT_URL") != endpoint
