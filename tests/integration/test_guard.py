"""Issue 10 item 3: the renewal guard through `app.lambda_handler`, with moto in-process.

What a user sees: the validation CNAME back in the zone (in another account through its role),
nothing sent to CloudFormation, nothing in the requests table, an actionable error naming the
certificate and its stack where the zones were not recorded, one bad certificate not stopping
the others, and every call the guard makes allowed by the template's IAM.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import app
from dns_certificate import metrics
from dns_certificate.context import Runtime
from dns_certificate.regions import global_certificate_region, partition_of
from dns_certificate.requests import DynamoDBRequests
from dns_certificate.zonetag import ZONES_TAG
from local.context import LambdaContext
from local.driver import acm_event, scheduled_event
from local.emulator import create_requests_table
from tests.integration.anywhere_support import (
    DNS_ACCOUNT,
    AccountClients,
    cnames_in,
    create_dns_role,
    create_zone_in,
    in_account,
)
from tests.integration.harness import (
    REGION,
    AcmFaults,
    CallLog,
    Harness,
    InstrumentedClients,
    SelfInvokes,
    acm_like_record,
)
from tests.reliability.test_iam import statements
from tests.support.aws_errors import error_response
from tests.support.clock import FakeClock


def _invoke(harness: Harness, event: dict[str, Any]) -> None:
    """One EventBridge delivery (no ResponseURL: nothing can be answered); the function must
    not fail it."""
    app.lambda_handler(json.loads(json.dumps(event)), harness.context())


def _delete_record(zone_id: str, domain_name: str, account: str | None = None) -> None:
    record = acm_like_record(domain_name)
    change: Any = {
        "Changes": [
            {
                "Action": "DELETE",
                "ResourceRecordSet": {
                    "Name": record["Name"],
                    "Type": "CNAME",
                    "TTL": 300,
                    "ResourceRecords": [{"Value": record["Value"]}],
                },
            }
        ]
    }
    if account:
        with in_account(account):
            boto3.client("route53", region_name=REGION).change_resource_record_sets(
                HostedZoneId=zone_id, ChangeBatch=change
            )
    else:
        boto3.client("route53", region_name=REGION).change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch=change
        )


def _record(domain_name: str) -> tuple[str, str]:
    record = acm_like_record(domain_name)
    return record["Name"].lower(), record["Value"]


def _logs(log_output: Any) -> list[dict[str, Any]]:
    lines = []
    for line in log_output.getvalue().splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_guard_when_a_record_was_deleted_puts_it_back_and_answers_nothing(
    harness: Harness, requests_table: str, log_output: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create({"DomainName": "www.example.com"})
    _delete_record(harness.zones["example.com"], "www.example.com")
    table = boto3.client("dynamodb", region_name=REGION)
    items_before = table.scan(TableName=requests_table)["Items"]
    capsys.readouterr()

    _invoke(harness, acm_event(arn))

    name, value = _record("www.example.com")
    assert harness.records(harness.zones["example.com"])[name].values == (value,)
    assert table.scan(TableName=requests_table)["Items"] == items_before
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [(line["RequestType"], line.get("RecordsRepaired")) for line in emf] == [
        ("RenewalGuard", [1.0])
    ]
    repaired = [line for line in _logs(log_output) if "repaired" in line["message"]]
    assert repaired and repaired[-1]["certificate_arn"] == arn


def test_guard_when_records_are_intact_changes_nothing(harness: Harness) -> None:
    arn = harness.create({"DomainName": "www.example.com"})
    batches = len(harness.change_batches())

    _invoke(harness, acm_event(arn))
    _invoke(harness, scheduled_event(REGION))

    assert len(harness.change_batches()) == batches


def test_guard_when_a_record_holds_another_value_rewrites_it(harness: Harness) -> None:
    arn = harness.create({"DomainName": "www.example.com"})
    name, value = _record("www.example.com")
    boto3.client("route53", region_name=REGION).change_resource_record_sets(
        HostedZoneId=harness.zones["example.com"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": "wrong.example.net."}],
                    },
                }
            ]
        },
    )

    _invoke(harness, acm_event(arn))

    assert harness.records(harness.zones["example.com"])[name].values == (value,)


@pytest.fixture
def cross_account(
    harness: Harness,
    calls: CallLog,
    acm_faults: AcmFaults,
    self_invokes: SelfInvokes,
    fake_clock: FakeClock,
    requests_table: str,
) -> Iterator[AccountClients]:
    clients = AccountClients(REGION, calls, acm_faults, fake_clock)
    clients.answers = harness.answers
    app.use_runtime(
        Runtime(
            clients=clients,
            invoke_self=self_invokes,
            clock=fake_clock,
            requests=DynamoDBRequests(requests_table, clients.dynamodb()),
        )
    )
    yield clients
    app.use_runtime(None)


def test_guard_when_a_name_is_in_another_account_repairs_it_through_its_role(
    harness: Harness, cross_account: AccountClients
) -> None:
    role = create_dns_role(DNS_ACCOUNT)
    zone = create_zone_in(DNS_ACCOUNT, "example.net")
    arn = harness.create(
        {
            "DomainName": "www.example.com",
            "SubjectAlternativeNames": ["shop.example.net"],
            "DomainValidationOptions": [{"DomainName": "shop.example.net", "Route53RoleArn": role}],
        }
    )
    assert harness.tags(arn)[ZONES_TAG] == f"{harness.zones['example.com']} @{role} {zone}"
    _delete_record(zone, "shop.example.net", account=DNS_ACCOUNT)
    assert cnames_in(DNS_ACCOUNT, zone) == {}
    cross_account.route53_calls.clear()

    _invoke(harness, scheduled_event(REGION))

    assert cnames_in(DNS_ACCOUNT, zone) == dict([_record("shop.example.net")])
    changes = cross_account.changes_by_account_and_zone()
    assert changes == {(DNS_ACCOUNT, zone): 1}
    assert harness.calls.of("sts", "AssumeRole")[-1].params["RoleArn"] == role


def test_guard_when_the_role_needs_an_external_id_logs_an_actionable_error(
    harness: Harness, cross_account: AccountClients, log_output: Any
) -> None:
    """The external id never goes in a tag: the create warns, the guard names what to do."""
    role = create_dns_role(DNS_ACCOUNT)
    create_zone_in(DNS_ACCOUNT, "example.net")
    event = harness.event(
        "create.json",
        properties={
            "DomainName": "shop.example.net",
            "Route53RoleArn": role,
            "Route53RoleExternalId": "website-certificates-7Qx2",
        },
    )
    answer = harness.run(event)
    assert answer.status == "SUCCESS", answer.reason
    arn = answer.physical_id
    tags = harness.tags(arn)
    assert tags[ZONES_TAG] == "=external-id"
    assert "website-certificates-7Qx2" not in json.dumps(tags)
    assert any("not recorded" in line["message"] for line in _logs(log_output))
    batches = len(harness.change_batches())

    _invoke(harness, acm_event(arn))

    (error,) = [line for line in _logs(log_output) if "cannot repair" in line["message"]]
    assert error["level"] == "ERROR"
    assert arn in error["message"] and event["StackId"] in error["message"]
    assert "external id" in error["message"]
    assert len(harness.change_batches()) == batches


def test_guard_when_the_record_names_no_zones_names_the_certificate_and_the_stack(
    harness: Harness, runtime: Runtime, log_output: Any
) -> None:
    """A certificate recorded without its zones (adopted by tools/adopt_certificates.py from a
    certificate created before the guard existed): the zones come from the provider's record
    now, not the zones tag (which is left in place here and ignored)."""
    event = harness.event("create.json", properties={"DomainName": "www.example.com"})
    arn = harness.run(event).physical_id
    assert ZONES_TAG in harness.tags(arn)
    runtime.registry.set_zones(arn, None)
    _delete_record(harness.zones["example.com"], "www.example.com")

    _invoke(harness, acm_event(arn))

    (error,) = [line for line in _logs(log_output) if "cannot repair" in line["message"]]
    assert arn in error["message"] and event["StackId"] in error["message"]
    assert "update the resource" in error["message"]
    assert harness.records(harness.zones["example.com"]) == {}


def test_guard_when_one_certificate_is_refused_goes_on_with_the_next(
    harness: Harness, runtime: Runtime, log_output: Any
) -> None:
    refused = harness.create({"DomainName": "www.example.com"})
    repaired = harness.create({"DomainName": "api.example.org"})
    _delete_record(harness.zones["example.com"], "www.example.com")
    _delete_record(harness.zones["example.org"], "api.example.org")

    def deny(params: dict[str, Any], **_: Any) -> Any:
        if params.get("body") and refused.encode() in params["body"]:
            return error_response("AccessDeniedException", "not allowed")
        return None

    acm = runtime.clients.acm(REGION)
    acm.meta.events.register("before-call.acm.DescribeCertificate", deny)
    try:
        _invoke(harness, scheduled_event(REGION))
    finally:
        acm.meta.events.unregister("before-call.acm.DescribeCertificate", deny)

    name, value = _record("api.example.org")
    assert harness.records(harness.zones["example.org"])[name].values == (value,)
    assert harness.records(harness.zones["example.com"]) == {}
    (failure,) = [line for line in _logs(log_output) if "could not be checked" in line["message"]]
    assert failure["certificate_arn"] == refused
    assert "AccessDeniedException" in failure["error"]
    assert repaired != refused


def _emf(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def test_guard_when_a_certificate_cannot_be_checked_counts_it_for_the_alarm(
    harness: Harness, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 25 point 6: a failed check was only logged; the RenewalGuardAlarm watches this."""
    refused = harness.create({"DomainName": "www.example.com"})
    harness.create({"DomainName": "api.example.org"})

    def deny(params: dict[str, Any], **_: Any) -> Any:
        if params.get("body") and refused.encode() in params["body"]:
            return error_response("AccessDeniedException", "not allowed")
        return None

    acm = runtime.clients.acm(REGION)
    acm.meta.events.register("before-call.acm.DescribeCertificate", deny)
    capsys.readouterr()
    try:
        _invoke(harness, scheduled_event(REGION))
    finally:
        acm.meta.events.unregister("before-call.acm.DescribeCertificate", deny)

    (line,) = _emf(capsys)
    assert line["RequestType"] == "RenewalGuard"
    assert line[metrics.GUARD_FAILED] == [1.0]
    assert metrics.GUARD_CANNOT_REPAIR not in line


