"""What arrives at the function, sorted before anything acts on it (pure: no AWS, no network).

Four kinds of payload reach the handler: a CloudFormation custom-resource request (maybe with
this resource's own `Continuation`), a Lambda on-failure destination record wrapping such a
request whose invocation died (timeout, crash, retries exhausted), an EventBridge event for the
renewal guard (ACM's renewal and expiry events, the scheduled sweep), and anything else. Every
malformed request gets one clear answer when it carries a usable ResponseURL, or a logged
refusal when it does not: never a crash, never an answer on another request's URL. EventBridge
events carry no ResponseURL and are never answered: one the guard does not know is ignored.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REQUEST_TYPES = frozenset({"Create", "Update", "Delete"})
#: Keys crhelper honours for its own EventBridge polling; never from a caller.
CRHELPER_PRIVATE_PREFIX = "CrHelper"
IDENTITY_FIELDS = ("StackId", "RequestId", "LogicalResourceId")
MAX_IDENTITY_LENGTH = 2048


@dataclass(frozen=True)
class Refusal:
    """Not a request this function can answer: logged, nothing sent, nothing touched."""

    why: str


@dataclass(frozen=True)
class Malformed:
    """A request that can be answered, but only with FAILED and this reason."""

    event: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class Request:
    """A well-formed CloudFormation request, with crhelper's private keys removed."""

    event: dict[str, Any]


@dataclass(frozen=True)
class DeadInvocation:
    """Lambda gave up on an invocation of `event` (its on-failure destination record)."""

    event: dict[str, Any]
    condition: str


@dataclass(frozen=True)
class CertificateEvent:
    """ACM says a certificate needs attention: check its validation records (guard.py)."""

    detail_type: str
    arns: tuple[str, ...]


@dataclass(frozen=True)
class SweepEvent:
    """The scheduled sweep: check every certificate the resource created (guard.py)."""


@dataclass(frozen=True)
class IgnoredEvent:
    """An EventBridge event the function does not handle: logged (not in full), ignored."""

    source: str
    detail_type: str
    why: str


Intake = (
    Refusal | Malformed | Request | DeadInvocation | CertificateEvent | SweepEvent | IgnoredEvent
)

ACM_SOURCE = "aws.acm"
#: ACM's events for one certificate (in `resources`) that a missing record may be behind.
GUARDED_DETAIL_TYPES = frozenset(
    {"ACM Certificate Renewal Action Required", "ACM Certificate Approaching Expiration"}
)
SCHEDULE_SOURCE = "aws.events"
SCHEDULE_DETAIL_TYPE = "Scheduled Event"
#: At most this many characters of an ignored event's source and detail-type are logged.
MAX_LOGGED_TEXT = 80
#: ARNs in one event: ACM names one certificate; more is not an event of ACM's.
MAX_EVENT_RESOURCES = 10


def usable_response_url(url: object) -> bool:
    """https anywhere; http only to this machine (the local CloudFormation)."""
    if not isinstance(url, str) or not url:
        return False
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and is_loopback(parts.hostname)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def classify(payload: object) -> Intake:
    if not isinstance(payload, Mapping):
        return Refusal(f"the payload is a {type(payload).__name__}, not an object")
    if "requestPayload" in payload and "requestContext" in payload:
        return _dead_invocation(payload)
    if _is_eventbridge(payload):
        return _eventbridge(payload)
    return _request(payload)


def _eventbridge(event: Mapping[str, Any]) -> Intake:
    """ACM's renewal/expiry events and the scheduled sweep; anything else is ignored."""
    source, detail_type = event.get("source"), event.get("detail-type")
    shown_source = str(source)[:MAX_LOGGED_TEXT]
    shown_type = str(detail_type)[:MAX_LOGGED_TEXT]
    if source == SCHEDULE_SOURCE and detail_type == SCHEDULE_DETAIL_TYPE:
        return SweepEvent()
    # A detail-type that is not a string (a list, an object) cannot be looked up in a set.
    if source != ACM_SOURCE or not isinstance(detail_type, str):
        return IgnoredEvent(shown_source, shown_type, "not an event the renewal guard handles")
    if detail_type not in GUARDED_DETAIL_TYPES:
        return IgnoredEvent(shown_source, shown_type, "not an event the renewal guard handles")
    resources = event.get("resources")
    if not isinstance(resources, list) or not 1 <= len(resources) <= MAX_EVENT_RESOURCES:
        return IgnoredEvent(shown_source, shown_type, "malformed: no list of certificate ARNs")
    arns = tuple(dict.fromkeys(arn for arn in resources if _is_certificate_arn(arn)))
    if len(arns) != len(set(map(str, resources))):
        return IgnoredEvent(shown_source, shown_type, "malformed: a resource is not an ACM ARN")
    return CertificateEvent(str(detail_type), arns)


