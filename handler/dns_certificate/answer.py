"""Delivering the answer to CloudFormation's presigned ResponseURL.

Replaces crhelper's sender, which connects over HTTPS whatever the URL says, waits forever on
a silent socket, counts a 403 as delivered and retries in an endless loop. This one honours the
scheme, bounds every attempt and the whole delivery, treats any non-2xx status as a failure,
and keeps the body within CloudFormation's 4096-byte limit. The URL is a credential: it is
never logged, not even in part.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(child=True)

MAX_BODY_BYTES = 4096
MAX_REASON_CHARACTERS = 1024

Sender = Callable[[str, Mapping[str, Any], float], None]


class AnswerNotDeliveredError(Exception):
    """Every attempt to PUT the answer failed; CloudFormation will time the resource out."""


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
        overflow = len(encoded) - MAX_BODY_BYTES
        fitted["Reason"] = fitted["Reason"][: max(0, len(fitted["Reason"]) - overflow - 3)] + "..."
        encoded = json.dumps({**fitted, "Data": data}).encode()
    return encoded


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
    """PUT the answer, retrying with backoff while the budget lasts."""
    payload = encode_body(body)
    give_up_at = monotonic() + budget_seconds
    attempt = 0
    while True:
        attempt += 1
        # Never longer than asked for; near the end of the budget, still at least a second.
        timeout = min(attempt_timeout, max(1.0, give_up_at - monotonic()))
        problem = _put(url, payload, timeout)
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
                f"Answer not delivered after {attempt} attempts: {problem}"
            )
        sleep(delay)


def _put(url: str, payload: bytes, timeout: float) -> str | None:
    """None when delivered, else a description that does not contain the URL."""
    request = urllib.request.Request(
        url,
        data=payload,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(payload))},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return f"{type(error).__name__}: {type(reason).__name__}"
    return None if 200 <= status < 300 else f"HTTP {status}"
