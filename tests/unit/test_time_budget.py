"""Issue 19 (defect 6): the time budget is consistent end to end. One AWS call, every attempt
and backoff included, ends between the hand-off margin and the timer; the timer's claim and
answer fit its margin; the clients are built from those numbers; the README states them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dns_certificate.clients import AwsClients
from dns_certificate.deadline import (
    CALL_WORST_SECONDS,
    CLIENT_TIMING,
    HANDOFF_MARGIN_SECONDS,
    POLLER_TIMING,
    TABLE_TIMING,
    TIMER_ANSWER_BUDGET_SECONDS,
    TIMER_MARGIN_SECONDS,
    CallTiming,
)

README = Path(__file__).resolve().parents[2] / "README.md"
#: The sender gives each PUT at least a second, so it can overrun its budget by that much.
SENDER_OVERRUN_SECONDS = 1.0


def _clients() -> AwsClients:
    import boto3

    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    return AwsClients("us-east-1", session=session)


def _timing_of(client: Any) -> CallTiming:
    """What botocore was really configured with."""
    config = client.meta.config
    return CallTiming(
        connect=config.connect_timeout,
        read=config.read_timeout,
        attempts=config.retries["total_max_attempts"],
    )


@pytest.mark.parametrize(("name", "timing"), [("client", CLIENT_TIMING), ("poller", POLLER_TIMING)])
def test_one_call_ends_between_the_hand_off_margin_and_the_timer(
    name: str, timing: CallTiming
) -> None:
    assert timing.worst <= CALL_WORST_SECONDS, name
    assert CALL_WORST_SECONDS == HANDOFF_MARGIN_SECONDS - TIMER_MARGIN_SECONDS


def test_the_timers_claim_and_answer_fit_its_margin() -> None:
    worst = TABLE_TIMING.worst + TIMER_ANSWER_BUDGET_SECONDS + SENDER_OVERRUN_SECONDS
    assert worst <= TIMER_MARGIN_SECONDS


def test_worst_counts_every_attempt_and_botocores_longest_backoffs() -> None:
    # 3 attempts of 3 s; retries 0 and 1 back off up to 1 s and 2 s, each + 5 s retry-after.
    assert CallTiming(connect=1.0, read=2.0, attempts=3).worst == 9.0 + 1.0 + 2.0 + 10.0


def test_every_client_is_built_from_its_timing() -> None:
    clients = _clients()
    assert _timing_of(clients.acm()) == CLIENT_TIMING
    assert _timing_of(clients.acm("eu-west-1")) == CLIENT_TIMING
    assert _timing_of(clients.route53()) == CLIENT_TIMING
    assert _timing_of(clients.lambda_()) == CLIENT_TIMING
    assert _timing_of(clients.cloudformation("us-east-1")) == CLIENT_TIMING
    assert _timing_of(clients.acm_poller()) == POLLER_TIMING
    assert _timing_of(clients.dynamodb()) == TABLE_TIMING


def _number(value: float) -> str:
    return f"{value:g}"


def test_readme_states_the_numbers_the_code_uses() -> None:
    text = " ".join(README.read_text().split())
    assert f"fires {_number(TIMER_MARGIN_SECONDS)} s before Lambda" in text
    assert f"more than {_number(HANDOFF_MARGIN_SECONDS)} seconds of the invocation remain" in text
    budget = re.search(r"## The time budget(.*?)\n## ", README.read_text(), re.S)
    assert budget, "README has no 'The time budget' section"
    section = " ".join(budget.group(1).split())
    for phrase in (
        f"hand-off margin: {_number(HANDOFF_MARGIN_SECONDS)} s",
        f"timer: {_number(TIMER_MARGIN_SECONDS)} s",
        f"one AWS call: at most {_number(CALL_WORST_SECONDS)} s",
        f"connect {_number(CLIENT_TIMING.connect)} s, read {_number(CLIENT_TIMING.read)} s, "
        f"{CLIENT_TIMING.attempts} attempts ({_number(CLIENT_TIMING.worst)} s at worst)",
        f"connect {_number(POLLER_TIMING.connect)} s, read {_number(POLLER_TIMING.read)} s, "
        f"{POLLER_TIMING.attempts} attempt ({_number(POLLER_TIMING.worst)} s at worst)",
        f"connect {_number(TABLE_TIMING.connect)} s, read {_number(TABLE_TIMING.read)} s, "
        f"{TABLE_TIMING.attempts} attempt ({_number(TABLE_TIMING.worst)} s at worst)",
        f"delivery: {_number(TIMER_ANSWER_BUDGET_SECONDS)} s",
    ):
        assert phrase in section, phrase
