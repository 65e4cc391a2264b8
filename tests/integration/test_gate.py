"""The DescribeCertificate schedule in the requests table (moto DynamoDB): certificates waiting
in one account and region ask ACM in turn, each lane at its rate, and a schedule that cannot be
used never holds a certificate back.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import boto3
import pytest

from dns_certificate import gate as gate_module
from dns_certificate.certificates import CertificateService
from dns_certificate.context import Runtime
from dns_certificate.deadline import HANDOFF_MARGIN_SECONDS
from dns_certificate.gate import (
    BROKEN_FOR,
    LATE_BY,
    MAX_AHEAD,
    RECORDS,
    SLOT_WORST_SECONDS,
    WAITS,
    DescribeGate,
    GateKeeper,
)
from tests.integration.harness import REGION, Harness

NOW = 1_700_000_000.0
ARN = "arn:aws:acm:us-east-1:123456789012:certificate/gated"


@pytest.fixture
def dynamodb(requests_table: str) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def gate(requests_table: str, dynamodb: Any, lane: str = WAITS) -> DescribeGate:
    return DescribeGate(requests_table, dynamodb, REGION, lane)


def queue_lane(dynamodb: Any, table: str, lane: str, until: float) -> None:
    """Other certificates hold the lane's slots until `until`."""
    dynamodb.put_item(
        TableName=table,
        Item={"id": {"S": f"gate#{REGION}#{lane}"}, "next_at": {"N": str(until)}},
    )


