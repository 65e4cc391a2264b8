"""Issue 10 item 2: CleanupValidationRecords deletes, on Delete, the validation records no other
certificate of the account needs; it never fails the Delete."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dns_certificate.context import Runtime
from dns_certificate.dns import HostedZoneService
from tests.integration.harness import OTHER_REGION, Harness, expected_records
from tests.support.aws_errors import error_response

TWO_ZONES = {
    "DomainName": "example.com",
    "SubjectAlternativeNames": ["*.example.com", "www.example.org"],
}


def _with_cleanup(properties: dict[str, Any], value: str = "true") -> dict[str, Any]:
    return {**properties, "CleanupValidationRecords": value}


def _delete(harness: Harness, arn: str, properties: dict[str, Any]) -> Any:
    return harness.run(harness.event("delete.json", properties=properties, physical_id=arn))


def _all_records(harness: Harness) -> set[str]:
    return {name for zone in harness.zones.values() for name in harness.records(zone)}


def test_cleanup_when_no_other_certificate_shares_deletes_every_record(harness: Harness) -> None:
    properties = _with_cleanup(TWO_ZONES)
    arn = harness.create(properties)
    assert _all_records(harness) == set(expected_records(["example.com", "www.example.org"]))

    answer = _delete(harness, arn, properties)

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []
    assert _all_records(harness) == set()
    deletes = [
        change["Action"]
        for call in harness.change_batches()
        for change in call.params["ChangeBatch"]["Changes"]
        if change["Action"] == "DELETE"
    ]
    assert len(deletes) == 2  # apex and wildcard share one record


def test_cleanup_when_default_deletes_no_record(harness: Harness) -> None:
    arn = harness.create(TWO_ZONES)
    before = _all_records(harness)
    mark = harness.calls.mark()  # the create's issuance wait lists pending certificates

    answer = _delete(harness, arn, TWO_ZONES)

    assert answer.status == "SUCCESS", answer.reason
    assert _all_records(harness) == before
    assert harness.calls.since(mark, "acm", "ListCertificates") == []


def test_cleanup_when_another_certificate_shares_a_name_keeps_its_record(
    harness: Harness,
) -> None:
    first = _with_cleanup(TWO_ZONES)
    second = _with_cleanup(
        {"DomainName": "example.com", "SubjectAlternativeNames": ["x.example.com"]}
    )
    first_arn = harness.create(first)
    harness.run(harness.event("create.json", properties=second, LogicalResourceId="Second"))

    answer = _delete(harness, first_arn, first)

    assert answer.status == "SUCCESS", answer.reason
    assert _all_records(harness) == set(expected_records(["example.com", "x.example.com"]))


def test_cleanup_when_sharing_certificate_is_in_another_checked_region_keeps_the_record(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEANUP_CHECK_REGIONS", f"{OTHER_REGION}")
    first = _with_cleanup({"DomainName": "example.com"})
    other_region = {"DomainName": "example.com", "Region": OTHER_REGION}
    arn = harness.create(first)
    harness.run(harness.event("create.json", properties=other_region, LogicalResourceId="Eu"))

    answer = _delete(harness, arn, first)

    assert answer.status == "SUCCESS", answer.reason
    assert _all_records(harness) == set(expected_records(["example.com"]))


def test_cleanup_when_sharing_certificate_is_expired_deletes_the_record(harness: Harness) -> None:
    # A certificate that can never validate or renew again needs no record.
    first = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(first)
    acm = boto3.client("acm", region_name="us-east-1")
    other = acm.request_certificate(DomainName="example.com", ValidationMethod="DNS")
    from tests.integration.harness import _moto_certificate

    _moto_certificate(other["CertificateArn"]).status = "EXPIRED"

    answer = _delete(harness, arn, first)

    assert answer.status == "SUCCESS", answer.reason
    assert _all_records(harness) == set()


def test_cleanup_when_record_holds_another_value_leaves_it_alone(harness: Harness) -> None:
    properties = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(properties)
    (name,) = expected_records(["example.com"])
    zone = harness.zones["example.com"]
    boto3.client("route53", region_name="us-east-1").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "someone-else.example.net."}],
                    },
                }
            ]
        },
    )

    answer = _delete(harness, arn, properties)

    assert answer.status == "SUCCESS", answer.reason
    assert harness.records(zone)[name].values == ("someone-else.example.net.",)


def test_cleanup_when_record_already_gone_succeeds(harness: Harness) -> None:
    properties = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(properties)
    zone = harness.zones["example.com"]
    (name,) = expected_records(["example.com"])
    record = harness.records(zone)[name]
    rrset: Any = {
        "Name": name,
        "Type": "CNAME",
        "TTL": record.ttl,
        "ResourceRecords": [{"Value": v} for v in record.values],
    }
    boto3.client("route53", region_name="us-east-1").change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": rrset}]},
    )
    mark = harness.calls.mark()

    answer = _delete(harness, arn, properties)

    assert answer.status == "SUCCESS", answer.reason
    assert harness.calls.since(mark, "route53", "ChangeResourceRecordSets") == []


def test_cleanup_when_route53_refuses_logs_a_warning_and_succeeds(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, log_output: io.StringIO
) -> None:
    properties = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(properties)

    def refuse(self: HostedZoneService, zone_id: str, rrset: Any) -> str:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not allowed"}},
            "ChangeResourceRecordSets",
        )

    monkeypatch.setattr(HostedZoneService, "delete_record_set", refuse)

    answer = _delete(harness, arn, properties)

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []
    assert _all_records(harness) == set(expected_records(["example.com"]))
    warnings = [
        json.loads(line)
        for line in log_output.getvalue().splitlines()
        if line.startswith("{") and '"WARNING"' in line
    ]
    assert any("not cleaned up" in w["message"] and "AccessDenied" in w["error"] for w in warnings)


def test_cleanup_when_listing_fails_keeps_every_record(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dns_certificate.certificates import CertificateService

    properties = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(properties)

    def refuse(self: CertificateService, filters: Any) -> list[dict[str, Any]]:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
            "ListCertificates",
        )

    monkeypatch.setattr(CertificateService, "list_certificates", refuse)

    answer = _delete(harness, arn, properties)

    assert answer.status == "SUCCESS", answer.reason
    assert _all_records(harness) == set(expected_records(["example.com"]))


def test_cleanup_when_turned_on_by_update_is_in_place(harness: Harness) -> None:
    arn = harness.create(TWO_ZONES)

    answer = harness.run(
        harness.event(
            "update-tags.json",
            properties=_with_cleanup(TWO_ZONES),
            old_properties=TWO_ZONES,
            physical_id=arn,
        )
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn


def test_cleanup_when_the_invocation_is_nearly_over_skips_it_and_succeeds(
    harness: Harness,
) -> None:
    properties = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(properties)
    event = harness.event("delete.json", properties=properties, physical_id=arn)

    answer = harness.invoke(event, harness.context(timeout_seconds=14.0))

    assert answer is not None and answer.status == "SUCCESS", answer
    assert harness.certificates() == []
    assert _all_records(harness) == set(expected_records(["example.com"]))


def test_cleanup_racing_a_create_that_shares_the_record_leaves_it_for_the_new_certificate(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another stack requests a certificate for the same name after the clean-up listed the
    account's certificates, and writes its (identical) record before the DELETE: the record
    must still be there when the Delete is done (before, the new certificate lost its record
    and could not validate)."""
    properties = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(properties)
    delete_record_set = HostedZoneService.delete_record_set
    requested: list[str] = []

    def create_meanwhile(self: HostedZoneService, zone_id: str, rrset: Any) -> Any:
        if not requested:  # the other Create: requested; its UPSERT found the record in place
            acm = boto3.client("acm", region_name="us-east-1")
            requested.append(
                acm.request_certificate(DomainName="example.com", ValidationMethod="DNS")[
                    "CertificateArn"
                ]
            )
        return delete_record_set(self, zone_id, rrset)

    monkeypatch.setattr(HostedZoneService, "delete_record_set", create_meanwhile)

    answer = _delete(harness, arn, properties)

    assert answer.status == "SUCCESS", answer.reason
    assert requested and harness.certificates() == requested
    assert _all_records(harness) == set(expected_records(["example.com"]))


