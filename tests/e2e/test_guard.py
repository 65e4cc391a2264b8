"""Issue 10 items 3-5: the renewal guard and self-healing updates, through the local
CloudFormation and the strict emulator. A validation CNAME deleted by hand comes back after
ACM's `Renewal Action Required` event, after the scheduled sweep and after an update that
changes nothing; a certificate the resource did not create is never touched."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dns_certificate.zonetag import ZONES_TAG, decode
from local.driver import LocalCloudFormation, acm_event, scheduled_event
from local.emulator import Emulator, validation_record


def _records(*names: str) -> dict[str, str]:
    return dict(validation_record(name) for name in names)


def _delete_by_hand(emulator: Emulator, zone_id: str, domain_name: str) -> None:
    """What an operator tidying a zone does: the CNAME goes, ACM's renewal will fail."""
    name, value = validation_record(domain_name)
    emulator.delete_cname(zone_id, name, value)
    assert name not in emulator.cname_records(zone_id)


def _guarded_stack(cfn: LocalCloudFormation, name: str = "guarded") -> Any:
    stack = cfn.stack(name)
    created = stack.create(
        {"Cert": {"DomainName": "example.com", "SubjectAlternativeNames": ["www.example.org"]}}
    )
    assert created.succeeded, [s.describe() for s in created.steps]
    return stack


