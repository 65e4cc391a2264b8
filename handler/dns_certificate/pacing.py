"""The poll interval while ACM validates: adapted to throttling, not a fixed backoff.

Pure: observations in (when a poll was throttled, when one succeeded), the next interval out. No
clock, no AWS, no state of its own: the caller keeps the observations (`PollHistory`) and carries
them across hand-offs in the continuation, because each invocation builds new clients and
botocore's own adaptive state would be lost with them.

The rule is AIMD on the interval, replayed over the remembered observations in time order:
start at `floor`; each throttled poll multiplies the interval by `widen` (up to `ceiling`); each
successful poll after that multiplies it by `narrow` (down to `floor`). Observations older than
`memory` are forgotten, so a long quiet spell ends at `floor` even without polls. The interval
handed out is drawn from `[(1 - jitter) * learned, learned]`: never longer than learned (one
certificate alone is answered within `floor` of its issuance), never in step with other
certificates that learned the same interval.

Why these defaults: one certificate alone must be answered within 2 s of issuance, so `floor` is
1.5 s (plus one DescribeCertificate round trip). 50 certificates share ACM's 10 DescribeCertificate
requests/s, 5 s each at best. `ceiling` 6 s: at it, the jittered interval averages 5.4 s, so 50
certificates fit under the quota, and no certificate ever waits longer than 6 s for its next poll
(the old 10 s let a throttled one answer 10-30 s late). `widen` 2 and `narrow` 0.97 settle where
about one poll in 25 is throttled (2 ** p * 0.97 ** (1 - p) = 1 at p = 0.04); `jitter` 0.2
keeps pollers out of step without shortening the interval much (a shorter mean costs quota).
Without coordination between certificates (each is its own Lambda invocation) 50 pollers at a
5 s average cannot keep every one-second window at or under 10 calls: their phases are
independent, and some windows get more (see benchmarks/README.md).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Two invocations' clocks may differ this much (as continuation.CLOCK_SKEW_SECONDS).
CLOCK_SKEW_SECONDS = 60.0

#: Poll outcomes.
THROTTLED = "throttled"
SUCCEEDED = "succeeded"


@dataclass(frozen=True)
class PollPacing:
    floor: float = 1.5
    ceiling: float = 6.0
    widen: float = 2.0
    narrow: float = 0.97
    memory: float = 300.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise ValueError("need 0 < floor <= ceiling")
        if self.widen < 1 or not 0 < self.narrow <= 1:
            raise ValueError("need widen >= 1 and 0 < narrow <= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("need 0 <= jitter < 1")


POLL_PACING = PollPacing()


def learned_interval(
    throttles: Iterable[float],
    successes: Iterable[float],
    now: float,
    pacing: PollPacing = POLL_PACING,
) -> float:
    """The interval the observations call for, before jitter (seconds).

    `throttles` and `successes` are the moments (any one clock, e.g. epoch seconds) at which a
    poll was throttled or answered. Ties count the throttle first.
    """
    since = now - pacing.memory
    events = sorted(
        [(at, 0) for at in throttles if since <= at <= now]
        + [(at, 1) for at in successes if since <= at <= now]
    )
    interval = pacing.floor
    for _, kind in events:
        if kind == 0:
            interval = min(pacing.ceiling, interval * pacing.widen)
        else:
            interval = max(pacing.floor, interval * pacing.narrow)
    return interval


def next_poll_interval(
    throttles: Iterable[float],
    successes: Iterable[float],
    now: float,
    pacing: PollPacing = POLL_PACING,
    rng: random.Random | None = None,
) -> float:
    """The wait before the next poll: the learned interval, jittered downwards."""
    learned = learned_interval(throttles, successes, now, pacing)
    fraction = (rng or random.Random()).random()
    return learned * (1.0 - pacing.jitter * fraction)


@dataclass(frozen=True)
class PollHistory:
    """The observations worth keeping: within `memory` of the latest, at most `limit` of each
    kind, rounded to 0.1 s. Small enough to travel in the continuation as two lists."""

    throttles: tuple[float, ...] = ()
    successes: tuple[float, ...] = ()

    def observed(
        self, outcome: str, at: float, pacing: PollPacing = POLL_PACING, limit: int = 64
    ) -> PollHistory:
        if outcome not in (THROTTLED, SUCCEEDED):
            raise ValueError(f"unknown outcome {outcome!r}")
        moment = round(at, 1)
        throttles = (*self.throttles, moment) if outcome == THROTTLED else self.throttles
        successes = (*self.successes, moment) if outcome == SUCCEEDED else self.successes
        # Moments later than now (beyond two invocations' clock skew) come only from a forged
        # continuation: kept, they would take the bounded places of real observations.
        since, until = at - pacing.memory, at + CLOCK_SKEW_SECONDS
        return PollHistory(
            _recent(throttles, since, until, limit), _recent(successes, since, until, limit)
        )

    def next_interval(
        self, now: float, pacing: PollPacing = POLL_PACING, rng: random.Random | None = None
    ) -> float:
        return next_poll_interval(self.throttles, self.successes, now, pacing, rng)

    def as_json(self) -> dict[str, list[float]]:
        return {"throttles": list(self.throttles), "successes": list(self.successes)}

    @classmethod
    def from_json(cls, data: object, limit: int = 64) -> PollHistory:
        """Lenient: anything that is not two lists of numbers is an empty history (the
        continuation is checked elsewhere; a bad history only costs a faster first poll)."""
        if not isinstance(data, dict):
            return cls()
        return cls(_numbers(data.get("throttles"), limit), _numbers(data.get("successes"), limit))


def _recent(moments: Sequence[float], since: float, until: float, limit: int) -> tuple[float, ...]:
    kept = sorted(at for at in moments if since <= at <= until)
    return tuple(kept[-limit:])


def _numbers(value: object, limit: int) -> tuple[float, ...]:
    if not isinstance(value, list):
        return ()
    numbers = [
        float(item)
        for item in value
        if isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item)
    ]
    return tuple(sorted(numbers)[-limit:])
