"""Time: the resource's overall deadline, this invocation's budget, and backoff.

Pure apart from `SystemClock`: the lifecycle is handed a clock, so tests run hours of waiting
in milliseconds and the decisions below are tested without sleeping.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import NewType, Protocol

# ---- the time budget of one invocation, end to end (README: "The time budget") ------------
#: Hand the wait to a new invocation when less than this is left of the current one.
HANDOFF_MARGIN_SECONDS = 30.0
#: The timer answers FAILED this long before Lambda ends the invocation: room for its claim in
#: the requests table (`TABLE_TIMING`), one delivery (`TIMER_ANSWER_BUDGET_SECONDS`) and the
#: clean-up after it.
TIMER_MARGIN_SECONDS = 10.0
#: What the timer's answer may take to deliver (the sender's attempts may overrun it by 1 s).
TIMER_ANSWER_BUDGET_SECONDS = 4.0
#: The longest one AWS call may take, every attempt and backoff included: a call begun just
#: before the hand-off margin returns before the timer fires, so the timer only ever answers
#: for a call that hung past what its client allows (a bug), never for a slow one.
CALL_WORST_SECONDS = HANDOFF_MARGIN_SECONDS - TIMER_MARGIN_SECONDS
#: botocore's standard retry mode: the delay before retry i (0-based) is at most
#: min(2**i, 20) s for throttling, plus up to 5 s more when AWS sends x-amz-retry-after.
_BOTOCORE_MAX_BACKOFF = 20.0
_BOTOCORE_RETRY_AFTER_EXTRA = 5.0
#: Answer this long before CloudFormation would give up on the resource (capped at a quarter
#: of a short ServiceTimeout so that a 60-second timeout still leaves time to work).
ANSWER_MARGIN_SECONDS = 30.0


#: A duration: seconds to spend, or seconds left. Never a point in time.
Seconds = NewType("Seconds", float)
#: A point in time on one clock (`Clock.now`'s epoch seconds, or `time.monotonic`'s). Two
#: types, so that mypy refuses a moment where a budget is expected (a monotonic deadline read
#: as seconds once gave a clean-up a budget of hours).
Moment = NewType("Moment", float)


def seconds_left(until: Moment, now: Moment) -> Seconds:
    """The time from `now` to `until` (both on the same clock); never negative."""
    return Seconds(max(0.0, until - now))


def moment_after(now: Moment, seconds: Seconds) -> Moment:
    return Moment(now + seconds)


@dataclass(frozen=True)
class CallTiming:
    """How long one client's call may take: its botocore Config is made from these
    (clients.py), and `worst` is what every attempt timing out, with the longest backoffs
    between them, adds up to."""

    connect: float
    read: float
    #: Every attempt, the first included (botocore's `total_max_attempts`).
    attempts: int

    @property
    def worst(self) -> Seconds:
        backoffs = sum(
            min(2.0**retry, _BOTOCORE_MAX_BACKOFF) + _BOTOCORE_RETRY_AFTER_EXTRA
            for retry in range(self.attempts - 1)
        )
        return Seconds(self.attempts * (self.connect + self.read) + backoffs)


#: ACM, Route 53, STS, Lambda, CloudFormation: two attempts, so throttling is retried once
#: inside the call; throttling beyond that is waited out by the lifecycle across invocations.
CLIENT_TIMING = CallTiming(connect=2.0, read=5.0, attempts=2)
#: DescribeCertificate while waiting: one attempt (pacing.py adapts the interval instead).
POLLER_TIMING = CallTiming(connect=2.0, read=5.0, attempts=1)
#: The requests table: one attempt, so that the timer's claim of the answer fits its margin.
TABLE_TIMING = CallTiming(connect=1.0, read=2.0, attempts=1)


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def answer_margin(service_timeout: int) -> float:
    """How long before CloudFormation gives up the resource answers."""
    return min(ANSWER_MARGIN_SECONDS, service_timeout / 4)


def overall_deadline(started_at: float, service_timeout: int) -> float:
    return started_at + service_timeout - answer_margin(service_timeout)


@dataclass(frozen=True)
class Budget:
    """What one invocation may still spend: the smaller of the deadline and its own time."""

    deadline: Moment
    now: Moment
    remaining_in_invocation: Seconds

    @property
    def past_deadline(self) -> bool:
        return self.now >= self.deadline

    @property
    def must_hand_off(self) -> bool:
        return self.remaining_in_invocation < HANDOFF_MARGIN_SECONDS

    def sleep_for(self, wanted: float) -> Seconds:
        """Never sleep past the deadline or into the hand-off margin."""
        usable = min(
            seconds_left(self.deadline, self.now),
            self.remaining_in_invocation - HANDOFF_MARGIN_SECONDS,
        )
        return Seconds(max(0.0, min(wanted, usable)))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: `base * 2**attempt`, capped, then 50-100 % of it."""

    base: float
    cap: float

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling: float = min(self.cap, self.base * 2.0 ** min(attempt, 16))
        fraction: float = (rng or random.Random()).random()
        return ceiling * (0.5 + 0.5 * fraction)


#: DescribeCertificate while validation records appear (a few seconds after the request).
RECORDS_BACKOFF = Backoff(base=1.0, cap=5.0)
#: Any call AWS throttled beyond the client's own retries.
THROTTLED_BACKOFF = Backoff(base=2.0, cap=20.0)
#: DeleteCertificate while the certificate is still in use by a load balancer or distribution.
IN_USE_BACKOFF = Backoff(base=5.0, cap=60.0)
