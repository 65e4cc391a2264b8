"""The status board's decisions (board.py): when a waiting certificate asks ACM itself.

Pure `judge` cases, then `BoardWatch` on a FakeClock with a board that stands for DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NoReturn

import pytest

from dns_certificate import board as board_module
from dns_certificate.board import (
    BROKEN_FOR,
    CLAIM_HOLD,
    READ_EVERY,
    SAFETY_INTERVAL,
    STALE_AFTER,
    UNSEEN_LIMIT,
    BoardUnavailable,
    BoardWatch,
    Snapshot,
    judge,
)
from dns_certificate.continuation import Continuation
from dns_certificate.deadline import HANDOFF_MARGIN_SECONDS
from dns_certificate.pacing import POLL_PACING
from dns_certificate.waiting import HandedOff, Waiter
from tests.support.clock import FakeClock

START = 1_000_000.0
ARN = "arn:aws:acm:us-east-1:123456789012:certificate/waiting"
OTHER = "arn:aws:acm:us-east-1:123456789012:certificate/other"
PACED = 3.0


def listing(*arns: str, at: float) -> Snapshot:
    return Snapshot.of(arns, at)


# ---- judge ------------------------------------------------------------------------------------


def test_without_a_board_the_certificate_polls_at_its_paced_interval() -> None:
    verdict = judge(None, ARN, START + 1, seen_at=None, started=START, paced=PACED)
    assert verdict.describe_at == START + PACED


def test_a_board_claimed_but_never_written_is_not_used() -> None:
    verdict = judge(Snapshot(None), ARN, START + 1, seen_at=None, started=START, paced=PACED)
    assert verdict.describe_at == START + PACED


def test_a_board_another_waiter_is_refreshing_is_waited_for_until_its_claim_lapses() -> None:
    claimed = START + 0.5
    board = Snapshot(None, claimed_at=claimed)
    verdict = judge(board, ARN, START + 1, seen_at=None, started=START, paced=1.0)
    assert verdict.describe_at == claimed + CLAIM_HOLD
    assert verdict.look_again


def test_an_abandoned_refresh_is_not_waited_for() -> None:
    board = Snapshot(None, claimed_at=START - CLAIM_HOLD - 1)
    verdict = judge(board, ARN, START + 1, seen_at=None, started=START, paced=1.0)
    assert verdict.describe_at == START + 1.0


def test_a_stale_board_is_not_used_even_if_it_lists_the_certificate() -> None:
    now = START + 1
    board = listing(ARN, at=now - STALE_AFTER - 0.1)
    verdict = judge(board, ARN, now, seen_at=START - 10, started=START, paced=PACED)
    assert verdict.describe_at == START + PACED


def test_an_overflowed_board_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_module, "MAX_LISTED", 1)
    board = listing(ARN, OTHER, at=START)
    assert board.overflowed and not board.lists(ARN)
    verdict = judge(board, ARN, START + 0.5, seen_at=START - 5, started=START, paced=PACED)
    assert verdict.describe_at == START + PACED


def test_a_listed_certificate_waits_until_the_safety_poll_and_remembers_its_first_sighting() -> (
    None
):
    first = judge(
        listing(ARN, at=START + 0.5), ARN, START + 1, seen_at=None, started=START, paced=1
    )
    later = judge(
        listing(ARN, at=START + 2), ARN, START + 2.5, seen_at=first.seen_at, started=START, paced=1
    )
    assert first.describe_at == later.describe_at == START + SAFETY_INTERVAL
    assert first.seen_at == later.seen_at == START + 0.5


def test_absence_before_the_certificate_was_ever_listed_is_not_trusted() -> None:
    # ListCertificates is eventually consistent: a new certificate may be missing for seconds.
    board = listing(OTHER, at=START + 1)
    verdict = judge(board, ARN, START + 1.2, seen_at=None, started=START, paced=PACED)
    assert verdict.describe_at == START + PACED
    assert verdict.seen_at is None


def test_absence_from_a_refresh_after_the_sighting_asks_acm_at_once() -> None:
    now = START + 4
    board = listing(OTHER, at=START + 3.5)
    verdict = judge(board, ARN, now, seen_at=START + 2, started=START, paced=PACED)
    assert verdict.describe_at == now


def test_absence_from_a_refresh_no_newer_than_the_sighting_is_not_trusted() -> None:
    board = listing(OTHER, at=START + 2)
    verdict = judge(board, ARN, START + 2.5, seen_at=START + 2, started=START, paced=PACED)
    assert verdict.describe_at == START + PACED


# ---- BoardWatch -------------------------------------------------------------------------------


class FakeBoard:
    """A board refreshed at every look: lists `pending` (a function of the moment)."""

    def __init__(
        self,
        pending: Sequence[str] | Callable[[float], Sequence[str]] = (),
        broken: bool = False,
    ) -> None:
        self.pending = pending
        self.broken = broken
        self.looks: list[float] = []

    def current(self, now: float, *, may_refresh: bool = True) -> Snapshot | None:
        self.looks.append(now)
        assert len(self.looks) < 10_000, "the watch spins on a clock that does not move"
        if self.broken:
            raise BoardUnavailable("ProvisionedThroughputExceededException")
        pending = self.pending(now) if callable(self.pending) else self.pending
        return Snapshot.of(pending, now)


class Invocation:
    def __init__(self, clock: FakeClock, seconds: float = 900.0) -> None:
        self.clock = clock
        self.ends_at = clock.now() + seconds

    def remaining(self) -> float:
        return self.ends_at - self.clock.now()

    def hand_off(self, state: Continuation) -> NoReturn:
        raise HandedOff()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def waiter(clock: FakeClock) -> Waiter:
    invocation = Invocation(clock)
    return Waiter(clock, invocation.remaining, invocation.hand_off)


def state() -> Continuation:
    return Continuation(action="create", started_at=START, deadline=START + 3600)


def watch_on(fake: FakeBoard) -> BoardWatch:
    return BoardWatch(fake, ARN)


def test_watch_returns_within_a_read_of_the_certificate_leaving_the_board(
    clock: FakeClock,
) -> None:
    issued_at = START + 12.3
    fake = FakeBoard(lambda now: [ARN, OTHER] if now < issued_at else [OTHER])
    watch_on(fake).wait(waiter(clock), state(), "not issued")
    assert issued_at <= clock.now() <= issued_at + READ_EVERY
    assert len(fake.looks) >= 12  # it kept reading the board meanwhile, not ACM


def test_watch_on_a_board_that_lies_returns_at_the_safety_poll(clock: FakeClock) -> None:
    fake = FakeBoard([ARN])
    watch_on(fake).wait(waiter(clock), state(), "not issued")
    assert clock.now() == pytest.approx(START + SAFETY_INTERVAL)


def test_watch_polls_alone_at_the_paced_interval_while_the_board_never_listed_it(
    clock: FakeClock,
) -> None:
    watch_on(FakeBoard([OTHER])).wait(waiter(clock), state(), "not issued")
    assert clock.now() - START <= POLL_PACING.floor


def test_watch_waits_for_a_refresh_another_waiter_holds_instead_of_asking_acm(
    clock: FakeClock,
) -> None:
    """Many certificates start waiting at once while the board's first refresh is under way
    (slow under load): they wait for it rather than each asking DescribeCertificate alone."""
    written_at, issued_at = START + 1.8, START + 9.0

    class Refreshing(FakeBoard):
        def current(self, now: float, *, may_refresh: bool = True) -> Snapshot | None:
            self.looks.append(now)
            if now < written_at:
                return Snapshot(None, claimed_at=START)  # claimed by another, not written yet
            return Snapshot.of([ARN] if now < issued_at else [OTHER], now)

    fake = Refreshing()
    watch_on(fake).wait(waiter(clock), state(), "not issued")
    assert issued_at <= clock.now() <= issued_at + READ_EVERY  # one wait, no poll before


def test_watch_trusts_an_absence_once_then_needs_a_new_sighting(clock: FakeClock) -> None:
    listed_until = START + 5
    fake = FakeBoard(lambda now: [ARN] if now < listed_until else [])
    watch = watch_on(fake)
    watch.wait(waiter(clock), state(), "not issued")
    assert listed_until <= clock.now() <= listed_until + READ_EVERY
    # DescribeCertificate said pending after all: the next wait does not trust the board's
    # absence again at once; it polls alone until the board lists the certificate again.
    before = clock.now()
    watch.wait(waiter(clock), state(), "not issued")
    assert clock.now() - before >= POLL_PACING.floor * (1 - POLL_PACING.jitter)


def test_watch_on_a_broken_board_polls_alone_and_leaves_the_board_alone_for_a_while(
    clock: FakeClock,
) -> None:
    fake = FakeBoard(broken=True)
    watch = watch_on(fake)
    watch.wait(waiter(clock), state(), "not issued")
    assert clock.now() - START <= POLL_PACING.floor
    watch.wait(waiter(clock), state(), "not issued")
    assert len(fake.looks) == 1
    clock.advance(BROKEN_FOR)
    watch.wait(waiter(clock), state(), "not issued")
    assert len(fake.looks) == 2


def test_watch_stops_looking_at_a_board_that_never_lists_the_certificate(
    clock: FakeClock,
) -> None:
    fake = FakeBoard([OTHER])
    watch = watch_on(fake)
    for _ in range(UNSEEN_LIMIT + 3):
        watch.wait(waiter(clock), state(), "not issued")
    assert len(set(fake.looks)) == UNSEEN_LIMIT  # refreshes (a board read twice is one)


def test_watch_polls_when_the_budget_allows_no_sleep(clock: FakeClock) -> None:
    """At exactly the hand-off margin the budget sleeps 0 s without handing off: the watch
    must return (the caller polls, and its calls move time on), never spin on a still clock."""
    fake = FakeBoard([ARN])
    stuck = Waiter(clock, lambda: HANDOFF_MARGIN_SECONDS, Invocation(clock).hand_off)
    watch = watch_on(fake)
    watch.wait(stuck, state(), "not issued")
    assert len(fake.looks) == 1


def test_a_held_refresh_is_not_waited_for_past_the_safety_poll() -> None:
    """The claim wait ends at `SAFETY_INTERVAL` like any other wait on the board."""
    now = START + SAFETY_INTERVAL - 1
    board = Snapshot(None, claimed_at=now)
    verdict = judge(board, ARN, now, seen_at=None, started=START, paced=PACED)
    assert verdict.describe_at == START + SAFETY_INTERVAL


def test_watch_on_refreshes_claimed_and_failing_one_after_another_asks_at_the_safety_poll(
    clock: FakeClock,
) -> None:
    """Other waiters claim the refresh in turn and each fails (ListCertificates throttled or
    denied; a claim is held until it lapses): at every read a fresh claim is held. The
    certificate must still get its own DescribeCertificate every `SAFETY_INTERVAL`."""

    class ClaimedByOthers(FakeBoard):
        def current(self, now: float, *, may_refresh: bool = True) -> Snapshot | None:
            self.looks.append(now)
            return Snapshot(None, claimed_at=now)

    watch_on(ClaimedByOthers()).wait(waiter(clock), state(), "not issued")
    assert clock.now() <= START + SAFETY_INTERVAL
