"""Clean-up after a Delete (CleanupValidationRecords): the validation records of the deleted
certificate that no other certificate of the account needs any more are deleted.

Another certificate needs a record when it shares its name (apex and wildcard share one) and
may still validate or renew; certificates are searched in every region they may be in
(CLEANUP_CHECK_REGIONS). Each record is deleted only as read, holding ACM's value, and the
account is listed a second time afterwards: a record a certificate requested meanwhile needs
is put back. A clean-up never fails a Delete. The records themselves (zones, reads, writes)
are `ValidationRecords`'.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .certificates import CertificateService, region_of
from .clients import describe_error, error_code, error_message
from .errors import InvalidPropertyError
from .listing import list_all_certificates
from .names import base_name, normalize_name
from .planning import ValidationRecord, group_records_by_zone
from .properties import CertificateProperties, parse_properties
from .records import ValidationRecords, Zone, holds_exactly
from .regions import global_certificate_region

logger = Logger(child=True)

#: The function's regions to search for certificates that share a record (comma-separated).
CHECK_REGIONS_VARIABLE = "CLEANUP_CHECK_REGIONS"
#: Statuses in which a certificate can no longer validate or renew: it needs no record. Any
#: other status (PENDING_VALIDATION, ISSUED, INACTIVE, one ACM adds later) keeps the record.
DEAD_STATUSES = frozenset({"EXPIRED", "REVOKED", "FAILED", "VALIDATION_TIMED_OUT"})

#: Seconds the clean-up leaves the invocation: the answer must come before the timer's FAILED.
CLEANUP_RESERVE_SECONDS = 15.0


def check_regions(
    certificate_region: str, function_region: str, recorded: Iterable[str] = ()
) -> list[str]:
    """Where a certificate sharing a record may be: the certificate's own region, then each
    region of CLEANUP_CHECK_REGIONS (default: the function's region and its partition's
    CloudFront certificate region, `regions.global_certificate_region`: us-east-1 in `aws`),
    then every region where the provider's records name a live certificate (so the default is
    safe for every certificate this provider made, wherever it is, without listing regions by
    hand)."""
    configured = os.environ.get(CHECK_REGIONS_VARIABLE)
    listed = (
        [region.strip() for region in configured.split(",")]
        if configured and configured.strip()
        else [function_region, global_certificate_region(function_region) or ""]
    )
    regions: list[str] = []
    for region in (certificate_region, *listed, *sorted(recorded)):
        if region and region not in regions:
            regions.append(region)
    return regions


def record_key(name: str) -> str:
    """The name whose validation CNAME a certificate name uses (apex and wildcard share one)."""
    return base_name(normalize_name(name))


def certificate_names(summary: Mapping[str, Any]) -> list[str]:
    """The names ListCertificates shows for a certificate (summaries may shorten the SANs)."""
    names = [str(summary.get("DomainName", ""))]
    names += [str(n) for n in summary.get("SubjectAlternativeNameSummaries") or []]
    names += [str(n) for n in summary.get("SubjectAlternativeNames") or []]
    return [name for name in names if name]


class SharedRecordCheck:
    """Which record names some other certificate of the account still needs.

    Every certificate ListCertificates can show (every key type, N2 or not: see
    `listing.list_all_certificates`) in every region asked about, whatever its
    status, except those that can never validate or renew again. Raises when a region cannot
    be listed: the caller must then keep every record.
    """

    def __init__(self, services: Callable[[str], CertificateService]) -> None:
        self._services = services

    def needed(self, regions: Iterable[str], excluding: str) -> set[str]:
        needed: set[str] = set()
        for region in regions:
            service = self._services(region)
            for summary in list_all_certificates(service):
                arn = summary.get("CertificateArn")
                if arn == excluding or summary.get("Status") in DEAD_STATUSES:
                    continue
                names = certificate_names(summary)
                if summary.get("HasAdditionalSubjectAlternativeNames"):
                    names += list(service.names(str(arn)))
                needed.update(record_key(name) for name in names)
        return needed


@dataclass(frozen=True)
class CleanupOutcome:
    deleted: tuple[str, ...] = ()
    kept_shared: tuple[str, ...] = ()
    left_alone: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cleanup:
    """What a Delete cleans up once its certificate is gone (read while it still exists)."""

    arn: str
    properties: CertificateProperties
    records: Mapping[str, ValidationRecord]


def plan_cleanup(
    raw_properties: Mapping[str, Any],
    arn: str,
    certificates: Callable[[str], CertificateService],
) -> Cleanup | None:
    """With CleanupValidationRecords "true", the records of the certificate about to be
    deleted (the Delete's properties name their zones). Never raises: without a plan, the
    Delete cleans nothing up."""
    try:
        properties = parse_properties(raw_properties)
    except InvalidPropertyError:
        return None
    if not (properties.cleanup_validation_records and properties.writes_dns_records):
        return None
    try:
        view = certificates(region_of(arn)).describe_if_exists(arn)
    except Exception as error:
        logger.warning(
            "Validation records not cleaned up: the certificate could not be read",
            extra={"certificate_arn": arn, "error": describe_error(error)},
        )
        return None
    if view is None or not view.records:
        logger.info(
            "Validation records not cleaned up: the certificate shows none",
            extra={"certificate_arn": arn},
        )
        return None
    return Cleanup(arn, properties, view.records)


class RecordCleanup:
    """Deletes, through one resource's `ValidationRecords` (its zones and Route 53 sessions),
    the records of its deleted certificate that no other certificate needs."""

    def __init__(self, records: ValidationRecords) -> None:
        self._records = records

    def after_delete(
        self,
        cleanup: Cleanup,
        certificates: Callable[[str], CertificateService],
        remaining_seconds: Callable[[], float],
        recorded_regions: Callable[[], Iterable[str]] = lambda: (),
    ) -> CleanupOutcome | None:
        """`clean_up` once the certificate is deleted, searching every region it must for
        certificates that share a record. Never raises: a clean-up never fails a Delete (nor
        outlasts the invocation, whose timer would answer FAILED)."""
        try:
            recorded = set(recorded_regions())
        except Exception as error:
            logger.warning(
                "Validation records not cleaned up: the provider's records of its certificates "
                "could not be read (a record one of them needs could be deleted otherwise)",
                extra={"certificate_arn": cleanup.arn, "error": describe_error(error)},
            )
            return None
        regions = check_regions(region_of(cleanup.arn), self._records.default_region, recorded)
        sharing = SharedRecordCheck(certificates)

        def time_left() -> None:
            if remaining_seconds() < CLEANUP_RESERVE_SECONDS:
                raise TimeoutError("too little time left in the invocation")

        try:
            return self.clean_up(
                cleanup.properties,
                cleanup.records,
                lambda: sharing.needed(regions, excluding=cleanup.arn),
                time_left,
            )
        except Exception as error:
            logger.warning(
                "Validation records not cleaned up (the certificate is deleted); delete them "
                "by hand once no certificate of the account uses their names",
                extra={
                    "certificate_arn": cleanup.arn,
                    "records": sorted({record.name for record in cleanup.records.values()}),
                    "checked_regions": regions,
                    "error": describe_error(error),
                },
            )
            return None

    def clean_up(
        self,
        properties: CertificateProperties,
        records: Mapping[str, ValidationRecord],
        still_needed: Callable[[], set[str]],
        time_left: Callable[[], None] = lambda: None,
    ) -> CleanupOutcome:
        """Delete the records of a deleted certificate that no other certificate needs.
        `time_left` raises when the invocation has no time for another step.

        Each record is read first and deleted exactly as read, only while it still holds the
        value ACM gave this certificate; a record gone or changed is left alone. Raises on
        Route 53 or ACM errors (the caller logs them: a clean-up never fails a Delete).
        """
        zones = self._records.zones(properties)
        batches = group_records_by_zone(
            (record for name, record in records.items() if name in zones), zones
        )
        if not batches:
            return CleanupOutcome()
        time_left()
        needed = still_needed()
        deleted: list[tuple[Zone, ValidationRecord]] = []
        kept: list[str] = []
        left: list[str] = []
        for zone, batch in batches.items():
            for record in batch:
                if record_key(record.domain_name) in needed:
                    kept.append(record.name)
                    continue
                time_left()
                if self._delete_as_read(zone, record):
                    deleted.append((zone, record))
                else:
                    left.append(record.name)
        if deleted:
            restored = self._restore_if_needed(deleted, still_needed, time_left)
            kept += [record.name for _, record in restored]
            deleted = [item for item in deleted if item not in restored]
        outcome = CleanupOutcome(
            tuple(record.name for _, record in deleted), tuple(kept), tuple(left)
        )
        logger.info(
            "Validation records cleaned up",
            extra={
                "deleted": outcome.deleted,
                "kept_for_other_certificates": outcome.kept_shared,
                "left_alone": outcome.left_alone,
            },
        )
        return outcome

    def _restore_if_needed(
        self,
        deleted: list[tuple[Zone, ValidationRecord]],
        still_needed: Callable[[], set[str]],
        time_left: Callable[[], None],
    ) -> list[tuple[Zone, ValidationRecord]]:
        """A certificate requested for one of the names after the account was listed (another
        stack's Create) wrote the same record before the DELETE: list again, and put back what
        it needs. Skipped without the time for it (the Delete's answer comes first; the renewal
        guard puts such a record back)."""
        try:
            time_left()
        except TimeoutError:
            logger.info("Validation records deleted without a second look: too little time left")
            return []
        needed = still_needed()
        restored = [item for item in deleted if record_key(item[1].domain_name) in needed]
        by_zone: dict[Zone, list[ValidationRecord]] = {}
        for zone, record in restored:
            by_zone.setdefault(zone, []).append(record)
        for (access, zone_id), batch in by_zone.items():
            self._records.dns(access).upsert_records(zone_id, tuple(batch))
            logger.warning(
                "Validation records put back: a certificate requested during the clean-up "
                "needs them",
                extra={"hosted_zone_id": zone_id, "records": [r.name for r in batch]},
            )
        return restored

    def _delete_as_read(self, zone: Zone, record: ValidationRecord) -> bool:
        access, zone_id = zone
        rrset = self._records.read_back(zone, record)
        if rrset is None:
            logger.info("Validation record already gone", extra={"record": record.name})
            return False
        if not holds_exactly(rrset, record):
            logger.warning(
                "Validation record left alone: it holds another value now",
                extra={"record": record.name, "hosted_zone_id": zone_id},
            )
            return False
        try:
            self._records.dns(access).delete_record_set(zone_id, rrset)
        except ClientError as error:
            if error_code(error) in ("InvalidChangeBatch", "InvalidInput"):
                # Changed or removed between the read and the DELETE: someone else's now.
                logger.warning(
                    "Validation record left alone: it changed while being deleted",
                    extra={"record": record.name, "error": error_message(error)[:200]},
                )
                return False
            raise
        logger.info(
            "Validation record deleted",
            extra={"record": record.name, "hosted_zone_id": zone_id, "role": access.role_arn},
        )
        return True
