"""The status board in the requests table (moto DynamoDB): certificates waiting in one account
and region share one ListCertificates poll, and only their own DescribeCertificate answers.

ACM stands in as a small fake on the FakeClock (which certificates are pending when); the
board item, its conditional claim and its refresh go to moto's table as template.yaml makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NoReturn

import boto3
import pytest

import app
from dns_certificate.board import (
    CLAIM_HOLD,
    READ_EVERY,
    REFRESH_AFTER,
    SAFETY_INTERVAL,
    BoardWatch,
    StatusBoard,
    digest,
)
from dns_certificate.context import Runtime
from dns_certificate.continuation import Continuation
from dns_certificate.requests import NoRequestsTable
from dns_certificate.waiting import HandedOff, Waiter
from tests.integration.harness import REGION, Harness
from tests.support.clock import FakeClock

START = 1_700_000_000.0
A = "arn:aws:acm:us-east-1:123456789012:certificate/a"
B = "arn:aws:acm:us-east-1:123456789012:certificate/b"


@dataclass
class FakeAcm:
    """Each certificate is PENDING_VALIDATION until its issuance moment; the list may lie."""

    clock: FakeClock
    issued_at: dict[str, float]
    #: Certificates ListCertificates shows as pending whatever their status (a lying board).
    always_listed: frozenset[str] = frozenset()
    lists: int = 0
    describes: dict[str, int] = field(default_factory=dict)

    def list_pending(self) -> list[str]:
        self.lists += 1
        now = self.clock.now()
        return [arn for arn, at in self.issued_at.items() if now < at or arn in self.always_listed]

    def describe(self, arn: str) -> str:
        self.describes[arn] = self.describes.get(arn, 0) + 1
        return "ISSUED" if self.clock.now() >= self.issued_at[arn] else "PENDING_VALIDATION"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def dynamodb(requests_table: str) -> object:
    return boto3.client("dynamodb", region_name=REGION)


def board(requests_table: str, dynamodb: object, acm: FakeAcm) -> StatusBoard:
    return StatusBoard(requests_table, dynamodb, REGION, acm.list_pending)  # type: ignore[arg-type]


class Invocation:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.ends_at = clock.now() + 900

    def remaining(self) -> float:
        return self.ends_at - self.clock.now()

    def hand_off(self, state: Continuation) -> NoReturn:
        raise HandedOff()


def wait_for_issuance(clock: FakeClock, acm: FakeAcm, watch: BoardWatch, arn: str) -> None:
    """The issuance wait as Converger.converge runs it: describe, then wait on the board."""
    invocation = Invocation(clock)
    waiter = Waiter(clock, invocation.remaining, invocation.hand_off)
    # A deadline of 5 minutes: a wait that never ends fails the test quickly.
    state = Continuation(action="create", started_at=START, deadline=START + 300)
    while acm.describe(arn) != "ISSUED":
        watch.wait(waiter, state, "not issued")


def test_two_waiters_share_one_refresh_of_the_board(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    acm = FakeAcm(clock, {A: START + 100, B: START + 100})
    first, second = board(requests_table, dynamodb, acm), board(requests_table, dynamodb, acm)

    seen_by_first = first.current(clock.now())
    clock.advance(REFRESH_AFTER / 2)
    seen_by_second = second.current(clock.now())

    assert acm.lists == 1
    assert seen_by_first is not None and seen_by_second is not None
    assert seen_by_second.lists(A) and seen_by_second.lists(B)
    assert seen_by_second.refreshed_at == seen_by_first.refreshed_at

    clock.advance(REFRESH_AFTER)
    second.current(clock.now())
    clock.advance(0.01)
    first.current(clock.now())
    assert acm.lists == 2


def test_a_claimed_refresh_is_not_claimed_twice_until_it_is_abandoned(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    acm = FakeAcm(clock, {A: START + 100})
    first, second = board(requests_table, dynamodb, acm), board(requests_table, dynamodb, acm)
    assert first.claim(clock.now())
    clock.advance(0.1)
    assert not second.claim(clock.now())
    clock.advance(CLAIM_HOLD)  # the first claimant died before writing the board
    assert second.claim(clock.now())


def test_a_certificate_issued_is_answered_after_one_describe_once_it_leaves_the_board(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    issued_at = START + 20.4
    acm = FakeAcm(clock, {A: issued_at, B: START + 500})
    watch = BoardWatch(board(requests_table, dynamodb, acm), A)
    wait_for_issuance(clock, acm, watch, A)

    assert clock.now() - issued_at <= READ_EVERY + REFRESH_AFTER
    # The first poll, the one that found it issued, and nothing in between (the board listed it
    # from its first refresh on: 20 s is under the safety interval).
    assert acm.describes[A] == 2
    assert acm.lists <= 20.4 / (REFRESH_AFTER * 0.9) + 2


def test_a_board_that_lists_a_certificate_forever_still_lets_it_finish(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    issued_at = START + 40
    acm = FakeAcm(clock, {A: issued_at}, always_listed=frozenset({A}))
    watch = BoardWatch(board(requests_table, dynamodb, acm), A)
    wait_for_issuance(clock, acm, watch, A)

    assert issued_at <= clock.now() <= issued_at + SAFETY_INTERVAL
    assert acm.describes[A] == 3  # at 0, at the safety poll (30 s), at the next (60 s)


def test_a_board_that_cannot_be_written_leaves_the_certificate_polling_alone(
    dynamodb: object, clock: FakeClock
) -> None:
    acm = FakeAcm(clock, {A: START + 10})
    missing = StatusBoard("no-such-table", dynamodb, REGION, acm.list_pending)  # type: ignore[arg-type]
    wait_for_issuance(clock, acm, BoardWatch(missing, A), A)

    assert acm.lists == 0
    assert START + 10 <= clock.now() <= START + 10 + 1.5  # the paced interval's floor
    assert acm.describes[A] >= 5  # polled on its own, as without a board


# ---- wired into the issuance wait ----------------------------------------------------------


def _pending_lists(harness: Harness) -> int:
    return sum(
        1
        for call in harness.calls.of("acm", "ListCertificates")
        if call.params.get("CertificateStatuses") == ["PENDING_VALIDATION"]
    )


def test_create_with_the_requests_table_waits_on_the_board(
    harness: Harness, requests_table: str, dynamodb: object
) -> None:
    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS"
    assert _pending_lists(harness) >= 1
    item = dynamodb.get_item(  # type: ignore[attr-defined]
        TableName=requests_table, Key={"id": {"S": f"board#{REGION}"}}
    ).get("Item")
    assert item is not None and "refreshed_at" in item


def test_create_without_the_requests_table_polls_as_before(
    harness: Harness, runtime: Runtime
) -> None:
    app.use_runtime(replace(runtime, requests=NoRequestsTable()))
    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS"
    assert _pending_lists(harness) == 0


def test_a_board_dated_in_the_future_is_not_trusted_and_is_refreshed_over(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    """A board item whose refreshed_at lies ahead (forged, or a skewed clock) would otherwise
    look fresh until that moment: never refreshed, every listed certificate waiting for the
    safety poll. It is not used, and the next refresh replaces it."""
    issued_at = START + 5
    acm = FakeAcm(clock, {A: issued_at})
    dynamodb.put_item(  # type: ignore[attr-defined]
        TableName=requests_table,
        Item={
            "id": {"S": f"board#{REGION}"},
            "refreshed_at": {"N": str(START + 86_400)},
            "claimed_at": {"N": str(START + 86_400)},
            "pending": {"S": digest(A)},
            "overflowed": {"BOOL": False},
        },
    )
    watch = BoardWatch(board(requests_table, dynamodb, acm), A)
    wait_for_issuance(clock, acm, watch, A)

    assert clock.now() - issued_at <= READ_EVERY + REFRESH_AFTER + 2
    item = dynamodb.get_item(  # type: ignore[attr-defined]
        TableName=requests_table, Key={"id": {"S": f"board#{REGION}"}}
    )["Item"]
    assert float(item["refreshed_at"]["N"]) <= clock.now() + 0.001  # written to the ms


def test_a_refresh_that_hangs_never_outlasts_the_invocation(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    """A refresh lists ACM twice (and more with pages) through a client whose calls may each
    hang 20 s (connect and read timeouts). Begun in the invocation's last seconds before the
    hand-off margin, it would end after Lambda did: no hand-off, and the timer answers FAILED
    for a certificate that is fine. Refreshes are left to waiters with time for them."""

    class HangingAcm(FakeAcm):
        def list_pending(self) -> list[str]:
            clock.advance(2 * 20.0)  # both passes time out
            return super().list_pending()

    acm = HangingAcm(clock, {A: START + 1000})
    invocation = Invocation(clock)
    invocation.ends_at = START + 31
    waiter = Waiter(clock, invocation.remaining, invocation.hand_off)
    state = Continuation(action="create", started_at=START, deadline=START + 3600)
    watch = BoardWatch(board(requests_table, dynamodb, acm), A)
    with pytest.raises(HandedOff):
        for _ in range(100):
            watch.wait(waiter, state, "not issued")
            clock.advance(0.1)  # the DescribeCertificate between waits
    assert invocation.remaining() > 0


def test_a_board_with_times_that_are_not_numbers_is_refreshed_over(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    """A corrupted or forged item (refreshed_at and claimed_at stored as strings) could never
    be claimed: every waiter would poll alone until its TTL. It is claimed and written over."""
    acm = FakeAcm(clock, {A: START + 100})
    dynamodb.put_item(  # type: ignore[attr-defined]
        TableName=requests_table,
        Item={
            "id": {"S": f"board#{REGION}"},
            "refreshed_at": {"S": "yesterday"},
            "claimed_at": {"S": "now"},
            "pending": {"S": ""},
        },
    )
    snapshot = board(requests_table, dynamodb, acm).current(clock.now())

    assert acm.lists == 1
    assert snapshot is not None and snapshot.usable(clock.now()) and snapshot.lists(A)


class LateFirstResponse:
    """A table client whose UpdateItem lands but answers too late: the client sends it again
    (botocore's retry after a read timeout), and that second write's answer is what it sees."""

    def __init__(self, client: object) -> None:
        self._client = client

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)

    def update_item(self, **kwargs: object) -> object:
        self._client.update_item(**kwargs)  # type: ignore[attr-defined]
        return self._client.update_item(**kwargs)  # type: ignore[attr-defined]


def test_a_claim_whose_write_landed_unseen_is_ours(
    requests_table: str, dynamodb: object, clock: FakeClock
) -> None:
    """Issue 24: the retry meets our own claim: ours (not another waiter's to wait for)."""
    acm = FakeAcm(clock, {A: START + 100})
    late = board(requests_table, LateFirstResponse(dynamodb), acm)
    other = board(requests_table, dynamodb, acm)

    assert late.claim(clock.now())
    clock.advance(0.1)
    assert not other.claim(clock.now())  # held: by the first, whose claim it is
