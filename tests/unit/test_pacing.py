"""The adaptive poll interval (pacing.py): pure, simulated time only, no timed assertions."""

from __future__ import annotations

import heapq
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.pacing import (
    POLL_PACING,
    SUCCEEDED,
    THROTTLED,
    PollHistory,
    PollPacing,
    learned_interval,
    next_poll_interval,
)

from .strategies import FAST

NOW = 1_800_000_000.0
PACING = PollPacing(floor=1.5, ceiling=10.0, widen=2.0, narrow=0.5, memory=300.0, jitter=0.3)
offsets = st.lists(st.floats(min_value=0, max_value=600, allow_nan=False), max_size=40)


class FixedRandom(random.Random):
    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction

    def random(self) -> float:
        return self.fraction


# ---- learned_interval ------------------------------------------------------------------------


def test_learned_interval_when_nothing_observed_is_the_floor() -> None:
    assert learned_interval([], [], NOW, PACING) == 1.5


def test_learned_interval_when_only_successes_stays_at_the_floor() -> None:
    assert learned_interval([], [NOW - 3, NOW - 2, NOW - 1], NOW, PACING) == 1.5


def test_learned_interval_when_throttled_once_widens() -> None:
    assert learned_interval([NOW - 1], [], NOW, PACING) == 3.0


def test_learned_interval_when_throttled_repeatedly_stops_at_the_ceiling() -> None:
    assert learned_interval([NOW - i for i in range(10)], [], NOW, PACING) == 10.0


def test_learned_interval_when_throttling_stops_narrows_back_with_each_success() -> None:
    throttles = [NOW - 30, NOW - 29, NOW - 28]  # 1.5 -> 3 -> 6 -> 10 (ceiling)
    assert learned_interval(throttles, [NOW - 20], NOW, PACING) == 5.0
    assert learned_interval(throttles, [NOW - 20, NOW - 10], NOW, PACING) == 2.5
    assert learned_interval(throttles, [NOW - 20, NOW - 10, NOW - 5], NOW, PACING) == 1.5


def test_learned_interval_when_successes_came_before_the_throttle_does_not_narrow() -> None:
    assert learned_interval([NOW - 1], [NOW - 5, NOW - 4, NOW - 3], NOW, PACING) == 3.0


def test_learned_interval_when_observations_are_older_than_memory_forgets_them() -> None:
    assert learned_interval([NOW - 301, NOW - 302], [], NOW, PACING) == 1.5


def test_learned_interval_ignores_observations_in_the_future() -> None:
    assert learned_interval([NOW + 5], [], NOW, PACING) == 1.5


@FAST
@given(throttles=offsets, successes=offsets)
def test_learned_interval_stays_within_floor_and_ceiling(
    throttles: list[float], successes: list[float]
) -> None:
    interval = learned_interval(
        [NOW - t for t in throttles], [NOW - s for s in successes], NOW, POLL_PACING
    )
    assert POLL_PACING.floor <= interval <= POLL_PACING.ceiling


@FAST
@given(throttles=offsets, successes=offsets)
def test_learned_interval_does_not_depend_on_the_order_given(
    throttles: list[float], successes: list[float]
) -> None:
    forward = learned_interval(throttles, successes, 600.0, PACING)
    backward = learned_interval(throttles[::-1], successes[::-1], 600.0, PACING)
    assert forward == backward


# ---- next_poll_interval (jitter) -------------------------------------------------------------


@pytest.mark.parametrize(("fraction", "expected"), [(0.0, 3.0), (0.5, 2.55), (0.999999, 2.1)])
def test_next_poll_interval_jitters_downwards_only(fraction: float, expected: float) -> None:
    interval = next_poll_interval([NOW - 1], [], NOW, PACING, FixedRandom(fraction))
    assert interval == pytest.approx(expected, abs=1e-5)


@FAST
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_next_poll_interval_when_alone_never_exceeds_the_floor(seed: int) -> None:
    interval = next_poll_interval([], [NOW - 1], NOW, POLL_PACING, random.Random(seed))
    assert POLL_PACING.floor * (1 - POLL_PACING.jitter) <= interval <= POLL_PACING.floor


