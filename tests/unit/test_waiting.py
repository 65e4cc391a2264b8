"""The one waiting unit (waiting.py): budget, backoff, hand-off, throttling, paced polls.

A FakeClock stands for time, so hours of waiting run in microseconds; nothing sleeps.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

import pytest
from botocore.exceptions import ClientError

from dns_certificate.continuation import Continuation
from dns_certificate.deadline import HANDOFF_MARGIN_SECONDS, Backoff
from dns_certificate.errors import CertificateInUseError, DeadlineExceededError
from dns_certificate.pacing import POLL_PACING, PollHistory
from dns_certificate.waiting import HandedOff, Waiter
from tests.support.clock import FakeClock

START = 1_000_000.0


def throttling() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
        "DescribeCertificate",
    )


class Lambda:
    """One invocation of `seconds`, on the fake clock; records every hand-off."""

    def __init__(self, clock: FakeClock, seconds: float = 900.0) -> None:
        self.clock = clock
        self.ends_at = clock.now() + seconds
        self.handed_off: list[Continuation] = []

    def remaining(self) -> float:
        return self.ends_at - self.clock.now()

    def hand_off(self, state: Continuation) -> NoReturn:
        self.handed_off.append(state)
        raise HandedOff()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def waiter_for(clock: FakeClock, seconds: float = 900.0) -> tuple[Waiter, Lambda]:
    invocation = Lambda(clock, seconds)
    return Waiter(clock, invocation.remaining, invocation.hand_off), invocation


def state(deadline: float = START + 3600.0) -> Continuation:
    return Continuation(action="create", started_at=START, deadline=deadline)


def test_wait_when_within_budget_sleeps_the_seconds_wanted(clock: FakeClock) -> None:
    waiter, invocation = waiter_for(clock)

    waiter.wait(state(), 4.0, 0, "never")

    assert clock.sleeps == [4.0]
    assert invocation.handed_off == []


def test_wait_when_given_a_backoff_sleeps_its_delay_for_the_attempt(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)

    waiter.wait(state(), Backoff(base=2.0, cap=5.0), 10, "never")

    assert 2.5 <= clock.slept <= 5.0  # capped, then 50-100 %


def test_wait_when_the_deadline_is_near_never_sleeps_past_it(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)

    waiter.wait(state(deadline=START + 1.5), 10.0, 0, "never")

    assert clock.now() == START + 1.5


def test_wait_when_past_the_deadline_raises_the_reason_it_was_given(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)
    clock.advance(3601.0)

    with pytest.raises(DeadlineExceededError, match="still pending at the deadline"):
        waiter.wait(state(), 1.0, 0, lambda: "still pending at the deadline")


def test_wait_when_a_delete_waited_for_users_raises_in_use(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)
    clock.advance(3601.0)

    with pytest.raises(CertificateInUseError):
        waiter.wait(state(), 1.0, 0, "Still in use by x", in_use=True)


def test_wait_when_the_invocation_ends_hands_off_the_state_without_sleeping(
    clock: FakeClock,
) -> None:
    waiter, invocation = waiter_for(clock, seconds=HANDOFF_MARGIN_SECONDS - 1)
    current = state()

    with pytest.raises(HandedOff):
        waiter.wait(current, 5.0, 0, "never")

    assert invocation.handed_off == [current]
    assert clock.sleeps == []


def test_wait_when_near_the_hand_off_margin_sleeps_only_until_it(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock, seconds=HANDOFF_MARGIN_SECONDS + 2)

    waiter.wait(state(), 60.0, 0, "never")

    assert clock.sleeps == [2.0]


def test_wait_out_throttling_when_not_throttled_reraises(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeCertificate"
    )

    with pytest.raises(ClientError, match="AccessDenied"):
        waiter.wait_out_throttling(denied, state(), "reading x", 0)

    assert clock.sleeps == []


def test_wait_out_throttling_when_past_the_deadline_names_what_was_throttled(
    clock: FakeClock,
) -> None:
    waiter, _ = waiter_for(clock)
    clock.advance(3601.0)

    with pytest.raises(DeadlineExceededError, match="AWS throttled reading x until the deadline"):
        waiter.wait_out_throttling(throttling(), state(), "reading x", 0)


def test_persevering_when_throttled_retries_the_step_until_it_works(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)
    failures = [throttling(), throttling(), throttling()]

    def step(current: Continuation) -> Continuation:
        if failures:
            raise failures.pop()
        return current.advanced(certificate_arn="arn:aws:acm:us-east-1:1:certificate/x")

    done = waiter.persevering(state(), "requesting", step)

    assert done.certificate_arn == "arn:aws:acm:us-east-1:1:certificate/x"
    assert len(clock.sleeps) == 3


def test_persevering_when_throttled_past_the_invocation_hands_off(clock: FakeClock) -> None:
    waiter, invocation = waiter_for(clock, seconds=120.0)

    def step(current: Continuation) -> Continuation:
        clock.advance(0.1)  # a call takes time
        raise throttling()

    with pytest.raises(HandedOff):
        waiter.persevering(state(), "requesting", step)

    assert len(invocation.handed_off) == 1
    assert clock.now() < START + 120.0 - HANDOFF_MARGIN_SECONDS + 1  # it never slept into it


# ---- paced polls ------------------------------------------------------------------------------


def test_poll_when_answered_remembers_the_success_and_returns_the_value(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)

    after, value = waiter.poll(state(), lambda: "ISSUED", "reading x")

    assert value == "ISSUED"
    assert after.polls.successes == (round(START, 1),)
    assert clock.sleeps == []


def test_poll_when_throttled_waits_a_widened_interval_and_carries_the_throttle(
    clock: FakeClock,
) -> None:
    waiter, _ = waiter_for(clock)

    def throttled() -> str:
        raise throttling()

    after, value = waiter.poll(state(), throttled, "reading x")

    assert value is None
    assert after.polls.throttles == (round(START, 1),)
    widened = POLL_PACING.floor * POLL_PACING.widen
    assert (1 - POLL_PACING.jitter) * widened <= clock.slept <= widened


def test_pace_when_throttles_stop_narrows_back_to_the_floor(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)
    current = state()
    for _ in range(4):  # AWS throttles four polls in a row
        current, _ = waiter.poll(current, _raise_throttling, "reading x")
    widest = max(clock.sleeps)
    for _ in range(60):  # then answers every one
        current, _ = waiter.poll(current, lambda: "PENDING_VALIDATION", "reading x")
        waiter.pace(current, "never")

    assert widest > 2 * POLL_PACING.floor
    assert clock.sleeps[-1] <= POLL_PACING.floor


def test_poll_when_throttled_at_the_deadline_fails_naming_it(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)
    clock.advance(3601.0)

    with pytest.raises(DeadlineExceededError, match="AWS throttled reading x until the deadline"):
        waiter.poll(state(), _raise_throttling, "reading x")


def test_poll_when_the_history_is_handed_off_the_next_invocation_keeps_the_interval(
    clock: FakeClock,
) -> None:
    waiter, invocation = waiter_for(clock, seconds=HANDOFF_MARGIN_SECONDS + 10)
    current = state()

    def call() -> str:
        clock.advance(0.1)  # a call takes time
        raise throttling()

    with pytest.raises(HandedOff):
        while True:
            current, _ = waiter.poll(current, call, "reading x")
    # What the hand-off stores in the table, and the next invocation reads back.
    carried = Continuation.from_json(json.loads(json.dumps(invocation.handed_off[0].to_json())))

    assert carried.polls == invocation.handed_off[0].polls
    assert carried.polls.next_interval(clock.now()) > POLL_PACING.floor


def test_poll_history_when_forged_is_bounded_or_ignored() -> None:
    forged = {"throttles": [1e308, float("inf"), "x", True, *range(10_000)], "successes": "no"}

    history = PollHistory.from_json(forged)

    assert len(history.throttles) <= 64
    assert all(math.isfinite(moment) for moment in history.throttles)
    assert history.successes == ()
    assert PollHistory.from_json(["not", "a", "mapping"]) == PollHistory()


def _raise_throttling() -> str:
    raise throttling()


# ---- the poller client ------------------------------------------------------------------------


def test_acm_poller_when_throttled_makes_one_attempt_where_acm_retries() -> None:
    """The pacing sees every throttle: botocore does not retry a poll (it would block up to
    20 s and hide the throttle); the ordinary client retries as before."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    from dns_certificate.clients import AwsClients

    clients = AwsClients("us-east-1")
    client = clients.acm_poller()
    sent: list[str] = []

    def throttle(**_: Any) -> Any:
        sent.append("DescribeCertificate")
        raw = _Raw(b'{"__type": "ThrottlingException", "message": "Rate exceeded"}')
        return AWSResponse("https://acm.invalid/", 400, HTTPHeaders(), raw)

    client.meta.events.register("before-send.acm.DescribeCertificate", throttle)

    with pytest.raises(ClientError, match="ThrottlingException"):
        client.describe_certificate(CertificateArn="arn:aws:acm:us-east-1:1:certificate/x")

    assert len(sent) == 1
    retries: Any = getattr(clients.acm().meta.config, "retries", {})
    assert retries["total_max_attempts"] > 1


