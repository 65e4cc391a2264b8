"""Email → DNS validation, in place: the certificate keeps its ARN.

ACM (late 2026) migrates an ISSUED, email-validated public certificate when asked with
`UpdateCertificateOptions(Options={"ValidationMethod": "DNS"})`. While the migration runs,
`ListCertificateDomainValidations` shows each name's new CNAME (the *requested* configuration);
the migration is done when every name's *active* method is DNS (`UpdateSummary.Status`
SUCCESS). A FAILED migration, or one that expires (72 hours), leaves the certificate usable and
email-validated. ACM cannot migrate back: DNS → EMAIL needs a new certificate.

The decisions (`plan_method_change`, `needs_start`, `progress`) are pure. `MigrationRun` runs
the steps with what it borrows from the lifecycle: record writing and waiting.

The identity tag (`dns-certificate:identity`) says what the certificate *is*: it keeps the
email identity until ACM reports the migration done, and only then names the DNS identity. So
a rollback Update after a FAILED or unfinished migration asks for exactly what the tag says and
is an ordinary in-place update that changes nothing; a rollback after a *successful* migration
asks for the email identity of a certificate ACM reports migrated from EMAIL to DNS: it is kept
as it is (`KEEP_MIGRATED`), since replacing it would only trade a DNS-validated certificate for
one waiting for an email approval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from . import continuation as cont
from .certificates import (
    IDENTITY_TAG,
    ISSUED,
    CertificateService,
    CertificateView,
    DomainValidation,
    MethodUpdate,
)
from .continuation import Continuation
from .deadline import RECORDS_BACKOFF
from .errors import CertificateFailedError, quote_list
from .planning import ValidationRecord, identity_fingerprint
from .properties import CertificateIdentity, CertificateProperties

if TYPE_CHECKING:
    from .waiting import Waiter

logger = Logger(child=True)

#: Start the migration; the identity tag stays the email one until it is done.
MIGRATE = "migrate"
#: Keep a certificate migrated from EMAIL to DNS when EMAIL is asked for again (a rollback).
KEEP_MIGRATED = "keep_migrated"

#: The continuation's phases of an update that migrates.
PHASES = frozenset({cont.MIGRATING, cont.MIGRATION_RECORDS_WRITTEN})

PENDING = "PENDING_DOMAIN_VALIDATION"
SUCCESS = "SUCCESS"
FAILED = "FAILED"
#: An UpdateSummary that changed this long before the request started is an earlier one's.
CLOCK_SKEW_SECONDS = 10.0


@dataclass(frozen=True)
class MethodChange:
    """An update of the validation method that keeps the certificate."""

    kind: str  # MIGRATE | KEEP_MIGRATED
    #: The identity tag the certificate keeps while this update runs: the one it has (None:
    #: it has none, and gets none).
    identity_tag: str | None


@dataclass(frozen=True)
class Progress:
    done: bool
    failed: bool
    #: Names whose active validation method is not DNS yet.
    pending: tuple[str, ...]
    #: Each name's DNS record, as far as ACM has published them.
    records: Mapping[str, ValidationRecord]
    missing_records: tuple[str, ...]


def migrated(identity: CertificateIdentity) -> CertificateIdentity:
    """An email-validated certificate's identity once it is migrated to DNS validation."""
    return replace(identity, validation_method="DNS", validation_domains=frozenset())


