"""Time: the overall deadline, one invocation's budget, and backoff."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.deadline import (
    ANSWER_MARGIN_SECONDS,
    HANDOFF_MARGIN_SECONDS,
    RECORDS_BACKOFF,
    Backoff,
    Budget,
    Moment,
    Seconds,
    moment_after,
    overall_deadline,
    seconds_left,
)
from dns_certificate.properties import MAX_SERVICE_TIMEOUT
from dns_certificate.protocol import TimeoutCleanup

from .strategies import FAST


def budget_of(*, deadline: float, now: float, remaining_in_invocation: float) -> Budget:
    return Budget(Moment(deadline), Moment(now), Seconds(remaining_in_invocation))


seconds = st.floats(min_value=0, max_value=10_000, allow_nan=False, allow_infinity=False)
moments = st.floats(min_value=1e9, max_value=2e9, allow_nan=False, allow_infinity=False)


class FixedRandom(random.Random):
    """A jitter source that always draws the same fraction."""

    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction

    def random(self) -> float:
        return self.fraction


# ---- Budget.sleep_for -------------------------------------------------------------------------


@FAST
@given(moments, st.floats(-100, 4000), st.floats(0, 900), seconds)
def test_budget_sleep_for_when_any_budget_never_passes_deadline_or_hand_off_margin(
    now: float, to_deadline: float, remaining: float, wanted: float
) -> None:
    budget = budget_of(deadline=now + to_deadline, now=now, remaining_in_invocation=remaining)

    slept = budget.sleep_for(wanted)

    assert 0.0 <= slept <= wanted
    assert slept <= max(0.0, budget.deadline - now)
    assert slept <= max(0.0, remaining - HANDOFF_MARGIN_SECONDS)


def test_budget_sleep_for_when_time_is_plentiful_sleeps_what_was_wanted() -> None:
    budget = budget_of(deadline=1000.0, now=0.0, remaining_in_invocation=600.0)

    assert budget.sleep_for(5.0) == 5.0


def test_budget_sleep_for_when_deadline_is_near_sleeps_until_it_only() -> None:
    budget = budget_of(deadline=102.0, now=100.0, remaining_in_invocation=600.0)

    assert budget.sleep_for(5.0) == pytest.approx(2.0)


def test_budget_sleep_for_when_invocation_is_ending_stops_at_the_hand_off_margin() -> None:
    budget = budget_of(deadline=1000.0, now=0.0, remaining_in_invocation=HANDOFF_MARGIN_SECONDS + 1)

    assert budget.sleep_for(5.0) == pytest.approx(1.0)


def test_budget_sleep_for_when_past_deadline_does_not_sleep() -> None:
    budget = budget_of(deadline=100.0, now=150.0, remaining_in_invocation=600.0)

    assert budget.sleep_for(5.0) == 0.0


# ---- hand-off and deadline thresholds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("remaining", "hand_off"),
    [(0.0, True), (HANDOFF_MARGIN_SECONDS - 0.001, True), (HANDOFF_MARGIN_SECONDS, False),
     (HANDOFF_MARGIN_SECONDS + 1, False), (900.0, False)],
)  # fmt: skip
def test_budget_must_hand_off_when_less_than_30_seconds_remain_is_true(
    remaining: float, hand_off: bool
) -> None:
    assert HANDOFF_MARGIN_SECONDS == 30.0
    budget = budget_of(deadline=1e12, now=0.0, remaining_in_invocation=remaining)

    assert budget.must_hand_off is hand_off


@pytest.mark.parametrize(("now", "past"), [(99.0, False), (100.0, True), (101.0, True)])
def test_budget_past_deadline_when_now_reaches_deadline_is_true(now: float, past: bool) -> None:
    assert budget_of(deadline=100.0, now=now, remaining_in_invocation=600.0).past_deadline is past


# ---- overall_deadline -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_timeout", "deadline_after"),
    [(3600, 3600 - ANSWER_MARGIN_SECONDS), (300, 300 - ANSWER_MARGIN_SECONDS), (120, 90.0),
     (60, 45.0), (1, 0.75)],
)  # fmt: skip
def test_overall_deadline_when_service_timeout_given_keeps_margin_of_30s_or_a_quarter(
    service_timeout: int, deadline_after: float
) -> None:
    assert overall_deadline(1000.0, service_timeout) == pytest.approx(1000.0 + deadline_after)


@FAST
@given(moments, st.integers(min_value=1, max_value=MAX_SERVICE_TIMEOUT))
def test_overall_deadline_when_any_timeout_falls_before_cloudformation_gives_up(
    started_at: float, service_timeout: int
) -> None:
    deadline = overall_deadline(started_at, service_timeout)

    assert started_at < deadline < started_at + service_timeout
    assert started_at + service_timeout - deadline <= ANSWER_MARGIN_SECONDS + 1e-6
    assert deadline - started_at >= service_timeout * 0.75 - 1e-6


# ---- Backoff ----------------------------------------------------------------------------------


@FAST
@given(
    st.floats(min_value=0.01, max_value=10),
    st.floats(min_value=0.01, max_value=120),
    st.integers(min_value=0, max_value=200),
    st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_delay_when_any_attempt_is_half_to_all_of_the_capped_ceiling(
    base: float, cap: float, attempt: int, fraction: float
) -> None:
    ceiling = min(cap, base * 2.0 ** min(attempt, 16))

    delay = Backoff(base=base, cap=cap).delay(attempt, FixedRandom(fraction))

    assert ceiling / 2 - 1e-9 <= delay <= ceiling + 1e-9
    assert delay <= cap + 1e-9


@FAST
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=2**32))
def test_backoff_delay_when_ceiling_reached_stays_between_half_cap_and_cap(
    extra: int, seed: int
) -> None:
    backoff = Backoff(base=1.0, cap=5.0)  # 1, 2, 4, then the cap of 5 from attempt 3 on

    delay = backoff.delay(3 + extra, random.Random(seed))

    assert backoff.cap / 2 <= delay <= backoff.cap


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.999])
def test_backoff_delay_when_attempts_increase_grows_until_the_cap(fraction: float) -> None:
    backoff = Backoff(base=0.5, cap=60.0)

    delays = [backoff.delay(attempt, FixedRandom(fraction)) for attempt in range(12)]

    assert all(later >= earlier for earlier, later in itertools.pairwise(delays))
    assert delays[1] > delays[0]
    assert delays[-1] == pytest.approx(60.0 * (0.5 + 0.5 * fraction))


def test_backoff_delay_when_attempt_is_huge_does_not_overflow() -> None:
    assert Backoff(base=1.0, cap=5.0).delay(10**9, FixedRandom(0.0)) == 2.5


def test_backoff_delay_when_no_rng_given_still_jitters_within_bounds() -> None:
    delays = {Backoff(base=1.0, cap=5.0).delay(5) for _ in range(50)}

    assert all(2.5 <= delay <= 5.0 for delay in delays)
    assert len(delays) > 1


def test_records_backoff_when_records_appear_polls_within_seconds() -> None:
    # The records appear seconds after the request: a fast start. (The wait for ISSUED is
    # paced by pacing.py, tested there.)
    assert RECORDS_BACKOFF.cap <= 5.0


def test_seconds_left_when_the_moment_has_passed_is_zero() -> None:
    assert seconds_left(Moment(100.0), Moment(150.0)) == 0.0
    assert seconds_left(Moment(150.0), Moment(100.0)) == 50.0
    assert moment_after(Moment(100.0), Seconds(5.0)) == 105.0


def test_a_moment_is_refused_where_seconds_are_expected() -> None:
    """Checked by mypy, not at run time (`make lint`): each `type: ignore` below must be
    needed, or mypy (strict: warn_unused_ignores) fails. Were the two types ever merged, or a
    budget typed as a plain float again, mypy would fail here (issue 19, defect 3)."""
    taken: list[float] = []
    cleanup: TimeoutCleanup = taken.append
    cleanup(Moment(1.0))  # type: ignore[arg-type]
    cleanup(1.0)  # type: ignore[arg-type]
    cleanup(seconds_left(Moment(3.0), Moment(1.0)))
    assert taken == [1.0, 1.0, 2.0]
