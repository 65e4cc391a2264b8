"""An answer whose PUT may have arrived is final: it is stored before the PUT, and when S3
never said whether it wrote it (a timeout, a dropped connection, a process killed), whoever
comes next sends the same bytes and does not run the request again. An answer S3 refused
(an HTTP error status) was not read by CloudFormation: the next invocation decides anew.
(A hostile review of f4721d5 found both ways to break the first.)"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

import pytest

import app
from dns_certificate.answer import AnswerNotDeliveredError, encode_body, send_answer
from dns_certificate.requests import AnswerClaim, DynamoDBRequests
from tests.integration.harness import Harness
from tests.integration.test_exactly_once import (
    HANG,
    about_to_time_out,
    created,
    deliver_dead,
    replacement,
)
from tests.support.clock import FakeClock


class LostResponses:
    """A sender whose every PUT ends without S3's answer: each may have been written."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def __call__(self, url: str, body: Mapping[str, Any], budget: float) -> None:
        self.sent.append(encode_body(body))
        raise AnswerNotDeliveredError("no answer from S3 (timed out)", may_have_arrived=True)


def _refusing_sender(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    sender = functools.partial(send_answer, sleep=clock.sleep, monotonic=clock.now)
    monkeypatch.setattr(app, "SENDER", sender)
    harness.answers.set_status_code(500)


def test_destination_record_after_every_put_was_refused_answers_failed_and_keeps_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 refused the Create's SUCCESS three times (the invocation and Lambda's two retries):
    CloudFormation never read it, so the on-failure path discards the certificate and answers
    FAILED (it once re-sent the stored SUCCESS naming the certificate it had just deleted)."""
    _refusing_sender(harness, monkeypatch)
    event = harness.event("create.json")
    for _ in range(3):
        with pytest.raises(AnswerNotDeliveredError):
            app.lambda_handler(copy.deepcopy(event), harness.context())
    assert len(harness.certificates()) == 1
    harness.answers.set_status_code(200)

    answer = deliver_dead(harness, event)

    assert answer is not None and answer.status == "FAILED", answer
    assert harness.certificates() == []


def test_destination_record_after_puts_that_may_have_arrived_sends_the_success_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 never answered the Create's SUCCESS: CloudFormation may have read it, so the
    on-failure path sends those bytes again and keeps the certificate they name."""
    lost, sender = LostResponses(), app.SENDER
    monkeypatch.setattr(app, "SENDER", lost)
    event = harness.event("create.json")
    for _ in range(3):
        with pytest.raises(AnswerNotDeliveredError):
            app.lambda_handler(copy.deepcopy(event), harness.context())
    monkeypatch.setattr(app, "SENDER", sender)

    answer = deliver_dead(harness, event)

    assert answer is not None and answer.status == "SUCCESS", answer
    assert {answer.raw} == set(lost.sent)
    assert harness.certificates() == [answer.physical_id]


def test_retry_after_a_timer_answer_that_may_have_arrived_sends_its_bytes_and_keeps_no_orphan(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer's FAILED of a replacement may have arrived: Lambda's retry sends that
    FAILED, byte for byte (not its own answer), and the replacement's certificate, which no
    answer names, is not left behind."""
    old_arn, old = created(harness)
    harness.faults.stalls = {"DescribeCertificate": [0.0, HANG]}
    event = replacement(harness, old_arn, old)
    lost, sender = LostResponses(), app.SENDER
    monkeypatch.setattr(app, "SENDER", lost)
    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), about_to_time_out(harness))
    monkeypatch.setattr(app, "SENDER", sender)

    retry = harness.invoke(event)

    assert retry is not None and retry.status == "FAILED"
    assert "ran out of time" in retry.reason
    assert retry.raw == lost.sent[-1]
    assert harness.certificates() == [old_arn]


def test_retry_after_a_success_that_may_have_arrived_sends_it_without_running_the_request(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request is decided; running it again could only make the answer differ."""
    lost, sender = LostResponses(), app.SENDER
    monkeypatch.setattr(app, "SENDER", lost)
    event = harness.event("create.json")
    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), harness.context())
    monkeypatch.setattr(app, "SENDER", sender)
    mark = harness.calls.mark()

    retry = harness.invoke(event)

    assert retry is not None and retry.status == "SUCCESS"
    assert retry.raw == lost.sent[-1]
    assert harness.calls.since(mark, "acm") == [] and harness.calls.since(mark, "route53") == []
    assert harness.certificates() == [retry.physical_id]


def test_retry_after_a_refused_success_runs_the_request_again_and_answers_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 refused the SUCCESS: nothing was read, the retry runs the (idempotent) request and
    answers; the same certificate, one answer delivered."""
    _refusing_sender(harness, monkeypatch)
    event = harness.event("create.json")
    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), harness.context())
    first = harness.certificates()
    harness.answers.set_status_code(200)

    retry = harness.invoke(event)

    assert retry is not None and retry.status == "SUCCESS"
    assert harness.certificates() == first == [retry.physical_id]
    assert [a.status for a in harness.answers_for(event)] == ["SUCCESS"]


def test_a_later_refusal_does_not_unbind_an_earlier_answer_that_may_have_arrived(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Create's SUCCESS is PUT and S3 never answers (it may have been written). Lambda's
    retries re-send those bytes and S3 refuses them, which says nothing about the first PUT:
    the answer stays final, and the on-failure record sends it again and keeps the
    certificate it names (a refusal once unbound it: FAILED, the certificate deleted)."""
    lost = LostResponses()
    monkeypatch.setattr(app, "SENDER", lost)
    event = harness.event("create.json")
    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), harness.context())
    _refusing_sender(harness, monkeypatch)
    for _ in range(2):  # Lambda's two retries: S3 refuses the re-sent SUCCESS
        with pytest.raises(AnswerNotDeliveredError):
            app.lambda_handler(copy.deepcopy(event), harness.context())
    harness.answers.set_status_code(200)

    answer = deliver_dead(harness, event)

    assert answer is not None
    assert (answer.status, harness.certificates()) == ("SUCCESS", [answer.physical_id])
    assert answer.raw == lost.sent[-1]


def test_resend_of_a_decided_failed_never_sends_success_when_the_table_fails(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Create's FAILED is decided (stored, its PUT lost). The retry reads it, then the
    claim write and its read fail (throttled): the answer it falls back to, its own, is the
    decided FAILED too (it was once a SUCCESS built from the physical id)."""
    lost = LostResponses()
    monkeypatch.setattr(app, "SENDER", lost)
    event = harness.event("create.json")
    event["ResourceProperties"]["DomainName"] = "-bad-.example.com"  # any FAILED will do
    with pytest.raises(AnswerNotDeliveredError):
        app.lambda_handler(copy.deepcopy(event), harness.context())
    assert b'"FAILED"' in lost.sent[-1], lost.sent
    monkeypatch.setattr(app, "SENDER", send_answer)

    def unreachable(
        self: DynamoDBRequests, key: Any, ms: int, body: Mapping[str, Any] | None = None
    ) -> AnswerClaim:
        return AnswerClaim(dict(body or {}))  # what the except path gives when its read fails too

    monkeypatch.setattr(DynamoDBRequests, "claim_answer", unreachable)

    retry = harness.invoke(event)

    assert retry is not None and retry.status == "FAILED", retry