def _is_certificate_arn(value: object) -> bool:
    """`arn:<partition>:acm:<region>:<account>:certificate/<id>`, nothing else."""
    if not isinstance(value, str) or len(value) > MAX_IDENTITY_LENGTH:
        return False
    parts = value.split(":")
    return (
        len(parts) == 6
        and parts[0] == "arn"
        and parts[1].startswith("aws")
        and parts[2] == "acm"
        and bool(parts[3])
        and parts[4].isdigit()
        and parts[5].startswith("certificate/")
        and len(parts[5]) > len("certificate/")
    )


def _dead_invocation(record: Mapping[str, Any]) -> Intake:
    context = record.get("requestContext")
    condition = context.get("condition") if isinstance(context, Mapping) else None
    shown_condition = str(condition or "unknown")[:MAX_LOGGED_TEXT]
    payload = record.get("requestPayload")
    if _is_eventbridge(payload) and isinstance(payload, Mapping):
        # The renewal guard's invocation died (a sweep that ran out of time, say): there is no
        # stack to answer, and the next event or sweep checks the certificates again.
        return IgnoredEvent(
            str(payload.get("source"))[:MAX_LOGGED_TEXT],
            str(payload.get("detail-type"))[:MAX_LOGGED_TEXT],
            f"a renewal guard invocation ended unfinished ({shown_condition}); the next event "
            "or sweep checks again",
        )
    inner = _request(payload)
    if not isinstance(inner, Request | Malformed):
        return inner
    return DeadInvocation(inner.event, str(condition or "unknown"))


def _is_eventbridge(payload: object) -> bool:
    return (
        isinstance(payload, Mapping)
        and "ResponseURL" not in payload
        and "detail-type" in payload
        and "source" in payload
    )


def _request(payload: object) -> Intake:
    if not isinstance(payload, Mapping):
        return Refusal("the request is not an object")
    event = {k: v for k, v in payload.items() if not str(k).startswith(CRHELPER_PRIVATE_PREFIX)}
    if not usable_response_url(event.get("ResponseURL")):
        return Refusal("no usable ResponseURL (https, or http to loopback for local runs)")
    for field in IDENTITY_FIELDS:
        value = event.get(field)
        if not isinstance(value, str) or not value or len(value) > MAX_IDENTITY_LENGTH:
            return Refusal(f"{field} is missing or not a string")
    request_type = event.get("RequestType")
    if request_type not in REQUEST_TYPES:
        event["RequestType"] = "Create" if request_type != "Delete" else request_type
        return Malformed(
            event, f"RequestType {str(request_type)[:40]!r} is not one of Create, Update, Delete"
        )
    physical_id = event.get("PhysicalResourceId")
    if physical_id is not None and not isinstance(physical_id, str):
        return Malformed(event, "PhysicalResourceId is not a string")
    for field in ("ResourceProperties", "OldResourceProperties"):
        if field in event and event[field] is not None and not isinstance(event[field], Mapping):
            return Malformed(event, f"{field} must be an object")
    if "Continuation" in event and not isinstance(event["Continuation"], Mapping):
        return Malformed(event, "The continuation state is malformed: not an object")
    return Request(event)


def hop_of(event: Mapping[str, Any]) -> int:
    """The invocation's place in its chain (0: CloudFormation's own delivery)."""
    state = event.get("Continuation")
    if not isinstance(state, Mapping):
        return 0
    hop = state.get("hop", 0)
    return hop if isinstance(hop, int) and not isinstance(hop, bool) and hop >= 0 else 0
