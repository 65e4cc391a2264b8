"""Waiting beyond one invocation: the state carried forward, and the asynchronous self-invoke.

The first invocation starts the clock; each later one receives the original CloudFormation
event plus a `Continuation` entry. The ResponseURL stays inside the invocation payload and is
never written anywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .errors import ContinuationError
from .pacing import PollHistory
from .properties import MAX_NAMES
from .validation_options import is_hosted_zone_id

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

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
    def from_event(cls, event: Mapping[str, Any]) -> Continuation | None:
        data = event.get(CONTINUATION_KEY)
        if data is None:
            return None
        if not isinstance(data, Mapping):
            # Not a first invocation: restarting would reset the deadline and the hop guard.
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


def next_event(event: Mapping[str, Any], state: Continuation) -> dict[str, Any]:
    if state.hop + 1 > MAX_HOPS:
        raise ContinuationError(
            f"Gave up after {MAX_HOPS} invocations; raise the function's timeout"
        )
    payload = dict(event)
    payload[CONTINUATION_KEY] = state.advanced(hop=state.hop + 1).to_json()
    return payload


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
