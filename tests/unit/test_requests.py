"""The requests table (DynamoDBRequests) against moto's DynamoDB: one claimant per answer and per
hop, a retry after a timeout runs again, and a table that cannot be used never blocks."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from dns_certificate.requests import (
    ANSWER_LEASE_SECONDS,
    LEASE_SECONDS,
    RENEW_EVERY,
    ClaimHeld,
    DynamoDBRequests,
    RequestKey,
)
from local.emulator import create_requests_table
from tests.support.clock import FakeClock

REGION = "us-east-1"
KEY = RequestKey(
    "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "Certificate", "request-1"
)
OTHER = RequestKey(KEY.stack_id, KEY.logical_id, "request-2")
MINUTE_MS = 60_000
#: Lambda retries a failed asynchronous invocation after about a minute.
LAMBDA_FIRST_RETRY_SECONDS = 60.0


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def table(dynamodb: object, clock: FakeClock) -> DynamoDBRequests:
    name = create_requests_table(dynamodb)
    return DynamoDBRequests(name, dynamodb, clock=clock)  # type: ignore[arg-type]


def test_answered_when_nothing_claimed_is_false(table: DynamoDBRequests) -> None:
    assert not table.answered(KEY)


def test_claim_answer_when_claimed_already_refuses_the_second_claimant(
    table: DynamoDBRequests,
) -> None:
    first, second = table.for_invocation("a"), table.for_invocation("b")
    assert first.claim_answer(KEY, MINUTE_MS)
    assert not second.claim_answer(KEY, MINUTE_MS)
    assert second.answered(KEY)
    assert second.claim_answer(OTHER, MINUTE_MS)  # another request is another key


def test_claim_answer_when_our_own_write_landed_unseen_proceeds(table: DynamoDBRequests) -> None:
    """Issue 24: the write succeeded but its response was lost; the client's retry meets the
    condition against our own claim: ours, so we answer (the request is not silenced)."""
    mine = table.for_invocation("a")
    assert mine.claim_answer(KEY, MINUTE_MS)

    assert mine.claim_answer(KEY, MINUTE_MS)  # the retry of the same write
    assert not table.for_invocation("a").claim_answer(KEY, MINUTE_MS)  # same id, other nonce


def test_answered_when_claimant_died_while_sending_is_false_and_a_retry_may_claim(
    table: DynamoDBRequests, clock: FakeClock
) -> None:
    assert table.for_invocation("a").claim_answer(KEY, MINUTE_MS)
    clock.advance(ANSWER_LEASE_SECONDS + 1)  # it died while sending: its lease passed

    retry = table.for_invocation("a")
    assert not retry.answered(KEY)
    assert retry.claim_answer(KEY, MINUTE_MS)  # the retry answers
    assert table.for_invocation("b").answered(KEY)


SUCCESS = {"Status": "SUCCESS", "PhysicalResourceId": "arn:1", "Data": {"Arn": "arn:1"}}
FAILED = {"Status": "FAILED", "PhysicalResourceId": "arn:1", "Reason": "timed out"}


def test_claim_answer_when_its_claimant_died_after_claiming_sends_its_answer_unchanged(
    table: DynamoDBRequests, clock: FakeClock
) -> None:
    """Issue 19: killed between its PUT and recording it, nobody can know whether the answer
    arrived. The retry sends the answer first claimed, byte for byte, never its own."""
    first = table.for_invocation("a").claim_answer(KEY, MINUTE_MS, SUCCESS)
    assert first is not None and first.body == SUCCESS and not first.resent
    clock.advance(ANSWER_LEASE_SECONDS + 1)  # killed: its lease passed, nothing recorded

    retry = table.for_invocation("a").claim_answer(KEY, MINUTE_MS, FAILED)

    assert retry is not None and retry.body == SUCCESS and retry.resent
    clock.advance(ANSWER_LEASE_SECONDS + 1)  # and again: still the first answer
    again = table.for_invocation("a").claim_answer(KEY, MINUTE_MS, FAILED)
    assert again is not None and again.body == SUCCESS


def test_claim_answer_after_a_failed_delivery_is_released_sends_the_same_answer(
    table: DynamoDBRequests,
) -> None:
    """An attempt whose response was lost may have arrived: the next claimant sends it again."""
    sender = table.for_invocation("a")
    assert sender.claim_answer(KEY, MINUTE_MS, FAILED)
    sender.release_answer(KEY)

    other = table.for_invocation("b").claim_answer(KEY, MINUTE_MS, SUCCESS)

    assert other is not None and other.body == FAILED and other.resent


def test_claim_answer_when_our_own_write_landed_unseen_sends_our_answer(
    table: DynamoDBRequests,
) -> None:
    mine = table.for_invocation("a")
    assert mine.claim_answer(KEY, MINUTE_MS, SUCCESS)

    again = mine.claim_answer(KEY, MINUTE_MS, SUCCESS)

    assert again is not None and again.body == SUCCESS and not again.resent


def test_claim_answer_when_sent_stays_answered(table: DynamoDBRequests, clock: FakeClock) -> None:
    sender = table.for_invocation("a")
    sender.claim_answer(KEY, MINUTE_MS)
    sender.answer_sent(KEY)
    clock.advance(3600)

    other = table.for_invocation("b")
    assert other.answered(KEY)
    assert not other.claim_answer(KEY, MINUTE_MS)
    assert not sender.claim_answer(KEY, MINUTE_MS)  # sent: not again, even by its sender


def test_claim_answer_when_released_after_a_failed_delivery_can_be_claimed_again(
    table: DynamoDBRequests,
) -> None:
    sender = table.for_invocation("a")
    sender.claim_answer(KEY, MINUTE_MS)
    sender.release_answer(KEY)

    other = table.for_invocation("b")
    assert not other.answered(KEY)
    assert other.claim_answer(KEY, MINUTE_MS)


def test_release_answer_of_a_claim_taken_over_keeps_the_new_claimants(
    table: DynamoDBRequests, clock: FakeClock
) -> None:
    old = table.for_invocation("a")
    old.claim_answer(KEY, MINUTE_MS)
    clock.advance(ANSWER_LEASE_SECONDS + 1)
    new = table.for_invocation("b")
    assert new.claim_answer(KEY, MINUTE_MS)

    old.release_answer(KEY)

    assert table.for_invocation("c").answered(KEY)


def test_start_hop_when_done_does_nothing_and_when_running_fails_the_duplicate(
    table: DynamoDBRequests,
) -> None:
    running, duplicate = table.for_invocation("a"), table.for_invocation("b")
    assert running.start_hop(KEY, 0, MINUTE_MS)
    with pytest.raises(ClaimHeld):
        duplicate.start_hop(KEY, 0, MINUTE_MS)  # running: fail, so that Lambda retries it
    running.end_hop(KEY, 0, completed=True)
    assert not duplicate.start_hop(KEY, 0, MINUTE_MS)  # done: nothing to do
    assert duplicate.start_hop(KEY, 1, MINUTE_MS)  # the next hop is its own record
    duplicate.end_hop(KEY, 1, completed=True)


def test_start_hop_when_our_own_write_landed_unseen_runs(table: DynamoDBRequests) -> None:
    """Issue 24: 'someone else is running' is never concluded from our own claim."""
    mine = table.for_invocation("a")
    assert mine.start_hop(KEY, 0, MINUTE_MS)
    assert mine.start_hop(KEY, 0, MINUTE_MS)  # the client's retry met our own claim
    mine.end_hop(KEY, 0, completed=True)


def test_start_hop_when_the_last_attempt_failed_runs_again(table: DynamoDBRequests) -> None:
    failed = table.for_invocation("a")
    failed.start_hop(KEY, 2, MINUTE_MS)
    failed.end_hop(KEY, 2, completed=False)

    retry = table.for_invocation("a")
    assert retry.start_hop(KEY, 2, MINUTE_MS)
    retry.end_hop(KEY, 2, completed=True)


def test_start_hop_when_the_claimant_died_without_its_finally_runs_at_lambdas_retry(
    table: DynamoDBRequests, clock: FakeClock
) -> None:
    """Issue 19 point 1: a hop of a 15-minute invocation killed without its `finally` (no
    release, no lease renewal) has lost its claim when Lambda retries, about a minute later."""
    dead = table.for_invocation("a")
    assert dead.start_hop(KEY, 0, 15 * MINUTE_MS)
    dead._leases.clear()  # killed: its renewing thread is gone with it (never ran: fake time)
    clock.advance(LAMBDA_FIRST_RETRY_SECONDS)

    retry = table.for_invocation("a")
    assert retry.start_hop(KEY, 0, 15 * MINUTE_MS)
    retry.end_hop(KEY, 0, completed=True)


def test_start_hop_when_the_running_invocation_timed_out_runs_again(
    table: DynamoDBRequests, clock: FakeClock
) -> None:
    """Lambda's retry of a timed-out hop: the lease never outlives its invocation."""
    table.for_invocation("a").start_hop(KEY, 0, 5_000)
    clock.advance(5.1)

    assert table.for_invocation("a").start_hop(KEY, 0, MINUTE_MS)