# ---- issue 18 point 3: the regions the provider's records name are checked ------------------


def test_cleanup_when_sharing_certificate_is_in_a_region_only_the_registry_names_keeps_the_record(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No CLEANUP_CHECK_REGIONS: the defaults (the function's region and us-east-1) leave out
    eu-west-1, but the provider's records name a live certificate of its own there."""
    monkeypatch.delenv("CLEANUP_CHECK_REGIONS", raising=False)
    first = _with_cleanup({"DomainName": "example.com"})
    other_region = {"DomainName": "example.com", "Region": OTHER_REGION}
    arn = harness.create(first)
    harness.run(harness.event("create.json", properties=other_region, LogicalResourceId="Eu"))
    mark = harness.calls.mark()

    answer = _delete(harness, arn, first)

    assert answer.status == "SUCCESS", answer.reason
    assert _all_records(harness) == set(expected_records(["example.com"]))
    assert OTHER_REGION in {call.region for call in harness.calls.since(mark, "acm")}


def test_cleanup_when_the_providers_records_cannot_be_read_deletes_no_record(
    harness: Harness, runtime: Runtime, log_output: io.StringIO
) -> None:
    """Without the records the regions to check are unknown: deleting could break another
    certificate's renewal, so the Delete succeeds and every record stays (logged)."""
    properties = _with_cleanup({"DomainName": "example.com"})
    arn = harness.create(properties)
    client = runtime.clients.dynamodb()

    def unreadable(**_: Any) -> Any:
        return error_response("AccessDeniedException", "not allowed to Scan")

    client.meta.events.register("before-call.dynamodb.Scan", unreadable)
    try:
        answer = _delete(harness, arn, properties)
    finally:
        client.meta.events.unregister("before-call.dynamodb.Scan", unreadable)

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []
    assert _all_records(harness) == set(expected_records(["example.com"]))
    assert "Validation records not cleaned up" in log_output.getvalue()
