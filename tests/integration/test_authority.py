"""Issue 18 point 7: each attack on the provider's authority fails.

Whoever may invoke the function can send it any event; anyone allowed to tag certificates can
copy this resource's tags. Only the provider's own records (registry.py) say what it may touch,
and a continuation is a reference to a state the provider stored, bound to its event. Each test
here is one attack, through the real handler (`app.lambda_handler`) against moto; the answer
CloudFormation would get, the certificates that exist, the records in Route 53 and the AWS
calls made are what is asserted. tests/e2e/test_authority.py runs the ones the local
CloudFormation and the strict emulator can play.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.request import Request, urlopen

import boto3
import pytest

import app
from dns_certificate.certificates import LOGICAL_ID_TAG, REQUEST_TAG, STACK_TAG
from dns_certificate.context import Runtime, placeholder_physical_id, request_token
from dns_certificate.continuation import Continuation
from dns_certificate.registry import CertificateRecord, Owner
from dns_certificate.zonetag import ZONES_TAG
from local.driver import acm_event, scheduled_event
from tests.integration.harness import (
    REGION,
    Harness,
    acm_like_record,
    carried_state,
    expected_records,
    stored_continuation,
)
from tests.integration.test_migration import EMAIL

OTHER_STACK = "arn:aws:cloudformation:eu-west-1:123456789012:stack/other/0f1e2d3c"
VICTIM = {"DomainName": "bank.example.com"}


# ---- what the attacks need --------------------------------------------------------------------


class TableCalls:
    """The DynamoDB operations the handler makes (CallLog records ACM, Route 53, CloudFormation)."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


@pytest.fixture
def table_calls(runtime: Runtime) -> Iterator[TableCalls]:
    recorder = TableCalls()
    client = runtime.clients.dynamodb()
    client.meta.events.register("before-parameter-build.dynamodb", recorder)
    yield recorder
    client.meta.events.unregister("before-parameter-build.dynamodb", recorder)


def foreign_certificate(
    harness: Harness, event: dict[str, Any], *, zones: str | None = None
) -> str:
    """A certificate requested outside the provider (by anyone allowed to request and tag in
    the account) carrying copies of the ownership, request and zones tags of `event`'s
    resource (`harness.tags` of a genuine one shows what they look like)."""
    tags: list[Any] = [
        {"Key": STACK_TAG, "Value": event["StackId"]},
        {"Key": LOGICAL_ID_TAG, "Value": event["LogicalResourceId"]},
        {"Key": REQUEST_TAG, "Value": request_token(event)},
    ]
    if zones is not None:
        tags.append({"Key": ZONES_TAG, "Value": zones})
    return boto3.client("acm", region_name=REGION).request_certificate(
        DomainName=VICTIM["DomainName"], ValidationMethod="DNS", Tags=tags
    )["CertificateArn"]


def invoke_guard(event: dict[str, Any], harness: Harness) -> None:
    app.lambda_handler(json.loads(json.dumps(event)), harness.context())


def hold_in_a_stack(harness: Harness, stack_id: str, logical_id: str, arn: str) -> None:
    """CloudFormation says the stack's resource holds `arn` (a native certificate resource, or
    another provider's custom resource): what the guard trusted before issue 18."""
    body = json.dumps(
        {
            "Status": "SUCCESS",
            "Reason": "",
            "PhysicalResourceId": arn,
            "StackId": stack_id,
            "RequestId": "native",
            "LogicalResourceId": logical_id,
            "Data": {},
        }
    ).encode()
    request = Request(harness.answers.new_url(), data=body, method="PUT")
    with urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert harness.answers.physical_id_of(stack_id, logical_id) == arn


def validation_cname_written(harness: Harness, domain_name: str) -> bool:
    name = acm_like_record(domain_name)["Name"].lower()
    return name in harness.records(harness.zones["example.com"])


# ---- (a) a foreign certificate --------------------------------------------------------------