@pytest.fixture
def asked_at(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The moments (on the harness clock) the handler asked DescribeCertificate."""
    moments: list[float] = []
    original = CertificateService.describe

    def describe(self: CertificateService, arn: str) -> Any:
        moments.append(harness.clock.now())
        return original(self, arn)

    monkeypatch.setattr(CertificateService, "describe", describe)
    return moments


def stored_next_at(dynamodb: Any, table: str, lane: str) -> Any:
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": f"gate#{REGION}#{lane}"}})
    return item.get("Item", {}).get("next_at")


def test_callers_at_the_same_moment_get_slots_one_gap_apart(
    requests_table: str, dynamodb: Any
) -> None:
    schedule = gate(requests_table, dynamodb)
    slots = [schedule.slot(NOW) for _ in range(5)]
    assert slots == pytest.approx([NOW + i * schedule.gap for i in range(5)], abs=0.002)
    assert 1 / schedule.gap <= 5  # below ACM's 10/s with the other lane


def test_an_idle_schedule_lets_the_caller_ask_at_once(requests_table: str, dynamodb: Any) -> None:
    schedule = gate(requests_table, dynamodb)
    schedule.slot(NOW)
    assert schedule.slot(NOW + 5) == NOW + 5


def test_the_lanes_do_not_queue_behind_each_other(requests_table: str, dynamodb: Any) -> None:
    records = gate(requests_table, dynamodb, RECORDS)
    for _ in range(20):  # a stack of certificates just requested
        records.slot(NOW)
    assert gate(requests_table, dynamodb, WAITS).slot(NOW) == NOW
    assert records.slot(NOW) >= NOW + 20 * records.gap - 0.002


@pytest.mark.parametrize(
    "forged",
    [{"N": str(NOW + 10 * MAX_AHEAD)}, {"S": "soon"}],
    ids=["dated-far-ahead", "not-a-number"],
)
def test_a_forged_schedule_is_started_afresh(
    requests_table: str, dynamodb: Any, forged: dict[str, str]
) -> None:
    dynamodb.put_item(
        TableName=requests_table, Item={"id": {"S": f"gate#{REGION}#{WAITS}"}, "next_at": forged}
    )
    assert gate(requests_table, dynamodb).slot(NOW) == NOW
    assert float(stored_next_at(dynamodb, requests_table, WAITS)["N"]) < NOW + 1


def test_a_schedule_that_cannot_be_used_does_not_hold_the_certificate_back(
    dynamodb: Any,
) -> None:
    calls = []

    class Counting(DescribeGate):
        def slot(self, now: float) -> float:
            calls.append(now)
            return super().slot(now)

    missing = Counting("no-such-table", dynamodb, REGION, WAITS)
    keeper = GateKeeper({WAITS: missing, RECORDS: missing}, ARN)
    assert keeper.wait_before_ask(NOW, WAITS) == 0.0
    assert keeper.wait_before_ask(NOW + 1, RECORDS) == 0.0  # left alone meanwhile
    assert keeper.wait_before_ask(NOW + BROKEN_FOR, WAITS) == 0.0
    assert calls == [NOW, NOW + BROKEN_FOR]


def test_a_caller_that_woke_late_knows_it_missed_its_slot(
    requests_table: str, dynamodb: Any
) -> None:
    keeper = GateKeeper({lane: gate(requests_table, dynamodb, lane) for lane in (WAITS,)}, ARN)
    keeper.wait_before_ask(NOW, WAITS)
    assert not keeper.missed(NOW + LATE_BY)
    assert keeper.missed(NOW + LATE_BY + 0.01)


# ---- wired into the issuance wait ----------------------------------------------------------


def test_create_asks_acm_on_the_schedule(
    harness: Harness, requests_table: str, dynamodb: Any, asked_at: list[float]
) -> None:
    """Other certificates hold the records lane's slots for the next 2 s: this one's first
    DescribeCertificate waits its turn, and it takes slots in both lanes."""
    queued_until = harness.clock.now() + 2.0
    queue_lane(dynamodb, requests_table, RECORDS, queued_until)

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS"
    assert asked_at and asked_at[0] >= queued_until - 0.001
    assert float(stored_next_at(dynamodb, requests_table, RECORDS)["N"]) > queued_until
    assert stored_next_at(dynamodb, requests_table, WAITS) is not None


def test_rates_of_the_lanes_stay_under_acms_quota() -> None:
    assert sum(gate_module.RATES.values()) <= 8  # 10/s, less room for unscheduled calls


def test_a_caller_short_of_time_asks_without_a_slot(
    harness: Harness, requests_table: str, dynamodb: Any, asked_at: list[float]
) -> None:
    """Taking a slot costs up to two table writes of a few seconds each: an invocation with
    less than that left before its hand-off margin asks at once (a slot, then the ask, could
    outlast it and leave the timer to answer FAILED for a certificate that is fine)."""
    started = harness.clock.now()
    queue_lane(dynamodb, requests_table, RECORDS, started + 2.0)
    short = harness.context(timeout_seconds=HANDOFF_MARGIN_SECONDS + SLOT_WORST_SECONDS - 1)

    harness.invoke(harness.event("create-two-zones.json"), short)

    assert asked_at and asked_at[0] < started + 1.0  # not after the 2 s queue


@pytest.mark.parametrize("issued", [True, False], ids=["issued-meanwhile", "still-pending"])
def test_a_continuation_arriving_past_the_deadline_still_looks_at_acm_before_failing(
    harness: Harness, requests_table: str, dynamodb: Any, issued: bool
) -> None:
    """Lambda may deliver a hand-off late (its async queue, a throttled account: the case the
    schedule is for). A certificate issued meanwhile must get its last DescribeCertificate
    rather than a FAILED from the slot's wait, which knows nothing of the certificate."""
    harness.faults.pending_describes = 10**6
    properties = {"DomainName": "example.com", "ServiceTimeout": "300"}
    event = harness.event("create.json", properties=properties)
    assert harness.invoke(event, harness.context(timeout_seconds=60)) is None
    payload = harness.self_invokes.payloads[-1][1]

    harness.clock.advance(400)  # delivered past the deadline
    if issued:
        harness.faults.pending_describes = 0
    queue_lane(dynamodb, requests_table, WAITS, harness.clock.now() + 2.0)
    answer = harness.invoke(payload)

    assert answer is not None
    if issued:
        assert answer.status == "SUCCESS", answer.reason
    else:  # the reason says what ACM said at the deadline, not that it could not be read
        assert answer.status == "FAILED"
        assert "PENDING_VALIDATION at the deadline" in answer.reason
        assert "Could not read" not in answer.reason


def test_a_deep_queue_is_not_mistaken_for_a_forged_schedule(
    requests_table: str, dynamodb: Any
) -> None:
    """100 certificates requested together (CloudFormation creates a stack's resources in
    parallel) queue 33 s deep in the records lane: the schedule must not restart from now
    under them, which would hand out the same seconds twice (twice the lane's rate)."""
    records = gate(requests_table, dynamodb, RECORDS)
    slots = sorted(records.slot(NOW + i * 0.01) for i in range(100))
    gaps = [later - earlier for earlier, later in pairwise(slots)]
    assert min(gaps) >= records.gap - 0.002


def test_a_slow_slot_write_does_not_make_the_caller_late_for_its_slot(
    harness: Harness,
    runtime: Runtime,
    requests_table: str,
    dynamodb: Any,
    asked_at: list[float],
) -> None:
    """Each of the slot's writes takes 0.2 s (a busy table): the wait to the slot counts from
    when the slot was known, not from before the writes, or the caller wakes past its slot,
    takes another at the back of the queue and asks later than its turn."""

    def slow_gate_write(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["id"]["S"].startswith("gate#"):
            harness.clock.advance(0.2)

    runtime.clients.dynamodb().meta.events.register(
        "provide-client-params.dynamodb.UpdateItem", slow_gate_write
    )
    queued_until = harness.clock.now() + 2.0
    queue_lane(dynamodb, requests_table, RECORDS, queued_until)

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS"
    assert queued_until - 0.001 <= asked_at[0] <= queued_until + LATE_BY


def test_a_deadline_reached_while_the_slot_is_taken_still_asks_acm(
    harness: Harness,
    runtime: Runtime,
    requests_table: str,
    dynamodb: Any,
) -> None:
    """The deadline passes during the slot's writes (a table slow enough): the certificate
    still gets its look at ACM, and the reason says what ACM said, not that it could not be
    read."""
    harness.faults.pending_describes = 10**6

    def slow_gate_write(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["id"]["S"].startswith("gate#"):
            harness.clock.advance(50.0)

    runtime.clients.dynamodb().meta.events.register(
        "provide-client-params.dynamodb.UpdateItem", slow_gate_write
    )
    queue_lane(dynamodb, requests_table, RECORDS, harness.clock.now() + 110.0)
    properties = {"DomainName": "example.com", "ServiceTimeout": "120"}  # deadline in 90 s

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "Could not read" not in answer.reason
    assert "PENDING_VALIDATION" in answer.reason


class LateFirstResponse:
    """A table client whose UpdateItem lands but answers too late: the client sends it again
    (botocore's retry after a read timeout), and that second write's answer is what it sees."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        self._client.update_item(**kwargs)
        return self._client.update_item(**kwargs)


def test_an_idle_slot_whose_write_landed_unseen_is_ours(requests_table: str, dynamodb: Any) -> None:
    """Issue 24: the retry of the idle take meets our own write: the slot `now` is ours (not a
    second slot one gap later, wasting the first)."""
    assert gate(requests_table, LateFirstResponse(dynamodb)).slot(NOW) == NOW
    assert gate(requests_table, dynamodb).slot(NOW) == NOW + gate(requests_table, dynamodb).gap
