"""An answer an invocation claimed to send is final (it is stored before its PUT, and nobody
can know whether that PUT arrived): whoever comes next sends the same bytes and does not run
the request again (a hostile review of f4721d5 found both ways to break it)."""

from __future__ import annotations

import copy
import functools

import pytest

import app
from dns_certificate.answer import AnswerNotDeliveredError, send_answer
from tests.integration.harness import Harness
from tests.integration.test_exactly_once import deliver_dead
from tests.support.clock import FakeClock


def test_destination_record_never_resends_a_success_naming_a_certificate_it_just_deleted(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Create succeeds, but its SUCCESS cannot be PUT (3 invocations: the original and
    Lambda's two retries). The claim stores that SUCCESS and is released with it. The
    on-failure record then runs `abandon()` (deletes the Create's certificate: 'the answer is
    FAILED whatever happens') and `_deliver` swaps its FAILED for the stored SUCCESS:
    CloudFormation marks the resource CREATE_COMPLETE with a certificate that no longer exists.
    """
    sender_clock = FakeClock()
    sender = functools.partial(send_answer, sleep=sender_clock.sleep, monotonic=sender_clock.now)
    monkeypatch.setattr(app, "SENDER", sender)
    harness.answers.set_status_code(500)
    event = harness.event("create.json")
    for _ in range(3):  # the invocation and Lambda's two retries
        with pytest.raises(AnswerNotDeliveredError):
            app.lambda_handler(copy.deepcopy(event), harness.context())
    assert len(harness.certificates()) == 1
    harness.answers.set_status_code(200)

    answer = deliver_dead(harness, event)

    assert answer is not None and answer.status == "SUCCESS", answer
    assert harness.certificates() == [answer.physical_id]


def test_retry_after_an_undelivered_timer_answer_sends_the_stored_bytes_and_keeps_no_orphan(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer's FAILED of a replacement was stored and its PUT failed: Lambda's retry
    sends that FAILED, byte for byte (not its own answer), and the replacement's certificate,
    which no answer names, is not left behind."""
    from tests.integration.test_exactly_once import HANG, about_to_time_out, created, replacement

    sender_clock = FakeClock()
    sender = functools.partial(send_answer, sleep=sender_clock.sleep, monotonic=sender_clock.now)
    monkeypatch.setattr(app, "SENDER", sender)
    old_arn, old = created(harness)
    harness.faults.stalls = {"DescribeCertificate": [0.0, HANG]}
    event = replacement(harness, old_arn, old)
    harness.answers.set_status_code(500)
    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), about_to_time_out(harness))
    tried = harness.answers.attempts_for(event["ResponseURL"])
    harness.answers.set_status_code(200)

    retry = harness.invoke(event)

    assert retry is not None and retry.status == "FAILED"
    assert "ran out of time" in retry.reason
    assert retry.raw == tried[-1].raw
    assert harness.certificates() == [old_arn]


def test_retry_after_an_undelivered_success_sends_it_again_without_running_the_request(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Create's SUCCESS was claimed and its PUT failed: Lambda's retry sends those bytes
    and asks nothing of ACM or Route 53 (the request is decided; running it again could only
    make it differ)."""
    sender_clock = FakeClock()
    sender = functools.partial(send_answer, sleep=sender_clock.sleep, monotonic=sender_clock.now)
    monkeypatch.setattr(app, "SENDER", sender)
    harness.answers.set_status_code(500)
    event = harness.event("create.json")
    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), harness.context())
    tried = harness.answers.attempts_for(event["ResponseURL"])
    harness.answers.set_status_code(200)
    mark = harness.calls.mark()

    retry = harness.invoke(event)

    assert retry is not None and retry.status == "SUCCESS"
    assert retry.raw == tried[-1].raw
    assert harness.calls.since(mark, "acm") == [] and harness.calls.since(mark, "route53") == []
    assert harness.certificates() == [retry.physical_id]
