"""Time: the resource's overall deadline, this invocation's budget, and backoff.

Pure apart from `SystemClock`: the lifecycle is handed a clock, so tests run hours of waiting
in milliseconds and the decisions below are tested without sleeping.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import NewType, Protocol

#: Hand the wait to a new invocation when less than this is left of the current one.
HANDOFF_MARGIN_SECONDS = 30.0
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
