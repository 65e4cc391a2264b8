"""A status board: certificates waiting in one account and region share one ACM poll.

Each waiting certificate polling DescribeCertificate on its own cannot be both quick and within
ACM's quota: 50 of them sharing 10 requests/s are asked every 5 s at best, and their
independent phases bunch some seconds over the quota (benchmarks/README.md). So they share:

* the board is one item of the requests table (`board#<region>`): when it was refreshed and
  which certificates ACM listed as PENDING_VALIDATION then (a 12-hex digest of each ARN, so
  25,000 fit in an item; more, and the board says it overflowed and is not used);
* a waiter reads it about every second; one finding it older than `REFRESH_AFTER` claims the
  refresh (a conditional write), lists the pending certificates (ListCertificates, every key
  type, both root hierarchies: two calls, ACM's quota is 8/s) and writes them;
* a certificate on the board waits without any ACM call; once it is missing from a board
  refreshed after one that listed it, it asks DescribeCertificate itself. ListCertificates is
  eventually consistent: a certificate not seen on the board yet is polled at its own paced
  interval, as without a board;
  while another waiter holds the refresh of a board not usable yet, it waits for that refresh
  (`CLAIM_HOLD` at most) instead of asking ACM;
* the board only makes a wait shorter or cheaper, never an answer: ISSUED or FAILED is only
  ever read from the certificate's own DescribeCertificate, which is also asked every
  `SAFETY_INTERVAL` whatever the board says (a board that lies cannot make it wait forever).
  A board that cannot be read, claimed or refreshed, or is older than `STALE_AFTER`, is not
  used: the certificate polls at its paced interval, as without one.

`judge` is the decision, pure; `StatusBoard` the DynamoDB item; `BoardWatch` the wait.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .clients import describe_error, error_code, number_attribute
from .deadline import HANDOFF_MARGIN_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from .continuation import Continuation
    from .waiting import Reason, Waiter

logger = Logger(child=True)

#: A board older than this is refreshed by the next waiter that reads it (below the shortest
#: gap between reads, so a certificate waiting alone refreshes it at every read).
REFRESH_AFTER = 0.75
#: Seconds between a waiter's reads of the board (jittered down by `READ_JITTER`).
READ_EVERY = 1.0
READ_JITTER = 0.2
#: A board older than this is not used (its refreshes fail): the certificate polls alone.
STALE_AFTER = 5.0
#: A board or claim dated more than this ahead of the reader's clock is not believed (forged,
#: or a clock far off): it would otherwise look fresh, and block refreshes, until that moment.
AHEAD_TOLERANCE = 1.0
#: How long a refresh may take at worst: two ListCertificates (more with pages) through the
#: poller and three table calls (the read, the claim, the write), each at most its client's
#: `worst` (deadline.POLLER_TIMING, TABLE_TIMING; the bound was sized for slower clients and
#: is kept as an upper bound, checked by tests/unit/test_gate.py). A waiter with less than this
#: left before the hand-off margin only reads the board: a refresh begun then could outlast the
#: invocation (no hand-off; the timer would answer FAILED).
REFRESH_WORST_SECONDS = 72.0
#: A claimed refresh that wrote nothing for this long may be claimed again (a refresh takes
#: well under a second on AWS; seconds when ACM or the table are slow, and a second refresher
#: then only adds to the load).
CLAIM_HOLD = 5.0
#: Every certificate asks DescribeCertificate at least this often, whatever the board says.
SAFETY_INTERVAL = 30.0
#: A board that failed is left alone for this long (the certificate polls alone meanwhile).
BROKEN_FOR = 30.0
#: A certificate no usable board listed in this many refreshes polls alone for the invocation.
UNSEEN_LIMIT = 5
#: Digests of this many ARNs fit in one item (400 KB) with room to spare.
MAX_LISTED = 25_000
DIGEST_CHARS = 12
#: The board item expires (the table's TTL) when no waiter refreshes it.
BOARD_TTL_SECONDS = 3600


def digest(arn: str) -> str:
    """12 hex characters of the ARN's sha256: a collision only makes a certificate look
    pending, which the safety poll covers."""
    return hashlib.sha256(arn.encode()).hexdigest()[:DIGEST_CHARS]


@dataclass(frozen=True)
class Snapshot:
    """The board as read: None `refreshed_at` when it was claimed but never written."""

    refreshed_at: float | None
    pending: frozenset[str] = frozenset()
    overflowed: bool = False
    #: When a waiter last claimed the refresh (None: never, or an item from before).
    claimed_at: float | None = None

    @classmethod
    def of(cls, arns: Iterable[str], refreshed_at: float) -> Snapshot:
        digests = frozenset(digest(arn) for arn in arns)
        if len(digests) > MAX_LISTED:
            return cls(refreshed_at, frozenset(), overflowed=True)
        return cls(refreshed_at, digests)

    def lists(self, arn: str) -> bool:
        return digest(arn) in self.pending

    def usable(self, now: float) -> bool:
        return (
            self.refreshed_at is not None
            and not self.overflowed
            and -AHEAD_TOLERANCE <= now - self.refreshed_at <= STALE_AFTER
        )

    def claim_held(self, now: float) -> bool:
        """Another waiter holds the refresh (the negation of `StatusBoard.claim`'s condition,
        as read): claiming would only fail, so a waiter that sees it does not try."""
        claimed, refreshed = self.claimed_at, self.refreshed_at
        if claimed is None:
            return False
        abandoned = claimed < now - CLAIM_HOLD
        ahead = claimed > now + AHEAD_TOLERANCE
        written_since = (
            refreshed is not None and claimed <= refreshed and refreshed <= now + AHEAD_TOLERANCE
        )
        return not (abandoned or ahead or written_since)

    def needs_refresh(self, now: float) -> bool:
        return (
            self.refreshed_at is None
            or now - self.refreshed_at >= REFRESH_AFTER
            or self.refreshed_at - now > AHEAD_TOLERANCE
        )


@dataclass(frozen=True)
class Judgement:
    #: When the certificate should ask DescribeCertificate (now or earlier: at once).
    describe_at: float
    #: When the certificate was first seen on the board (the refresh that listed it).
    seen_at: float | None
    #: Whether to read the board again before `describe_at` (a read may change the verdict).
    look_again: bool = False


def judge(
    board: Snapshot | None,
    arn: str,
    now: float,
    *,
    seen_at: float | None,
    started: float,
    paced: float,
) -> Judgement:
    """When to ask DescribeCertificate, for a wait that began at `started` (right after the
    last DescribeCertificate) and would have lasted `paced` seconds without a board."""
    on_its_own = started + paced
    if board is None or board.refreshed_at is None or not board.usable(now):
        if board is not None and board.claimed_at is not None and board.claim_held(now):
            # Another waiter is refreshing it (the first refresh, or one after a stale spell):
            # wait for that refresh to be written or abandoned rather than ask ACM meanwhile;
            # not past the safety poll (refreshes claimed and failing one after another).
            refreshed_by = min(board.claimed_at + CLAIM_HOLD, started + SAFETY_INTERVAL)
            return Judgement(max(on_its_own, refreshed_by), seen_at, look_again=True)
        return Judgement(on_its_own, seen_at)
    if board.lists(arn):
        first = board.refreshed_at if seen_at is None else min(seen_at, board.refreshed_at)
        return Judgement(started + SAFETY_INTERVAL, first, look_again=True)
    if seen_at is not None and board.refreshed_at > seen_at:
        return Judgement(now, seen_at)  # gone from the list since: issued, failed, deleted
    # Never seen: absence may be the list's eventual consistency, or a certificate requested
    # after the last refresh. Polled alone meanwhile (the board is read again at that moment).
    return Judgement(on_its_own, seen_at)


class BoardUnavailable(Exception):  # noqa: N818 - an outcome: the board is not used
    """The board could not be read, claimed or refreshed."""


class StatusBoard:
    """The board item of one region in the requests table (a plain DynamoDB client)."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        region: str,
        list_pending: Callable[[], Iterable[str]],
    ) -> None:
        self._table = table_name
        self._client = client
        self._key: Any = {"id": {"S": f"board#{region}"}}
        self._list_pending = list_pending

    def read(self) -> Snapshot | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=self._key).get("Item")
        except (ClientError, BotoCoreError) as error:
            raise BoardUnavailable(describe_error(error)) from error
        if item is None:
            return None
        return _snapshot(item)

    def claim(self, now: float) -> bool:
        """Claim the next refresh; False when the board is fresh or another waiter has it (a
        claim newer than the last refresh, younger than `CLAIM_HOLD`). A board or claim dated
        ahead of `now` by more than `AHEAD_TOLERANCE` counts as neither fresh nor held.

        The claim names its claimant (a nonce per claim): when the condition fails, the item
        it failed on says whether the claim is ours after all (the write landed and its
        response was lost; the client's retry met it), else another's."""
        token = uuid.uuid4().hex
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression="SET claimed_at = :now, claimed_by = :me, expiration = :ttl",
                ConditionExpression=(
                    "(attribute_not_exists(refreshed_at) OR NOT attribute_type(refreshed_at, :n) "
                    "OR refreshed_at < :stale OR refreshed_at > :ahead) AND "
                    "(attribute_not_exists(claimed_at) OR NOT attribute_type(claimed_at, :n) "
                    "OR (claimed_at <= refreshed_at AND refreshed_at <= :ahead) "
                    "OR claimed_at < :abandoned OR claimed_at > :ahead)"
                ),
                ExpressionAttributeValues={
                    ":n": {"S": "N"},
                    ":now": number_attribute(now),
                    ":me": {"S": token},
                    ":ttl": number_attribute(int(now) + BOARD_TTL_SECONDS),
                    ":stale": number_attribute(now - REFRESH_AFTER),
                    ":abandoned": number_attribute(now - CLAIM_HOLD),
                    ":ahead": number_attribute(now + AHEAD_TOLERANCE),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                item: Any = error.response.get("Item") or {}
                return bool(item.get("claimed_by", {}).get("S") == token)
            raise BoardUnavailable(describe_error(error)) from error
        except BotoCoreError as error:
            raise BoardUnavailable(describe_error(error)) from error
        return True

    def refresh(self, now: float) -> Snapshot:
        """List what is pending (as of `now`, before the list is asked) and write it."""
        try:
            snapshot = Snapshot.of(self._list_pending(), now)
        except (ClientError, BotoCoreError) as error:
            raise BoardUnavailable(f"ListCertificates: {describe_error(error)}") from error
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression=(
                    "SET refreshed_at = :now, pending = :pending, overflowed = :overflowed, "
                    "expiration = :ttl"
                ),
                ConditionExpression=(
                    "attribute_not_exists(refreshed_at) OR NOT attribute_type(refreshed_at, :n) "
                    "OR refreshed_at < :now OR refreshed_at > :ahead"
                ),
                ExpressionAttributeValues={
                    ":n": {"S": "N"},
                    ":now": number_attribute(now),
                    ":pending": {"S": " ".join(sorted(snapshot.pending))},
                    ":overflowed": {"BOOL": snapshot.overflowed},
                    ":ttl": number_attribute(int(now) + BOARD_TTL_SECONDS),
                    ":ahead": number_attribute(now + AHEAD_TOLERANCE),
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise BoardUnavailable(describe_error(error)) from error
            # A newer refresh was written meanwhile: this one is still true as of `now`.
        except BotoCoreError as error:
            raise BoardUnavailable(describe_error(error)) from error
        return snapshot

    def current(self, now: float, *, may_refresh: bool = True) -> Snapshot | None:
        """The board, refreshed first if it is due, this waiter `may_refresh` (has the time)
        and wins the claim."""
        board = self.read()
        due = board is None or (board.needs_refresh(now) and not board.claim_held(now))
        if may_refresh and due and self.claim(now):
            return self.refresh(now)
        return board


class Board(Protocol):
    def current(self, now: float, *, may_refresh: bool = True) -> Snapshot | None: ...


class BoardWatch:
    """One certificate's wait on the board, across the polls of one invocation."""

    def __init__(self, board: Board, arn: str, rng: random.Random | None = None) -> None:
        self._board = board
        self._arn = arn
        self._rng = rng or random.Random()
        self.seen_at: float | None = None
        self._unseen_refreshes: set[float | None] = set()
        self._broken_until = float("-inf")

    def wait(self, waiter: Waiter, state: Continuation, reason: Reason) -> None:
        """Wait until the certificate should ask DescribeCertificate again: at once when it
        left the board; at its paced interval when the board is not usable or does not list
        it yet (read again at that moment); once a refresh another
        waiter holds is written or abandoned; after `SAFETY_INTERVAL` at the latest."""
        clock = waiter.clock
        started = clock.now()
        paced = state.polls.next_interval(started)
        while True:
            may_refresh = (
                waiter.remaining_seconds() - HANDOFF_MARGIN_SECONDS >= REFRESH_WORST_SECONDS
            )
            board = self._look(clock.now(), may_refresh=may_refresh)
            # Judged as of after the look: a read, claim and refresh take time (seconds when
            # DynamoDB or ACM are slow), and a board written meanwhile must not look ahead.
            now = clock.now()
            verdict = judge(
                board, self._arn, now, seen_at=self.seen_at, started=started, paced=paced
            )
            self.seen_at = verdict.seen_at
            usable = board is not None and board.usable(now)
            on_board = usable and board is not None and board.lists(self._arn)
            if usable and board is not None and not on_board and self.seen_at is None:
                # Never listed yet: the list's consistency, or never will be (counted per
                # refresh, however often this waiter reads the same one).
                self._unseen_refreshes.add(board.refreshed_at)
            if verdict.describe_at <= now:
                if usable and not on_board:
                    self.seen_at = None  # trusted once: seen again before trusted again
                return
            # About a second to the next read while the board may change the verdict; else
            # the certificate polls alone at `describe_at` and looks again at the next wait.
            step = READ_EVERY * (1.0 - READ_JITTER * self._rng.random())
            until = min(step, verdict.describe_at - now) if verdict.look_again else None
            waiter.wait(state, until if until is not None else verdict.describe_at - now, 0, reason)
            if clock.now() <= now:
                # The budget allowed no sleep (the hand-off margin reached exactly): poll, as a
                # paced wait would, rather than look again at a clock that does not move.
                return

    def _look(self, now: float, *, may_refresh: bool) -> Snapshot | None:
        """The board, or None when it is broken or has never listed the certificate in
        `UNSEEN_LIMIT` refreshes (its key type or hierarchy is not listed, or ACM says otherwise):
        the certificate polls alone."""
        unseen = len(self._unseen_refreshes)
        if now < self._broken_until or (self.seen_at is None and unseen >= UNSEEN_LIMIT):
            return None
        try:
            return self._board.current(now, may_refresh=may_refresh)
        except BoardUnavailable as error:
            self._broken_until = now + BROKEN_FOR
            logger.warning(
                "Status board not usable; polling alone",
                extra={"certificate_arn": self._arn, "error": str(error)[:300]},
            )
            return None


def _snapshot(item: dict[str, Any]) -> Snapshot:
    refreshed = item.get("refreshed_at", {}).get("N")
    claimed = item.get("claimed_at", {}).get("N")
    pending = item.get("pending", {}).get("S", "")
    return Snapshot(
        refreshed_at=float(refreshed) if refreshed is not None else None,
        pending=frozenset(pending.split()),
        overflowed=bool(item.get("overflowed", {}).get("BOOL", False)),
        claimed_at=float(claimed) if claimed is not None else None,
    )
