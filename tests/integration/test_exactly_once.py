"""Issue 8 (points 1 and 2): exactly one answer and no orphan, whatever Lambda does — retries after
a timeout, duplicate and concurrent deliveries, on-failure destination records, a table that
cannot be used — and a timeout timer that answers first and cannot outlive its invocation."""

from __future__ import annotations

import copy
import functools
import io
import threading
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import app
from dns_certificate.answer import AnswerNotDeliveredError, send_answer
from dns_certificate.context import Runtime
from dns_certificate.protocol import TIMER_MARGIN_SECONDS
from dns_certificate.requests import (
    LEASE_SECONDS,
    RENEW_EVERY,
    ClaimHeld,
    DynamoDBRequests,
    RequestKey,
)
from local.context import LambdaContext
from tests.integration.harness import REGION, Harness, carried_state
from tests.support.aws_errors import error_response
from tests.support.clock import FakeClock

# Generous: on a loaded machine the calls before the hang must end before the real-time timer
# fires, or the timer finds no certificate to clean up (test_timeout.py uses 1.5 s).
TIMER_FIRES_AFTER = 3.0
HANG = TIMER_FIRES_AFTER + 1.5


def about_to_time_out(harness: Harness) -> LambdaContext:
    return harness.context(timeout_seconds=TIMER_MARGIN_SECONDS + TIMER_FIRES_AFTER)


def created(harness: Harness) -> tuple[str, dict[str, Any]]:
    event = harness.event("create-two-zones.json")
    answer = harness.run(event)
    assert answer.status == "SUCCESS", answer.reason
    return answer.physical_id, event["ResourceProperties"]


def replacement(harness: Harness, old_arn: str, old: dict[str, Any]) -> dict[str, Any]:
    return harness.event("update-replace.json", physical_id=old_arn, old_properties=old)


def calls_by_thread(runtime: Runtime) -> dict[int, list[str]]:
    """ACM and Route 53 operations the handler makes, by the thread that made them."""
    made: dict[int, list[str]] = {}

    def hook(model: Any, **_: Any) -> None:
        made.setdefault(threading.get_ident(), []).append(model.name)

    # first: before the fault hooks' stalls, so a hanging call shows while it hangs
    runtime.clients.acm(REGION).meta.events.register_first("before-call.acm", hook)
    runtime.clients.route53().meta.events.register_first("before-call.route53", hook)
    return made


