"""Issue 2/3: exactly one answer, and no orphan, when the invocation times out mid-call.

crhelper's timer runs on real time: with a context that has TIMER_MARGIN_SECONDS plus a little
left, it fires after that little; an AWS call made to hang longer is still running when it does.
"""

from __future__ import annotations

import io
import json

import pytest

from dns_certificate.protocol import TIMER_MARGIN_SECONDS
from local.context import LambdaContext
from tests.integration.harness import Harness

# Generous on purpose: the timer runs on real time, and on a loaded machine the calls before the
# hang (RequestCertificate, zone lookups) must finish before it fires.
TIMER_FIRES_AFTER = 1.5
HANG = TIMER_FIRES_AFTER + 1.5


def about_to_time_out(harness: Harness) -> LambdaContext:
    return harness.context(timeout_seconds=TIMER_MARGIN_SECONDS + TIMER_FIRES_AFTER)


def replacement(harness: Harness, old_arn: str) -> dict:
    old = harness.event("create-two-zones.json")["ResourceProperties"]
    return harness.event("update-replace.json", physical_id=old_arn, old_properties=old)


def run_what_was_handed_on(harness: Harness) -> None:
    for _, payload in harness.self_invokes.payloads:
        harness.invoke(payload)


def test_create_when_timer_fires_during_a_hung_call_answers_once_with_the_arn(
    harness: Harness,
) -> None:
    harness.faults.stalls = {"DescribeCertificate": [HANG]}
    event = harness.event("create-two-zones.json")

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None
    assert answer.status == "FAILED"
    assert answer.physical_id == harness.certificates()[0]
    assert len(harness.answers_for(event)) == 1


@pytest.mark.parametrize(
    "describe_stalls",
    [
        # The new certificate's DescribeCertificate hangs: it was requested and must be discarded.
        pytest.param([0.0, HANG], id="while-waiting-discards-the-new-certificate"),
        # The old certificate's hangs, while deciding: no new certificate may be requested.
        pytest.param([HANG], id="before-the-request-requests-none"),
    ],
)
def test_replacement_when_timer_fires_keeps_only_the_old_certificate(
    harness: Harness, describe_stalls: list[float]
) -> None:
    old_arn = harness.create(name="create-two-zones.json")
    harness.faults.stalls = {"DescribeCertificate": describe_stalls}
    event = replacement(harness, old_arn)

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None
    assert answer.status == "FAILED"
    assert answer.physical_id == old_arn
    assert len(harness.answers_for(event)) == 1
    assert harness.certificates() == [old_arn]


def test_create_when_timer_fires_during_the_zone_lookups_requests_no_certificate(
    harness: Harness,
) -> None:
    """Found by benchmarks/throttling.py: a throttled zone lookup outlasted the invocation, the
    timer answered FAILED without an ARN, and the Create then requested a certificate anyway.
    CloudFormation's rollback Delete (a physical id that is not an ARN) had already searched
    for it by its tags, so it was left behind."""
    harness.faults.stalls = {"ListHostedZones": [HANG]}
    event = harness.event("create-two-zones.json")

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None
    assert answer.status == "FAILED"
    assert not answer.physical_id.startswith("arn:")
    assert len(harness.answers_for(event)) == 1
    assert harness.calls.count("acm", "RequestCertificate") == 0
    assert harness.certificates() == []


def test_in_place_update_when_timer_fires_during_the_zone_lookups_changes_no_tags(
    harness: Harness,
) -> None:
    """The same for an in-place Update: CloudFormation rolls it back with an Update to the old
    properties, which a late tag change could overtake."""
    old_arn = harness.create(name="create-two-zones.json")
    old = harness.event("create-two-zones.json")["ResourceProperties"]
    new = {**old, "Tags": [{"Key": "team", "Value": "web"}]}
    event = harness.event(
        "create-two-zones.json",
        properties=new,
        physical_id=old_arn,
        old_properties=old,
        RequestType="Update",
    )
    harness.faults.stalls = {"ListHostedZones": [HANG]}

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None
    assert answer.status == "FAILED"
    assert answer.physical_id == old_arn
    assert len(harness.answers_for(event)) == 1
    assert harness.tags(old_arn)["team"] == "platform"


def test_timer_log_line_carries_the_request_keys(harness: Harness, log_output: io.StringIO) -> None:
    harness.faults.stalls = {"DescribeCertificate": [HANG]}
    event = harness.event("create-two-zones.json")

    harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    (line,) = [
        json.loads(text)
        for text in log_output.getvalue().splitlines()
        if "about to time out" in text
    ]
    assert line["request_id"] == event["RequestId"]
    assert line["stack_id"] == event["StackId"]
    assert line["logical_resource_id"] == event["LogicalResourceId"]


def test_create_when_timer_fires_during_a_hung_poll_writes_no_records_after_the_answer(
    harness: Harness,
) -> None:
    """The poll that hangs returns the records after the timer answered FAILED: CloudFormation
    is rolling back (its Delete may have cleaned up already), so nothing is written any more."""
    harness.faults.stalls = {"DescribeCertificate": [HANG]}
    event = harness.event("create-two-zones.json")

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None
    assert answer.status == "FAILED"
    assert len(harness.answers_for(event)) == 1
    assert harness.change_batches() == []
    assert list(harness.records(harness.zones["example.com"])) == []