def test_lease_renewal_keeps_the_hop_against_a_retry_and_stops_at_the_end(
    table: DynamoDBRequests, clock: FakeClock
) -> None:
    running = table.for_invocation("a")
    running.start_hop(KEY, 0, 15 * MINUTE_MS)
    item_id = next(iter(running._leases))
    for _ in range(10):  # what its renewing thread does every RENEW_EVERY
        clock.advance(RENEW_EVERY)
        assert running.renew(item_id, clock.now() + LEASE_SECONDS)

    with pytest.raises(ClaimHeld):
        table.for_invocation("b").start_hop(KEY, 0, MINUTE_MS)
    running.end_hop(KEY, 0, completed=True)
    assert not running.renew(item_id, clock.now() + LEASE_SECONDS)  # done: not a claim


def test_hop_alive_when_renewed_while_watched_is_true_and_when_not_is_false(
    table: DynamoDBRequests, clock: FakeClock
) -> None:
    """The on-failure path answers FAILED only once it saw the hop's lease not renewed."""
    running = table.for_invocation("a")
    running.start_hop(KEY, 0, 15 * MINUTE_MS)
    item_id = next(iter(running._leases))
    watcher = table.for_invocation("dead-letter")
    renewing = clock.sleep

    def sleep_while_renewed(seconds: float) -> None:
        renewing(seconds)
        running.renew(item_id, clock.now() + LEASE_SECONDS)

    clock.sleep = sleep_while_renewed  # type: ignore[method-assign]
    assert watcher.hop_alive(KEY, 0, 300)
    clock.sleep = renewing  # type: ignore[method-assign]
    assert not watcher.hop_alive(KEY, 0, 300)  # never renewed again: its holder died
    running.end_hop(KEY, 0, completed=True)
    assert watcher.hop_alive(KEY, 0, 300)  # completed: the chain answers elsewhere
    assert not watcher.hop_alive(KEY, 1, 300)  # never started


