"""A shared schedule for DescribeCertificate: one account and region stay under ACM's quota.

ACM allows 10 DescribeCertificate requests per second per account and region. Certificates
waiting at once (a stack of 50) each ask at least twice: for their validation records right
after the request, and for ISSUED once they leave the status board (board.py). Those asks
follow RequestCertificate's burst and ACM's issuance moments, which bunch: left alone, some
seconds see more than 10 even when the average is half that.

So every such ask takes the next slot of a schedule, an item of the requests table
(`gate#<region>#<lane>`) holding when the next slot is free. There are two lanes, whose rates
add up to less than the quota: asks for ISSUED, on which an answer waits, and asks for the
validation records of certificates just requested (a stack of 50 brings 50 at once; behind
them in one queue, an issued certificate would wait seconds for its answer):

* a slot is taken with one conditional write when the schedule is idle (its next slot is
  already past), else with one atomic increment (`next_at + 1 / rate`, the slot is the value before
  it): no read, no retry loop, however many certificates take slots at once;
* slots are `1 / rate` apart, the lanes' rates together below the quota, leaving room for
  the calls that are not scheduled (another tool in the account, migrations, the renewal
  guard) and for jitter between a slot and the call reaching ACM; a caller that wakes well
  after its slot takes one more (once) rather than ask with the callers of the slots since;
* the schedule only ever delays an ask, never answers anything; one that cannot be used (no
  table, throttled, AccessDenied) is left alone for `BROKEN_FOR` and the certificate asks at
  once, as without it; an item dated absurdly far ahead, or not a number, is started afresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .clients import describe_error, error_code, number_attribute

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(child=True)

#: Scheduled DescribeCertificate calls per second of each lane (ACM's quota is 10 per account
#: and region): asks for ISSUED (the answer waits on them) and asks for validation records.
WAITS_RATE = 4.0
RECORDS_RATE = 3.0
WAITS, RECORDS = "waits", "records"
RATES = {WAITS: WAITS_RATE, RECORDS: RECORDS_RATE}
LANES = tuple(RATES)
#: Slots are stored to the microsecond: at a gap of 1/3 s, rounding to the millisecond would
#: drift a deep queue by a millisecond every three slots.
SLOT_DIGITS = 6
#: A caller that wakes this much after its slot (a busy host) takes one more slot rather than
#: ask off the schedule, together with those whose slots came while it slept.
LATE_BY = 0.15
#: A slot further ahead than this is not believed (a forged or corrupted item, a clock far
#: off): the schedule is restarted from now. A real queue must fit under it, or a restart
#: hands out the queued seconds twice: 360 certificates in the slower lane (a stack's worth
#: requested together). A forged item within it delays each ask by that much, once.
MAX_AHEAD = 120.0
#: How long taking a slot may take at worst: two writes through the table's client, each
#: `deadline.TABLE_TIMING.worst` (3 s; the bound was sized for the earlier 10.5 s and is kept
#: as an upper bound, checked by tests/unit/test_gate.py). A caller with less than this left
#: before the hand-off margin asks at once: the slot and the ask after it could outlast the
#: invocation.
SLOT_WORST_SECONDS = 21.0
#: A schedule that failed is left alone for this long (the certificate asks at once).
BROKEN_FOR = 30.0
#: The item expires (the table's TTL) when nobody takes a slot.
GATE_TTL_SECONDS = 3600


class GateUnavailable(Exception):  # noqa: N818 - an outcome: the schedule is not used
    """The schedule could not be read or written."""


class DescribeGate:
    """The schedule item of one region in the requests table (a plain DynamoDB client)."""

    def __init__(
        self, table_name: str, client: DynamoDBClient, region: str, lane: str = WAITS
    ) -> None:
        self._table = table_name
        self._client = client
        self._key: Any = {"id": {"S": f"gate#{region}#{lane}"}}
        self.gap = 1.0 / RATES[lane]

    def slot(self, now: float) -> float:
        """The moment (on `now`'s clock) this caller may ask: `now` when the schedule is idle,
        else the next free slot, which is taken."""
        try:
            if self._take_idle(now):
                return now
            taken = self._take_next(now)
        except ClientError as error:
            raise GateUnavailable(describe_error(error)) from error
        except BotoCoreError as error:
            raise GateUnavailable(describe_error(error)) from error
        if taken > now + MAX_AHEAD:  # changed under us between the two writes
            raise GateUnavailable(f"a slot {taken - now:.0f} s ahead")
        return max(now, taken)

    def _take_idle(self, now: float) -> bool:
        """The slot `now` of an idle schedule. The write names its taker (a nonce): when the
        condition fails, the item says whether the slot is ours after all (the write landed,
        its response was lost and the client's retry met it) — else the caller would take
        a second, later slot, wasting this one."""
        token = uuid.uuid4().hex
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression="SET next_at = :after, taken_by = :me, expiration = :ttl",
                ConditionExpression=(
                    "attribute_not_exists(next_at) OR NOT attribute_type(next_at, :number) "
                    "OR next_at <= :now OR next_at > :absurd"
                ),
                ExpressionAttributeValues={
                    ":number": {"S": "N"},
                    ":after": number_attribute(now + self.gap, SLOT_DIGITS),
                    ":now": number_attribute(now, SLOT_DIGITS),
                    ":absurd": number_attribute(now + MAX_AHEAD, SLOT_DIGITS),
                    ":ttl": number_attribute(int(now) + GATE_TTL_SECONDS),
                    ":me": {"S": token},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                item: Any = error.response.get("Item") or {}
                return bool(item.get("taken_by", {}).get("S") == token)
            raise
        return True

    def _take_next(self, now: float) -> float:
        answer = self._client.update_item(
            TableName=self._table,
            Key=self._key,
            UpdateExpression="SET next_at = next_at + :gap, expiration = :ttl",
            ExpressionAttributeValues={
                ":gap": number_attribute(self.gap, SLOT_DIGITS),
                ":ttl": number_attribute(int(now) + GATE_TTL_SECONDS),
            },
            ReturnValues="UPDATED_NEW",
        )
        try:
            return float(answer["Attributes"]["next_at"]["N"]) - self.gap
        except (KeyError, TypeError, ValueError) as error:
            raise GateUnavailable(f"unreadable schedule: {type(error).__name__}") from error


class GateKeeper:
    """One certificate's use of the schedule across the polls of one invocation: the wait
    before each ask, or none while the schedule is broken."""

    def __init__(self, gates: Mapping[str, DescribeGate], arn: str) -> None:
        self._gates = gates
        self._arn = arn
        self._broken_until = float("-inf")
        self._slot: float | None = None

    def wait_before_ask(self, now: float, lane: str) -> float:
        """Seconds to wait before asking (0 when the schedule is idle or not usable)."""
        self._slot = None
        if now < self._broken_until:
            return 0.0
        try:
            self._slot = self._gates[lane].slot(now)
            return self._slot - now
        except GateUnavailable as error:
            self._broken_until = now + BROKEN_FOR
            logger.warning(
                "DescribeCertificate schedule not usable; asking at once",
                extra={"certificate_arn": self._arn, "error": str(error)[:300]},
            )
            return 0.0

    def missed(self, now: float) -> bool:
        """Whether the slot last taken is more than `LATE_BY` past."""
        return self._slot is not None and now > self._slot + LATE_BY