def test_guard_when_it_cannot_reach_a_certificates_records_counts_it_for_the_alarm(
    harness: Harness, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    """A certificate whose record names no zones: the guard cannot repair it, every run."""
    arn = harness.create({"DomainName": "www.example.com"})
    runtime.registry.set_zones(arn, None)
    capsys.readouterr()

    _invoke(harness, acm_event(arn))

    (line,) = _emf(capsys)
    assert line["RequestType"] == "RenewalGuard"
    assert line[metrics.GUARD_CANNOT_REPAIR] == [1.0]
    assert metrics.GUARD_FAILED not in line


def test_guard_when_records_are_the_users_to_keep_raises_no_alarm(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """ManageDnsRecords "false" is a choice (a warning in the log), not a fault to page for."""
    arn = harness.create({"DomainName": "www.example.com"})
    harness.acm().add_tags_to_certificate(
        CertificateArn=arn, Tags=[{"Key": ZONES_TAG, "Value": "=manual"}]
    )
    capsys.readouterr()

    _invoke(harness, acm_event(arn))

    for line in _emf(capsys):
        assert metrics.GUARD_CANNOT_REPAIR not in line


def test_guard_when_every_certificate_is_fine_records_no_failure(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.create({"DomainName": "www.example.com"})
    capsys.readouterr()

    _invoke(harness, scheduled_event(REGION))

    for line in _emf(capsys):
        assert metrics.GUARD_FAILED not in line and metrics.GUARD_CANNOT_REPAIR not in line


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.acm", "detail-type": "ACM Certificate Expired", "resources": []},
        {"source": "aws.s3", "detail-type": "Object Created", "detail": {"secret": "s3cr3t"}},
        {
            "source": "aws.acm",
            "detail-type": "ACM Certificate Renewal Action Required",
            "resources": "not-a-list",
            "detail": {"secret": "s3cr3t"},
        },
        {
            "source": "aws.acm",
            "detail-type": "ACM Certificate Renewal Action Required",
            "resources": ["arn:aws:s3:::bucket"],
        },
    ],
    ids=["other-acm-event", "other-source", "resources-not-a-list", "not-a-certificate"],
)
def test_guard_when_the_event_is_unknown_or_malformed_logs_and_ignores_it(
    harness: Harness, log_output: Any, event: dict[str, Any]
) -> None:
    before = len(harness.calls.calls)

    _invoke(harness, event)

    assert len(harness.calls.calls) == before
    (ignored,) = [line for line in _logs(log_output) if "Ignored" in line["message"]]
    assert ignored["level"] == "WARNING"
    assert "s3cr3t" not in log_output.getvalue()


def test_guard_calls_only_what_the_template_allows(
    harness: Harness, cross_account: AccountClients
) -> None:
    """tests/reliability/test_iam.py reads the template; here the guard's real calls are
    checked against it (the role's statements, the DNS account's role aside)."""
    role = create_dns_role(DNS_ACCOUNT)
    zone = create_zone_in(DNS_ACCOUNT, "example.net")
    arn = harness.create(
        {
            "DomainName": "www.example.com",
            "SubjectAlternativeNames": ["shop.example.net"],
            "DomainValidationOptions": [{"DomainName": "shop.example.net", "Route53RoleArn": role}],
        }
    )
    _delete_record(harness.zones["example.com"], "www.example.com")
    _delete_record(zone, "shop.example.net", account=DNS_ACCOUNT)
    mark = harness.calls.mark()

    _invoke(harness, acm_event(arn))
    _invoke(harness, scheduled_event(REGION))

    granted = {str(a) for _, s in statements() for a in _listed(s["Action"])}
    used = {f"{c.service}:{c.operation}" for c in harness.calls.calls[mark:]}
    assert used >= {
        "acm:DescribeCertificate",
        "route53:GetHostedZone",
        "route53:ListResourceRecordSets",
        "route53:ChangeResourceRecordSets",
        "sts:AssumeRole",
    }
    assert used - granted == set()
    # Issue 18: the provider's records say which certificates to guard, not listings or tags,
    # nor stack resources (the role no longer has cloudformation:DescribeStackResource).
    assert used.isdisjoint(
        {
            "acm:ListCertificates",
            "acm:ListTagsForCertificate",
            "cloudformation:DescribeStackResource",
        }
    )


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def test_update_in_place_that_moves_a_name_to_another_account_rewrites_the_zones_tag(
    harness: Harness, cross_account: AccountClients
) -> None:
    """The tag follows the zones: after the update the guard repairs in the new zone."""
    old = {"DomainName": "www.example.com", "SubjectAlternativeNames": ["shop.example.net"]}
    local_net = harness.create_zone("example.net")
    arn = harness.create(old)
    assert harness.tags(arn)[ZONES_TAG] == " ".join(
        sorted([harness.zones["example.com"], local_net])
    )
    role = create_dns_role(DNS_ACCOUNT)
    zone = create_zone_in(DNS_ACCOUNT, "example.net")
    new = {
        **old,
        "DomainValidationOptions": [{"DomainName": "shop.example.net", "Route53RoleArn": role}],
    }

    answer = harness.run(
        harness.event("update-tags.json", properties=new, old_properties=old, physical_id=arn)
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.tags(arn)[ZONES_TAG] == f"{harness.zones['example.com']} @{role} {zone}"
    _delete_record(zone, "shop.example.net", account=DNS_ACCOUNT)

    _invoke(harness, acm_event(arn))

    assert cnames_in(DNS_ACCOUNT, zone) == dict([_record("shop.example.net")])


def test_sweep_when_a_certificate_is_in_a_region_only_the_providers_records_name_repairs_it(
    harness: Harness,
) -> None:
    """Issue 18 point 3: the sweep reads the provider's records, so it covers every region
    they name (before, only the function's region and us-east-1 were listed)."""
    other = "ap-southeast-2"
    arn = harness.create({"DomainName": "www.example.com", "Region": other})
    assert harness.certificates(other) == [arn]
    _delete_record(harness.zones["example.com"], "www.example.com")
    mark = harness.calls.mark()

    _invoke(harness, scheduled_event(REGION))

    name, value = _record("www.example.com")
    assert harness.records(harness.zones["example.com"])[name].values == (value,)
    assert {call.region for call in harness.calls.since(mark, "acm")} == {other}


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1"])
def test_guard_sweep_when_the_function_runs_in_another_partition_stays_in_it(
    aws: None,
    calls: CallLog,
    acm_faults: AcmFaults,
    self_invokes: SelfInvokes,
    fake_clock: FakeClock,
    region: str,
    log_output: Any,
) -> None:
    """Issue 25 point 5: every ACM call of a sweep in GovCloud or China goes to a region of
    that partition (one in us-east-1 fails there: the sweep logged an error every day)."""
    clients = InstrumentedClients(region, calls, acm_faults, fake_clock)
    table = create_requests_table(boto3.client("dynamodb", region_name=region))
    app.use_runtime(
        Runtime(
            clients=clients,
            invoke_self=self_invokes,
            clock=fake_clock,
            requests=DynamoDBRequests(table, clients.dynamodb(), clock=fake_clock),
        )
    )
    context = LambdaContext(
        timeout_seconds=900.0,
        function_arn=f"arn:{partition_of(region)}:lambda:{region}:123456789012:function:f",
        clock=fake_clock.now,
    )
    try:
        app.lambda_handler(scheduled_event(region), context)
    finally:
        app.use_runtime(None)

    partition = {region, global_certificate_region(region)} - {None}
    asked = {call.region for call in calls.calls if call.service == "acm"}
    assert asked <= partition
    assert not [line for line in _logs(log_output) if line.get("level") == "ERROR"]
