"""The renewal guard: validation CNAMEs put back before ACM's managed renewal needs them.

ACM renews a DNS-validated certificate only while its validation CNAMEs resolve; one deleted
by hand makes the renewal fail silently and the certificate expire months later. The guard
runs on ACM's `Renewal Action Required` and `Approaching Expiration` events (one certificate)
and on a schedule (every certificate the provider's records name, in every region they name).
It acts only on certificates the provider itself requested, as its own records in the requests
table say (registry.py): never on tags (anyone allowed to tag can copy them) nor on what some
stack resource holds. For each one that is DNS-validated and whose records the resource
writes, it reads each record back and UPSERTs those missing or wrong, one batch per zone
(records.py), through the role the name's zone needs. The zones come from the provider's record
(zonetag.py's encoding); where it says why they could not be recorded, the guard logs an error
naming the certificate, its stack and what to do.

Nothing here answers CloudFormation or touches the requests table. One certificate's failure
(throttling, access denied, a zone gone) is logged and the guard goes on with the next: an
invocation never fails because of one certificate.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from aws_lambda_powertools import Logger

from .certificates import ISSUED, CertificateService, is_certificate_arn, region_of
from .clients import ClientFactory, describe_error, is_throttling
from .continuation import Continuation
from .deadline import Clock, SystemClock
from .metrics import current as current_metrics
from .planning import ValidationRecord, zone_candidates
from .records import ValidationRecords, Zone, role_session_name
from .registry import CertificateRecord, Registry
from .waiting import Waiter
from .zonetag import (
    EXTERNAL_ID,
    MANUAL,
    NO_RECORDS,
    ROLE_CHARACTERS,
    TOO_LONG,
    RecordedZones,
    Unrecorded,
    decode,
)

logger = Logger(child=True)

#: Statuses in which a certificate still validates or renews through its records.
GUARDED_STATUSES = frozenset({ISSUED, "PENDING_VALIDATION"})
#: Seconds the sweep leaves the invocation: it stops (and says so) rather than time out.
SWEEP_RESERVE_SECONDS = 20.0
#: Seconds a certificate's check leaves the invocation: no Route 53 call starts after (one
#: certificate may have a hundred names to read back, at Route 53's 5 requests a second).
STEP_RESERVE_SECONDS = SWEEP_RESERVE_SECONDS / 2
#: How long one certificate waits out AWS throttling (the lifecycle's Waiter, with backoff)
#: before the run logs it and moves on; the next run checks it again.
THROTTLED_CERTIFICATE_SECONDS = 60.0

_UPDATE_TO_RECORD = (
    "update the resource (changing any property is enough, e.g. ServiceTimeout) to record "
    "them; until then, check its validation CNAMEs by hand"
)
#: What the log says to do when the zones are not on the certificate, by reason.
ACTIONS = {
    None: "the provider's record of it names no zones: " + _UPDATE_TO_RECORD,
    "unreadable": "the zones in the provider's record of it cannot be read: " + _UPDATE_TO_RECORD,
    EXTERNAL_ID: "its Route53RoleArn needs an external id, which is never written in a tag: "
    "check its validation CNAMEs by hand; any update of the resource writes them again",
    ROLE_CHARACTERS: "a Route53RoleArn has a character tags cannot hold (a comma): check its "
    "validation CNAMEs by hand; any update of the resource writes them again",
    TOO_LONG: "its zones do not fit in one tag (256 characters): check its validation CNAMEs "
    "by hand; any update of the resource writes them again",
    MANUAL: 'ManageDnsRecords is "false": keep its validation CNAMEs in your DNS (the '
    "resource never writes them)",
    "unmatched": "no zone recorded for it can hold some of its names (a zone deleted or "
    "renamed?): " + _UPDATE_TO_RECORD,
}


@dataclass
class GuardReport:
    """What one run of the guard did (also what the tests read)."""

    checked: list[str] = field(default_factory=list)
    repaired: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cannot_repair: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: Of `cannot_repair`, those whose records the user keeps (ManageDnsRecords "false"):
    #: a choice, logged as a warning, not counted for the alarm.
    user_managed: list[str] = field(default_factory=list)

    @property
    def records_repaired(self) -> int:
        return sum(len(names) for names in self.repaired.values())


class RenewalGuard:
    def __init__(
        self,
        clients: ClientFactory,
        registry: Registry,
        remaining_seconds: Callable[[], float],
        shuffle: Callable[[list[Any]], None] = random.shuffle,
        clock: Clock | None = None,
    ) -> None:
        self._clients = clients
        self._registry = registry
        self._remaining_seconds = remaining_seconds
        self._shuffle = shuffle
        self._clock = clock or SystemClock()
        self._waiter = Waiter(self._clock, remaining_seconds, self._out_of_time)

    # ---- entry points -------------------------------------------------------------------

    def certificates(self, arns: Iterable[str]) -> GuardReport:
        """ACM's event for these certificates: checked when the provider's records name them."""
        report = GuardReport()
        for arn in arns:
            if not is_certificate_arn(arn):
                continue
            record = self._registry.certificate(arn)
            if record is None or record.deleted or record.region != region_of(arn):
                logger.info(
                    "Renewal guard: not a certificate the provider requested; left alone",
                    extra={"certificate_arn": arn},
                )
                continue
            self._guard_safely(self._service(record.region), record, report)
        self._finish(report, "event")
        return report

    def sweep(self) -> GuardReport:
        """Every certificate the provider's records name, in every region they name.

        Checked in a new random order each sweep: a sweep that runs out of time leaves other
        certificates unchecked each day, never always the same ones."""
        report = GuardReport()
        try:
            pending = self._registry.live()
        except Exception as error:
            logger.error(
                "Renewal guard: the provider's records of its certificates could not be read; "
                "nothing is checked this time",
                extra={"error": describe_error(error)},
            )
            self._count_throttling(error)
            report.failed.append("(the provider's records)")  # counted for the alarm
            self._finish(report, "sweep")
            return report
        self._shuffle(pending)
        for index, record in enumerate(pending):
            if self._remaining_seconds() < SWEEP_RESERVE_SECONDS:
                logger.warning(
                    "Renewal guard: the sweep stopped before the invocation's end; the "
                    "next sweeps check the rest (in another order)",
                    extra={"checked": len(report.checked), "not_reached": len(pending) - index},
                )
                break
            self._guard_safely(self._service(record.region), record, report)
        self._finish(report, "sweep")
        return report

    # ---- one certificate ----------------------------------------------------------------

    def _guard_safely(
        self, service: CertificateService, record: CertificateRecord, report: GuardReport
    ) -> None:
        """One certificate; throttling is waited out like any wait of the resource (within
        THROTTLED_CERTIFICATE_SECONDS), whatever else goes wrong is logged and the run goes on.
        Every call of a check is a read or an UPSERT: a throttled check is run again whole."""
        now = self._clock.now()
        state = Continuation(
            action="guard", started_at=now, deadline=now + THROTTLED_CERTIFICATE_SECONDS
        )

        arn = record.arn

        def check(state: Continuation) -> Continuation:
            self._guard(service, record, report)
            return state

        try:
            self._waiter.persevering(state, f"checking the records of {arn}", check)
        except Exception as error:
            report.failed.append(arn)
            self._count_throttling(error)
            logger.error(
                "Renewal guard: the certificate's records could not be checked; the next run "
                "tries again",
                extra={"certificate_arn": arn, "error": describe_error(error)},
            )

    def _guard(
        self, service: CertificateService, record: CertificateRecord, report: GuardReport
    ) -> None:
        arn = record.arn
        stack_id, logical_id = record.owner.stack_id, record.owner.logical_id
        recorded = self._recorded_zones(arn, stack_id, logical_id, record.zones, report)
        if recorded is None:
            return
        view = service.describe_if_exists(arn)
        if view is None or view.status not in GUARDED_STATUSES or not view.records:
            logger.info(
                "Renewal guard: nothing to check (not renewing, or no DNS records)",
                extra={"certificate_arn": arn, "status": view.status if view else "gone"},
            )
            return
        if arn not in report.checked:
            report.checked.append(arn)
        records = ValidationRecords(self._clients, role_session_name(stack_id, logical_id))
        self._time_left()
        zones, unmatched = _match(records, recorded, view.records)
        if unmatched:
            self._cannot_repair(arn, stack_id, logical_id, "unmatched", report, names=unmatched)
        repaired = records.repair(
            zones, view.records, lambda: _still_renews(service, arn), self._time_left
        )
        if repaired:
            report.repaired[arn] = repaired
            logger.info(
                "Renewal guard: validation records repaired",
                extra={"certificate_arn": arn, "stack_id": stack_id, "records": repaired},
            )

    def _recorded_zones(
        self,
        arn: str,
        stack_id: str,
        logical_id: str,
        value: str | None,
        report: GuardReport,
    ) -> RecordedZones | None:
        """The zones the certificate's tag records; None (and the log says why) without."""
        if value is None:
            self._cannot_repair(arn, stack_id, logical_id, None, report)
            return None
        try:
            decoded = decode(value)
        except ValueError:
            self._cannot_repair(arn, stack_id, logical_id, "unreadable", report)
            return None
        if isinstance(decoded, Unrecorded):
            if decoded.reason != NO_RECORDS:  # EMAIL or private: no records to guard
                self._cannot_repair(arn, stack_id, logical_id, decoded.reason, report)
            return None
        return decoded

    def _cannot_repair(
        self,
        arn: str,
        stack_id: str,
        logical_id: str,
        reason: str | None,
        report: GuardReport,
        names: Iterable[str] = (),
    ) -> None:
        if arn not in report.cannot_repair:
            report.cannot_repair.append(arn)
        if reason == MANUAL and arn not in report.user_managed:
            report.user_managed.append(arn)
        # ManageDnsRecords "false" is the user's choice, not a fault: a warning, not an error.
        log = logger.warning if reason == MANUAL else logger.error
        log(
            f"Renewal guard cannot repair the validation records of certificate {arn} "
            f"(stack {stack_id}, resource {logical_id}): {ACTIONS[reason]}",
            extra={
                "certificate_arn": arn,
                "stack_id": stack_id,
                "logical_resource_id": logical_id,
                "reason": reason or "no-zones-tag",
                "names": sorted(names),
            },
        )

    # ---- helpers ------------------------------------------------------------------------

    @staticmethod
    def _out_of_time(state: Continuation) -> NoReturn:
        """The guard never hands off: what this run cannot check, the next run checks."""
        raise TimeoutError("too little time left in the invocation; the next run checks it")

    def _time_left(self) -> None:
        """Raise rather than start a call the invocation may not see the end of: Lambda would
        kill the run and retry it from the start (twice), for nothing."""
        if self._remaining_seconds() < STEP_RESERVE_SECONDS:
            raise TimeoutError("too little time left in the invocation; the next run checks it")

    def _service(self, region: str) -> CertificateService:
        return CertificateService(self._clients.acm(region))

    @staticmethod
    def _count_throttling(error: BaseException) -> None:
        if is_throttling(error):
            current_metrics().throttled()

    @staticmethod
    def _finish(report: GuardReport, run: str) -> None:
        metrics = current_metrics()
        metrics.records_repaired(report.records_repaired)
        # What the RenewalGuardAlarm watches: a silent expiry in the making.
        metrics.guard_failed(len(report.failed))
        metrics.guard_cannot_repair(len(set(report.cannot_repair) - set(report.user_managed)))
        logger.info(
            "Renewal guard done",
            extra={
                "run": run,
                "certificates_checked": len(report.checked),
                "records_repaired": report.records_repaired,
                "cannot_repair": len(report.cannot_repair),
                "failed": len(report.failed),
            },
        )


def _still_renews(service: CertificateService, arn: str) -> bool:
    """Read again right before a write: the certificate may have been deleted (and its records
    cleaned up) since it was described."""
    view = service.describe_if_exists(arn)
    return view is not None and view.status in GUARDED_STATUSES


def _match(
    records: ValidationRecords,
    recorded: RecordedZones,
    validation: Mapping[str, ValidationRecord],
) -> tuple[dict[str, Zone], list[str]]:
    """Each name's zone: the longest recorded zone whose name can hold it (as a look-up finds
    it); the names no recorded zone can hold."""
    by_name: dict[str, list[Zone]] = {}
    for zone in recorded.zones:
        by_name.setdefault(records.zone_name(zone), []).append(zone)
    zones: dict[str, Zone] = {}
    unmatched: list[str] = []
    for name in validation:
        found = next(
            (by_name[candidate] for candidate in zone_candidates(name) if candidate in by_name),
            [],
        )
        if len(found) == 1:
            zones[name] = found[0]
        else:  # none, or two zones of one name (in two accounts): which one is not known
            unmatched.append(name)
    return zones, unmatched
