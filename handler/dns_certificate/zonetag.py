"""Where a certificate's validation records go, written on the certificate itself (pure).

The renewal guard (guard.py) runs with nothing but a certificate ARN: no CloudFormation event,
no properties. To put a missing CNAME back it must know each name's hosted zone and whose
Route 53 holds it. The resource therefore tags every certificate it creates (and re-tags it on
every in-place update) with `dns-certificate:zones`, one compact value:

    Z1111111111111 Z2222222222222 @arn:aws:iam::222222222222:role/dns Z3333333333333

Words separated by one space. A zone id alone is a zone of this account; `@<role ARN>` starts
the zones of the account reached through that role (until the next `@`). Zone ids and roles are
listed sorted, each once. The guard reads each zone's name (GetHostedZone) and gives each
validation record the longest recorded zone that can hold its name, as a look-up would.

When the zones cannot be recorded the value is `=<reason>` instead, so the guard can say why:

* `=none`: the resource writes no records (EMAIL or private certificate): nothing to guard;
* `=manual`: ManageDnsRecords "false": the records are the user's to keep;
* `=external-id`: a role needs an external id, which must never be written in a tag;
* `=role`: a role ARN has a character ACM tags do not allow (a comma);
* `=too-long`: the value would exceed ACM's 256 characters.

ACM tag values allow letters, spaces, digits and `_.:/=+-@` (up to 256 characters); the value
uses nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .tagging import RESERVED_TAG_PREFIX
from .validation_options import Route53Access

ZONES_TAG = RESERVED_TAG_PREFIX + "zones"
MAX_VALUE_LENGTH = 256
ROLE_MARK = "@"
REASON_MARK = "="

NO_RECORDS = "none"
MANUAL = "manual"
EXTERNAL_ID = "external-id"
ROLE_CHARACTERS = "role"
TOO_LONG = "too-long"
REASONS = (NO_RECORDS, MANUAL, EXTERNAL_ID, ROLE_CHARACTERS, TOO_LONG)

_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=.@/-]{1,512}$")


@dataclass(frozen=True)
class RecordedZones:
    """The zones a certificate's records were written to, each with its account (role)."""

    zones: tuple[tuple[Route53Access, str], ...]


@dataclass(frozen=True)
class Unrecorded:
    """Why the zones are not on the certificate (one of REASONS)."""

    reason: str


ZoneTag = RecordedZones | Unrecorded


def encode(zones: Iterable[tuple[Route53Access, str]]) -> str:
    """The tag value for these zones (a reason when they cannot be written in a tag)."""
    by_role: dict[str | None, set[str]] = {}
    for access, zone_id in zones:
        if access.external_id:
            return REASON_MARK + EXTERNAL_ID
        if access.role_arn and not _ROLE_ARN.match(access.role_arn):
            return REASON_MARK + ROLE_CHARACTERS
        if not _ZONE_ID.match(zone_id):
            raise ValueError(f"not a hosted zone id: {zone_id[:40]!r}")
        by_role.setdefault(access.role_arn, set()).add(zone_id)
    if not by_role:
        return REASON_MARK + NO_RECORDS
    words = sorted(by_role.pop(None, set()))
    for role in sorted(role for role in by_role if role):
        words += [ROLE_MARK + role, *sorted(by_role[role])]
    value = " ".join(words)
    if len(value) > MAX_VALUE_LENGTH:
        return REASON_MARK + TOO_LONG
    return value


def unrecorded(reason: str) -> str:
    """The tag value saying why the zones are not recorded."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    return REASON_MARK + reason


def decode(value: str) -> ZoneTag:
    """The zones (or the reason) a tag value holds; ValueError when it is not one of ours."""
    if value.startswith(REASON_MARK):
        reason = value[len(REASON_MARK) :]
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason[:40]!r}")
        return Unrecorded(reason)
    access = Route53Access()
    zones: list[tuple[Route53Access, str]] = []
    for word in value.split(" "):
        if word.startswith(ROLE_MARK):
            role = word[len(ROLE_MARK) :]
            if not _ROLE_ARN.match(role):
                raise ValueError(f"not a role ARN: {role[:60]!r}")
            access = Route53Access(role_arn=role)
        elif _ZONE_ID.match(word):
            zones.append((access, word))
        else:
            raise ValueError(f"not a hosted zone id: {word[:40]!r}")
    if not zones:
        raise ValueError("no hosted zone")
    return RecordedZones(tuple(zones))