def test_delete_when_certificate_was_requested_outside_with_copied_tags_succeeds_and_keeps_it(
    harness: Harness,
) -> None:
    event = harness.event("delete.json")
    victim = foreign_certificate(harness, event, zones=harness.zones["example.com"])
    assert harness.tags(victim)[STACK_TAG] == event["StackId"]

    answer = harness.run({**event, "PhysicalResourceId": victim})

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == victim
    assert harness.certificates() == [victim]
    assert harness.calls.of("acm", "DeleteCertificate") == []


def test_rollback_delete_when_a_foreign_certificate_copies_the_requests_tags_keeps_it(
    harness: Harness,
) -> None:
    """A rollback's search by request tag finds a certificate with this request's tags copied
    onto it: it is not this provider's (no record, no intent of this request), so it stays."""
    create = harness.event("create.json")
    placeholder = placeholder_physical_id(create)
    victim = foreign_certificate(harness, create)
    delete = harness.event(
        "delete.json",
        properties=create["ResourceProperties"],
        physical_id=placeholder,
        RequestId=create["RequestId"],
    )

    answer = harness.run(delete)

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [victim]
    assert harness.calls.of("acm", "DeleteCertificate") == []


# ---- (b) another stack's certificate --------------------------------------------------------


def test_delete_when_certificate_is_recorded_for_another_stack_leaves_it(
    harness: Harness,
) -> None:
    theirs = harness.run(harness.event("create.json", StackId=OTHER_STACK)).physical_id
    record_before = harness_record(theirs)

    answer = harness.run(harness.event("delete.json", physical_id=theirs))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [theirs]
    assert harness.calls.of("acm", "DeleteCertificate") == []
    assert harness_record(theirs) == record_before


def test_update_when_certificate_is_recorded_for_another_stack_replaces_and_leaves_it(
    harness: Harness,
) -> None:
    """A tags-only Update naming stack B's certificate from stack A: the provider does not
    re-tag or change B's certificate; it makes A its own (a replacement)."""
    b_event = harness.event("create.json", StackId=OTHER_STACK)
    theirs = harness.run(b_event).physical_id
    tags_before = harness.tags(theirs)
    old = b_event["ResourceProperties"]
    new = {**old, "Tags": [{"Key": "team", "Value": "attacker"}]}
    mark = harness.calls.mark()

    answer = harness.run(
        harness.event("update-tags.json", properties=new, old_properties=old, physical_id=theirs)
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != theirs
    assert harness.tags(theirs) == tags_before
    touching = {"AddTagsToCertificate", "RemoveTagsFromCertificate", "UpdateCertificateOptions"}
    assert [
        call.operation
        for call in harness.calls.calls[mark:]
        if call.operation in touching and call.params.get("CertificateArn") == theirs
    ] == []
    assert harness_record(theirs) is not None
    assert harness_record(theirs).owner.stack_id == OTHER_STACK  # type: ignore[union-attr]

    # and stack B's own Delete still deletes it: nothing moved to stack A
    delete_b = harness.run(harness.event("delete.json", physical_id=theirs, StackId=OTHER_STACK))
    assert delete_b.status == "SUCCESS", delete_b.reason
    assert theirs not in harness.certificates()


def harness_record(arn: str) -> CertificateRecord | None:
    return app._current_runtime().registry.certificate(arn)


# ---- (c) copied tags, (d) a stack resource holding the certificate: the renewal guard ------


@pytest.mark.parametrize("held_by_a_stack", [False, True], ids=["tags-only", "native-resource"])
def test_guard_when_a_foreign_certificate_has_copied_tags_writes_no_cname(
    harness: Harness, log_output: io.StringIO, held_by_a_stack: bool
) -> None:
    """(c) and (d): copied ownership and zones tags, and (d) a stack resource holding the ARN
    (a native AWS::CertificateManager::Certificate, say): ACM's event and the daily sweep
    both leave the certificate alone; its validation CNAME is never written."""
    event = harness.event("create.json")
    victim = foreign_certificate(harness, event, zones=harness.zones["example.com"])
    if held_by_a_stack:
        hold_in_a_stack(harness, event["StackId"], event["LogicalResourceId"], victim)
    mark = harness.calls.mark()

    invoke_guard(acm_event(victim), harness)
    invoke_guard(scheduled_event(REGION), harness)

    assert not validation_cname_written(harness, VICTIM["DomainName"])
    assert harness.change_batches() == []
    assert [c for c in harness.calls.calls[mark:] if c.params.get("CertificateArn") == victim] == []
    assert harness.calls.since(mark, "cloudformation") == []


def test_guard_when_the_providers_certificate_lost_its_cname_still_repairs_it(
    harness: Harness,
) -> None:
    """The other side of (c): the guard is not merely switched off."""
    arn = harness.create({"DomainName": "www.example.com"})
    zone = harness.zones["example.com"]
    record = acm_like_record("www.example.com")
    boto3.client("route53", region_name=REGION).change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
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
        },
    )
    assert not validation_cname_written(harness, "www.example.com")

    invoke_guard(acm_event(arn), harness)

    assert validation_cname_written(harness, "www.example.com")