def dead(event: dict[str, Any], condition: str = "RetriesExhausted") -> dict[str, Any]:
    """What Lambda sends an on-failure destination when it gave up on `event`."""
    return {
        "version": "1.0",
        "timestamp": "2026-11-30T12:00:00.000Z",
        "requestContext": {
            "requestId": "0c3f7a8e-0000-4000-8000-000000000000",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:dns-certificate",
            "condition": condition,
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    }


def deliver_dead(harness: Harness, event: dict[str, Any]) -> Any:
    """Invoke with the destination record of `event`; its new answer, or None."""
    before = len(harness.answers_for(event))
    app.lambda_handler(dead(event), harness.context())
    answers = harness.answers_for(event)
    assert len(answers) - before <= 1, "one invocation answered more than once"
    return answers[-1] if len(answers) > before else None


# ---- the timer ------------------------------------------------------------------------------


def test_timer_answers_before_its_clean_up_deletes_anything(
    harness: Harness, runtime: Runtime
) -> None:
    old_arn, old = created(harness)
    harness.faults.stalls = {"DescribeCertificate": [0.0, HANG]}  # the new certificate's
    event = replacement(harness, old_arn, old)
    answers_when_deleting: list[int] = []

    def seen(**_: Any) -> None:
        answers_when_deleting.append(len(harness.answers_for(event)))

    runtime.clients.acm(REGION).meta.events.register("before-call.acm.DeleteCertificate", seen)

    answer = harness.invoke(event, about_to_time_out(harness))

    assert answer is not None
    assert answer.status == "FAILED"
    assert answers_when_deleting  # the new certificate was deleted...
    assert set(answers_when_deleting) == {1}  # ...only once the answer had arrived
    assert harness.certificates() == [old_arn]


def test_timer_is_joined_before_the_handler_returns(harness: Harness) -> None:
    """Its clean-up (here a DeleteCertificate that hangs a second) ends inside the invocation."""
    old_arn, old = created(harness)
    harness.faults.stalls = {"DescribeCertificate": [0.0, HANG], "DeleteCertificate": [1.0]}
    event = replacement(harness, old_arn, old)

    harness.invoke(event, about_to_time_out(harness))

    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    assert harness.calls.count("acm", "DeleteCertificate") == 1
    assert harness.certificates() == [old_arn]  # deleted before the handler returned


def test_timer_clean_up_cannot_answer_another_request_running_meanwhile(
    harness: Harness,
) -> None:
    """The next request's invocation runs while the first one's timer cleans up: each request
    gets its own answer, once, on its own URL."""
    old_arn, old = created(harness)
    harness.faults.stalls = {"DescribeCertificate": [0.0, HANG], "DeleteCertificate": [2.0]}
    first = replacement(harness, old_arn, old)
    second = harness.event("create.json", LogicalResourceId="Second")
    runner = threading.Thread(target=harness.invoke, args=(first, about_to_time_out(harness)))

    runner.start()
    harness.answers.wait_for(first["ResponseURL"], timeout=20)  # the timer answered
    answer = harness.run(second)
    runner.join(30)

    assert not runner.is_alive()
    assert answer.status == "SUCCESS", answer.reason
    assert [a.status for a in harness.answers_for(first)] == ["FAILED"]
    assert [a.status for a in harness.answers_for(second)] == ["SUCCESS"]


# ---- Lambda retries and duplicate deliveries ------------------------------------------------


def test_retry_of_a_create_after_the_timer_answered_requests_nothing_and_stays_silent(
    harness: Harness,
) -> None:
    harness.faults.stalls = {"ListHostedZones": [HANG]}
    event = harness.event("create-two-zones.json")
    first = harness.invoke(event, about_to_time_out(harness))
    assert first is not None
    assert first.status == "FAILED"
    mark = harness.calls.mark()

    retry = harness.invoke(event)  # Lambda's retry, a minute later, with a fresh invocation

    assert retry is None
    assert len(harness.answers_for(event)) == 1
    assert harness.calls.since(mark, "acm") == []
    assert harness.calls.since(mark, "route53") == []
    assert harness.certificates() == []


def test_duplicate_of_the_original_event_during_a_chain_does_nothing(harness: Harness) -> None:
    event = harness.event("create-two-zones.json")
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    mark = harness.calls.mark()

    duplicate = harness.invoke(event)

    assert duplicate is None
    assert harness.calls.since(mark, "acm") == []
    assert harness.calls.since(mark, "route53") == []
    assert len(harness.self_invokes) == 1
    answer = harness.invoke(payload)
    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.answers_for(event)) == 1
    assert harness.certificates() == [answer.physical_id]


def test_duplicate_of_a_running_hop_fails_so_that_lambda_retries_it_and_does_nothing(
    harness: Harness, runtime: Runtime
) -> None:
    event = harness.event("create-two-zones.json")
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    made = calls_by_thread(runtime)
    harness.faults.stalls = {"DescribeCertificate": [4.0]}
    results: list[Any] = []
    running = threading.Thread(target=lambda: results.append(harness.invoke(payload)))

    running.start()
    while not made.get(running.ident or 0):  # the hop is running (its first call hangs)
        running.join(0.01)
    with pytest.raises(ClaimHeld):  # a function error: Lambda retries it, and may send its
        harness.invoke(payload)  # record to the on-failure destination (see below)
    running.join(30)

    assert threading.get_ident() not in made  # the duplicate made no ACM/Route 53 call
    assert results and results[0] is not None and results[0].status == "SUCCESS"
    assert len(harness.answers_for(event)) == 1
    assert len(harness.self_invokes) == 1
    assert len(harness.certificates()) == 1


def test_duplicate_of_a_finished_hop_does_nothing(harness: Harness) -> None:
    event = harness.event("create-two-zones.json")
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    assert harness.invoke(payload) is not None
    mark = harness.calls.mark()

    assert harness.invoke(payload) is None

    assert harness.calls.since(mark, "acm") == []
    assert len(harness.answers_for(event)) == 1


# ---- the requests table cannot be used ------------------------------------------------------


def test_create_when_requests_table_is_missing_answers_failed_and_requests_nothing(
    harness: Harness, runtime: Runtime, log_output: io.StringIO
) -> None:
    """Issue 18: every certificate is recorded in the table before it is requested, so without
    the table nothing is requested (before, the Create carried on and answered SUCCESS: its
    certificate could then never be deleted by the provider). It still answers, once."""
    table = DynamoDBRequests("no-such-table", boto3.client("dynamodb", region_name=REGION))
    app.use_runtime(replace(runtime, requests=table))
    event = harness.event("create.json")

    answer = harness.run(event)

    assert answer.status == "FAILED"
    assert "requests table" in answer.reason and "ResourceNotFoundException" in answer.reason
    assert len(harness.answers_for(event)) == 1
    assert harness.calls.count("acm", "RequestCertificate") == 0
    assert harness.certificates() == []
    assert "requests table could not be used" in log_output.getvalue()