def plan_method_change(
    *,
    desired: CertificateIdentity,
    old: CertificateIdentity | None,
    desired_as_email: CertificateIdentity,
    current_fingerprint: str | None,
    view: CertificateView,
) -> MethodChange | None:
    """Whether an update that `decide_update` would replace can keep the certificate instead.

    MIGRATE: DNS is asked for; the certificate is an email-validated one that migrates into
    exactly the desired identity (its identity tag names it; without a tag, the old properties
    do), and it is ISSUED (ACM migrates only issued certificates; any other is replaced).
    `desired_as_email` (the new properties with EMAIL) covers a certificate whose earlier
    migration was not waited for: the stack already says DNS, the tag still says EMAIL.

    KEEP_MIGRATED: EMAIL is asked for; the certificate is the desired identity migrated to
    DNS, and ACM reports that migration succeeded.

    None: a replacement, as decided.
    """
    if desired.validation_method == "DNS":
        candidates = [old] if current_fingerprint is None else [old, desired_as_email]
        for candidate in candidates:
            if (
                candidate is not None
                and candidate.validation_method == "EMAIL"
                # A private certificate is not validated at all: nothing to migrate.
                and candidate.certificate_authority_arn is None
                and migrated(candidate) == desired
                and _is(candidate, current_fingerprint, old)
            ):
                if view.status != ISSUED:
                    logger.info(
                        "Replacing: only an issued certificate can migrate to DNS validation",
                        extra={"certificate_arn": view.arn, "status": view.status},
                    )
                    return None
                return MethodChange(MIGRATE, current_fingerprint)
        return None
    update = view.method_update
    if (
        desired.validation_method == "EMAIL"
        and _is(migrated(desired), current_fingerprint, old)
        and update is not None
        and (update.from_method, update.to_method, update.status) == ("EMAIL", "DNS", SUCCESS)
    ):
        return MethodChange(KEEP_MIGRATED, current_fingerprint)
    return None


def _is(
    identity: CertificateIdentity, fingerprint: str | None, old: CertificateIdentity | None
) -> bool:
    """The certificate has this identity: its tag says so, or (no tag) its old properties."""
    if fingerprint is not None:
        return identity_fingerprint(identity) == fingerprint
    return old == identity


def needs_start(update: MethodUpdate | None) -> bool:
    """UpdateCertificateOptions only when no migration to DNS runs or has succeeded."""
    return not (update is not None and update.to_method == "DNS" and update.status != FAILED)


def progress(
    names: Sequence[str],
    validations: Sequence[DomainValidation],
    update: MethodUpdate | None,
    started_at: float,
) -> Progress:
    """Where the migration stands. FAILED counts only if it changed since this request
    started: right after a new start, ACM may still show the previous attempt's FAILED."""
    by_name = {validation.domain_name: validation for validation in validations}
    pending = tuple(
        name for name in names if name not in by_name or by_name[name].active_method != "DNS"
    )
    records: dict[str, ValidationRecord] = {}
    for name in names:
        record = by_name[name].record if name in by_name else None
        if record is not None:
            records[name] = record
    missing = tuple(name for name in names if name not in records)
    current = update is not None and update.to_method == "DNS"
    recent = update is not None and (
        update.changed_at is None or update.changed_at >= started_at - CLOCK_SKEW_SECONDS
    )
    failed = current and recent and update is not None and update.status == FAILED
    settled = update is None or not current or not recent or update.status == SUCCESS
    return Progress(
        done=not failed and not pending and settled,
        failed=failed,
        pending=pending,
        records=records,
        missing_records=missing,
    )


def check_readable(service: CertificateService, arn: str) -> None:
    """Before anything changes: a migration whose records cannot be read (the role lacks
    acm:ListCertificateDomainValidations) would only run until it expires."""
    service.domain_validations(arn)


def start(service: CertificateService, view: CertificateView, state: Continuation) -> Continuation:
    """Ask ACM to migrate, unless a migration runs or succeeded already (a redelivery).

    ACM refuses a second start while a migration runs: when another caller (a concurrent
    delivery of this event, a retried invocation, the console) started one between our look
    and our call, the refusal is that migration's, and it is the one waited for."""
    if needs_start(view.method_update):
        try:
            service.start_dns_migration(view.arn)
        except CertificateFailedError:
            if needs_start(service.describe(view.arn).method_update):
                raise
            logger.info(
                "Migration to DNS validation started meanwhile by another caller",
                extra={"certificate_arn": view.arn},
            )
            return state.advanced(phase=cont.MIGRATING)
        logger.info("Migration to DNS validation started", extra={"certificate_arn": view.arn})
    else:
        logger.info(
            "Migration to DNS validation already under way or done",
            extra={
                "certificate_arn": view.arn,
                "status": view.method_update and view.method_update.status,
            },
        )
    return state.advanced(phase=cont.MIGRATING)


