"""Pure decisions: no AWS calls, no clock. Everything here is unit-tested without moto."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from .names import base_name, normalize_name
from .properties import CertificateIdentity, CertificateProperties

IDEMPOTENCY_TOKEN_LENGTH = 32
#: Identity fields added after certificates were first tagged with a fingerprint: left out of
#: the fingerprint while None, so a certificate without them keeps the fingerprint it has
#: (otherwise every such certificate would be replaced by its next update).
_FINGERPRINT_OPTIONAL = frozenset({"export", "root_hierarchy_type", "certificate_usage"})


@dataclass(frozen=True)
class ValidationRecord:
    """The CNAME ACM asks for to prove control of `domain_name`."""

    domain_name: str
    name: str
    type: str
    value: str


@dataclass(frozen=True)
class UpdatePlan:
    replace: bool
    why: str


def idempotency_token(stack_id: str, logical_id: str, request_id: str) -> str:
    """ACM's token must match ^\\w{1,32}$; a RequestId (36 characters with hyphens) does not.

    Hashing the stack, the logical id and the request gives a token that is the same for every
    delivery of one request and different for any other request, stack or resource.
    """
    digest = hashlib.sha256(f"{stack_id}\n{logical_id}\n{request_id}".encode()).hexdigest()
    return digest[:IDEMPOTENCY_TOKEN_LENGTH]


def identity_fingerprint(identity: CertificateIdentity) -> str:
    """A stable digest of what ACM fixes at request time, stored as a tag on the certificate."""
    canonical = {
        key: sorted(value) if isinstance(value, frozenset) else value
        for key, value in asdict(identity).items()
        if not (key in _FINGERPRINT_OPTIONAL and value is None)
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:40]


def decide_update(
    old: CertificateProperties | None,
    new: CertificateProperties,
    current_fingerprint: str | None,
) -> UpdatePlan:
    """Replace the certificate only when what ACM fixed at request time must change.

    The certificate's own fingerprint tag is the truth when present: a rollback Update sends
    the old properties back with the old certificate's physical id, and comparing properties
    alone would then request a third certificate. Without the tag (or without parseable old
    properties) the old and new properties are compared.
    """
    desired = new.identity()
    if current_fingerprint is not None:
        if current_fingerprint == identity_fingerprint(desired):
            return UpdatePlan(False, "the certificate already has the requested names and keys")
        return UpdatePlan(True, _identity_difference(old.identity() if old else None, desired))
    if old is None:
        return UpdatePlan(True, "the previous properties could not be read")
    if old.identity() == desired:
        return UpdatePlan(False, "only properties that can change in place differ")
    return UpdatePlan(True, _identity_difference(old.identity(), desired))


def _identity_difference(old: CertificateIdentity | None, new: CertificateIdentity) -> str:
    if old is None:
        return "the certificate does not match the requested properties"
    labels = {
        "domain_name": "DomainName",
        "names": "the set of names",
        "validation_method": "ValidationMethod",
        "certificate_authority_arn": "CertificateAuthorityArn",
        "key_algorithm": "KeyAlgorithm",
        "region": "Region",
        "validation_domains": "ValidationDomain",
        "export": "CertificateExport (Options.Export)",
        "root_hierarchy_type": "RootHierarchyType",
        "certificate_usage": "CertificateUsage",
    }
    changed = [label for key, label in labels.items() if getattr(old, key) != getattr(new, key)]
    return "changed: " + ", ".join(changed) if changed else "the certificate does not match"


def zone_candidates(name: str) -> list[str]:
    """Zone names that could hold `name`'s record, most specific first (the name itself too)."""
    labels = base_name(normalize_name(name)).split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


def configured_zone(properties: CertificateProperties, name: str) -> str | None:
    """The zone the user named for `name`: per-name first, then the resource default."""
    option = properties.option_for(name)
    if option and option.hosted_zone_id:
        return option.hosted_zone_id
    return properties.hosted_zone_id


def group_records_by_zone[Zone](
    records: Iterable[ValidationRecord], zone_for_name: Mapping[str, Zone]
) -> dict[Zone, tuple[ValidationRecord, ...]]:
    """One batch per zone, one change per record name.

    `example.com` and `*.example.com` share one CNAME; two changes for one name in a Route 53
    batch fail the whole batch, so each record name appears once per zone.
    """
    batches: dict[Zone, dict[str, ValidationRecord]] = {}
    for record in records:
        zone = zone_for_name[record.domain_name]
        batches.setdefault(zone, {}).setdefault(normalize_name(record.name), record)
    return {zone: tuple(by_name.values()) for zone, by_name in batches.items()}


def record_attributes(
    names: Sequence[str], records: Mapping[str, ValidationRecord]
) -> dict[str, str]:
    """Each name's record as flat string attributes for `Fn::GetAtt`, in the order of the names
    (DomainName first, then the distinct SubjectAlternativeNames), plus all of them as JSON."""
    attributes: dict[str, str] = {}
    for index, name in enumerate(names):
        record = records.get(name)
        if record:
            attributes[f"ValidationRecord{index}Name"] = record.name
            attributes[f"ValidationRecord{index}Value"] = record.value
    attributes["ValidationRecords"] = json.dumps(
        [
            {"DomainName": name, "Name": r.name, "Type": r.type, "Value": r.value}
            for name in names
            if (r := records.get(name))
        ],
        separators=(",", ":"),
    )
    return attributes


def pending_names(names: Sequence[str], records: Mapping[str, ValidationRecord]) -> list[str]:
    return [name for name in names if name not in records]


def tag_changes(
    current: Mapping[str, str], desired: Mapping[str, str], keep_prefix: str
) -> tuple[dict[str, str], list[str]]:
    """Tags to add or overwrite, and keys to remove (never the resource's own tags)."""
    to_add = {key: value for key, value in desired.items() if current.get(key) != value}
    to_remove = [key for key in current if key not in desired and not key.startswith(keep_prefix)]
    return to_add, sorted(to_remove)


@dataclass(frozen=True)
class WriteRecords:
    """Every name's record is known (or the certificate is issued already): write them now."""


@dataclass(frozen=True)
class Wait:
    """Not done yet. `for_records`: ACM has not published every record yet (they appear seconds
    after the request: poll fast); otherwise the records are in place and issuance is awaited."""

    for_records: bool


@dataclass(frozen=True)
class Done:
    """Converged. `issued`: ACM issued it; otherwise no wait for issuance was asked for."""

    issued: bool


@dataclass(frozen=True)
class Fail:
    """ACM gave up on the certificate (a terminal status): nothing left to wait for."""


type NextAction = WriteRecords | Wait | Done | Fail


def next_action(
    properties: CertificateProperties,
    *,
    issued: bool,
    failed: bool,
    records_published: bool,
    records_written: bool,
) -> NextAction:
    """What the wait for one certificate does after one DescribeCertificate.

    `records_published`: ACM shows a record for every name; `records_written`: the records were
    handled already (written, or handed to the template as attributes). After a WriteRecords,
    ask again with `records_written=True` for what follows in the same poll.
    """
    if failed:
        return Fail()
    records_needed = properties.uses_dns_validation and not records_written
    if records_needed and (records_published or issued):
        return WriteRecords()
    if issued:
        return Done(issued=True)
    # ManageDnsRecords "false" hands DNS records over instead of waiting; EMAIL and
    # private certificates have none to hand over, so they wait like any other.
    waits = properties.wait_for_issuance and (
        properties.manage_dns_records or not properties.uses_dns_validation
    )
    if not waits and not records_needed:
        return Done(issued=False)
    return Wait(for_records=records_needed)
