"""Issue 19 (defects 2 and 3): the timeout timer against the main thread, at the worst moments.

The timer (protocol.py) answers FAILED a fixed margin before Lambda ends the invocation, then
runs the clean-up the lifecycle armed. These tests make the timer fire inside the narrow
windows a hostile review found, deterministically: a botocore hook holds the main thread's
call until the timer's answer has arrived.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from dns_certificate.context import Runtime
from dns_certificate.protocol import TIMER_MARGIN_SECONDS, CertificateResource
from local.context import LambdaContext
from tests.integration.harness import REGION, Harness
from tests.support.aws_errors import error_response

#: Real seconds until the timer fires; the calls before it must be done by then.
TIMER_FIRES_AFTER = 3.0
#: How long a held call waits (real seconds) for the timer's answer at most.
HOLD_AT_MOST = 20.0


def about_to_time_out(harness: Harness) -> LambdaContext:
    return harness.context(timeout_seconds=TIMER_MARGIN_SECONDS + TIMER_FIRES_AFTER)


def created(harness: Harness) -> tuple[str, dict[str, Any]]:
    event = harness.event("create-two-zones.json")
    answer = harness.run(event)
    assert answer.status == "SUCCESS", answer.reason
    return answer.physical_id, event["ResourceProperties"]


def replacement(harness: Harness, old_arn: str, old: dict[str, Any]) -> dict[str, Any]:
    return harness.event("update-replace.json", physical_id=old_arn, old_properties=old)


def _called_from(function_name: str, caller_name: str) -> bool:
    """Whether the current thread is inside `function_name` called right from `caller_name`."""
    frame = sys._getframe(1)
    while frame is not None:
        back = frame.f_back
        if frame.f_code.co_name == function_name and back and back.f_code.co_name == caller_name:
            return True
        frame = back  # type: ignore[assignment]
    return False  # type: ignore[unreachable]


def test_timer_firing_during_the_replacements_answered_check_leaves_no_new_certificate(
    harness: Harness, runtime: Runtime
) -> None:
    """Defect 2: the replacement is issued; its last look at the requests table (is this
    request answered?) was sent before the timer claimed the answer and returns after the
    timer answered FAILED with the old id. The new certificate must not stay: CloudFormation
    rolls back with an Update to the old id and never names it."""
    old_arn, old = created(harness)
    harness.faults.pending_describes = 0  # issued at the first look: no hand-off
    event = replacement(harness, old_arn, old)
    held: list[bool] = []

    def answer_arrives_meanwhile(**_: Any) -> None:
        if held or not _called_from("answered", "_complete_replacement"):
            return
        held.append(True)
        harness.answers.wait_for(event["ResponseURL"], timeout=HOLD_AT_MOST)

    runtime.clients.dynamodb().meta.events.register(
        "after-call.dynamodb.GetItem", answer_arrives_meanwhile
    )
    answer = harness.invoke(event, about_to_time_out(harness))

    assert held, "the replacement never reached its answered-check"
    assert answer is not None
    assert [a.status for a in harness.answers_for(event)] == ["FAILED"]
    assert answer.physical_id == old_arn
    assert harness.certificates() == [old_arn]
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


def test_timer_firing_right_after_the_replacement_committed_answers_its_new_certificate(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the same window: once the replacement has decided to answer its new
    certificate, a timer firing before that answer leaves sends the same answer (SUCCESS with
    the new ARN), never a FAILED naming a certificate that then stays."""
    old_arn, old = created(harness)
    harness.faults.pending_describes = 0
    event = replacement(harness, old_arn, old)
    held: list[bool] = []
    respond = CertificateResource._cfn_response

    def timer_fires_first(self: CertificateResource, event: dict[str, Any]) -> None:
        if threading.current_thread() is threading.main_thread() and not held:
            held.append(True)
            harness.answers.wait_for(event["ResponseURL"], timeout=HOLD_AT_MOST)
        respond(self, event)

    monkeypatch.setattr(CertificateResource, "_cfn_response", timer_fires_first)
    harness.invoke(event, about_to_time_out(harness))

    (answer,) = harness.answers_for(event)
    assert held
    new_certificates = [arn for arn in harness.certificates() if arn != old_arn]
    assert answer.status == "SUCCESS", answer.reason
    assert [answer.physical_id] == new_certificates
    assert old_arn in harness.certificates()  # CloudFormation's clean-up Delete removes it


def test_timer_clean_up_ends_within_the_invocation_when_delete_is_throttled(
    harness: Harness, runtime: Runtime
) -> None:
    """Defect 3: the timer's clean-up is given the time left (a duration), not a moment on
    another clock read as seconds: a throttled DeleteCertificate is retried only until the
    invocation ends, never by a timer thread living on into later invocations."""
    old_arn, old = created(harness)
    harness.faults.stalls = {"DescribeCertificate": [0.0, TIMER_FIRES_AFTER + 1.5]}
    deletes_at: list[float] = []

    def throttled(**_: Any) -> Any:
        deletes_at.append(harness.clock.now())
        return error_response("ThrottlingException", "Rate exceeded")

    runtime.clients.acm(REGION).meta.events.register("before-call.acm.DeleteCertificate", throttled)
    event = replacement(harness, old_arn, old)
    context = about_to_time_out(harness)
    ends_at = harness.clock.now() + context.get_remaining_time_in_millis() / 1000.0

    answer = harness.invoke(event, context)

    assert answer is not None and answer.status == "FAILED"
    assert deletes_at, "the timer's clean-up never tried to delete the new certificate"
    assert max(deletes_at) <= ends_at
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
