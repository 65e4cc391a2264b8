"""Waiting beyond one invocation: the state carried forward, and the asynchronous self-invoke.

The first invocation starts the clock; each later one receives the original CloudFormation
event plus a `Continuation` entry that carries nothing but an unguessable **reference** (and the
hop, for the logs and the requests table's keys). The state itself lives in the requests table,
written by the invocation that hands off, bound to the event it continues (a digest of the
whole event, ResponseURL included, never the URL itself). Holding the reference is the only way
to continue, as with a Step Functions task token: a reference that is unknown, stale, already
superseded by a later hand-off, or presented with another event is refused before any other
AWS call. The ResponseURL stays inside the invocation payload and is never written anywhere else.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .errors import ContinuationError, StateUnavailableError, StoredStateUnreadableError
from .pacing import PollHistory
from .properties import MAX_NAMES
from .validation_options import is_hosted_zone_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient

logger = Logger(child=True)

CONTINUATION_KEY = "Continuation"
#: A guard against a runaway chain: an hour of 900-second invocations is 5 hops; a function
#: configured with a short timeout needs more, but never this many.
MAX_HOPS = 240

#: Phases move one way.
REQUESTED = "requested"
RECORDS_WRITTEN = "records_written"
#: An update answered without touching a certificate that can no longer serve.
UNTOUCHED = "untouched"
#: An email → DNS migration started (migration.py), and its records written.
MIGRATING = "migrating"
MIGRATION_RECORDS_WRITTEN = "migration_records_written"
PHASES = frozenset({REQUESTED, RECORDS_WRITTEN, UNTOUCHED, MIGRATING, MIGRATION_RECORDS_WRITTEN})
#: Clocks of two invocations may differ a little; a start further in the future is forged.
CLOCK_SKEW_SECONDS = 60.0
#: No request lives longer than CloudFormation's hour: an older start is replayed or forged.
MAX_AGE_SECONDS = 3600.0 + 600.0

SelfInvoke = Callable[[str, Mapping[str, Any]], None]

#: A certificate name, the id of the hosted zone its record goes to, and that zone's name.
CarriedZone = tuple[str, str, str]
#: A DNS name has at most 253 characters (255 with a wildcard's "*.").
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class Continuation:
    action: str  # create | replace | in_place | delete
    started_at: float
    deadline: float
    hop: int = 0
    phase: str = REQUESTED
    certificate_arn: str | None = None
    #: When the validation records were written (the diagnosis runs 5 minutes later), and
    #: whether it has run: both carried across hand-offs; absent from older payloads.
    records_written_at: float | None = None
    diagnosed: bool = False
    #: The zones resolved so far, so that a later invocation looks none of them up again
    #: (records.ValidationRecords: used only for the certificate's own names, and only where
    #: they fit). At most one per name: 100 x ~530 characters, far below Lambda's 256 KB.
    zones: tuple[CarriedZone, ...] = ()
    #: What the polls of ACM saw (throttled or answered, when): the learned poll interval
    #: survives a hand-off. Read leniently: a forged or oversized history is cut to its
    #: bounded size or read as none, which only costs a faster first poll.
    polls: PollHistory = field(default_factory=PollHistory)

    def advanced(self, **changes: Any) -> Continuation:
        return replace(self, **changes)

    def check(self, *, actions: tuple[str, ...], latest_deadline: float, now: float) -> None:
        """Refuse a state this resource cannot have written: it would steer what is touched."""
        problem = None
        if self.action not in actions:
            problem = f"action {self.action[:20]!r} does not belong to this request type"
        elif not 1 <= self.hop <= MAX_HOPS:
            problem = f"hop {self.hop} is outside 1..{MAX_HOPS}"
        elif self.phase not in PHASES:
            problem = f"phase {self.phase[:20]!r} is unknown"
        elif self.started_at > now + CLOCK_SKEW_SECONDS or now - self.started_at > MAX_AGE_SECONDS:
            problem = "its start is not within the last hour"
        elif not self.started_at <= self.deadline <= latest_deadline + 1.0:
            problem = "its deadline is later than ServiceTimeout allows"
        elif self.certificate_arn is not None and not _looks_like_certificate_arn(
            self.certificate_arn
        ):
            problem = "certificate_arn is not an ACM certificate ARN"
        elif self.records_written_at is not None and not (
            self.started_at - CLOCK_SKEW_SECONDS
            <= self.records_written_at
            <= now + CLOCK_SKEW_SECONDS
        ):
            problem = "records_written_at is not within the request's life"
        if problem:
            raise ContinuationError(f"The continuation state is refused: {problem}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("zones")
        if self.zones:  # JSON's own shape; absent when empty, as in payloads before the field
            data["zones"] = [list(zone) for zone in self.zones]
        data["polls"] = self.polls.as_json()
        return data

    @classmethod
    def from_json(cls, data: object) -> Continuation:
        """The state as the handing-off invocation stored it (read strictly all the same)."""
        if not isinstance(data, Mapping):
            raise ContinuationError("The continuation state is malformed: not an object")
        try:
            # Exactly the JSON types this resource writes: a hop of "2" or true would be read
            # as one hop here and keyed as another in the requests table.
            return cls(
                action=_typed(data, "action", str),
                started_at=float(_typed(data, "started_at", (int, float))),
                deadline=float(_typed(data, "deadline", (int, float))),
                hop=_typed(data, "hop", int, 0),
                phase=_typed(data, "phase", str, REQUESTED),
                certificate_arn=_typed(data, "certificate_arn", str, None),
                records_written_at=_optional_float(data.get("records_written_at")),
                diagnosed=data.get("diagnosed", False) is True,
                zones=_zones(data.get("zones")),
                polls=PollHistory.from_json(data.get("polls")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ContinuationError(f"The continuation state is malformed: {error}") from error


_MISSING = object()


def _typed(data: Mapping[str, Any], key: str, kind: Any, default: Any = _MISSING) -> Any:
    value = data.get(key, _MISSING)
    if value is _MISSING or (value is None and default is None):
        if default is _MISSING:
            raise KeyError(key)
        return default
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{key} is not a {getattr(kind, '__name__', 'number')}")
    return value


def _optional_float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("records_written_at is not a number")
    return float(value)


def _zones(value: object) -> tuple[CarriedZone, ...]:
    """Exactly what `Continuation.zones` holds, or TypeError/ValueError: a list of at most
    MAX_NAMES [name, zone id, zone name] entries of short strings and well-formed ids."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError("zones is not a list")
    if len(value) > MAX_NAMES:
        raise ValueError(f"zones has more than {MAX_NAMES} entries")
    zones: list[CarriedZone] = []
    for entry in value:
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and all(isinstance(part, str) and 0 < len(part) <= MAX_NAME_LENGTH for part in entry)
        ):
            raise TypeError("zones holds an entry that is not [name, zone id, zone name]")
        name, zone_id, zone_name = entry
        if not is_hosted_zone_id(zone_id):
            raise ValueError("zones holds an entry whose zone id is not a hosted zone id")
        zones.append((name, zone_id, zone_name))
    return tuple(zones)