# ---- (e) forged, replayed and misbound references -----------------------------------------


def handed_off(harness: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Create that handed off (its next invocation's payload not yet delivered)."""
    event = harness.event("create-two-zones.json")
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    return event, payload


def forged_random(harness: Harness, payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "Continuation": {"reference": secrets.token_urlsafe(32), "hop": 1}}


def replayed(harness: Harness, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload once its invocation handed off again: its reference is superseded."""
    assert harness.invoke(payload, harness.context(timeout_seconds=25)) is None
    assert len(harness.self_invokes) == 2
    return payload


def other_response_url(harness: Harness, payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "ResponseURL": harness.answers.new_url()}


def other_physical_id(harness: Harness, payload: dict[str, Any]) -> dict[str, Any]:
    victim = foreign_certificate(harness, payload)
    return {**payload, "PhysicalResourceId": victim}


def other_request_type(harness: Harness, payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "RequestType": "Delete"}


ATTACKS = {
    "forged-random-reference": forged_random,
    "replayed-superseded-reference": replayed,
    "another-response-url": other_response_url,
    "another-physical-id": other_physical_id,
    "another-request-type": other_request_type,
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_continuation_when_reference_is_forged_replayed_or_misbound_is_refused_unanswered(
    harness: Harness, table_calls: TableCalls, log_output: io.StringIO, attack: str
) -> None:
    event, payload = handed_off(harness)
    hostile = ATTACKS[attack](harness, payload)
    certificates = harness.certificates()
    mark, table_mark = harness.calls.mark(), len(table_calls.operations)
    answered = {url: len(harness.answers.answers_for(url)) for url in {hostile["ResponseURL"]}}

    result = harness.invoke(hostile)

    assert result is None
    assert {url: len(harness.answers.answers_for(url)) for url in answered} == answered
    assert harness.calls.calls[mark:] == []  # no ACM, Route 53, CloudFormation call
    assert table_calls.operations[table_mark:] == ["GetItem"]
    assert harness.certificates() == certificates
    assert "Refused a continuation" in log_output.getvalue()
    # The genuine request is not disturbed: its own continuation still answers, once.
    if attack != "replayed-superseded-reference":
        answer = harness.invoke(payload)
        assert answer is not None and answer.status == "SUCCESS", answer and answer.reason
        assert len(harness.answers_for(event)) == 1


def test_continuation_when_reference_is_replayed_after_the_answer_is_refused(
    harness: Harness, table_calls: TableCalls
) -> None:
    """The last hop's reference, delivered again after it answered: refused as a duplicate
    (the requests table) or as a used reference, never a second answer or AWS call."""
    event, payload = handed_off(harness)
    assert harness.invoke(payload) is not None
    mark = harness.calls.mark()

    assert harness.invoke(payload) is None

    assert harness.calls.calls[mark:] == []
    assert len(harness.answers_for(event)) == 1


def test_continuation_when_the_table_cannot_be_read_fails_the_invocation_for_a_retry(
    harness: Harness, runtime: Runtime
) -> None:
    """Not a refusal: Lambda retries an invocation that raises, and the retry continues."""
    from tests.support.aws_errors import error_response

    event, payload = handed_off(harness)
    client = runtime.clients.dynamodb()

    def unreadable(**_: Any) -> Any:
        return error_response("ProvisionedThroughputExceededException", "Rate exceeded")

    client.meta.events.register("before-call.dynamodb.GetItem", unreadable)
    mark = harness.calls.mark()
    try:
        with pytest.raises(Exception, match="continuation"):
            app.lambda_handler(json.loads(json.dumps(payload)), harness.context())
    finally:
        client.meta.events.unregister("before-call.dynamodb.GetItem", unreadable)
    assert harness.calls.calls[mark:] == []
    assert harness.answers_for(event) == []

    answer = harness.invoke(payload)  # Lambda's retry

    assert answer is not None and answer.status == "SUCCESS", answer and answer.reason


# ---- (f) a Create continuation cannot name a foreign certificate ----------------------------


def test_create_continuation_naming_a_foreign_certificate_in_the_event_is_refused(
    harness: Harness, table_calls: TableCalls
) -> None:
    """Before issue 18 this UPSERTed the foreign certificate's CNAME and answered SUCCESS with
    its ARN: the entry now holds a reference only, and a state written into it is refused."""
    event = harness.event("create.json", properties=VICTIM)
    victim = foreign_certificate(harness, event)
    now = harness.clock.now()
    forged = {
        "action": "create",
        "started_at": now,
        "deadline": now + 600,
        "hop": 1,
        "phase": "requested",
        "certificate_arn": victim,
    }

    assert harness.invoke({**event, "Continuation": forged}) is None

    assert harness.answers_for(event) == []
    assert harness.calls.calls == []
    assert not validation_cname_written(harness, VICTIM["DomainName"])
    assert set(table_calls.operations) <= {"GetItem"}


def test_create_continuation_naming_a_foreign_certificate_in_its_stored_state_writes_nothing(
    harness: Harness,
) -> None:
    """Defence in depth: even a state in the table naming a certificate the registry does not
    give this resource (a provider bug, or someone with write access to the table) neither
    writes its CNAME nor answers SUCCESS with its ARN."""
    event = harness.event("create.json", properties=VICTIM)
    victim = foreign_certificate(harness, event)
    now = harness.clock.now()
    state = Continuation("create", now, now + 600, hop=1, certificate_arn=victim)

    mark = harness.calls.mark()

    answer = harness.invoke(stored_continuation(event, state))

    assert answer is not None and answer.status == "FAILED"
    assert "certificate is not the resource's" in answer.reason
    assert answer.physical_id != victim
    assert harness.calls.since(mark, "acm") == harness.calls.since(mark, "route53") == []
    assert not validation_cname_written(harness, VICTIM["DomainName"])
    assert harness.certificates() == [victim]


def test_create_hand_off_stores_the_certificate_arn_out_of_the_callers_reach(
    harness: Harness,
) -> None:
    """What the next invocation acts on comes from the table: the payload names no ARN."""
    _event, payload = handed_off(harness)

    assert "arn:aws:acm" not in json.dumps(payload["Continuation"])
    assert carried_state(payload).certificate_arn in harness.certificates()
    record = harness_record(str(carried_state(payload).certificate_arn))
    assert record is not None
    assert record.owner == Owner(payload["StackId"], payload["LogicalResourceId"])


def test_records_written_by_a_genuine_create_are_exactly_acms(harness: Harness) -> None:
    """The baseline the attacks are measured against (the provider still does its job)."""
    arn = harness.create({"DomainName": "www.example.com"})

    assert harness_record(arn) is not None
    assert set(harness.records(harness.zones["example.com"])) == {
        name.lower() for name in expected_records(["www.example.com"])
    }


# ---- issue 18 point 1: the forged migration that re-tagged another stack's certificate -------


def other_stacks_email_certificate(harness: Harness) -> tuple[str, dict[str, Any]]:
    event = harness.event("create.json", properties=EMAIL, StackId=OTHER_STACK)
    answer = harness.run(event)
    assert answer.status == "SUCCESS", answer.reason
    assert harness.faults.migrations.methods[answer.physical_id] == "EMAIL"
    return answer.physical_id, event["ResourceProperties"]


def test_update_when_forged_migration_continuation_names_another_stacks_certificate_is_refused(
    harness: Harness,
) -> None:
    """The attack of issue 18 point 1: PhysicalResourceId and the state's certificate_arn both
    name stack B's certificate, phase migration_records_written. Before, it re-tagged B's
    certificate (whose next tags-only update then replaced it); now: refused, no call."""
    theirs, old = other_stacks_email_certificate(harness)
    tags_before = harness.tags(theirs)
    now = harness.clock.now()
    forged = {
        "action": "in_place",
        "started_at": now,
        "deadline": now + 600,
        "hop": 1,
        "phase": "migration_records_written",
        "certificate_arn": theirs,
    }
    event = harness.event(
        "update-tags.json",
        properties={**old, "ValidationMethod": "DNS"},
        old_properties=old,
        physical_id=theirs,
        Continuation=forged,
    )
    mark = harness.calls.mark()

    assert harness.invoke(event) is None

    assert harness.answers_for(event) == []
    assert harness.calls.calls[mark:] == []
    assert harness.tags(theirs) == tags_before


def test_update_when_stored_migration_state_names_another_stacks_certificate_leaves_it(
    harness: Harness,
) -> None:
    """Defence in depth for the same attack: the state in the table (as only the provider
    could write it) names B's certificate; stack A's Update neither re-tags nor migrates it."""
    theirs, old = other_stacks_email_certificate(harness)
    tags_before = harness.tags(theirs)
    now = harness.clock.now()
    state = Continuation(
        "in_place", now, now + 600, hop=1, phase="migration_records_written", certificate_arn=theirs
    )
    event = harness.event(
        "update-tags.json",
        properties={**old, "ValidationMethod": "DNS"},
        old_properties=old,
        physical_id=theirs,
    )
    mark = harness.calls.mark()

    answer = harness.invoke(stored_continuation(event, state))

    touching = {"AddTagsToCertificate", "RemoveTagsFromCertificate", "UpdateCertificateOptions"}
    assert [c.operation for c in harness.calls.since(mark, "acm") if c.operation in touching] == []
    assert harness.tags(theirs) == tags_before
    assert answer is not None and answer.status == "FAILED"
    assert "certificate is not the resource's" in answer.reason


# ---- issue 18 points 4 and 6: answers belong to their URL --------------------------------------


def test_create_when_a_copy_with_another_response_url_arrives_first_the_real_one_is_answered(
    harness: Harness,
) -> None:
    """The ids are on every log line: a copy of a live request with another ResponseURL,
    delivered first, must not take the request's answer (CloudFormation's own delivery would
    find it "answered" and the stack would wait for its timeout)."""
    genuine = harness.event("create.json")
    hijack = {**genuine, "ResponseURL": harness.answers.new_url()}

    harness.run(hijack)
    answer = harness.run(genuine)

    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.answers_for(genuine)) == 1
    assert harness.calls.count("acm", "RequestCertificate") <= 2
    assert len(harness.certificates()) == 1  # one idempotency token: one certificate


def test_continuation_when_its_stored_state_expired_is_refused_unanswered(
    harness: Harness, requests_table: str, table_calls: TableCalls
) -> None:
    """DynamoDB removes expired items within days, not at once: an expired state still in the
    table is refused as unknown, like one already removed."""
    from dns_certificate.continuation import STATE_PREFIX

    event, payload = handed_off(harness)
    reference = payload["Continuation"]["reference"]
    key = {"id": {"S": STATE_PREFIX + hashlib.sha256(reference.encode()).hexdigest()}}
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=requests_table,
        Key=key,
        UpdateExpression="SET expiration = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )
    mark, table_mark = harness.calls.mark(), len(table_calls.operations)

    assert harness.invoke(payload) is None

    assert harness.answers_for(event) == []
    assert harness.calls.calls[mark:] == []
    assert table_calls.operations[table_mark:] == ["GetItem"]


# ---- issue 18 point 1: what the provider's records hold, and when -------------------------------


def table_items(table: str) -> list[dict[str, Any]]:
    return list(boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"])


def test_hand_off_keeps_neither_the_response_url_nor_the_reference_in_the_table(
    harness: Harness, requests_table: str
) -> None:
    event, payload = handed_off(harness)

    stored = json.dumps(table_items(requests_table))

    assert event["ResponseURL"] not in stored
    assert event["ResponseURL"].split("?")[0] not in stored
    assert payload["Continuation"]["reference"] not in stored


def test_create_records_the_certificate_before_writing_any_validation_record(
    harness: Harness, runtime: Runtime
) -> None:
    timeline: list[str] = []

    def note(model: Any, params: dict[str, Any], **_: Any) -> None:
        item_id = str(params.get("Item", {}).get("id", {}).get("S", ""))
        timeline.append(f"{model.name}:{item_id.split('#')[1] if '#' in item_id else ''}")

    table, route53 = runtime.clients.dynamodb(), runtime.clients.route53()
    acm = runtime.clients.acm(REGION)
    for client in (table, route53, acm):
        client.meta.events.register("before-parameter-build", note)
    try:
        arn = harness.create({"DomainName": "www.example.com"})
    finally:
        for client in (table, route53, acm):
            client.meta.events.unregister("before-parameter-build", note)

    intent = timeline.index("PutItem:intent")
    requested = timeline.index("RequestCertificate:")
    recorded = timeline.index("PutItem:certificate")
    first_write = timeline.index("ChangeResourceRecordSets:")
    assert intent < requested < recorded < first_write
    assert harness_record(arn) is not None


def test_certificate_record_lives_with_the_certificate_and_expires_after_its_delete(
    harness: Harness, requests_table: str
) -> None:
    arn = harness.create({"DomainName": "www.example.com"})

    def record_item() -> dict[str, Any]:
        (item,) = [i for i in table_items(requests_table) if i["id"]["S"].endswith("#" + arn)]
        return item

    assert "expiration" not in record_item()
    assert harness.run(harness.event("delete.json", physical_id=arn)).status == "SUCCESS"

    after = record_item()
    assert after["deleted"] == {"BOOL": True}
    assert "expiration" in after
    assert harness_record(arn) is not None and harness_record(arn).deleted  # type: ignore[union-attr]


# ---- a hop killed between storing its successor's state and invoking it --------------------


class Killed(BaseException):
    """The process dies (Lambda's timeout, out of memory): nothing in the handler catches it."""


def test_continuation_when_killed_after_storing_the_next_state_is_continued_by_lambdas_retry(
    harness: Harness, runtime: Runtime
) -> None:
    """Hop 1 stores hop 2's state (superseding its own reference), then dies before invoking
    hop 2. Lambda retries hop 1 with the same payload: that retry must carry the request on
    (it is CloudFormation's only chance of an answer before its timeout), not be refused as a
    replay."""
    event, payload = handed_off(harness)
    harness.faults.pending_describes = 50  # hop 1 waits again and hands off

    def killed(function_arn: str, next_payload: Any) -> None:
        raise Killed()

    app.use_runtime(replace(runtime, invoke_self=killed))
    with pytest.raises(Killed):
        app.lambda_handler(json.loads(json.dumps(payload)), harness.context(timeout_seconds=25))
    app.use_runtime(runtime)
    harness.faults.pending_describes = 0

    answer = harness.run(payload)  # Lambda's retry of the killed invocation, then its chain

    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.answers_for(event)) == 1
