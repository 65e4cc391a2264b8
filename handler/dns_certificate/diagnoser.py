"""Gathering what the diagnosis decides from: Route 53 read back, public DNS asked.

The lifecycle calls `Diagnoser.run` once the records have been in place for a while without
issuance, at the deadline, and when ACM gives up (VALIDATION_TIMED_OUT, CAA_ERROR). Route 53 is
read through the same `HostedZoneService` (account or role) the records were written with.
A diagnosis never raises: whatever goes wrong is logged, and the caller goes on without one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .clients import error_code, error_message
from .diagnosis import (
    SERVFAIL,
    UNREACHABLE,
    Diagnosis,
    DnsAnswer,
    Observations,
    ZoneReadBack,
    diagnose,
)
from .dns import HostedZoneService
from .planning import ValidationRecord

if TYPE_CHECKING:  # dnspython is imported on the first diagnosis, not at cold start
    from .dnsprobe import DnsSettings, PublicDns

logger = Logger(child=True)

#: name -> (the Route 53 service the record was written with, the zone id).
ZoneMap = Mapping[str, tuple[HostedZoneService, str]]


class Diagnoser:
    """Diagnoses with public DNS asked as `dns` says; without `dns`, as DNS_RESOLVERS says.

    Most invocations never diagnose, and dnspython costs about 120 ms to import: it is
    imported, and DNS_RESOLVERS read, on the first diagnosis (then kept for the container).
    """

    def __init__(
        self, dns: DnsSettings | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self._dns = dns
        self._environ = environ

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Diagnoser:
        return cls(environ=environ)

    @property
    def dns(self) -> DnsSettings:
        if self._dns is None:
            from .dnsprobe import DnsSettings

            self._dns = DnsSettings.from_environment(
                os.environ if self._environ is None else self._environ
            )
        return self._dns

    def run(
        self,
        arn: str,
        names: Sequence[str],
        records: Mapping[str, ValidationRecord],
        zones: Callable[[], ZoneMap],
        *,
        moment: str,
        budget_seconds: float,
    ) -> list[Diagnosis]:
        """One diagnosis per pending name with a validation record, each logged as a warning
        with every check's result; [] when it could not be made."""
        try:
            diagnoses = self._diagnose(names, records, zones, budget_seconds)
        except Exception as error:
            logger.warning(
                "Could not diagnose why the certificate is not validated",
                extra={"certificate_arn": arn, "error": f"{type(error).__name__}: {error}"[:300]},
            )
            return []
        for diagnosis in diagnoses:
            logger.warning(
                f"Not validated ({moment}): {diagnosis.domain_name}: {diagnosis.finding}",
                extra={
                    "certificate_arn": arn,
                    "moment": moment,
                    "diagnosis": diagnosis.to_log(),
                },
            )
        return diagnoses

    def _diagnose(
        self,
        names: Sequence[str],
        records: Mapping[str, ValidationRecord],
        zones: Callable[[], ZoneMap],
        budget_seconds: float,
    ) -> list[Diagnosis]:
        pending = [name for name in names if name in records]
        if not pending:
            return []
        public = self.dns.session(max(0.0, budget_seconds))
        zone_map = zones()
        # One GetHostedZone per zone, one ListResourceRecordSets per record name, in the
        # order of the names (the first is the reason's), and none once the budget is spent:
        # Route 53 answers 5 requests a second, and 100 names must not delay the answer.
        delegations: dict[tuple[int, str], ZoneReadBack] = {}
        read_backs: dict[tuple[int, str, str], ZoneReadBack] = {}
        diagnoses = []
        for name in pending:
            record = records[name]
            zone: ZoneReadBack | None = None
            delegation: DnsAnswer | None = None
            if name in zone_map:
                service, zone_id = zone_map[name]
                key = (id(service), zone_id, record.name)
                if key not in read_backs:
                    if public.remaining() <= 0:
                        read_backs[key] = ZoneReadBack(
                            zone_id, error="not read, the diagnosis' time budget is spent"
                        )
                    else:
                        zone_key = (id(service), zone_id)
                        if zone_key not in delegations:
                            delegations[zone_key] = read_delegation(service, zone_id)
                        read_backs[key] = read_back(service, delegations[zone_key], record)
                zone = read_backs[key]
                if not zone.error:
                    delegation = _delegation(public, zone.zone_name)
            observations = Observations(
                domain_name=name,
                record_name=record.name,
                record_value=record.value,
                zone=zone,
                delegation=delegation,
                cname=public.query(record.name, "CNAME"),
                caa=public.caa(name),
            )
            diagnoses.append(diagnose(observations))
        return diagnoses


def _delegation(public: PublicDns, zone_name: str) -> DnsAnswer:
    """The zone's NS answer; SERVFAIL only when the parent zone resolves (the resolver
    works, so the zone's delegation is what fails), else UNREACHABLE."""
    answer = public.query(zone_name, "NS")
    if answer.kind == SERVFAIL:
        parent = zone_name.partition(".")[2] or "."
        if not public.query(parent, "NS").reachable:
            return DnsAnswer(UNREACHABLE, error=answer.error)
    return answer


def _unreadable(zone_id: str, error: Exception) -> ZoneReadBack:
    if isinstance(error, ClientError):
        return ZoneReadBack(zone_id, error=f"{error_code(error)}: {error_message(error)}"[:160])
    return ZoneReadBack(zone_id, error=f"{type(error).__name__}: {error}"[:160])


def read_delegation(service: HostedZoneService, zone_id: str) -> ZoneReadBack:
    """The zone's name and delegation set; an unreadable zone says why (a role without
    route53:GetHostedZone, say)."""
    try:
        zone_name, servers = service.delegation_set(zone_id)
    except (ClientError, BotoCoreError) as error:
        return _unreadable(zone_id, error)
    return ZoneReadBack(zone_id, zone_name, servers)


def read_back(
    service: HostedZoneService, zone: ZoneReadBack, record: ValidationRecord
) -> ZoneReadBack:
    """`zone` (read by `read_delegation`) with the record's values; an unreadable zone says why
    (a role without route53:ListResourceRecordSets, say)."""
    if zone.error:
        return zone
    try:
        values = service.record_values(zone.zone_id, record.name, record.type)
    except (ClientError, BotoCoreError) as error:
        return _unreadable(zone.zone_id, error)
    return replace(zone, record_values=values)
