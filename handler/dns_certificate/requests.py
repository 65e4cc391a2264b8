"""The requests table: which CloudFormation requests are answered, which invocations run.

Lambda retries a failed or timed-out invocation (after about 1 and 2 more minutes) and may
deliver any event more than once, also at the same time. Two kinds of claim per request make
that harmless:

* the **answer** claim, taken right before the answer is sent: a second claimant sends
  nothing, and every invocation looks it up first, so a request that was answered changes
  nothing any more;
* one **hop** claim per invocation of the chain (the original event is hop 0, each
  continuation the next): a duplicate of a hop that completed (answered or handed off) does
  nothing.

A claim knows its owner (the invocation's request id and a nonce made for this invocation:
`for_invocation`) and holds a **lease**, a moment after which its owner counts as dead. A
conditional write that fails is resolved by reading the item it failed on (DynamoDB hands it
back with the failure): our own claim (a write that landed, whose response was lost and
whose retry met it) → carry on; completed → nothing to do; another owner's live lease → step
aside; a lease that passed → take over. Nothing is concluded without that evidence.

* A hop's lease is `LEASE_SECONDS` (never past its invocation's end), renewed every
  `RENEW_EVERY` by a thread of the invocation while it runs: a hop that dies without its
  `finally` (out of memory, the sandbox killed) leaves a lease that passes before Lambda's
  retry comes, which takes over. A delivery that finds another's live lease *fails* (raises
  `ClaimHeld`): Lambda retries it later, and a record of it reaching the on-failure destination
  answers FAILED only once the hop's lease is seen not renewed (`hop_alive`).
* The answer's lease covers its delivery (`ANSWER_LEASE_SECONDS`, the sender's budget and
  more), and the claim stores the answer itself (the body, before it is sent). A claimant
  that died while sending leaves a claim a retry may take: nobody can know whether its PUT
  arrived (the presigned URL can only be written), so the retry sends *the stored body*,
  byte for byte, never one of its own. CloudFormation then reads one answer: the same S3
  object, written again with the same bytes, or written for the first time.

Keys are digests of the stack, the logical id, the request id, a digest of the ResponseURL (and
the hop): never the URL itself, which is a credential. A delivery with another ResponseURL is
another request here: an event that copies a live request's ids but not its URL, arriving
first, gets its own records and cannot take the answer, or the hop, of CloudFormation's own
delivery. Records outlive CloudFormation's one-hour limit and Lambda's six-hour event age
(DynamoDB's TTL removes them a day later). If the table cannot be reached, the resource still
answers — a second answer is better than none — and says so in the log.

The conditional writes are this module's own rather than Powertools idempotency's
(`DynamoDBPersistenceLayer`, used before): its in-progress record stores no owner, its
"already exists" error cannot tell our own landed write from another invocation's, and it has
no lease to renew.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .clients import describe_error, error_code, number_attribute
from .deadline import Clock, SystemClock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(child=True)

#: How long the records are kept: past CloudFormation's hour and Lambda's 6-hour event age.
RECORD_SECONDS = 24 * 3600
ANSWER_PREFIX = "answer"
HOP_PREFIX = "hop"
#: A running hop's lease: shorter than Lambda's first retry delay (about a minute), so that a
#: hop that died without releasing its claim has lost it when the retry comes.
LEASE_SECONDS = 40.0
#: How often a running hop renews its lease (several renewals fit in one lease: a slow or
#: throttled table call does not let it lapse).
RENEW_EVERY = 10.0
#: How often the on-failure path re-reads a live hop claim to see whether it is renewed.
WATCH_EVERY = 2.0
#: An answer claim's lease: the sender's budget (30 s, answer.py) and the table calls around it.
ANSWER_LEASE_SECONDS = 45.0
#: A claim written again when the item it failed on was gone, or its lease passed, by the
#: time it was read (another claimant released it meanwhile).
CLAIM_ATTEMPTS = 3
CLAIMED, DONE = "claimed", "done"

Outcome = Literal["won", "done", "held"]


@dataclass(frozen=True)
class AnswerClaim:
    """This invocation may send the answer, and this is the answer to send: the one first
    claimed for the request (a dead claimant's, stored before its PUT) or else its own."""

    body: Mapping[str, Any]
    #: True when the body is a dead claimant's, sent again as it was.
    resent: bool = False


class ClaimHeld(Exception):  # noqa: N818 - an outcome: fail so that Lambda retries
    """Another delivery holds a live claim on this hop. The invocation fails, so that Lambda
    retries it: the retry runs if the holder died meanwhile, does nothing if it completed,
    and the on-failure destination's record answers FAILED only for a holder seen dead."""


@dataclass(frozen=True)
class RequestKey:
    """One CloudFormation request, as every delivery of it names it."""

    stack_id: str
    logical_id: str
    request_id: str
    #: sha256 of the ResponseURL (hex): the answer goes to that URL, so it is part of the
    #: request's identity; the URL itself is a credential and is never stored.
    url_digest: str = ""

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> RequestKey:
        url = event.get("ResponseURL")
        return cls(
            event["StackId"],
            event["LogicalResourceId"],
            event["RequestId"],
            url_digest(url) if isinstance(url, str) else "",
        )

    def data(self, **extra: Any) -> dict[str, Any]:
        return {
            "stack_id": self.stack_id,
            "logical_id": self.logical_id,
            "request_id": self.request_id,
            "url": self.url_digest,
            **extra,
        }


def url_digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


class RequestsStore(Protocol):
    """What the protocol layer and the entry point ask of the table."""

    def for_invocation(self, invocation_id: str) -> RequestsStore:
        """The store as one invocation's: every claim it writes names that invocation."""
        ...

    def answered(self, key: RequestKey) -> bool:
        """True when an invocation claimed (and sent, or is sending) this request's answer."""
        ...

    def claim_answer(
        self, key: RequestKey, remaining_ms: int, body: Mapping[str, Any] | None = None
    ) -> AnswerClaim | None:
        """The answer to send when this invocation may send it (also when the table is
        unreachable); None when another invocation sent or is sending it."""
        ...

    def decided_answer(self, key: RequestKey) -> dict[str, Any] | None:
        """The answer an invocation claimed (stored before its PUT) and that is neither sent
        nor being sent: final, since CloudFormation may have read it. None when there is none
        (or the table cannot tell)."""
        ...

    def answer_sent(self, key: RequestKey) -> None: ...

    def release_answer(self, key: RequestKey, *, may_have_arrived: bool = True) -> None:
        """The answer could not be delivered: let another invocation try. When it may have
        arrived, the next one sends it again; when S3 refused every attempt, the next one
        decides its own."""
        ...

    def start_hop(self, key: RequestKey, hop: int, remaining_ms: int) -> bool:
        """True: run the hop (its lease is renewed until `end_hop`). False: another delivery
        of it completed (nothing to do). Raises `ClaimHeld` when another delivery holds it."""
        ...

    def end_hop(self, key: RequestKey, hop: int, *, completed: bool) -> None:
        """`completed`: the hop answered or handed off; otherwise a retry may run it again."""
        ...

    def hop_alive(self, key: RequestKey, hop: int, remaining_seconds: float) -> bool:
        """Whether the hop completed or another delivery of it still runs (its lease renewed,
        watched for up to one lease): the on-failure destination answers only when not."""
        ...


class NoRequestsTable:
    """No REQUESTS_TABLE configured: every invocation acts alone (the pre-table behaviour)."""

    def for_invocation(self, invocation_id: str) -> NoRequestsTable:
        return self

    def answered(self, key: RequestKey) -> bool:
        return False

    def claim_answer(
        self, key: RequestKey, remaining_ms: int, body: Mapping[str, Any] | None = None
    ) -> AnswerClaim | None:
        return AnswerClaim(body or {})

    def decided_answer(self, key: RequestKey) -> dict[str, Any] | None:
        return None

    def answer_sent(self, key: RequestKey) -> None:
        return None

    def release_answer(self, key: RequestKey, *, may_have_arrived: bool = True) -> None:
        return None

    def start_hop(self, key: RequestKey, hop: int, remaining_ms: int) -> bool:
        return True

    def end_hop(self, key: RequestKey, hop: int, *, completed: bool) -> None:
        return None

    def hop_alive(self, key: RequestKey, hop: int, remaining_seconds: float) -> bool:
        return False


@dataclass(frozen=True)
class Claim:
    """A claim item as read."""

    state: str
    owner: str
    lease_until: float
    expires_at: float
    #: An answer claim's answer (JSON), stored before it is sent...
    answer: str | None = None
    #: ...and the claimant that stored it (a refusal of only its own PUTs may unbind it).
    answered_by: str | None = None

    def live(self, now: float) -> bool:
        return self.state == CLAIMED and self.lease_until >= now and self.expires_at >= now


def _claim_of(item: Mapping[str, Any] | None) -> Claim | None:
    """The item as a claim; None when there is none (or it is not one of ours: claimed over)."""
    if not item:
        return None
    try:
        return Claim(
            state=str(item["state"]["S"]),
            owner=str(item["owner"]["S"]),
            lease_until=float(item.get("lease_until", {"N": "0"})["N"]),
            expires_at=float(item.get("expiration", {"N": "0"})["N"]),
            answer=str(item["answer"]["S"]) if "answer" in item else None,
            answered_by=str(item["answered_by"]["S"]) if "answered_by" in item else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


class DynamoDBRequests:
    """The requests table (partition key `id`, TTL attribute `expiration`)."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        *,
        clock: Clock | None = None,
        owner: str | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = client
        #: The table's client, shared with the provider's records and stored states.
        self.client = client
        #: Wall-clock time (leases are compared across invocations and machines).
        self._clock: Clock = clock or SystemClock()
        #: Who this store's claims name; each invocation gets its own (`for_invocation`).
        self.owner = owner or uuid.uuid4().hex
        self._leases: dict[str, _Lease] = {}
        self._leases_lock = threading.Lock()
        #: Answer items whose stored answer this invocation wrote first (no earlier claimant's
        #: PUT of it can have arrived).
        self._own_answers: set[str] = set()

    def for_invocation(self, invocation_id: str) -> DynamoDBRequests:
        """A nonce as well as Lambda's request id: a retry, and possibly a duplicate delivery,
        carry the same request id, and must not take a claim for their own."""
        owner = f"{invocation_id[:64]}/{uuid.uuid4().hex[:12]}"
        return DynamoDBRequests(self.table_name, self._client, clock=self._clock, owner=owner)

    # ---- the answer ---------------------------------------------------------------------

    def answered(self, key: RequestKey) -> bool:
        try:
            claim = _claim_of(self._read(_item_id(ANSWER_PREFIX, key)))
        except Exception as error:  # never keep an invocation from answering
            self._unreachable("looking up the answer", error)
            return False
        if claim is None or claim.expires_at < self._clock.now():
            return False
        # Claimed by a live sender, by this invocation, or sent. A claim whose lease passed:
        # its claimant died while sending, the answer may never have left; a retry may send.
        return claim.state == DONE or claim.owner == self.owner or claim.live(self._clock.now())

    def claim_answer(
        self, key: RequestKey, remaining_ms: int, body: Mapping[str, Any] | None = None
    ) -> AnswerClaim | None:
        lease = min(ANSWER_LEASE_SECONDS, max(0.0, remaining_ms / 1000.0))
        ours = dict(body or {})
        # In the body's own key order: the stored answer, sent again, is the same bytes.
        text = json.dumps(ours, separators=(",", ":"))
        item_id = _item_id(ANSWER_PREFIX, key)
        try:
            outcome, claim = self._claim(item_id, lease, answer=text)
        except Exception as error:  # never keep an invocation from answering
            self._unreachable("claiming the answer", error)
            # An answer stored and still readable is the one sent (never a second one).
            stored = _stored_answer(self._answer_claim(item_id))
            return AnswerClaim(stored, resent=True) if stored else AnswerClaim(ours)
        if outcome == "won":
            if claim is not None and claim.answered_by == self.owner:
                self._own_answers.add(item_id)
            stored = _stored_answer(claim)
            if stored is None or stored == ours:
                return AnswerClaim(ours)
            logger.warning(
                "Sending the answer an earlier invocation claimed and may have sent before it "
                "died, unchanged: CloudFormation reads one answer whether or not it arrived",
                extra={"status": stored.get("Status")},
            )
            return AnswerClaim(stored, resent=True)
        logger.warning(
            "Not answering: another invocation has answered this request"
            if outcome == "done"
            else "Not answering: another invocation is sending this request's answer"
        )
        return None

    def decided_answer(self, key: RequestKey) -> dict[str, Any] | None:
        claim = self._answer_claim(_item_id(ANSWER_PREFIX, key))
        if claim is None or claim.state == DONE or claim.expires_at < self._clock.now():
            return None
        return _stored_answer(claim)

    def answer_sent(self, key: RequestKey) -> None:
        try:
            self._finish(_item_id(ANSWER_PREFIX, key))
        except Exception as error:
            self._unreachable("recording the answer", error)

    def _answer_claim(self, item_id: str) -> Claim | None:
        """The answer item as read; None when there is none or the table cannot tell."""
        try:
            return _claim_of(self._read(item_id))
        except Exception as error:
            self._unreachable("reading the stored answer", error)
            return None

    def release_answer(self, key: RequestKey, *, may_have_arrived: bool = True) -> None:
        item_id = _item_id(ANSWER_PREFIX, key)
        # Only our own PUTs were refused: an earlier claimant's PUT of the same answer (timed
        # out, or killed mid-way) may still have arrived, and keeps it final.
        keep = may_have_arrived or item_id not in self._own_answers
        try:
            self._release(item_id, keep=keep)
        except Exception as error:
            self._unreachable("releasing the answer", error)

    # ---- hops ---------------------------------------------------------------------------

    def start_hop(self, key: RequestKey, hop: int, remaining_ms: int) -> bool:
        item_id = _item_id(HOP_PREFIX, key, hop)
        ends_at = self._clock.now() + max(0.0, remaining_ms / 1000.0)
        try:
            outcome, claim = self._claim(item_id, min(LEASE_SECONDS, ends_at - self._clock.now()))
        except Exception as error:
            self._unreachable("claiming the invocation", error)
            return True
        if outcome == "done":
            logger.info(
                "Not running: another delivery of this invocation has completed it",
                extra={"hop": hop},
            )
            return False
        if outcome == "held":
            lease_left = claim.lease_until - self._clock.now() if claim else 0.0
            logger.warning(
                "Not running: another delivery of this invocation is running (its lease is "
                "live); failing so that Lambda retries",
                extra={"hop": hop, "lease_seconds_left": round(lease_left, 1)},
            )
            raise ClaimHeld(
                f"Another delivery of this invocation (hop {hop}) holds a live claim for "
                f"{lease_left:.0f} s more; Lambda retries this one"
            )
        lease = _Lease(self, item_id, ends_at, hop)
        with self._leases_lock:
            previous = self._leases.pop(item_id, None)
            self._leases[item_id] = lease
        if previous is not None:
            previous.stop()
        lease.start()
        return True

    def end_hop(self, key: RequestKey, hop: int, *, completed: bool) -> None:
        item_id = _item_id(HOP_PREFIX, key, hop)
        with self._leases_lock:
            lease = self._leases.pop(item_id, None)
        if lease is not None:
            lease.stop()
        try:
            if completed:
                self._finish(item_id)
            else:
                self._release(item_id)
        except Exception as error:
            self._unreachable("recording the invocation's end", error)

    def hop_alive(self, key: RequestKey, hop: int, remaining_seconds: float) -> bool:
        """Watched for two renewal periods at most (and `remaining_seconds`): a live lease
        renewed meanwhile, or the hop completed → alive; gone, passed or never renewed → dead."""
        item_id = _item_id(HOP_PREFIX, key, hop)
        try:
            claim = _claim_of(self._read(item_id))
            if claim is None or claim.state == DONE or not claim.live(self._clock.now()):
                return claim is not None and claim.state == DONE
            seen = claim.lease_until
            watch_until = self._clock.now() + min(remaining_seconds, 2 * RENEW_EVERY + WATCH_EVERY)
            while True:
                wait = min(WATCH_EVERY, watch_until - self._clock.now())
                if wait <= 0:
                    return False  # not renewed when it should have been: its holder died
                self._clock.sleep(wait)
                claim = _claim_of(self._read(item_id))
                if claim is None:
                    return False
                if claim.state == DONE or claim.lease_until > seen:
                    return True
                if not claim.live(self._clock.now()):
                    return False
        except Exception as error:
            self._unreachable("looking up the invocation", error)
            return False

    # ---- claims -------------------------------------------------------------------------

    def _claim(
        self, item_id: str, lease_seconds: float, *, answer: str | None = None
    ) -> tuple[Outcome, Claim | None]:
        """Claim `item_id` for `lease_seconds`: "won" (also when the item is our own claim: a
        write that landed but whose response was lost), "done" (completed by anyone), or
        "held" (another owner's live lease), as the item the condition failed on says.

        `answer`, for an answer claim, is stored unless an earlier claimant's is (a claim
        taken over keeps the answer first claimed): the claim returned when won holds it."""
        claim: Claim | None = None
        for _ in range(CLAIM_ATTEMPTS):
            now = self._clock.now()
            values: dict[str, Any] = {
                ":now": number_attribute(now),
                ":claimed": {"S": CLAIMED},
                ":me": {"S": self.owner},
                ":lease": number_attribute(now + max(0.0, lease_seconds)),
                ":ttl": number_attribute(int(now) + RECORD_SECONDS),
            }
            update = "SET #state = :claimed, #owner = :me, lease_until = :lease, expiration = :ttl"
            if answer is not None:
                update += (
                    ", answer = if_not_exists(answer, :answer)"
                    ", answered_by = if_not_exists(answered_by, :me)"
                )
                values[":answer"] = {"S": answer}
            try:
                written = self._client.update_item(
                    TableName=self.table_name,
                    Key={"id": {"S": item_id}},
                    UpdateExpression=update,
                    ConditionExpression=(
                        "attribute_not_exists(id) OR expiration < :now "
                        "OR (#state = :claimed AND lease_until < :now)"
                    ),
                    ExpressionAttributeNames={"#state": "state", "#owner": "owner"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return "won", _claim_of(written.get("Attributes"))
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                item: Any = error.response.get("Item")
                claim = _claim_of(item if item else self._read(item_id))
            if claim is None:
                continue  # released since
            if claim.owner == self.owner:
                return ("done" if claim.state == DONE else "won"), claim
            if claim.state == DONE:
                return "done", claim
            if claim.live(self._clock.now()):
                return "held", claim
        return "held", claim

    def renew(self, item_id: str, lease_until: float) -> bool:
        """Extend this invocation's claim; False when it is no longer ours (or completed)."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"id": {"S": item_id}},
                UpdateExpression="SET lease_until = :until",
                ConditionExpression="#owner = :me AND #state = :claimed",
                ExpressionAttributeNames={"#owner": "owner", "#state": "state"},
                ExpressionAttributeValues={
                    ":until": number_attribute(lease_until),
                    ":me": {"S": self.owner},
                    ":claimed": {"S": CLAIMED},
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _finish(self, item_id: str) -> None:
        now = self._clock.now()
        self._client.update_item(
            TableName=self.table_name,
            Key={"id": {"S": item_id}},
            UpdateExpression="SET #state = :done, #owner = :me, expiration = :ttl",
            ExpressionAttributeNames={"#state": "state", "#owner": "owner"},
            ExpressionAttributeValues={
                ":done": {"S": DONE},
                ":me": {"S": self.owner},
                ":ttl": number_attribute(int(now) + RECORD_SECONDS),
            },
        )

    def _release(self, item_id: str, *, keep: bool = False) -> None:
        """Give up our claim (not another's that took over, nor a completed one): delete it,
        or with `keep` end its lease and owner but keep the item, so that the next claimant
        sends the answer stored in it (an attempt whose response was lost may have arrived)."""
        condition = {
            "ConditionExpression": "#owner = :me AND #state = :claimed",
            "ExpressionAttributeNames": {"#owner": "owner", "#state": "state"},
        }
        mine = {":me": {"S": self.owner}, ":claimed": {"S": CLAIMED}}
        try:
            if keep:
                self._client.update_item(
                    TableName=self.table_name,
                    Key={"id": {"S": item_id}},
                    UpdateExpression="SET lease_until = :passed, #owner = :nobody",
                    ExpressionAttributeValues={
                        **mine,
                        ":passed": number_attribute(0),
                        ":nobody": {"S": ""},
                    },
                    **condition,  # type: ignore[arg-type]
                )
            else:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key={"id": {"S": item_id}},
                    ExpressionAttributeValues=mine,
                    **condition,  # type: ignore[arg-type]
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def _read(self, item_id: str) -> dict[str, Any] | None:
        item = self._client.get_item(
            TableName=self.table_name, Key={"id": {"S": item_id}}, ConsistentRead=True
        ).get("Item")
        return dict(item) if item else None

    def _unreachable(self, what: str, error: Exception) -> None:
        logger.error(
            "The requests table could not be used; carrying on without it (a duplicate "
            "delivery may answer twice)",
            extra={"step": what, "error": describe_error(error)},
        )


class _Lease(threading.Thread):
    """Renews a running hop's lease every `RENEW_EVERY`, never past its invocation's end (in
    a sandbox Lambda froze or killed, this thread stops with it, and the lease passes)."""

    def __init__(self, store: DynamoDBRequests, item_id: str, ends_at: float, hop: int) -> None:
        super().__init__(name=f"lease-{hop}", daemon=True)
        self._store = store
        self._item_id = item_id
        self._ends_at = ends_at
        self._hop = hop
        self._stopped = threading.Event()
        self._keys = logger.thread_safe_get_current_keys()

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(2.0)

    def run(self) -> None:
        logger.thread_safe_append_keys(**self._keys)
        clock = self._store._clock
        while not self._stopped.wait(RENEW_EVERY):
            until = min(clock.now() + LEASE_SECONDS, self._ends_at)
            if until <= clock.now():
                return  # the invocation's end: Lambda stops it now
            try:
                if not self._store.renew(self._item_id, until) and not self._stopped.is_set():
                    logger.error(
                        "This invocation's claim was taken over (its lease had passed)",
                        extra={"hop": self._hop},
                    )
                    return
            except (ClientError, BotoCoreError) as error:
                logger.warning(
                    "Could not renew this invocation's lease; trying again",
                    extra={"hop": self._hop, "error": describe_error(error)},
                )


def _stored_answer(claim: Claim | None) -> dict[str, Any] | None:
    """The answer stored with a claim, when it is one (an unreadable one is not used)."""
    if claim is None or claim.answer is None:
        return None
    try:
        stored = json.loads(claim.answer)
    except ValueError:
        return None
    return stored if isinstance(stored, dict) and stored else None


def _item_id(prefix: str, key: RequestKey, hop: int | None = None) -> str:
    """`<prefix>#<sha256 of the key's fields>`: no id or URL in clear."""
    data = key.data() if hop is None else key.data(hop=hop)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return f"{prefix}#{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()}"
