"""The requests table (DynamoDBRequests) against moto's DynamoDB: one claimant per answer and per
hop, a retry after a timeout runs again, and a table that cannot be used never blocks."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from dns_certificate.requests import DynamoDBRequests, RequestKey
from local.emulator import create_requests_table

REGION = "us-east-1"
KEY = RequestKey(
    "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "Certificate", "request-1"
)
OTHER = RequestKey(KEY.stack_id, KEY.logical_id, "request-2")
MINUTE_MS = 60_000


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
def table(dynamodb: object) -> DynamoDBRequests:
    return DynamoDBRequests(create_requests_table(dynamodb), dynamodb)  # type: ignore[arg-type]


def test_answered_when_nothing_claimed_is_false(table: DynamoDBRequests) -> None:
    assert not table.answered(KEY)


def test_claim_answer_when_claimed_already_refuses_the_second_claimant(
    table: DynamoDBRequests,
) -> None:
    assert table.claim_answer(KEY, MINUTE_MS)
    assert not table.claim_answer(KEY, MINUTE_MS)
    assert table.answered(KEY)
    assert table.claim_answer(OTHER, MINUTE_MS)  # another request is another key


def test_answered_when_claimant_died_while_sending_is_false_and_a_retry_may_claim(
    table: DynamoDBRequests,
) -> None:
    assert table.claim_answer(KEY, 0)  # its invocation ends at once: Lambda stopped it
    time.sleep(0.01)

    assert not table.answered(KEY)
    assert table.claim_answer(KEY, MINUTE_MS)  # the retry answers
    assert table.answered(KEY)


def test_claim_answer_when_sent_stays_answered(table: DynamoDBRequests) -> None:
    table.claim_answer(KEY, MINUTE_MS)
    table.answer_sent(KEY)

    assert table.answered(KEY)
    assert not table.claim_answer(KEY, MINUTE_MS)


def test_claim_answer_when_released_after_a_failed_delivery_can_be_claimed_again(
    table: DynamoDBRequests,
) -> None:
    table.claim_answer(KEY, MINUTE_MS)
    table.release_answer(KEY)

    assert not table.answered(KEY)
    assert table.claim_answer(KEY, MINUTE_MS)


def test_start_hop_when_running_or_done_refuses_a_duplicate(table: DynamoDBRequests) -> None:
    assert table.start_hop(KEY, 0, MINUTE_MS)
    assert not table.start_hop(KEY, 0, MINUTE_MS)  # running
    table.end_hop(KEY, 0, completed=True)
    assert not table.start_hop(KEY, 0, MINUTE_MS)  # done
    assert table.start_hop(KEY, 1, MINUTE_MS)  # the next hop is its own record


def test_start_hop_when_the_last_attempt_failed_runs_again(table: DynamoDBRequests) -> None:
    table.start_hop(KEY, 2, MINUTE_MS)
    table.end_hop(KEY, 2, completed=False)

    assert table.start_hop(KEY, 2, MINUTE_MS)


def test_start_hop_when_the_running_invocation_timed_out_runs_again(
    table: DynamoDBRequests,
) -> None:
    """Lambda's retry of a timed-out hop: the record's in-progress expiry (its end) has passed."""
    table.start_hop(KEY, 0, 5)
    time.sleep(0.05)

    assert table.start_hop(KEY, 0, MINUTE_MS)


def test_hop_records_do_not_answer_and_the_answer_does_not_start_a_hop(
    table: DynamoDBRequests,
) -> None:
    table.start_hop(KEY, 0, MINUTE_MS)
    assert not table.answered(KEY)
    table.claim_answer(KEY, MINUTE_MS)
    assert table.start_hop(KEY, 1, MINUTE_MS)


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
    assert table.claim_answer(forged, MINUTE_MS)
    assert table.start_hop(forged, 0, MINUTE_MS)

    assert not table.answered(real)
    assert table.start_hop(real, 0, MINUTE_MS)
    assert table.claim_answer(real, MINUTE_MS)
    assert "attacker" not in real.url_digest and len(real.url_digest) == 64