def test_create_when_requests_table_is_throttled_answers_failed_once_and_requests_nothing(
    harness: Harness, runtime: Runtime, log_output: io.StringIO
) -> None:
    client = runtime.clients.dynamodb()

    def throttled(**_: Any) -> Any:
        return error_response("ProvisionedThroughputExceededException", "Rate exceeded")

    client.meta.events.register("before-call.dynamodb", throttled)
    event = harness.event("create.json")
    try:
        answer = harness.run(event)
    finally:
        client.meta.events.unregister("before-call.dynamodb", throttled)

    assert answer.status == "FAILED"
    assert "ProvisionedThroughputExceededException" in answer.reason
    assert len(harness.answers_for(event)) == 1
    assert harness.calls.count("acm", "RequestCertificate") == 0
    assert "requests table could not be used" in log_output.getvalue()


# ---- Lambda's on-failure destination --------------------------------------------------------


def test_destination_record_of_an_unanswered_create_answers_failed_once(harness: Harness) -> None:
    event = harness.event("create.json")

    answer = deliver_dead(harness, event)

    assert answer is not None
    assert answer.status == "FAILED"
    assert "RetriesExhausted" in answer.reason
    assert not answer.physical_id.startswith("arn:")
    # it looked for a certificate the dead Create might have made, and changed nothing
    assert {call.operation for call in harness.calls.calls} <= {"ListCertificates"}
    assert deliver_dead(harness, event) is None  # a second record: answered already


def test_destination_record_of_a_create_that_requested_deletes_its_certificate_first(
    harness: Harness,
) -> None:
    """The Create's invocations all died after the request (its answer may never arrive:
    a ResponseURL that refuses): the certificate is deleted before FAILED is sent, so no
    rollback has to find it."""
    event = harness.event("create.json")
    harness.faults.pending_describes = 10**6
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None  # handed off
    assert len(harness.certificates()) == 1
    ((_, payload),) = harness.self_invokes.payloads

    answer = deliver_dead(harness, payload)  # the continuation's every delivery died

    assert answer is not None and answer.status == "FAILED"
    assert harness.certificates() == []


def test_destination_record_of_an_answered_request_sends_nothing(harness: Harness) -> None:
    event = harness.event("create.json")
    harness.run(event)

    assert deliver_dead(harness, event) is None

    assert len(harness.answers_for(event)) == 1


def test_destination_record_of_a_replacement_hop_discards_the_new_certificate(
    harness: Harness,
) -> None:
    """The replacement's hop died (out of memory, say): CloudFormation is told FAILED with the
    old id and rolls back; nothing will ever delete the certificate that hop was waiting on."""
    old_arn, old = created(harness)
    event = replacement(harness, old_arn, old)
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    assert carried_state(payload).certificate_arn in harness.certificates()

    answer = deliver_dead(harness, payload)

    assert answer is not None
    assert answer.status == "FAILED"
    assert answer.physical_id == old_arn
    assert harness.certificates() == [old_arn]


def test_destination_record_of_a_create_hop_answers_the_certificate_arn(
    harness: Harness,
) -> None:
    """The rollback Delete then removes it by ARN, without having to list certificates."""
    event = harness.event("create-two-zones.json")
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    handed_arn = carried_state(payload).certificate_arn

    answer = deliver_dead(harness, payload)

    assert answer is not None
    assert answer.status == "FAILED"
    assert handed_arn is not None
    assert answer.physical_id == handed_arn


# ---- a hop that dies without its `finally` (issue 19 point 1) ----------------------------------


class Killed(BaseException):
    """The sandbox killed mid-call (out of memory, the runtime exiting): no `except`, and —
    with `end_hop` made a no-op below — no `finally` that reaches the table either."""


def killed_at_first_describe(
    harness: Harness, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, event: dict[str, Any]
) -> None:
    client = runtime.clients.acm(REGION)

    def kill(**_: Any) -> None:
        raise Killed()

    client.meta.events.register_first("before-call.acm.DescribeCertificate", kill)
    with monkeypatch.context() as dying:
        dying.setattr(DynamoDBRequests, "end_hop", lambda *args, **kwargs: None)
        with pytest.raises(Killed):
            app.lambda_handler(copy.deepcopy(event), harness.context())
    client.meta.events.unregister("before-call.acm.DescribeCertificate", kill)
    assert harness.answers_for(event) == []