@dataclass(frozen=True)
class MigrationRun:
    """The wait for a started migration: write its records once known, then (WaitForIssuance)
    wait until ACM reports every name DNS-validated, across invocations like any other wait."""

    service: CertificateService
    #: The same ACM through the poller client (no retries): DescribeCertificate and
    #: ListCertificateDomainValidations, paced by what the polls see (`Waiter.poll`).
    poller: CertificateService
    #: Writes the records (or hands them over as attributes: ManageDnsRecords false).
    handle_records: Callable[[CertificateView], None]
    #: The lifecycle's waits: sleep, hand off, or raise DeadlineExceededError with the reason.
    waiter: Waiter
    #: Ends the invocation (HandedOff) once the timer has answered FAILED: CloudFormation
    #: rolls back to EMAIL, and records written now would complete the migration anyway.
    stop_if_answered: Callable[[str], None] = lambda step: None

    def converge(
        self, properties: CertificateProperties, state: Continuation, identity_tag: str
    ) -> bool:
        """True once the migration is done and the identity tag says `identity_tag` (the DNS
        identity); False when the records are written and the properties ask not to wait."""
        arn = state.certificate_arn or ""
        names = properties.all_names
        waits = properties.wait_for_issuance and properties.manage_dns_records
        attempt = 0
        while True:
            state, polled = self.waiter.poll(
                state,
                partial(self._look, arn, names, state.started_at),
                "migrating to DNS validation",
            )
            if polled is None:  # throttled, and waited out
                continue
            view, now = polled
            try:
                if now.failed:
                    raise CertificateFailedError(
                        f"ACM's migration of {arn} to DNS validation FAILED; not DNS-validated: "
                        f"{quote_list(now.pending or names)}. The certificate stays "
                        "email-validated; check the records resolve publicly"
                    )
                if state.phase == cont.MIGRATING and not now.missing_records:
                    self.stop_if_answered("writing the migration's records")
                    self.handle_records(replace(view, records=now.records))
                    state = state.advanced(phase=cont.MIGRATION_RECORDS_WRITTEN)
                if now.done:
                    self.service.add_tags(arn, {IDENTITY_TAG: identity_tag})
                    logger.info("Migrated to DNS validation", extra={"certificate_arn": arn})
                    return True
                if state.phase == cont.MIGRATION_RECORDS_WRITTEN and not waits:
                    logger.info("Not waiting for the migration", extra={"certificate_arn": arn})
                    return False
            except ClientError as error:
                self.waiter.wait_out_throttling(
                    error, state, "migrating to DNS validation", attempt
                )
                attempt += 1
                continue
            if state.phase == cont.MIGRATING:  # a fast start: records appear within seconds
                self.waiter.wait(
                    state,
                    RECORDS_BACKOFF,
                    attempt,
                    f"ACM did not publish DNS validation records for "
                    f"{quote_list(now.missing_records)} of {arn} before the deadline; the "
                    "certificate stays email-validated",
                )
                attempt += 1
            else:
                self.waiter.pace(
                    state,
                    f"Migration of {arn} to DNS validation not done at the deadline; still "
                    f"pending: {quote_list(now.pending or names)}. The certificate stays "
                    "email-validated until ACM sees the records",
                )

    def _look(
        self, arn: str, names: Sequence[str], started_at: float
    ) -> tuple[CertificateView, Progress]:
        """One poll: the certificate, and where its migration stands."""
        view = self.poller.describe(arn)
        if view.status != ISSUED:
            failure = f": {view.failure_reason}" if view.failure_reason else ""
            raise CertificateFailedError(
                f"Certificate {arn} became {view.status} while migrating to DNS validation{failure}"
            )
        validations = self.poller.domain_validations(arn)
        return view, progress(names, validations, view.method_update, started_at)