def test_next_poll_interval_differs_between_pollers_that_learned_the_same() -> None:
    intervals = {
        round(next_poll_interval([NOW - 1], [], NOW, PACING, random.Random(seed)), 6)
        for seed in range(20)
    }
    assert len(intervals) > 10


@pytest.mark.parametrize(
    "changes",
    [{"floor": 0}, {"floor": 5, "ceiling": 4}, {"widen": 0.5}, {"narrow": 0}, {"jitter": 1}],
)
def test_poll_pacing_when_inconsistent_is_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PollPacing(**changes)


# ---- PollHistory -----------------------------------------------------------------------------


def test_poll_history_keeps_what_it_observed() -> None:
    history = PollHistory().observed(THROTTLED, NOW - 2).observed(SUCCEEDED, NOW - 1)
    assert history.throttles == (round(NOW - 2, 1),)
    assert history.successes == (round(NOW - 1, 1),)
    assert history.next_interval(NOW, POLL_PACING, FixedRandom(0.0)) == pytest.approx(
        POLL_PACING.floor * POLL_PACING.widen * POLL_PACING.narrow
    )


def test_poll_history_forgets_what_memory_does_not_keep() -> None:
    history = PollHistory().observed(THROTTLED, NOW - 400).observed(SUCCEEDED, NOW)
    assert history.throttles == ()


def test_poll_history_keeps_at_most_limit_of_each() -> None:
    history = PollHistory()
    for i in range(100):
        history = history.observed(SUCCEEDED, NOW + i, limit=8)
    assert len(history.successes) == 8
    assert history.successes[-1] == NOW + 99


def test_poll_history_when_outcome_unknown_is_refused() -> None:
    with pytest.raises(ValueError):
        PollHistory().observed("maybe", NOW)


def test_poll_history_round_trips_through_json() -> None:
    history = PollHistory().observed(THROTTLED, NOW - 2).observed(SUCCEEDED, NOW - 1)
    assert PollHistory.from_json(history.as_json()) == history


@pytest.mark.parametrize(
    "data",
    [None, "x", [], {"throttles": "x"}, {"throttles": [True, "1", None]}, {"successes": {}}],
)
def test_poll_history_from_json_when_malformed_is_empty(data: object) -> None:
    assert PollHistory.from_json(data) == PollHistory()


def test_poll_history_from_json_drops_nan() -> None:
    assert PollHistory.from_json({"throttles": [float("nan"), 1.0]}).throttles == (1.0,)


# ---- many pollers sharing one quota (simulated time) -----------------------------------------


def _simulate(pollers: int, seed: int) -> tuple[list[float], int, int]:
    """`pollers` certificates polling one 10/s token bucket (ACM's DescribeCertificate quota),
    each issued 60-600 s after it starts. Returns (answer latencies, polls, throttled polls)."""
    rng = random.Random(seed)
    rate = burst = 10.0
    tokens, updated = burst, 0.0
    start = [rng.uniform(0, 5) for _ in range(pollers)]
    issued = [s + rng.uniform(60, 600) for s in start]
    history = [PollHistory() for _ in range(pollers)]
    queue = [(start[i], i) for i in range(pollers)]
    heapq.heapify(queue)
    latencies: list[float] = []
    polls = throttled = 0
    while queue:
        now, i = heapq.heappop(queue)
        polls += 1
        tokens = min(burst, tokens + (now - updated) * rate)
        updated = now
        if tokens >= 1:
            tokens -= 1
            if now >= issued[i]:
                latencies.append(now - issued[i])
                continue
            history[i] = history[i].observed(SUCCEEDED, now)
        else:
            throttled += 1
            history[i] = history[i].observed(THROTTLED, now)
        heapq.heappush(queue, (now + history[i].next_interval(now, rng=rng), i))
    return latencies, polls, throttled


def test_pacing_when_alone_answers_within_the_floor_and_is_never_throttled() -> None:
    for seed in range(5):
        latencies, _, throttled = _simulate(1, seed)
        assert throttled == 0
        assert max(latencies) <= POLL_PACING.floor


def test_pacing_when_fifty_share_the_quota_keeps_throttling_rare() -> None:
    latencies, polls, throttled = _simulate(50, seed=1)
    assert len(latencies) == 50  # every certificate answered
    assert throttled / polls < 0.10
    assert sorted(latencies)[25] < POLL_PACING.ceiling / 2  # the median is well inside