def test_hop_killed_without_its_finally_is_run_by_lambdas_retry(
    harness: Harness, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its claim's lease passes before Lambda's first retry (about a minute): the retry takes
    over and answers, instead of finding the claim live for the invocation's 15 minutes."""
    event = harness.event("create.json")
    killed_at_first_describe(harness, runtime, monkeypatch, event)
    harness.clock.advance(60.0)

    answer = harness.run(event)  # Lambda's retry

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [answer.physical_id]


def test_hop_killed_then_retried_too_early_fails_and_the_destination_answers_failed(
    harness: Harness, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retries that find the dead hop's lease still live fail (never return as if done); the
    on-failure record watches the lease, sees it not renewed, and answers FAILED."""
    event = harness.event("create.json")
    killed_at_first_describe(harness, runtime, monkeypatch, event)
    for _ in range(2):
        harness.clock.advance(1.0)
        with pytest.raises(ClaimHeld):
            app.lambda_handler(copy.deepcopy(event), harness.context())

    answer = deliver_dead(harness, event)

    assert answer is not None
    assert answer.status == "FAILED"
    assert harness.clock.slept >= 2 * RENEW_EVERY  # it watched the lease, not renewed
    assert harness.certificates() == []  # the dead Create's certificate is gone


def test_destination_record_while_the_hop_still_runs_elsewhere_sends_nothing(
    harness: Harness, runtime: Runtime
) -> None:
    """A duplicate failed (the hop was held) into the on-failure destination: the holder's
    lease is renewed while the record is handled, so it is the holder that answers."""
    event = harness.event("create.json")
    key = RequestKey.of(event)
    holder = runtime.requests.for_invocation("holder")
    assert holder.start_hop(key, 0, 900_000)
    item_id = next(iter(holder._leases))  # type: ignore[attr-defined]
    sleep = harness.clock.sleep

    def renewed_meanwhile(seconds: float) -> None:
        sleep(seconds)
        holder.renew(item_id, harness.clock.now() + LEASE_SECONDS)  # type: ignore[attr-defined]

    harness.clock.sleep = renewed_meanwhile  # type: ignore[method-assign]
    try:
        assert deliver_dead(harness, event) is None
    finally:
        harness.clock.sleep = sleep  # type: ignore[method-assign]
        holder.end_hop(key, 0, completed=False)
    answer = harness.run(event)  # the holder's own work, done by its retry here
    assert answer.status == "SUCCESS", answer.reason


# ---- hand-off failures ----------------------------------------------------------------------


def refusing_invoke(code: str) -> Any:
    def invoke(function_arn: str, payload: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "refused (injected)"}}, "Invoke")

    return invoke


@pytest.mark.parametrize(
    ("code", "claims_permission"),
    [
        ("AccessDeniedException", True),
        ("TooManyRequestsException", False),
        ("ServiceException", False),
        ("ResourceNotFoundException", False),
    ],
)
def test_create_when_hand_off_fails_names_a_permission_only_when_access_is_denied(
    harness: Harness, runtime: Runtime, code: str, claims_permission: bool
) -> None:
    app.use_runtime(replace(runtime, invoke_self=refusing_invoke(code)))
    event = harness.event("create.json")

    answer = harness.invoke(event, harness.context(timeout_seconds=25))

    assert answer is not None
    assert answer.status == "FAILED"
    assert code in answer.reason
    assert ("lambda:InvokeFunction" in answer.reason) is claims_permission


# ---- an answer that could not be delivered --------------------------------------------------


def test_answer_not_delivered_fails_the_invocation_and_lambda_retry_answers_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim is released so another invocation can answer: Lambda must be told to retry,
    and the retry must not find the hop recorded as done."""
    sender_clock = FakeClock()
    sender = functools.partial(send_answer, sleep=sender_clock.sleep, monotonic=sender_clock.now)
    monkeypatch.setattr(app, "SENDER", sender)
    harness.answers.set_status_code(403)
    event = harness.event("create.json")

    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), harness.context())
    harness.answers.set_status_code(200)
    retry = harness.invoke(event)  # Lambda's retry of the failed invocation

    assert retry is not None
    assert retry.status == "SUCCESS", retry.reason
    assert len(harness.answers_for(event)) == 1
    assert harness.certificates() == [retry.physical_id]
