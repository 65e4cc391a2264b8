"""The strict emulator's rules that the end-to-end tests rely on, checked without the handler.

Each test here checks one way in which plain moto is more lenient than AWS (see
../shared/README.md) and in which an end-to-end test would pass on a wrong handler if the
emulator were lenient too: the records must be exact and in the right public zone before ACM
issues, a batch may not touch one record twice, zones are listed from the name on, the
idempotency token must fit ACM's pattern, records show up late, and a fault can come after
the effect. Rules that the end-to-end tests check for themselves (in-use refusals, forced
failures, throttling counts, moto restored after each test) are not tested again here.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.emulator import Emulator, validation_record


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


def _wait_for_records(
    emulator: Emulator, arn: str, count: int, seconds: float = 5.0
) -> dict[str, tuple[str, str]]:
    deadline = time.monotonic() + seconds
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
    emulator.rules.settings.records_delay = 4.0  # ample for a loaded machine to look first
    arn = emulator.acm().request_certificate(
        DomainName="example.com", SubjectAlternativeNames=["www.example.org"]
    )["CertificateArn"]

    assert emulator.validation_records(arn) == {}
    assert len(_wait_for_records(emulator, arn, 2, seconds=10.0)) == 2


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


def test_a_fault_after_the_effect(emulator: Emulator) -> None:
    emulator.rules.inject_fault(
        "acm:RequestCertificate", "InternalFailure", after_effect=True, status=500
    )

    error = _error(lambda: emulator.acm().request_certificate(DomainName="example.com"))

    assert error["Code"] == "InternalFailure"
    assert len(emulator.certificate_arns()) == 1  # done, though the caller was told otherwise
