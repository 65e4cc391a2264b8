"""Delivering the answer to CloudFormation's presigned ResponseURL.

Replaces crhelper's sender, which connects over HTTPS whatever the URL says, waits forever on
a silent socket, counts a 403 as delivered and retries in an endless loop. This one honours the
scheme (only `https`, and `http` to a loopback host for the local world: anything else is
refused before any network attempt), bounds every attempt and the whole delivery, treats any
non-2xx status and any transport error as a failed attempt, and keeps the body within
CloudFormation's 4096-byte limit. The URL is a credential: it is never logged, not even in part.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(child=True)

MAX_BODY_BYTES = 4096
MAX_REASON_CHARACTERS = 1024

Sender = Callable[[str, Mapping[str, Any], float], None]


class AnswerNotDeliveredError(Exception):
    """Every attempt to PUT the answer failed; CloudFormation will time the resource out.

    `may_have_arrived`: some attempt ended without S3's answer (a timeout, a dropped
    connection), so the object may have been written; False when every attempt was refused
    (an HTTP error status, a URL never tried): CloudFormation has not read this answer."""

    def __init__(self, message: str, *, may_have_arrived: bool = True) -> None:
        super().__init__(message)
        self.may_have_arrived = may_have_arrived


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The JSON body, shrunk to fit: optional Data attributes go first, largest first."""
    fitted = dict(body)
    fitted["Reason"] = str(fitted.get("Reason", ""))[:MAX_REASON_CHARACTERS]
    data = dict(fitted.get("Data") or {})
    encoded = json.dumps({**fitted, "Data": data}).encode()
    protected = {"Arn"}
    dropped: list[str] = []
    while len(encoded) > MAX_BODY_BYTES and set(data) - protected:
        units: dict[str, list[str]] = {}
        for key in sorted(set(data) - protected, key=_natural_order):
            units.setdefault(_drop_unit(key), []).append(key)
        # The largest first; among equals the later one, so the same attributes always go.
        largest = max(
            units,
            key=lambda unit: (
                sum(len(json.dumps(data[key])) for key in units[unit]),
                _natural_order(unit),
            ),
        )
        for key in units[largest]:
            dropped.append(key)
            del data[key]
        encoded = json.dumps({**fitted, "Data": data}).encode()
    if dropped:
        logger.warning(
            "Attributes dropped to keep the answer within 4096 bytes",
            extra={"dropped": len(dropped), "kept": len(data), "attributes": dropped},
        )
    if len(encoded) > MAX_BODY_BYTES:
        encoded = _with_reason_cut_to_fit(fitted, data)
    return encoded


def _with_reason_cut_to_fit(fitted: dict[str, Any], data: Mapping[str, Any]) -> bytes:
    """The longest prefix of the reason (plus "...") that fits: JSON escapes a non-ASCII
    character as up to twelve bytes, so bytes over the limit do not say how many to cut."""
    reason = str(fitted["Reason"])

    def encoded_with(length: int) -> bytes:
        return json.dumps({**fitted, "Reason": reason[:length] + "...", "Data": data}).encode()

    fits, too_long = 0, len(reason)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if len(encoded_with(middle)) <= MAX_BODY_BYTES:
            fits = middle
        else:
            too_long = middle
    return encoded_with(fits)


_RECORD_ATTRIBUTE = re.compile(r"^(ValidationRecord\d+)(?:Name|Value)$")


def _drop_unit(key: str) -> str:
    """A record's Name and Value are dropped together: one without the other is no record."""
    match = _RECORD_ATTRIBUTE.match(key)
    return match.group(1) if match else key


def _natural_order(key: str) -> tuple[tuple[int, str], ...]:
    """ValidationRecord9 before ValidationRecord10."""
    parts = re.split(r"(\d+)", key)  # text, number, text, ...: the numbers at odd positions
    return tuple((int(part), "") if i % 2 else (-1, part) for i, part in enumerate(parts))


def send_answer(
    url: str,
    body: Mapping[str, Any],
    budget_seconds: float = 60.0,
    *,
    attempt_timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """PUT the answer, retrying with backoff while the budget lasts.

    A URL this sender does not accept (see `url_problem`) is refused at once: no attempt, no wait.
    """
    refused = url_problem(url)
    if refused is not None:
        logger.error("Answer not sent: ResponseURL refused", extra={"problem": refused})
        raise AnswerNotDeliveredError(
            f"Answer not sent: the ResponseURL {refused}", may_have_arrived=False
        )
    payload = encode_body(body)
    give_up_at = monotonic() + budget_seconds
    attempt = 0
    unanswered = False
    while True:
        attempt += 1
        # Never longer than asked for; near the end of the budget, still at least a second.
        timeout = min(attempt_timeout, max(1.0, give_up_at - monotonic()))
        problem = _put(url, payload, timeout)
        unanswered = unanswered or (problem is not None and not problem.startswith(REFUSED))
        if problem is None:
            logger.info(
                "Answer delivered",
                extra={"status": body.get("Status"), "attempt": attempt, "bytes": len(payload)},
            )
            return
        delay = min(8.0, 0.5 * 2**attempt)
        logger.warning("Answer not delivered", extra={"attempt": attempt, "problem": problem})
        if monotonic() + delay >= give_up_at:
            raise AnswerNotDeliveredError(
                f"Answer not delivered after {attempt} attempts: {problem}",
                may_have_arrived=unanswered,
            )
        sleep(delay)


#: Host names that always mean this machine; IP addresses are checked with `ipaddress`.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def url_problem(url: object) -> str | None:
    """Why the sender refuses `url` (never quoting any part of it), or None when it may be used.

    CloudFormation's presigned URLs are https; plain http is accepted only to a loopback host
    (127.0.0.0/8, ::1, localhost), where the local CloudFormation and the tests listen.
    """
    if not isinstance(url, str):
        return f"is not a string ({type(url).__name__})"
    if not url.strip():
        return "is empty"
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if not parts.scheme:
        return "has no scheme (https expected)"
    if parts.scheme not in ("https", "http"):
        return "does not use https (the only scheme accepted, with http to a loopback host)"
    if not host:
        return "has no host"
    if parts.scheme == "http" and not _is_loopback(host):
        return "uses plain http to a host that is not loopback (https expected)"
    return None


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: How `_put` begins a problem S3 answered (an HTTP error status: nothing was written).
REFUSED = "HTTP "


def _put(url: str, payload: bytes, timeout: float) -> str | None:
    """None when delivered, else a description that does not contain the URL.

    Every exception is a failed attempt, never a crash: the caller retries within its budget.
    """
    try:
        request = urllib.request.Request(
            url,
            data=payload,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(payload))},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return f"{REFUSED}{error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"{type(error).__name__}: {type(reason).__name__}"
    except Exception as error:
        # http.client's errors (InvalidURL, RemoteDisconnected...), a TypeError from a handler:
        # only the type is reported, because a message may quote the URL.
        return type(error).__name__
    return None if 200 <= status < 300 else f"{REFUSED}{status}"
