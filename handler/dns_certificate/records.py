"""Validation records, one home for them: each name's hosted zone (found or checked once per
invocation, and carried to the next one in the continuation), writing the CNAMEs, reading them
back and repairing them. Deleting those no certificate of the account needs any more, after a
Delete, is cleanup.py's.

The lifecycle decides *when*; this module knows *how*. Every Route 53 call goes through a
`HostedZoneService`, one per account (role) per invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

from .clients import ClientFactory
from .continuation import CarriedZone
from .dns import HostedZoneService
from .errors import HostedZoneGoneError
from .names import normalize_name
from .planning import ValidationRecord, configured_zone, group_records_by_zone, zone_candidates
from .properties import MAX_NAMES, CertificateProperties
from .tagging import Tag
from .validation_options import Route53Access
from .zonetag import MANUAL, NO_RECORDS, ZONES_TAG, encode, unrecorded

logger = Logger(child=True)

#: A name's zone and the account (role) that holds it.
Zone = tuple[Route53Access, str]
#: What is remembered of a name's zone: the account (role) asked, the name, the zone the user
#: named (None: searched) -> (zone id, zone name).
_ZoneKey = tuple[Route53Access, str, str | None]


def _field_of(properties: CertificateProperties, index: int, name: str) -> str:
    """The property a configured zone came from, for the reason when it is wrong."""
    for position, option in enumerate(properties.validation_options):
        if option.domain_name == name and option.hosted_zone_id:
            return f"DomainValidationOptions[{position}].HostedZoneId"
    if configured_zone(properties, name):
        return "HostedZoneId"
    return "DomainName" if index == 0 else f"SubjectAlternativeNames '{name}'"


def role_session_name(stack_id: str, logical_id: str) -> str:
    """Identifies the stack's resource in the DNS account's CloudTrail (≤ 64 characters)."""
    stack_name = stack_id.split("/")[1] if "/" in stack_id else ""
    # A stack name may have 128 characters: shorten it, never the logical id.
    stack_name = stack_name[: max(0, 64 - len(f"dnscert--{logical_id}"))]
    raw = f"dnscert-{stack_name}-{logical_id}"
    return "".join(c if c.isalnum() or c in "+=,.@-_" else "-" for c in raw)[:64]


def zones_tag(properties: CertificateProperties, zones: Mapping[str, Zone]) -> Tag:
    """The tag that lets the renewal guard find each record's zone from the certificate alone
    (zonetag.py); a reason instead when the zones cannot or need not be recorded."""
    if not properties.uses_dns_validation:
        return Tag(ZONES_TAG, unrecorded(NO_RECORDS))
    if not properties.manage_dns_records:
        return Tag(ZONES_TAG, unrecorded(MANUAL))
    return Tag(ZONES_TAG, encode(zones.values()))


class ValidationRecords:
    """Zones, writes, read-backs and repairs of one resource's validation records.

    Each name's zone is resolved once per invocation (write, read-back, diagnosis and clean-up
    share it) and, through `carried_zones` / `remember`, once per request: a later invocation
    of a continuation looks none up again. A write to a zone that is gone looks them up again
    once (`write`).
    """

    def __init__(self, clients: ClientFactory, session_name: str) -> None:
        self._clients = clients
        self._session_name = session_name
        self._services: dict[Route53Access, HostedZoneService] = {}
        self._resolved: dict[_ZoneKey, tuple[str, str]] = {}
        #: From the continuation: name -> (zone id, zone name), trusted only where it fits.
        self._carried: dict[str, tuple[str, str]] = {}
        #: Batches this invocation has written (zone, records): not written again by it.
        self._upserted: set[tuple[Zone, tuple[ValidationRecord, ...]]] = set()

    @property
    def default_region(self) -> str:
        """The function's own region."""
        return self._clients.default_region

    def dns(self, access: Route53Access) -> HostedZoneService:
        """One Route 53 session per account (role) per invocation."""
        if access not in self._services:
            if access.role_arn:
                client = self._clients.route53_as(access, self._session_name)
            else:
                client = self._clients.route53()
            account = (
                f"the account of role {access.role_arn}" if access.role_arn else "this account"
            )
            self._services[access] = HostedZoneService(client, account)
        return self._services[access]

    # ---- zones --------------------------------------------------------------------------

    def remember(self, zones: Iterable[CarriedZone]) -> None:
        """The zones an earlier invocation of this request resolved (its continuation)."""
        for name, zone_id, zone_name in zones:
            self._carried[name] = (zone_id, zone_name)

    def carried_zones(self) -> tuple[CarriedZone, ...]:
        """Every zone known now, for the next invocation: those resolved or used by this one
        first, then those carried and not needed yet; at most one per name, MAX_NAMES."""
        known = {name: zone for (_, name, _), zone in self._resolved.items()}
        for name, zone in self._carried.items():
            known.setdefault(name, zone)
        return tuple((name, *zone) for name, zone in known.items())[:MAX_NAMES]

    def zones(self, properties: CertificateProperties) -> dict[str, Zone]:
        """Each name's zone and the account it lives in, found (or, when named, checked) before
        anything is requested. Empty when the resource writes no records.

        Resolved once per invocation, with one `HostedZoneService.prepare` per account for all
        names to search (see its call counts); a zone carried from an earlier invocation is
        used without a call when the name is the certificate's, the zone's name can hold its
        record and, if the user named a zone, it is that one.
        """
        if not properties.writes_dns_records:
            return {}
        wanted = [
            (index, name, properties.route53_for(name), configured_zone(properties, name))
            for index, name in enumerate(properties.all_names)
        ]
        unknown = [
            (index, (access, name, configured))
            for index, name, access, configured in wanted
            if not self._known((access, name, configured))
        ]
        searched: dict[Route53Access, list[str]] = {}
        for _, (access, name, configured) in unknown:
            if configured is None:
                searched.setdefault(access, []).append(name)
        for access, names in searched.items():
            self.dns(access).prepare(names)
        for index, key in unknown:
            access, name, configured = key
            field = _field_of(properties, index, name)
            dns = self.dns(access)
            if configured:
                self._resolved[key] = dns.checked_zone(configured, name, field=field)
            else:
                self._resolved[key] = dns.public_zone(name, field=field)
        return {
            name: (access, self._resolved[(access, name, configured)][0])
            for _, name, access, configured in wanted
        }

    def _known(self, key: _ZoneKey) -> bool:
        """Resolved in this invocation, or carried and fitting (then remembered as resolved)."""
        if key in self._resolved:
            return True
        _, name, configured = key
        carried = self._carried.get(name)
        if carried is None:
            return False
        zone_id, zone_name = carried
        if zone_name not in zone_candidates(name) or configured not in (None, zone_id):
            return False
        self._resolved[key] = carried
        return True

    def _forget(self, zone: Zone) -> None:
        """A zone turned out to be gone: look up again every name that used it."""
        access, zone_id = zone
        for key in [k for k, v in self._resolved.items() if k[0] == access and v[0] == zone_id]:
            del self._resolved[key]
        for name in [n for n, (carried_id, _) in self._carried.items() if carried_id == zone_id]:
            del self._carried[name]
        self.dns(access).forget_zones()

    def zone_services(
        self, properties: CertificateProperties
    ) -> dict[str, tuple[HostedZoneService, str]]:
        """Each name's zone with the service that reads it (for the diagnosis)."""
        return {
            name: (self.dns(access), zone_id)
            for name, (access, zone_id) in self.zones(properties).items()
        }

    # ---- write --------------------------------------------------------------------------

    def write(
        self, properties: CertificateProperties, records: Mapping[str, ValidationRecord]
    ) -> None:
        """UPSERT every known record, one batch per zone (a repeated write changes nothing).

        A zone that is gone (deleted, or recreated with a new id, since it was resolved,
        possibly by an earlier invocation) makes the zones be looked up again, once; the
        batches not written yet are then written where the names' zones are now.

        A batch this invocation already wrote is not written again: a write retried after
        Route 53 throttled one of its zones would otherwise spend the account's quota (5
        changes/s, shared) on the zones it had written each time, and the throttled zone could
        stay throttled until the deadline.
        """
        zones = self.zones(properties)
        written: set[str] = set()
        looked_up_again = False
        while True:
            batches = group_records_by_zone(
                (
                    record
                    for name, record in records.items()
                    if name in zones and name not in written
                ),
                zones,
            )
            for zone, batch in batches.items():
                access, zone_id = zone
                if (zone, batch) in self._upserted:
                    written.update(name for name, each in zones.items() if each == zone)
                    continue
                try:
                    self.dns(access).upsert_records(zone_id, batch)
                except HostedZoneGoneError:
                    if looked_up_again:
                        raise
                    logger.warning(
                        "Hosted zone gone; looking the zones up again",
                        extra={"hosted_zone_id": zone_id, "route53_role_arn": access.role_arn},
                    )
                    looked_up_again = True
                    self._forget(zone)
                    zones = self.zones(properties)
                    break
                self._upserted.add((zone, batch))
                written.update(name for name, each in zones.items() if each == zone)
                logger.info(
                    "Validation records written",
                    extra={
                        "hosted_zone_id": zone_id,
                        "route53_role_arn": access.role_arn,
                        "records": [r.name for r in batch],
                    },
                )
            else:
                return

    # ---- read back ----------------------------------------------------------------------

    def read_back(self, zone: Zone, record: ValidationRecord) -> dict[str, Any] | None:
        """The record set the zone holds under the record's name, as Route 53 lists it."""
        access, zone_id = zone
        return self.dns(access).record_set(zone_id, record.name, record.type)

    def holds(self, zone: Zone, record: ValidationRecord) -> bool:
        """The zone holds the record with exactly ACM's value (and nothing else)."""
        rrset = self.read_back(zone, record)
        return rrset is not None and holds_exactly(rrset, record)

    def zone_name(self, zone: Zone) -> str:
        """The zone's name (GetHostedZone), to match records to the zones recorded in a tag."""
        access, zone_id = zone
        name, _ = self.dns(access).delegation_set(zone_id)
        return name

    # ---- repair -------------------------------------------------------------------------

    def repair(
        self,
        zones: Mapping[str, Zone],
        records: Mapping[str, ValidationRecord],
        still_wanted: Callable[[], bool] = lambda: True,
        time_left: Callable[[], None] = lambda: None,
    ) -> tuple[str, ...]:
        """Read each record back and UPSERT only those missing or holding another value, one
        batch per zone; the record names repaired. Raises on Route 53 errors (the caller
        decides what a failure means).

        `still_wanted` is asked right before each write: a Delete with clean-up may have
        deleted the certificate, then its records, while they were being read back (they
        then read as missing); writing them would leave records no certificate needs.
        `time_left` raises before each Route 53 call when the invocation has no time for it."""
        batches = group_records_by_zone(
            (record for name, record in records.items() if name in zones), zones
        )
        repaired: list[str] = []
        for zone, batch in batches.items():
            broken: list[ValidationRecord] = []
            for record in batch:
                time_left()
                if not self.holds(zone, record):
                    broken.append(record)
            if not broken:
                continue
            time_left()
            if not still_wanted():
                logger.info(
                    "Validation records not repaired: the certificate is gone or no longer "
                    "renews (deleted meanwhile?)",
                    extra={"records": [record.name for record in broken]},
                )
                break
            access, zone_id = zone
            self.dns(access).upsert_records(zone_id, tuple(broken))
            logger.info(
                "Validation records repaired (missing or changed)",
                extra={
                    "hosted_zone_id": zone_id,
                    "route53_role_arn": access.role_arn,
                    "records": [record.name for record in broken],
                },
            )
            repaired += [record.name for record in broken]
        return tuple(repaired)


def holds_exactly(rrset: Mapping[str, Any], record: ValidationRecord) -> bool:
    """The record set, as Route 53 lists it, holds ACM's value for the record and nothing else."""
    values = {normalize_name(str(r.get("Value", ""))) for r in rrset.get("ResourceRecords", [])}
    return values == {normalize_name(record.value)}
