"""Issue 9, items 5 and 8: the strict emulator's email → DNS migration, and a stack that
migrates its certificate in place through the local CloudFormation."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.driver import LocalCloudFormation
from local.emulator import AwsEvent, Emulator, validation_record

EMAIL = {
    "DomainName": "example.com",
    "SubjectAlternativeNames": ["www.example.org"],
    "ValidationMethod": "EMAIL",
}
DNS = {**EMAIL, "ValidationMethod": "DNS"}


def _issued_email_certificate(emulator: Emulator, name: str = "example.com") -> str:
    acm = emulator.acm()
    arn = str(acm.request_certificate(DomainName=name, ValidationMethod="EMAIL")["CertificateArn"])
    emulator.rules.approve_email(arn)
    certificate = emulator.describe(arn)
    assert certificate is not None and certificate["Status"] == "ISSUED"
    return arn


def _upsert(emulator: Emulator, zone_id: str, name: str) -> None:
    record_name, value = validation_record(name)
    emulator.route53().change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": record_name,
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )


def _update_status(emulator: Emulator, arn: str) -> str | None:
    certificate = emulator.describe(arn) or {}
    return (certificate.get("UpdateSummary") or {}).get("Status")


def _wait_for_update_status(emulator: Emulator, arn: str, status: str, seconds: float) -> bool:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if _update_status(emulator, arn) == status:
            return True
        time.sleep(0.1)
    return False


# ---- the emulator ----------------------------------------------------------------------------


def test_emulator_email_certificate_is_issued_only_once_approved(emulator: Emulator) -> None:
    acm = emulator.acm()
    arn = acm.request_certificate(DomainName="example.com", ValidationMethod="EMAIL")[
        "CertificateArn"
    ]
    time.sleep(0.6)  # longer than issue_delay: a DNS certificate's records would not matter

    pending = emulator.describe(arn)
    emulator.rules.approve_email(arn)
    issued = emulator.describe(arn)

    assert pending is not None and pending["Status"] == "PENDING_VALIDATION"
    (option,) = pending["DomainValidationOptions"]
    assert option["ValidationMethod"] == "EMAIL" and "ResourceRecord" not in option
    assert issued is not None and issued["Status"] == "ISSUED"


def test_emulator_migration_completes_only_once_its_cnames_are_in_a_public_zone(
    emulator: Emulator, hosted_zones: dict[str, str]
) -> None:
    arn = _issued_email_certificate(emulator)
    acm = emulator.acm()

    acm.update_certificate_options(CertificateArn=arn, Options={"ValidationMethod": "DNS"})
    (summary,) = acm.list_certificate_domain_validations(CertificateArn=arn)[
        "DomainValidationSummaryList"
    ]
    record = summary["RequestedValidationConfiguration"]["ValidationChallenge"][
        "DnsValidationChallenge"
    ]["ResourceRecord"]
    assert (record["Name"], record["Value"]) == validation_record("example.com")
    assert summary["ActiveValidationConfiguration"]["ValidationMethod"] == "EMAIL"
    assert _update_status(emulator, arn) == "PENDING_DOMAIN_VALIDATION"

    _upsert(emulator, hosted_zones["example.com (private)"], "example.com")
    assert not _wait_for_update_status(emulator, arn, "SUCCESS", 1.0)  # > issue_delay

    _upsert(emulator, hosted_zones["example.com"], "example.com")
    assert _wait_for_update_status(emulator, arn, "SUCCESS", 3.0)
    (summary,) = acm.list_certificate_domain_validations(CertificateArn=arn)[
        "DomainValidationSummaryList"
    ]
    assert summary["ActiveValidationConfiguration"]["ValidationMethod"] == "DNS"
    assert "RequestedValidationConfiguration" not in summary
    certificate = emulator.describe(arn)
    assert certificate is not None
    assert certificate["DomainValidationOptions"][0]["ValidationMethod"] == "DNS"
    assert certificate["UpdateSummary"]["DomainValidationMethodUpdateSummary"] == {
        "From": "EMAIL",
        "To": "DNS",
    }


@pytest.mark.parametrize(
    ("setup", "method", "code"),
    [
        ("dns", "DNS", "InvalidStateException"),  # already DNS-validated
        ("email", "EMAIL", "ValidationException"),  # only to DNS
        ("pending-email", "DNS", "InvalidStateException"),  # not issued
        ("migrating", "DNS", "InvalidStateException"),  # a migration is in progress
    ],
)
def test_emulator_migration_is_refused_where_acm_refuses_it(
    emulator: Emulator, setup: str, method: str, code: str
) -> None:
    acm = emulator.acm()
    if setup == "dns":
        arn = acm.request_certificate(DomainName="example.com", ValidationMethod="DNS")[
            "CertificateArn"
        ]
    elif setup == "pending-email":
        arn = acm.request_certificate(DomainName="example.com", ValidationMethod="EMAIL")[
            "CertificateArn"
        ]
    else:
        arn = _issued_email_certificate(emulator)
    if setup == "migrating":
        acm.update_certificate_options(CertificateArn=arn, Options={"ValidationMethod": "DNS"})

    with pytest.raises(ClientError) as raised:
        acm.update_certificate_options(CertificateArn=arn, Options={"ValidationMethod": method})

    assert raised.value.response["Error"]["Code"] == code


def test_emulator_failed_migration_leaves_the_certificate_email_validated(
    emulator: Emulator,
) -> None:
    arn = _issued_email_certificate(emulator)
    acm = emulator.acm()
    acm.update_certificate_options(CertificateArn=arn, Options={"ValidationMethod": "DNS"})

    emulator.rules.fail_migration(arn)

    assert _update_status(emulator, arn) == "FAILED"
    certificate = emulator.describe(arn)
    assert certificate is not None and certificate["Status"] == "ISSUED"
    (summary,) = acm.list_certificate_domain_validations(CertificateArn=arn)[
        "DomainValidationSummaryList"
    ]
    assert summary["ActiveValidationConfiguration"]["ValidationMethod"] == "EMAIL"
    assert "RequestedValidationConfiguration" not in summary


# ---- through the local CloudFormation ---------------------------------------------------------


def _email_stack(emulator: Emulator, cfn: LocalCloudFormation, name: str) -> Any:
    emulator.rules.settings.email_approval_delay = 0.3
    stack = cfn.stack(name)
    created = stack.create({"Certificate": EMAIL})
    assert created.status == "CREATE_COMPLETE", created.step("Certificate").reason
    return stack


def test_stack_update_from_email_to_dns_migrates_in_place_once_cnames_are_public(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _email_stack(emulator, cfn, "migrate")
    arn = stack.physical_id("Certificate")
    seen: list[AwsEvent] = []
    emulator.rules.subscribe(seen.append)

    updated = stack.update({"Certificate": DNS})

    assert updated.status == "UPDATE_COMPLETE", updated.step("Certificate", "update").reason
    assert updated.problems == []
    assert stack.physical_id("Certificate") == arn
    assert emulator.certificate_arns() == [arn]
    assert _update_status(emulator, arn) == "SUCCESS"
    assert emulator.cname_records(hosted_zones["example.com"]) == dict(
        [validation_record("example.com")]
    )
    assert emulator.cname_records(hosted_zones["example.org"]) == dict(
        [validation_record("www.example.org")]
    )
    kinds = [event.kind for event in seen]
    assert kinds.index("migration_started") < kinds.index("records_changed")
    assert kinds.index("records_changed") < kinds.index("migration_completed")


def test_stack_update_not_managing_records_migrates_once_the_user_publishes_them(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """The migration waits for the CNAMEs in a public zone: a private twin does not count."""
    stack = _email_stack(emulator, cfn, "migrate-by-hand")
    arn = stack.physical_id("Certificate")

    handed_over = stack.update({"Certificate": {**DNS, "ManageDnsRecords": "false"}})

    assert handed_over.status == "UPDATE_COMPLETE"
    assert "ValidationRecords" in handed_over.step("Certificate", "update").data
    assert emulator.cname_records(hosted_zones["example.com"]) == {}
    _upsert(emulator, hosted_zones["example.com (private)"], "example.com")
    _upsert(emulator, hosted_zones["example.org"], "www.example.org")
    assert not _wait_for_update_status(emulator, arn, "SUCCESS", 1.0)
    _upsert(emulator, hosted_zones["example.com"], "example.com")
    assert _wait_for_update_status(emulator, arn, "SUCCESS", 3.0)

    managed = stack.update({"Certificate": DNS})

    assert managed.status == "UPDATE_COMPLETE", managed.step("Certificate", "update").reason
    assert stack.physical_id("Certificate") == arn
    assert emulator.rules.calls["acm:UpdateCertificateOptions"] == 1


def test_stack_update_whose_migration_fails_rolls_back_to_the_same_certificate(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _email_stack(emulator, cfn, "migrate-fails")
    arn = stack.physical_id("Certificate")

    def fail_it(event: AwsEvent) -> None:
        if event.kind == "migration_started":
            emulator.rules.fail_migration(str(event.detail["arn"]))

    emulator.rules.subscribe(fail_it)
    calls_before = dict(emulator.rules.calls)

    updated = stack.update({"Certificate": DNS})

    assert updated.status == "UPDATE_ROLLBACK_COMPLETE"
    assert updated.problems == []
    failed = updated.step("Certificate", "update")
    assert failed.status == "FAILED" and "FAILED" in failed.reason
    assert "'example.com'" in failed.reason
    rollback = updated.step("Certificate", "rollback")
    assert rollback.status == "SUCCESS" and rollback.physical_id == arn
    assert stack.physical_id("Certificate") == arn
    assert emulator.certificate_arns() == [arn]
    certificate = emulator.describe(arn)
    assert certificate is not None and certificate["Status"] == "ISSUED"
    assert certificate["DomainValidationOptions"][0]["ValidationMethod"] == "EMAIL"
    new_calls = {api: n - calls_before.get(api, 0) for api, n in emulator.rules.calls.items()}
    assert new_calls.get("acm:UpdateCertificateOptions") == 1  # the update's, not the rollback's
    assert new_calls.get("acm:RequestCertificate", 0) == 0