def _looks_like_certificate_arn(value: str) -> bool:
    parts = value.split(":")
    return (
        len(parts) == 6
        and parts[:3] == ["arn", parts[1], "acm"]
        and parts[5].startswith("certificate/")
    )


def next_event(
    event: Mapping[str, Any], state: Continuation, store: ContinuationStore
) -> dict[str, Any]:
    """The next invocation's payload: the event as received, and a reference to the state
    stored for it (the state itself never travels in the payload)."""
    if state.hop + 1 > MAX_HOPS:
        raise ContinuationError(
            f"Gave up after {MAX_HOPS} invocations; raise the function's timeout"
        )
    original = original_event(event)
    following = state.advanced(hop=state.hop + 1)
    reference = store.save(binding_of(original), following)
    payload = dict(original)
    payload[CONTINUATION_KEY] = {REFERENCE_KEY: reference, "hop": following.hop}
    return payload


# ---- the stored state ---------------------------------------------------------------------

REFERENCE_KEY = "reference"
STATE_PREFIX = "continuation#"
#: A reference is 256 random bits, URL-safe: 43 characters.
REFERENCE_BYTES = 32
#: States expire (the table's TTL) after the longest a request can live, with room.
STATE_SECONDS = 24 * 3600


def original_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudFormation event without the continuation entry."""
    return {key: value for key, value in event.items() if key != CONTINUATION_KEY}


def binding_of(event: Mapping[str, Any]) -> str:
    """A digest of the whole event a state continues (ResponseURL included): a reference
    presented with any other event, or another URL, is refused."""
    canonical = json.dumps(original_event(event), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def reference_of(event: Mapping[str, Any]) -> tuple[str, int] | None:
    """The reference and hop a continuation event carries; None for a first invocation."""
    data = event.get(CONTINUATION_KEY)
    if data is None:
        return None
    if not isinstance(data, Mapping):
        # Not a first invocation: restarting would reset the deadline and the hop guard.
        raise ContinuationError("The continuation state is malformed: not an object")
    reference, hop = data.get(REFERENCE_KEY), data.get("hop")
    if not (isinstance(reference, str) and 20 <= len(reference) <= 100 and reference.isascii()):
        raise ContinuationError("The continuation is refused: it carries no valid reference")
    if isinstance(hop, bool) or not isinstance(hop, int):
        raise ContinuationError("The continuation is refused: its hop is not a number")
    return reference, hop


def load_state(event: Mapping[str, Any], store: ContinuationStore) -> Continuation | None:
    """The state this continuation event's reference names, or None for a first invocation.

    Raises ContinuationError (refused, with the reason logged) for a reference that is unknown,
    stale, superseded, or presented with another event or hop: nothing else is asked of AWS."""
    carried = reference_of(event)
    if carried is None:
        return None
    reference, hop = carried
    stored = store.load(reference)
    if stored is None:
        raise ContinuationError("The continuation is refused: its reference is unknown or expired")
    if stored.superseded:
        raise ContinuationError("The continuation is refused: its reference was already used")
    if not secrets.compare_digest(stored.binding, binding_of(event)):
        raise ContinuationError("The continuation is refused: its reference is for another request")
    state = stored.state  # bound to this very event: unreadable now means answer FAILED
    if state.hop != hop:
        raise ContinuationError("The continuation is refused: its hop is not the stored one")
    return state


@dataclass(frozen=True)
class StoredState:
    binding: str
    #: The state as stored: parsed only once the reference is known to belong to the event.
    data: object
    superseded: bool = False

    @property
    def state(self) -> Continuation:
        try:
            return Continuation.from_json(self.data)
        except ContinuationError as error:
            raise StoredStateUnreadableError(
                "The continuation's stored state is unreadable"
            ) from error


class ContinuationStore(Protocol):
    def save(self, binding: str, state: Continuation) -> str:
        """Store the state; the reference to it."""
        ...

    def supersede_others(self, binding: str, reference: str) -> None:
        """The next invocation was handed `reference`: every earlier state of the event is used
        up. Called only once the hand-off was accepted, so that an invocation killed between
        storing the state and invoking is continued by Lambda's retry, not refused."""
        ...

    def load(self, reference: str) -> StoredState | None: ...