def test_guard_when_renewal_action_required_puts_a_deleted_cname_back(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _guarded_stack(cfn)
    arn = stack.physical_id("Cert")
    _delete_by_hand(emulator, hosted_zones["example.org"], "www.example.org")

    cfn.deliver_event(acm_event(arn))

    assert emulator.cname_records(hosted_zones["example.org"]) == _records("www.example.org")
    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")


def test_guard_when_the_sweep_runs_puts_a_deleted_cname_back(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _guarded_stack(cfn)
    europe = cfn.stack("europe")
    assert europe.create({"Cert": {"DomainName": "api.example.org", "Region": "eu-west-1"}})
    _delete_by_hand(emulator, hosted_zones["example.com"], "example.com")
    before = emulator.rules.calls["route53:ChangeResourceRecordSets"]

    cfn.deliver_event(scheduled_event())

    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")
    # One batch: the record missing; the intact ones were only read.
    assert emulator.rules.calls["route53:ChangeResourceRecordSets"] == before + 1
    assert stack.physical_id("Cert") in emulator.certificate_arns()


def test_guard_when_a_certificate_was_not_created_by_the_resource_leaves_it_alone(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    _guarded_stack(cfn)
    # Someone else's certificates: untagged, and tagged by a stack of another account.
    acm = emulator.acm()
    foreign = acm.request_certificate(DomainName="shop.example.com", ValidationMethod="DNS")
    stranger = acm.request_certificate(
        DomainName="blog.example.com",
        ValidationMethod="DNS",
        Tags=[
            {
                "Key": "dns-certificate:stack-id",
                "Value": "arn:aws:cloudformation:us-east-1:999999999999:stack/other/1",
            },
            {"Key": "dns-certificate:logical-id", "Value": "Cert"},
            {"Key": ZONES_TAG, "Value": hosted_zones["example.com"]},
        ],
    )
    assert (emulator.describe(foreign["CertificateArn"]) or {})["Status"] == "PENDING_VALIDATION"

    cfn.deliver_event(scheduled_event())
    cfn.deliver_event(acm_event(foreign["CertificateArn"]))
    cfn.deliver_event(acm_event(stranger["CertificateArn"]))

    # Their records stay missing: only the resource's own record is in the zone.
    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")


def test_guard_when_a_certificate_of_the_account_carries_forged_tags_leaves_it_alone(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """Someone allowed only to request and tag certificates copies a guarded certificate's
    tags (this account's stack, its logical id, its zones) onto a certificate of a name of the
    zone: the guard must not write that CNAME (it would validate the certificate for them)."""
    stack = _guarded_stack(cfn)
    tags = emulator.acm().list_tags_for_certificate(CertificateArn=stack.physical_id("Cert"))
    forged = emulator.acm().request_certificate(
        DomainName="bank.example.com", ValidationMethod="DNS", Tags=tags["Tags"]
    )["CertificateArn"]
    assert (emulator.describe(forged) or {})["Status"] == "PENDING_VALIDATION"

    cfn.deliver_event(acm_event(forged))
    cfn.deliver_event(scheduled_event())

    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")
    assert (emulator.describe(forged) or {})["Status"] == "PENDING_VALIDATION"


def test_guard_when_the_event_is_unknown_ignores_it(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _guarded_stack(cfn)
    _delete_by_hand(emulator, hosted_zones["example.com"], "example.com")
    before = sum(emulator.rules.calls.values())

    cfn.deliver_event(acm_event(stack.physical_id("Cert"), "ACM Certificate Expired"))
    cfn.deliver_event({"source": "aws.s3", "detail-type": "Object Created", "detail": {}})

    assert sum(emulator.rules.calls.values()) == before  # not one AWS call
    assert emulator.cname_records(hosted_zones["example.com"]) == {}


def test_update_that_changes_nothing_puts_a_deleted_cname_back(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """Issue 10 item 4: self-healing on Update. CloudFormation sends no Update for equal
    properties, so the update changes only ServiceTimeout: nothing about the certificate."""
    stack = _guarded_stack(cfn, "self-healing")
    arn = stack.physical_id("Cert")
    _delete_by_hand(emulator, hosted_zones["example.org"], "www.example.org")

    updated = stack.update(
        {
            "Cert": {
                "DomainName": "example.com",
                "SubjectAlternativeNames": ["www.example.org"],
                "ServiceTimeout": "3000",
            }
        }
    )

    assert updated.status == "UPDATE_COMPLETE", [s.describe() for s in updated.steps]
    assert updated.problems == []
    assert stack.physical_id("Cert") == arn
    assert emulator.cname_records(hosted_zones["example.org"]) == _records("www.example.org")


def test_create_tags_the_certificate_with_its_zones_and_an_update_keeps_them_current(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _guarded_stack(cfn, "tagged")
    arn = stack.physical_id("Cert")
    zones = decode(emulator.tags(arn)[ZONES_TAG])
    assert {zone for _, zone in getattr(zones, "zones", ())} == {
        hosted_zones["example.com"],
        hosted_zones["example.org"],
    }

    updated = stack.update(
        {
            "Cert": {
                "DomainName": "example.com",
                "SubjectAlternativeNames": ["www.example.org"],
                "ManageDnsRecords": "false",
            }
        }
    )

    assert updated.status == "UPDATE_COMPLETE"
    assert stack.physical_id("Cert") == arn
    assert emulator.tags(arn)[ZONES_TAG] == "=manual"


@pytest.mark.parametrize("detail_type", ["ACM Certificate Approaching Expiration"])
def test_guard_when_expiry_approaches_puts_a_deleted_cname_back(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str], detail_type: str
) -> None:
    stack = _guarded_stack(cfn, "expiring")
    _delete_by_hand(emulator, hosted_zones["example.com"], "example.com")

    cfn.deliver_event(json.loads(json.dumps(acm_event(stack.physical_id("Cert"), detail_type))))

    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")


DNS_ACCOUNT = "222222222222"
DNS_ROLE = f"arn:aws:iam::{DNS_ACCOUNT}:role/dns-certificate-records"


def _dns_account_route53(emulator: Emulator) -> Any:
    """Route 53 of the DNS account on the emulator (moto serves a request from the account
    whose AssumeRole issued its key; it checks neither the role nor its trust policy)."""
    import boto3

    credentials = emulator.client("sts").assume_role(
        RoleArn=DNS_ROLE, RoleSessionName="dns-account-admin"
    )["Credentials"]
    return boto3.client(
        "route53",
        region_name="us-east-1",
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _cnames(route53: Any, zone_id: str) -> dict[str, str]:
    rrsets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {
        r["Name"].lower(): r["ResourceRecords"][0]["Value"] for r in rrsets if r["Type"] == "CNAME"
    }


def test_guard_when_a_name_is_in_another_account_repairs_it_through_its_role(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """The DNS account's zone is not what the emulator's ACM reads (it validates against the
    certificate's own account), so the certificate stays PENDING_VALIDATION: the Create does
    not wait for it, and the guard repairs pending certificates too."""
    route53 = _dns_account_route53(emulator)
    zone = route53.create_hosted_zone(Name="example.net", CallerReference="dns-account")
    zone_id = zone["HostedZone"]["Id"].removeprefix("/hostedzone/")
    stack = cfn.stack("cross-account")
    created = stack.create(
        {
            "Cert": {
                "DomainName": "shop.example.net",
                "Route53RoleArn": DNS_ROLE,
                "WaitForIssuance": "false",
            }
        }
    )
    assert created.succeeded, [s.describe() for s in created.steps]
    record_name, value = validation_record("shop.example.net")
    assert _cnames(route53, zone_id) == {record_name: value}
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "DELETE",
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
    assert _cnames(route53, zone_id) == {}

    cfn.deliver_event(acm_event(stack.physical_id("Cert")))

    assert _cnames(route53, zone_id) == {record_name: value}
    assert emulator.cname_records(hosted_zones["example.com"]) == {}  # not in this account
