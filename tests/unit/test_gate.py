"""The time bounds of the schedule (gate.py) and the board's refresh (board.py) against the
clients their calls go through."""

from __future__ import annotations

from typing import Any

import boto3

from dns_certificate.board import REFRESH_WORST_SECONDS
from dns_certificate.clients import POLLER_CONFIG, TABLE_CLIENT_CONFIG
from dns_certificate.gate import SLOT_WORST_SECONDS

#: botocore's standard mode: a throttled retry waits up to 1 s * 2**(retry - 1).
THROTTLED_BACKOFF_BASE = 1.0


def test_taking_a_slot_fits_in_what_the_gate_reserves_for_it() -> None:
    """Two writes through the table's client, each with all its attempts timing out and
    throttled backoffs between them: a slot begun with `SLOT_WORST_SECONDS` left before the
    hand-off margin must end before it, or the ask after it runs into the timer's FAILED."""
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        config=TABLE_CLIENT_CONFIG,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    config: Any = client.meta.config  # botocore's Config is untyped
    attempts = config.retries["total_max_attempts"]
    per_attempt = config.connect_timeout + config.read_timeout
    backoffs = sum(THROTTLED_BACKOFF_BASE * 2**retry for retry in range(attempts - 1))
    assert 2 * (attempts * per_attempt + backoffs) <= SLOT_WORST_SECONDS


def _worst_seconds(config: Any) -> float:
    """One call through a client with this config: every attempt timing out, throttled
    backoffs between them."""
    attempts = config.retries["total_max_attempts"]
    backoffs = sum(THROTTLED_BACKOFF_BASE * 2**retry for retry in range(attempts - 1))
    return float(attempts * (config.connect_timeout + config.read_timeout) + backoffs)


def test_a_board_refresh_fits_in_what_the_board_reserves_for_it() -> None:
    """A refresh reads, claims and writes the board item (three table calls) and lists ACM
    twice through the poller: begun with `REFRESH_WORST_SECONDS` left before the hand-off
    margin, it must end before it."""
    table = _client("dynamodb", TABLE_CLIENT_CONFIG)
    poller = _client("acm", POLLER_CONFIG)
    worst = 3 * _worst_seconds(table.meta.config) + 2 * _worst_seconds(poller.meta.config)
    assert worst <= REFRESH_WORST_SECONDS


def _client(service: str, config: Any) -> Any:
    session: Any = boto3  # the service name is not a literal here
    return session.client(
        service,
        region_name="us-east-1",
        config=config,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