class _Raw:
    """A raw HTTP body, as botocore reads one."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_poll_when_no_answer_comes_polls_again_at_the_interval(clock: FakeClock) -> None:
    """The poller does not retry: a read timeout is one lost poll, not a failed request."""
    from botocore.exceptions import ReadTimeoutError

    waiter, _ = waiter_for(clock)

    def hung() -> str:
        raise ReadTimeoutError(endpoint_url="https://acm.invalid/")

    after, value = waiter.poll(state(), hung, "reading x")

    assert value is None
    assert after.polls == PollHistory()  # neither throttled nor answered
    assert 0 < clock.slept <= POLL_PACING.floor


def test_poll_when_no_answer_until_the_deadline_says_so(clock: FakeClock) -> None:
    from botocore.exceptions import EndpointConnectionError

    waiter, _ = waiter_for(clock)
    clock.advance(3601.0)

    def refused() -> str:
        raise EndpointConnectionError(endpoint_url="https://acm.invalid/")

    with pytest.raises(DeadlineExceededError, match="ACM did not answer reading x until"):
        waiter.poll(state(), refused, "reading x")


def _server_error(code: str, status: int) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "x"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "DescribeCertificate")


@pytest.mark.parametrize(
    ("code", "status"), [("InternalFailure", 500), ("ServiceUnavailable", 503), ("", 504)]
)
def test_poll_when_aws_fails_on_its_side_polls_again_as_botocore_would_have(
    clock: FakeClock, code: str, status: int
) -> None:
    """The poller does not retry: a 5xx is one lost poll (botocore retries it), not a failure."""
    waiter, _ = waiter_for(clock)

    def failing() -> str:
        raise _server_error(code, status)

    after, value = waiter.poll(state(), failing, "reading x")

    assert value is None
    assert after.polls == PollHistory()
    assert 0 < clock.slept <= POLL_PACING.floor


def test_poll_when_access_is_denied_raises_at_once(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)

    def denied() -> str:
        raise _server_error("AccessDeniedException", 400)

    with pytest.raises(ClientError, match="AccessDeniedException"):
        waiter.poll(state(), denied, "reading x")
    assert clock.sleeps == []


def test_poll_history_when_forged_with_future_moments_still_learns_real_throttles(
    clock: FakeClock,
) -> None:
    """Moments after now (only a forged continuation has them) must not take the bounded
    history's places: the real throttles would be dropped and the interval never widen."""
    forged = PollHistory.from_json({"throttles": [START + 1e9 + i for i in range(64)]})
    waiter, _ = waiter_for(clock)
    current = Continuation(action="create", started_at=START, deadline=START + 3600.0, polls=forged)

    for _ in range(3):
        current, _ = waiter.poll(current, _raise_throttling, "reading x")

    assert len(current.polls.throttles) == 3
    assert current.polls.next_interval(clock.now()) > POLL_PACING.floor * 2


def test_poll_when_throttled_with_a_5xx_status_still_widens_the_interval(clock: FakeClock) -> None:
    waiter, _ = waiter_for(clock)

    def throttled() -> str:
        raise _server_error("ThrottlingException", 503)

    after, _ = waiter.poll(state(), throttled, "reading x")

    assert after.polls.throttles == (round(START, 1),)
