"""Gathering what the diagnosis decides from: Route 53 read back, public DNS asked.

The lifecycle calls `Diagnoser.run` once the records have been in place for a while without
issuance, at the deadline, and when ACM gives up (VALIDATION_TIMED_OUT, CAA_ERROR). Route 53 is
read through the same `HostedZoneService` (account or role) the records were written with.
A diagnosis never raises: whatever goes wrong is logged, and the caller goes on without one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .clients import error_code, error_message
from .diagnosis import Diagnosis, DnsAnswer, Observations, ZoneReadBack, diagnose
from .dns import HostedZoneService
from .dnsprobe import DnsSettings
from .planning import ValidationRecord

logger = Logger(child=True)

#: name -> (the Route 53 service the record was written with, the zone id).
ZoneMap = Mapping[str, tuple[HostedZoneService, str]]


@dataclass(frozen=True)
class Diagnoser:
    dns: DnsSettings

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Diagnoser:
        return cls(DnsSettings.from_environment(os.environ if environ is None else environ))

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
        zone_map = zones()
        public = self.dns.session(max(0.0, budget_seconds))
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
                    read_backs[key] = read_back(service, zone_id, record)
                zone = read_backs[key]
                if not zone.error:
                    delegation = public.query(zone.zone_name, "NS")
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


def read_back(service: HostedZoneService, zone_id: str, record: ValidationRecord) -> ZoneReadBack:
    """The zone's name, delegation set and the record's values; an unreadable zone says why
    (a role without route53:GetHostedZone or route53:ListResourceRecordSets, say)."""
    try:
        zone_name, servers = service.delegation_set(zone_id)
        values = service.record_values(zone_id, record.name, record.type)
    except ClientError as error:
        return ZoneReadBack(zone_id, error=f"{error_code(error)}: {error_message(error)}"[:160])
    except BotoCoreError as error:
        return ZoneReadBack(zone_id, error=f"{type(error).__name__}: {error}"[:160])
    return ZoneReadBack(zone_id, zone_name, servers, values)