def test_hop_records_do_not_answer_and_the_answer_does_not_start_a_hop(
    table: DynamoDBRequests,
) -> None:
    table.start_hop(KEY, 0, MINUTE_MS)
    assert not table.for_invocation("b").answered(KEY)
    table.claim_answer(KEY, MINUTE_MS)
    assert table.start_hop(KEY, 1, MINUTE_MS)
    for hop in (0, 1):
        table.end_hop(KEY, hop, completed=True)


def test_records_hold_neither_ids_nor_urls_in_clear(
    table: DynamoDBRequests, dynamodb: object
) -> None:
    table.claim_answer(KEY, MINUTE_MS)
    table.start_hop(KEY, 0, MINUTE_MS)

    items = str(dynamodb.scan(TableName=table.table_name)["Items"])  # type: ignore[attr-defined]

    assert KEY.request_id not in items
    assert KEY.stack_id not in items
    assert "http" not in items


def test_every_call_when_the_table_is_missing_lets_the_invocation_carry_on(
    dynamodb: object,
) -> None:
    table = DynamoDBRequests("no-such-table", dynamodb)  # type: ignore[arg-type]

    assert not table.answered(KEY)
    assert table.claim_answer(KEY, MINUTE_MS)
    assert table.start_hop(KEY, 0, MINUTE_MS)
    table.answer_sent(KEY)
    table.release_answer(KEY)
    table.end_hop(KEY, 0, completed=True)


def test_claim_answer_when_another_response_url_claimed_first_is_another_request(
    table: DynamoDBRequests,
) -> None:
    """Issue 18 point 6: the ResponseURL is part of the request (a forged delivery with the ids
    of a live request but its own URL cannot take CloudFormation's answer, or its hop)."""
    event = {
        "StackId": KEY.stack_id,
        "LogicalResourceId": KEY.logical_id,
        "RequestId": KEY.request_id,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/real?sig=1",
    }
    forged = RequestKey.of({**event, "ResponseURL": "https://attacker.example/r?sig=2"})
    real = RequestKey.of(event)
    forger, cloudformation = table.for_invocation("a"), table.for_invocation("b")
    assert forger.claim_answer(forged, MINUTE_MS)
    assert forger.start_hop(forged, 0, MINUTE_MS)

    assert not cloudformation.answered(real)
    assert cloudformation.start_hop(real, 0, MINUTE_MS)
    assert cloudformation.claim_answer(real, MINUTE_MS)
    forger.end_hop(forged, 0, completed=True)
    cloudformation.end_hop(real, 0, completed=True)
    assert "attacker" not in real.url_digest and len(real.url_digest) == 64


def test_claim_answer_when_the_claim_write_is_throttled_sends_the_stored_answer(
    table: DynamoDBRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer was stored and its PUT may have arrived. The next claimant's UpdateItem is
    throttled (or denied): it sends the stored answer, readable still, never its own."""
    from botocore.exceptions import ClientError

    first = table.for_invocation("a")
    assert first.claim_answer(KEY, MINUTE_MS, FAILED)
    first.release_answer(KEY)
    retry = table.for_invocation("b")

    def throttled(**_: object) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "UpdateItem",
        )

    monkeypatch.setattr(retry._client, "update_item", throttled)

    claim = retry.claim_answer(KEY, MINUTE_MS, SUCCESS)

    assert claim is not None and claim.body == FAILED, claim