def _reference_key(reference: str) -> str:
    """The table holds a digest of the reference, never the reference itself."""
    return STATE_PREFIX + hashlib.sha256(reference.encode()).hexdigest()


class MemoryContinuations:
    """States kept in this process: tests and runs without a requests table (which then cannot
    wait beyond one invocation in Lambda: every invocation is a new process there)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, StoredState] = {}
        self._latest: dict[str, str] = {}

    def save(self, binding: str, state: Continuation) -> str:
        reference = secrets.token_urlsafe(REFERENCE_BYTES)
        with self._lock:
            self._states[_reference_key(reference)] = StoredState(binding, state.to_json())
        return reference

    def supersede_others(self, binding: str, reference: str) -> None:
        key = _reference_key(reference)
        with self._lock:
            previous = self._latest.get(binding)
            if previous is not None and previous != key:
                old = self._states[previous]
                self._states[previous] = StoredState(old.binding, old.data, superseded=True)
            self._latest[binding] = key

    def load(self, reference: str) -> StoredState | None:
        with self._lock:
            return self._states.get(_reference_key(reference))


class DynamoDBContinuations:
    """States as items of the requests table; one more item per binding names the latest."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def save(self, binding: str, state: Continuation) -> str:
        reference = secrets.token_urlsafe(REFERENCE_BYTES)
        key = _reference_key(reference)
        expiration = {"N": str(int(time.time()) + STATE_SECONDS)}
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": key},
                    "binding": {"S": binding},
                    "state": {"S": json.dumps(state.to_json(), separators=(",", ":"))},
                    "expiration": expiration,
                },
                ConditionExpression="attribute_not_exists(id)",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Error")
            raise ContinuationError(
                f"Could not store the state for the next invocation in the requests table "
                f"({code}); check the table and the function's role"
            ) from error
        return reference

    def supersede_others(self, binding: str, reference: str) -> None:
        key = _reference_key(reference)
        expiration = {"N": str(int(time.time()) + STATE_SECONDS)}
        try:
            previous = self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": STATE_PREFIX + "latest#" + binding}},
                UpdateExpression="SET latest = :key, expiration = :expiration",
                ExpressionAttributeValues={":key": {"S": key}, ":expiration": expiration},
                ReturnValues="UPDATED_OLD",
            ).get("Attributes", {})
            old_key = previous.get("latest", {}).get("S")
            if old_key and old_key != key:
                self._client.update_item(
                    TableName=self._table,
                    Key={"id": {"S": old_key}},
                    UpdateExpression="SET superseded = :yes",
                    ConditionExpression="attribute_exists(id)",
                    ExpressionAttributeValues={":yes": {"BOOL": True}},
                )
        except ClientError as error:
            # The next invocation runs already; a replay of an older state stays possible
            # until it hands off in turn (its claims keep the answer single).
            logger.warning(
                "Could not mark the earlier continuation states as used",
                extra={"error": str(error)[:300]},
            )

    def load(self, reference: str) -> StoredState | None:
        try:
            item = self._client.get_item(
                TableName=self._table,
                Key={"id": {"S": _reference_key(reference)}},
                ConsistentRead=True,
            ).get("Item")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Error")
            raise StateUnavailableError(
                f"Could not read the continuation's state from the requests table ({code})"
            ) from error
        if not item or float(item.get("expiration", {}).get("N", "0")) < time.time():
            return None
        try:
            data = json.loads(item["state"]["S"])
            binding = str(item["binding"]["S"])
        except (KeyError, TypeError, ValueError) as error:
            raise ContinuationError("The continuation's stored state is unreadable") from error
        return StoredState(
            binding=binding,
            data=data,
            superseded=bool(item.get("superseded", {}).get("BOOL", False)),
        )


def lambda_self_invoke(client: LambdaClient) -> SelfInvoke:
    """Invoke asynchronously: the caller returns at once and the next invocation takes over."""

    def invoke(function_arn: str, payload: Mapping[str, Any]) -> None:
        response = client.invoke(
            FunctionName=function_arn,
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )
        status = response.get("StatusCode", 0)
        if status != 202:
            raise ContinuationError(f"Lambda did not accept the continuation (status {status})")

    return invoke
