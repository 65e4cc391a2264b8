"""Create, Update and Delete as CloudFormation means them. Orchestration only: every AWS call
goes through a service, every decision through `planning`, every wait through `deadline`.

Each entry point ends in one of three ways: it returns the physical id (answer SUCCESS), raises
a `CertificateResourceError` (answer FAILED with its reason), or raises `HandedOff` (a new
invocation carries on and will answer; this one must not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, NoReturn, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from . import continuation as cont
from . import migration
from .board import BoardWatch, StatusBoard
from .certificates import (
    IDENTITY_TAG,
    ISSUED,
    LOGICAL_ID_TAG,
    PENDING_VALIDATION,
    REPLACEABLE_STATUSES,
    REQUEST_TAG,
    STACK_TAG,
    TERMINAL_FAILURES,
    CertificateService,
    CertificateView,
    is_certificate_arn,
    owned_by,
    ownership_tags,
    region_of,
)
from .cleanup import RecordCleanup, plan_cleanup
from .clients import ClientFactory, error_code, error_message, is_throttling
from .continuation import Continuation, SelfInvoke
from .deadline import (
    HANDOFF_MARGIN_SECONDS,
    IN_USE_BACKOFF,
    RECORDS_BACKOFF,
    THROTTLED_BACKOFF,
    Clock,
    answer_margin,
    overall_deadline,
)
from .diagnoser import Diagnoser
from .diagnosis import DIAGNOSIS_BUDGET_SECONDS, Diagnosis, summary_reason
from .errors import (
    CertificateFailedError,
    CertificateResourceError,
    ContinuationError,
    InvalidPropertyError,
    quote_list,
)
from .gate import LANES, RECORDS, SLOT_WORST_SECONDS, WAITS, DescribeGate, GateKeeper
from .listing import find_requested, list_all_certificates
from .metrics import current as current_metrics
from .planning import (
    decide_update,
    idempotency_token,
    identity_fingerprint,
    pending_names,
    record_attributes,
    tag_changes,
)
from .properties import MAX_SERVICE_TIMEOUT, CertificateProperties, parse_properties
from .records import ValidationRecords, Zone, role_session_name, zones_tag
from .requests import DynamoDBRequests, NoRequestsTable, RequestsStore
from .tagging import MAX_TAGS, RESERVED_TAG_PREFIX, Tag
from .waiting import HandedOff, Reason, Waiter
from .zonetag import NO_RECORDS, ZONES_TAG, Unrecorded, decode

logger = Logger(child=True)

DEFAULT_TRANSPARENCY = "ENABLED"
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


#: How long a certificate just requested may be missing from DescribeCertificate.
NEW_CERTIFICATE_GRACE_SECONDS = 60.0

#: Records in place this long without issuance: diagnose why (once per request).
STUCK_AFTER_SECONDS = 300.0
#: What a diagnosis at the deadline leaves of the invocation, for the answer.
DIAGNOSIS_RESERVE_SECONDS = 10.0
#: ACM gave up: these statuses and FailureReasons get the diagnosis in their reason too.
DIAGNOSED_STATUSES = frozenset({"VALIDATION_TIMED_OUT"})
DIAGNOSED_REASONS = frozenset({"CAA_ERROR"})

#: An Update's state before it has decided between replacement and in place.
UNDECIDED = "update"
#: Physical ids of Creates that failed before a certificate ARN was known.
PLACEHOLDER_PREFIX = "dns-certificate-not-created-"


@dataclass(frozen=True)
class _Current:
    """The certificate an Update found under its physical id."""

    view: CertificateView
    tags: dict[str, str]
    #: An email → DNS migration, or a certificate kept migrated (migration.py).
    method_change: migration.MethodChange | None = None


class Responder(Protocol):
    """The part of the protocol layer the lifecycle talks to."""

    def set_physical_id(self, physical_id: str) -> None: ...

    def set_data(self, data: Mapping[str, str]) -> None: ...

    def set_timeout_cleanup(self, cleanup: Callable[[float], None] | None) -> None: ...

    @property
    def answered(self) -> bool: ...


@dataclass(frozen=True)
class Runtime:
    clients: ClientFactory
    invoke_self: SelfInvoke
    clock: Clock
    requests: RequestsStore = field(default_factory=NoRequestsTable)
    #: Says why a certificate is not validated; None: no diagnosis (app.py always sets one).
    diagnoser: Diagnoser | None = None


def request_token(event: Mapping[str, Any]) -> str:
    """The request's idempotency token: the same for every delivery of one request."""
    return idempotency_token(
        str(event.get("StackId", "")),
        str(event.get("LogicalResourceId", "")),
        str(event.get("RequestId", "")),
    )


def placeholder_physical_id(event: Mapping[str, Any]) -> str:
    """The physical id a Create answers before it has a certificate ARN (when it fails).

    It carries the request's token, which is also a tag on any certificate the request made:
    the rollback Delete finds exactly that certificate, and no other resource's.
    """
    return f"{PLACEHOLDER_PREFIX}{request_token(event)}"


def token_of_placeholder(physical_id: str) -> str | None:
    token = physical_id.removeprefix(PLACEHOLDER_PREFIX)
    if physical_id.startswith(PLACEHOLDER_PREFIX) and token.isalnum() and len(token) == 32:
        return token
    return None


@dataclass(frozen=True)
class CfnRequest:
    stack_id: str
    logical_id: str
    request_id: str
    physical_id: str | None
    properties: Mapping[str, Any]
    old_properties: Mapping[str, Any]

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> CfnRequest:
        return cls(
            stack_id=event["StackId"],
            logical_id=event["LogicalResourceId"],
            request_id=event["RequestId"],
            physical_id=event.get("PhysicalResourceId"),
            properties=event.get("ResourceProperties") or {},
            old_properties=event.get("OldResourceProperties") or {},
        )


class Lifecycle:
    def __init__(
        self,
        runtime: Runtime,
        event: Mapping[str, Any],
        *,
        function_arn: str,
        remaining_seconds: Callable[[], float],
        responder: Responder,
    ) -> None:
        self._runtime = runtime
        self._event = event
        self._request = CfnRequest.from_event(event)
        self._function_arn = function_arn
        self._remaining_seconds = remaining_seconds
        self._responder = responder
        self._clock = runtime.clock
        self._records = ValidationRecords(runtime.clients, self._role_session_name())
        #: An Update that decided to replace: a failure discards what it requested.
        self._replacing = False
        self._waiter = Waiter(runtime.clock, remaining_seconds, self._hand_off)

    # ---- entry points -------------------------------------------------------------------

    def create(self) -> str:
        # Until there is an ARN, a failure answers this id; the rollback Delete finds any
        # certificate this request made by the token it carries.
        self._responder.set_physical_id(placeholder_physical_id(self._event))
        properties = parse_properties(self._request.properties)
        state = self._state_or_new(("create",), properties.service_timeout)
        if not state.certificate_arn:
            state = self._waiter.persevering(
                state, "requesting the certificate", lambda s: self._request_new(properties, s)
            )
        return self._complete(properties, state)

    def update(self) -> str:
        properties = parse_properties(self._request.properties)
        state = self._state_or_new((UNDECIDED, "replace", "in_place"), properties.service_timeout)
        if state.action == "in_place" and state.certificate_arn != self._request.physical_id:
            # An in-place update keeps the certificate CloudFormation named; anything else is
            # a state this resource did not write.
            raise ContinuationError(
                "The continuation state is refused: its certificate is not the resource's"
            )
        try:
            if state.action == UNDECIDED:
                state = self._waiter.persevering(
                    state, "updating the certificate", lambda s: self._decide(properties, s)
                )
            elif state.action == "replace" and not state.certificate_arn:
                self._replacing = True
                state = self._waiter.persevering(
                    state, "requesting the replacement", lambda s: self._request_new(properties, s)
                )
        except HandedOff:
            raise
        except Exception:
            if self._replacing:  # the request may have reached ACM though its answer did not
                self._discard_requested(properties, None, self._discard_budget())
            raise
        if state.action == "replace":
            return self._complete_replacement(properties, state)
        if state.phase in migration.PHASES:
            return self._complete_migration(properties, state)
        if state.phase == cont.UNTOUCHED:
            return self._answer_untouched(properties, state)
        return self._complete(properties, state)

    def delete(self) -> str:
        physical_id = self._request.physical_id or ""
        state = self._state_or_new(("delete",), self._lenient_timeout())
        if not is_certificate_arn(physical_id):
            self._delete_unreported(physical_id, state)
            return physical_id
        if self._owned_for_delete(physical_id, state):
            certificates = self._runtime_certificates
            cleanup = plan_cleanup(self._request.properties, physical_id, certificates)
            self._delete_until_gone(physical_id, state)
            if cleanup is not None:  # opted in: records no other certificate needs go too
                outcome = RecordCleanup(self._records).after_delete(
                    cleanup, certificates, self._remaining_seconds
                )
                current_metrics().records_deleted(len(outcome.deleted) if outcome else 0)
        return physical_id

    def abandon(self) -> None:
        """Before a FAILED answer for an invocation that died (Lambda's on-failure record):
        discard the certificate the request made (a Create's, which the rollback would delete
        anyway; a replacement's, which no Delete will ever name) and leave CloudFormation an id
        its rollback can clean up after. Touches nothing else; never raises."""
        try:
            state = Continuation.from_event(self._event)
        except ContinuationError:
            state = None
        request_type = self._event.get("RequestType")
        if request_type == "Create":
            arn = state.certificate_arn if state and state.action == "create" else None
            arn = arn if is_certificate_arn(arn) else None
            self._responder.set_physical_id(arn or placeholder_physical_id(self._event))
            # The answer is FAILED whatever happens, and its rollback would delete what this
            # Create made: do it now, so that an answer that never arrives (a ResponseURL that
            # refuses, a Delete naming an id CloudFormation made up) cannot leave it behind.
            try:
                properties = parse_properties(self._request.properties)
            except InvalidPropertyError:
                return  # invalid properties never reach RequestCertificate
            self._discard_requested(properties, arn, self._discard_budget())
        elif request_type == "Update" and (state is None or state.action in (UNDECIDED, "replace")):
            try:
                properties = parse_properties(self._request.properties)
            except InvalidPropertyError:
                return  # invalid properties never reach RequestCertificate
            arn = state.certificate_arn if state and state.action == "replace" else None
            if arn is not None and not is_certificate_arn(arn):
                arn = None
            self._discard_requested(properties, arn, self._discard_budget())

    def _state_or_new(self, actions: tuple[str, ...], service_timeout: int) -> Continuation:
        state = Continuation.from_event(self._event)
        if state is None:
            return self._new_state(actions[0], service_timeout)
        state.check(
            actions=actions,
            latest_deadline=overall_deadline(state.started_at, service_timeout),
            now=self._clock.now(),
        )
        self._records.remember(state.zones)  # found by an earlier invocation: not looked up again
        return state

    # ---- create and replacement ---------------------------------------------------------

    def _stop_if_answered(self, step: str) -> None:
        """Change nothing once the timeout timer has answered FAILED (an earlier call, such as
        a throttled zone lookup, outlasted the invocation): CloudFormation has moved on to its
        rollback. A certificate requested now would be left behind if the rollback Delete
        already searched for it by its tags; a tag change could overtake the rollback Update.
        """
        if self._responder.answered:
            logger.warning(f"Not {step}: this request was already answered")
            raise HandedOff()

    def _request_new(self, properties: CertificateProperties, state: Continuation) -> Continuation:
        zones = self._records.zones(properties)  # a name without a zone fails before a request
        self._stop_if_answered("requesting a certificate")
        service = self._certificates(properties)
        arn = service.request(
            properties,
            request_token(self._event),
            [
                *properties.tags,
                *self._ownership_tags(properties, with_request=True),
                self._zones_tag(properties, zones),
            ],
        )
        logger.info("Certificate requested", extra={"certificate_arn": arn, "action": state.action})
        if self._responder.answered:
            # The timer answered FAILED while the request was on its way: CloudFormation has
            # moved on, and its rollback may have looked for this certificate already.
            logger.warning("Deleting the certificate: the request was answered meanwhile")
            self._discard(service, arn, self._discard_budget())
            raise HandedOff()
        return state.advanced(certificate_arn=arn)

    def _decide(self, properties: CertificateProperties, state: Continuation) -> Continuation:
        """Replacement or in place; either way nothing changes before the zones are known."""
        current = self._certificate_to_keep(properties)
        if current is None:
            self._replacing = True
            self._responder.set_timeout_cleanup(
                lambda budget: self._discard_requested(properties, None, budget)
            )
            return self._request_new(properties, state.advanced(action="replace"))
        if current.view.status in REPLACEABLE_STATUSES:
            return state.advanced(
                action="in_place", certificate_arn=current.view.arn, phase=cont.UNTOUCHED
            )
        self._records.zones(properties)
        migrates = current.method_change and current.method_change.kind == migration.MIGRATE
        if migrates:
            migration.check_readable(self._certificates(properties), current.view.arn)
        state = self._start_in_place(properties, state.advanced(action="in_place"), current)
        if migrates:
            self._stop_if_answered("starting the migration to DNS validation")
            state = migration.start(self._certificates(properties), current.view, state)
        return state

    def _answer_untouched(self, properties: CertificateProperties, state: Continuation) -> str:
        """A certificate that can never serve again, asked for exactly as it is: what a rollback
        to it looks like. Answered as it is; touching it could only fail the rollback."""
        arn = self._arn_of(state)
        logger.warning(
            "The certificate is no longer usable and the update asks for nothing that would "
            "change it; answered without touching it",
            extra={"certificate_arn": arn},
        )
        self._responder.set_physical_id(arn)
        self._responder.set_data({"Arn": arn, "DomainName": properties.domain_name})
        return arn

    def _complete(self, properties: CertificateProperties, state: Continuation) -> str:
        """A created or in-place updated certificate: its ARN is the answer, from the start."""
        arn = self._arn_of(state)
        self._responder.set_physical_id(arn)
        self._responder.set_data({"Arn": arn, "DomainName": properties.domain_name})
        self._converge(properties, state)
        return arn

    def _complete_replacement(self, properties: CertificateProperties, state: Continuation) -> str:
        """A replacement that fails removes its own certificate and leaves the old one alone.

        CloudFormation rolls a failed replacement back with an Update to the old properties
        and the old physical id; it never sends a Delete for a certificate it was not told of.
        """
        arn = self._arn_of(state)
        old_physical_id = self._request.physical_id or arn

        def discard(budget: float) -> None:
            self._discard_requested(properties, arn, budget)

        self._responder.set_physical_id(old_physical_id)
        self._responder.set_timeout_cleanup(discard)
        try:
            self._converge(properties, state)
        except HandedOff:
            if self._responder.answered:  # the timer answered FAILED: nobody waits for it
                discard(self._discard_budget())
            raise
        except Exception:
            discard(self._discard_budget())
            raise
        self._responder.set_timeout_cleanup(None)
        if self._responder.answered:  # issued, but too late: CloudFormation was told FAILED
            discard(self._discard_budget())
            return old_physical_id
        self._responder.set_physical_id(arn)
        self._responder.set_data({"Arn": arn, "DomainName": properties.domain_name})
        return arn

    # ---- discarding what a failed request made ------------------------------------------

    def _discard_budget(self) -> float:
        """Time a clean-up may take before the answer: never into the timer's margin."""
        return max(0.0, min(60.0, self._remaining_seconds() - 10.0))

    def _discard_requested(
        self, properties: CertificateProperties, arn: str | None, budget: float
    ) -> None:
        """Delete the certificate this request made and CloudFormation will never name (a failed
        replacement's, a dead Create's), found by its request's tag when its ARN never arrived.
        Never raises: the real reason must reach CloudFormation."""
        service = self._certificates(properties)
        try:
            arns = [arn] if arn else self._find_requested(service, properties.domain_name)
        except Exception as error:
            logger.warning(
                "Could not look for the replacement certificate to discard it",
                extra={"error": f"{type(error).__name__}: {error}"[:300]},
            )
            return
        for each in arns:
            self._discard(service, each, budget)

    def _find_requested(self, service: CertificateService, domain_name: str | None) -> list[str]:
        return find_requested(
            service,
            self._request.stack_id,
            self._request.logical_id,
            request_token(self._event),
            domain_name,
        )

    def _discard(self, service: CertificateService, arn: str, budget: float) -> None:
        """Delete a certificate this request made, retrying throttling within `budget` seconds.
        Never raises; logs when it gives up (the certificate is then left behind).

        Only a certificate whose tags carry this request's token is deleted: the ARN may come
        from a continuation, and a crafted one must not steer the delete at another resource's.
        """
        give_up_at = self._clock.now() + budget
        attempt = 0
        while True:
            try:
                if not self._made_by_this_request(service, arn):
                    return
                outcome = service.delete(arn)
                logger.info(
                    "Certificate discarded",
                    extra={
                        "certificate_arn": arn,
                        "deleted": outcome.deleted or outcome.already_gone,
                    },
                )
                return
            except Exception as error:
                delay = THROTTLED_BACKOFF.delay(attempt)
                if not is_throttling(error) or self._clock.now() + delay > give_up_at:
                    logger.error(
                        "Could not discard the certificate this request made; delete it by hand",
                        extra={
                            "certificate_arn": arn,
                            "error": f"{type(error).__name__}: {error}"[:300],
                        },
                    )
                    return
                self._clock.sleep(delay)
                attempt += 1

    def _made_by_this_request(self, service: CertificateService, arn: str) -> bool:
        tags = service.tags_if_exists(arn)
        if tags is None:
            logger.info("Certificate already gone", extra={"certificate_arn": arn})
            return False
        if tags.get(REQUEST_TAG) == request_token(self._event) and owned_by(
            tags, self._request.stack_id, self._request.logical_id
        ):
            return True
        logger.warning(
            "Not discarding the certificate: this request did not make it",
            extra={"certificate_arn": arn},
        )
        return False

    # ---- update in place ----------------------------------------------------------------

    def _certificate_to_keep(self, properties: CertificateProperties) -> _Current | None:
        """The certificate an in-place update keeps (as read while deciding, so the update
        does not read it again), or None when a new certificate is needed."""
        physical_id = self._request.physical_id
        if not is_certificate_arn(physical_id):
            logger.info("Replacing: the physical id is not a certificate ARN")
            return None
        assert physical_id is not None
        if region_of(physical_id) != self._region(properties):
            logger.info("Replacing: the certificate is in another region")
            return None
        service = self._certificates(properties)
        view = service.describe_if_exists(physical_id)
        if view is None:
            logger.info("Replacing: the certificate no longer exists")
            return None
        current = _Current(view=view, tags=service.tags(physical_id))
        if not owned_by(current.tags, self._request.stack_id, self._request.logical_id):
            logger.warning(
                "Replacing: the certificate's ownership tags do not name this resource, so it "
                "is left as it is",
                extra={"certificate_arn": physical_id},
            )
            return None
        try:
            old: CertificateProperties | None = self._effective(
                parse_properties(self._request.old_properties)
            )
        except InvalidPropertyError:
            old = None
        fingerprint = current.tags.get(IDENTITY_TAG)
        plan = decide_update(old, self._effective(properties), fingerprint)
        logger.info("Update decided", extra={"replace": plan.replace, "why": plan.why})
        if plan.replace:
            change = migration.plan_method_change(
                desired=self._effective(properties).identity(),
                old=old.identity() if old else None,
                desired_as_email=self._effective(
                    replace(properties, validation_method="EMAIL")
                ).identity(),
                current_fingerprint=fingerprint,
                view=view,
            )
            if change is None:
                return None
            logger.info("Kept in place: " + change.kind, extra={"certificate_arn": physical_id})
            current = replace(current, method_change=change)
        if view.status in REPLACEABLE_STATUSES and self._changes_needed(properties, current):
            logger.info(
                "Replacing: the certificate is no longer usable",
                extra={"certificate_arn": physical_id, "status": view.status},
            )
            return None
        return current

    def _desired_tags(
        self,
        properties: CertificateProperties,
        current: _Current | None = None,
        zones: Mapping[str, Zone] | None = None,
    ) -> dict[str, str]:
        """`zones`: the zones the records go to now (their tag is then kept current); None
        leaves the zones tag as it is."""
        desired = {tag.key: tag.value for tag in properties.tags}
        desired.update({tag.key: tag.value for tag in self._ownership_tags(properties)})
        if zones is not None:
            tag = self._zones_tag(properties, zones)
            desired[tag.key] = tag.value
        if current and current.method_change:  # the identity tag changes once migrated
            desired.pop(IDENTITY_TAG)
            if current.method_change.identity_tag:
                desired[IDENTITY_TAG] = current.method_change.identity_tag
        return desired

    def _changes_needed(self, properties: CertificateProperties, current: _Current) -> bool:
        to_add, to_remove = tag_changes(
            current.tags, self._desired_tags(properties, current), keep_prefix=RESERVED_TAG_PREFIX
        )
        wanted_transparency = properties.transparency_logging or DEFAULT_TRANSPARENCY
        transparency = current.view.transparency_logging or DEFAULT_TRANSPARENCY
        return bool(to_add or to_remove) or transparency != wanted_transparency

    def _start_in_place(
        self, properties: CertificateProperties, state: Continuation, current: _Current
    ) -> Continuation:
        self._stop_if_answered("updating in place")
        arn = current.view.arn
        service = self._certificates(properties)
        current_tags = current.tags
        # The zones tag follows the zones, found while deciding (no new call). An EMAIL (or
        # private) update keeps the tag it finds: a rollback to EMAIL changes nothing, and a
        # certificate kept migrated to DNS still renews through the records the tag names.
        keeps_zones = not properties.uses_dns_validation and ZONES_TAG in current_tags
        zones = None if keeps_zones else self._records.zones(properties)
        to_add, to_remove = tag_changes(
            current_tags,
            self._desired_tags(properties, current, zones),
            keep_prefix=RESERVED_TAG_PREFIX,
        )
        if ZONES_TAG in to_add and len(set(current_tags) | set(to_add)) - len(to_remove) > MAX_TAGS:
            # A certificate tagged before the zones tag existed, with every tag ACM allows.
            logger.warning(
                "The zones tag is not written: the certificate has no tag left (ACM allows "
                f"{MAX_TAGS}); the renewal guard cannot repair its records. Remove one tag",
                extra={"certificate_arn": arn},
            )
            to_add.pop(ZONES_TAG)
        service.add_tags(arn, to_add)
        service.remove_tags(arn, current_tags, to_remove)
        wanted_transparency = properties.transparency_logging or DEFAULT_TRANSPARENCY
        if (current.view.transparency_logging or DEFAULT_TRANSPARENCY) != wanted_transparency:
            service.set_transparency_logging(arn, wanted_transparency)
        logger.info(
            "Updated in place",
            extra={"certificate_arn": arn, "tags_set": sorted(to_add), "tags_removed": to_remove},
        )
        return state.advanced(certificate_arn=arn)

    def _complete_migration(self, properties: CertificateProperties, state: Continuation) -> str:
        """An email → DNS migration: the ARN is the answer; it succeeds once ACM reports every
        name DNS-validated (or, without waiting, once the records are written)."""
        arn = self._arn_of(state)
        self._responder.set_physical_id(arn)
        self._responder.set_data({"Arn": arn, "DomainName": properties.domain_name})
        run = migration.MigrationRun(
            service=self._certificates(properties),
            poller=CertificateService(self._runtime.clients.acm_poller(self._region(properties))),
            handle_records=lambda view: self._handle_records(properties, view),
            waiter=self._waiter,
            stop_if_answered=self._stop_if_answered,
        )
        identity = identity_fingerprint(self._effective(properties).identity())
        run.converge(properties, state, identity)
        return arn

    # ---- records and issuance -----------------------------------------------------------

    def _converge(self, properties: CertificateProperties, state: Continuation) -> CertificateView:
        """Write the records once they are all known, then wait for ISSUED (or hand off).

        DescribeCertificate is polled through the poller client (no retries): quickly with
        backoff while the records appear, then at the interval the polls have learned, which
        widens while ACM throttles (many certificates waiting in one account) and narrows back
        when it stops (`Waiter.poll`, `pacing`).
        """
        service = CertificateService(self._runtime.clients.acm_poller(self._region(properties)))
        arn = self._arn_of(state)
        watch = self._board_watch(service, properties, arn)
        keeper = self._gate_keeper(properties, arn)
        reason: Reason = f"Could not read {arn} before the deadline"
        attempt = 0
        while True:
            if keeper is not None:  # many certificates waiting: ACM is asked on a schedule
                for_records = properties.uses_dns_validation and state.phase != cont.RECORDS_WRITTEN
                self._await_turn(keeper, RECORDS if for_records else WAITS, state, reason)
            try:
                state, polled = self._waiter.poll(
                    state, partial(service.describe, arn), f"reading {arn}"
                )
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
                self._not_visible_yet(arn, state)
                self._waiter.wait(
                    state, RECORDS_BACKOFF, attempt, f"Could not read {arn} before the deadline"
                )
                attempt += 1
                continue
            if polled is None:  # throttled, and waited out
                continue
            view = polled
            state = self._anchor_deadline(state, view, properties)
            if view.status in TERMINAL_FAILURES:
                failure = view.failure_reason or "no reason given"
                reason = f"Certificate {arn} is {view.status}: {failure}"
                raise CertificateFailedError(self._diagnosed_failure(properties, view, reason))
            records_needed = properties.uses_dns_validation and state.phase != cont.RECORDS_WRITTEN
            if records_needed and (
                not pending_names(properties.all_names, view.records) or view.status == ISSUED
            ):
                # A poll that hung past the timer's FAILED: the rollback may have cleaned up.
                self._stop_if_answered("writing the validation records")
                try:
                    self._handle_records(properties, view)
                except ClientError as error:
                    self._waiter.wait_out_throttling(
                        error, state, "writing the validation records", attempt
                    )
                    attempt += 1
                    continue
                state = state.advanced(
                    phase=cont.RECORDS_WRITTEN, records_written_at=self._clock.now()
                )
                if properties.writes_dns_records:
                    current_metrics().records_written(self._clock.now() - state.started_at)
                records_needed = False
            if view.status == ISSUED:
                logger.info("Certificate issued", extra={"certificate_arn": arn})
                if state.action in ("create", "replace"):
                    current_metrics().issued(self._clock.now() - state.started_at)
                return view
            # ManageDnsRecords "false" hands DNS records over instead of waiting; EMAIL and
            # private certificates have none to hand over, so they wait like any other.
            waits = properties.wait_for_issuance and (
                properties.manage_dns_records or not properties.uses_dns_validation
            )
            if not waits and not records_needed:
                logger.info("Not waiting for issuance", extra={"certificate_arn": arn})
                return view
            state = self._diagnose_when_stuck(properties, view, state)
            reason = partial(self._pending_reason, arn, properties, view, records_needed)
            if records_needed:  # a fast start: the records appear seconds after the request
                self._waiter.wait(state, RECORDS_BACKOFF, attempt, reason)
                attempt += 1
            elif watch is not None:  # on a shared board: ACM is asked once it is not pending
                watch.wait(self._waiter, state, reason)
            else:
                self._waiter.pace(state, reason)

    def _board_watch(
        self, poller: CertificateService, properties: CertificateProperties, arn: str
    ) -> BoardWatch | None:
        """The issuance wait on the region's status board, when there is a requests table."""
        requests = self._runtime.requests
        if not isinstance(requests, DynamoDBRequests):
            return None
        board = StatusBoard(
            requests.table_name,
            self._runtime.clients.dynamodb(),
            self._region(properties),
            lambda: [
                summary["CertificateArn"]
                for summary in list_all_certificates(poller, (PENDING_VALIDATION,))
            ],
        )
        return BoardWatch(board, arn)

    def _await_turn(
        self, keeper: GateKeeper, lane: str, state: Continuation, reason: Reason
    ) -> None:
        """Wait for a slot of the DescribeCertificate schedule; one more if woken late."""
        for _ in range(2):
            if self._remaining_seconds() - HANDOFF_MARGIN_SECONDS < SLOT_WORST_SECONDS:
                return  # no time to take a slot and still ask before the hand-off margin
            seconds = keeper.wait_before_ask(self._clock.now(), lane)
            if seconds > 0:
                self._waiter.wait(state, seconds, 0, reason)
            if not keeper.missed(self._clock.now()):
                return

    def _gate_keeper(self, properties: CertificateProperties, arn: str) -> GateKeeper | None:
        """The account and region's DescribeCertificate schedule, when there is a table."""
        requests = self._runtime.requests
        if not isinstance(requests, DynamoDBRequests):
            return None
        table, client = requests.table_name, self._runtime.clients.dynamodb()
        region = self._region(properties)
        return GateKeeper({lane: DescribeGate(table, client, region, lane) for lane in LANES}, arn)

    def _not_visible_yet(self, arn: str, state: Continuation) -> None:
        """ACM is eventually consistent: a certificate just requested may not be found for a few
        seconds. Later, or for a certificate this request did not create, it is really gone."""
        requested_recently = self._clock.now() - state.started_at < NEW_CERTIFICATE_GRACE_SECONDS
        if state.action in ("create", "replace") and requested_recently:
            logger.info("Certificate not visible yet; waiting", extra={"certificate_arn": arn})
            return
        raise CertificateFailedError(
            f"Certificate {arn} no longer exists (deleted outside this stack?)"
        )

    def _pending_reason(
        self,
        arn: str,
        properties: CertificateProperties,
        view: CertificateView,
        records_needed: bool,
    ) -> str:
        if records_needed:
            missing = pending_names(properties.all_names, view.records)
            return (
                f"ACM did not publish validation records for {quote_list(missing)} of {arn} "
                "before the deadline"
            )
        pending = [name for name in properties.all_names if name not in view.validated]
        budget = min(
            DIAGNOSIS_BUDGET_SECONDS,
            self._remaining_seconds() - DIAGNOSIS_RESERVE_SECONDS,
            answer_margin(properties.service_timeout) / 2,  # CloudFormation's own timeout
        )
        diagnoses = self._diagnose(properties, view, "at the deadline", budget)
        if diagnoses:
            return summary_reason(diagnoses, f"Still {view.status} at the deadline")
        return (
            f"Certificate {arn} was still {view.status} at the deadline; not yet validated: "
            f"{quote_list(pending or properties.all_names)}. Check their records resolve publicly"
        )

    # ---- diagnosis: why a certificate is not validated ---------------------------------

    def _diagnose_when_stuck(
        self, properties: CertificateProperties, view: CertificateView, state: Continuation
    ) -> Continuation:
        """Once the records have been in place STUCK_AFTER_SECONDS without issuance, log why
        (once per request: the state remembers it across hand-offs)."""
        if state.phase != cont.RECORDS_WRITTEN or state.diagnosed:
            return state
        if state.records_written_at is None:  # a payload from before the field existed
            return state.advanced(records_written_at=self._clock.now())
        if self._clock.now() - state.records_written_at < STUCK_AFTER_SECONDS:
            return state
        seconds = self._waiter.budget(state).sleep_for(float("inf"))
        if seconds < DIAGNOSIS_BUDGET_SECONDS:  # the next invocation (or the deadline) says it
            return state
        self._diagnose(properties, view, "after 5 minutes", seconds)
        return state.advanced(diagnosed=True)

    def _diagnosed_failure(
        self, properties: CertificateProperties, view: CertificateView, reason: str
    ) -> str:
        """VALIDATION_TIMED_OUT and CAA_ERROR: the reason says what the diagnosis found."""
        if view.status not in DIAGNOSED_STATUSES and view.failure_reason not in DIAGNOSED_REASONS:
            return reason
        budget = min(
            DIAGNOSIS_BUDGET_SECONDS, self._remaining_seconds() - DIAGNOSIS_RESERVE_SECONDS
        )
        diagnoses = self._diagnose(properties, view, view.status, budget)
        if not diagnoses:
            return reason
        failure = f" ({view.failure_reason})" if view.failure_reason else ""
        return summary_reason(diagnoses, prefix=f"{view.status}{failure}: ")

    def _diagnose(
        self, properties: CertificateProperties, view: CertificateView, moment: str, budget: float
    ) -> list[Diagnosis]:
        diagnoser = self._runtime.diagnoser
        if diagnoser is None or not properties.uses_dns_validation or budget <= 0:
            return []
        pending = [name for name in properties.all_names if name not in view.validated]
        if not pending and view.failure_reason in DIAGNOSED_REASONS:
            # ACM checks CAA when it issues, after every name showed SUCCESS.
            pending = list(properties.all_names)

        return diagnoser.run(
            view.arn,
            pending,
            view.records,
            partial(self._records.zone_services, properties),
            moment=moment,
            budget_seconds=budget,
        )

    def _handle_records(self, properties: CertificateProperties, view: CertificateView) -> None:
        """Write the records, or (ManageDnsRecords false) hand them to the user's template."""
        if properties.writes_dns_records:
            self._records.write(properties, view.records)
            return
        self._responder.set_data(
            {
                "Arn": view.arn,
                "DomainName": properties.domain_name,
                **record_attributes(properties.all_names, view.records),
            }
        )
        logger.info("Validation records exposed as attributes, not written")

    # ---- delete -------------------------------------------------------------------------

    def _delete_until_gone(self, arn: str, state: Continuation) -> None:
        service = self._runtime_certificates(region_of(arn))
        attempt = 0
        while True:
            try:
                outcome = service.delete(arn)
            except ClientError as error:
                self._waiter.wait_out_throttling(error, state, f"deleting {arn}", attempt)
                attempt += 1
                continue
            if outcome.deleted or outcome.already_gone:
                logger.info(
                    "Certificate deleted" if outcome.deleted else "Certificate already gone",
                    extra={"certificate_arn": arn},
                )
                return
            logger.info(
                "Certificate still in use",
                extra={"certificate_arn": arn, "in_use_by": list(outcome.in_use_by)},
            )

            users = quote_list(outcome.in_use_by, 2) if outcome.in_use_by else "other resources"
            # The users come first: reasons are cut at 255 characters, and two ARNs of users
            # plus the certificate's own ARN (the physical id, shown anyway) do not fit.
            reason = f"Still in use by {users}; detach the certificate, then retry. {arn}"
            self._waiter.wait(state, IN_USE_BACKOFF, attempt, reason, in_use=True)
            attempt += 1

    def _owned_for_delete(self, arn: str, state: Continuation) -> bool:
        """Delete only a certificate whose ownership tags name this stack's resource: a Delete
        naming any other ARN of the account (a mistake, or a crafted event) leaves it alone."""
        service = self._runtime_certificates(region_of(arn))
        attempt = 0
        while True:
            try:
                found = service.tags_if_exists(arn)
                if found is None:
                    logger.info("Certificate already gone", extra={"certificate_arn": arn})
                    return False
                tags = found
                break
            except ClientError as error:
                code = error_code(error)
                if not is_throttling(error):
                    logger.warning(
                        "Not deleting the certificate: its owner cannot be read",
                        extra={"certificate_arn": arn, "error": f"{code}: {error_message(error)}"},
                    )
                    return False
                self._waiter.wait_out_throttling(
                    error, state, f"reading the tags of {arn}", attempt
                )
                attempt += 1
            except BotoCoreError as error:
                logger.warning(
                    "Not deleting the certificate: ACM cannot be reached in its region",
                    extra={"certificate_arn": arn, "error": f"{type(error).__name__}: {error}"},
                )
                return False
        if owned_by(tags, self._request.stack_id, self._request.logical_id):
            return True
        logger.warning(
            "Not deleting the certificate: its ownership tags do not name this stack's resource",
            extra={
                "certificate_arn": arn,
                "owner_stack_id": tags.get(STACK_TAG),
                "owner_logical_id": tags.get(LOGICAL_ID_TAG),
            },
        )
        return False

    def _delete_unreported(self, physical_id: str, state: Continuation) -> None:
        """A Create that failed before answering an ARN may still have requested one: find it
        by the request token its placeholder id carries, and delete it. Best effort: whatever
        goes wrong is logged and the Delete succeeds, so a rollback always completes."""
        token = token_of_placeholder(physical_id)
        if token is None:
            logger.info("The physical id names no certificate and no request; nothing to delete")
            return
        try:
            properties = parse_properties(self._request.properties)
        except InvalidPropertyError:
            return  # invalid properties never reach RequestCertificate
        service = self._certificates(properties)
        stack_id, logical_id = self._request.stack_id, self._request.logical_id

        def search(state: Continuation) -> Continuation:
            for arn in find_requested(service, stack_id, logical_id, token, properties.domain_name):
                outcome = service.delete(arn)
                logger.info(
                    "Deleted a certificate the failed create had requested",
                    extra={"certificate_arn": arn, "deleted": outcome.deleted},
                )
            return state

        try:
            self._waiter.persevering(state, "looking for unreported certificates", search)
        except HandedOff:
            raise
        except Exception as error:  # also throttled until the deadline: a rollback must end
            logger.warning(
                "Could not look for a certificate the failed create may have requested; if one "
                "exists, delete it by hand (tag dns-certificate:request = the token below)",
                extra={"request_token": token, "error": f"{type(error).__name__}: {error}"[:300]},
            )

    # ---- waiting ------------------------------------------------------------------------

    def _hand_off(self, state: Continuation) -> NoReturn:
        # After the timer's FAILED answer a next invocation would answer a second time.
        self._stop_if_answered("handing off")
        payload = cont.next_event(self._event, state.advanced(zones=self._records.carried_zones()))
        try:
            self._runtime.invoke_self(self._function_arn, payload)
        except ContinuationError:
            raise
        except Exception as error:
            hint = ""
            if isinstance(error, ClientError) and error_code(error) in ACCESS_DENIED_CODES:
                hint = "; it needs lambda:InvokeFunction on itself"
            raise ContinuationError(
                f"Could not invoke {self._function_arn} to keep waiting ({type(error).__name__}: "
                f"{error}){hint}"
            ) from error
        logger.info(
            "Handed off to a new invocation",
            extra={
                "hop": state.hop + 1,
                "phase": state.phase,
                "certificate_arn": state.certificate_arn,
            },
        )
        raise HandedOff()

    def _anchor_deadline(
        self, state: Continuation, view: CertificateView, properties: CertificateProperties
    ) -> Continuation:
        """A redelivered event restarts no clock: the certificate's creation time bounds it.
        Only for a certificate this request created: an in-place update's may be years old."""
        if state.action not in ("create", "replace"):
            return state
        if view.created_at is not None and view.created_at < state.started_at - 1:
            return state.advanced(
                started_at=view.created_at,
                deadline=min(
                    state.deadline, overall_deadline(view.created_at, properties.service_timeout)
                ),
            )
        return state

    def _new_state(self, action: str, service_timeout: int) -> Continuation:
        now = self._clock.now()
        return Continuation(
            action=action, started_at=now, deadline=overall_deadline(now, service_timeout)
        )

    def _lenient_timeout(self) -> int:
        try:
            return parse_properties(self._request.properties).service_timeout
        except InvalidPropertyError:
            return MAX_SERVICE_TIMEOUT

    # ---- helpers ------------------------------------------------------------------------

    def _region(self, properties: CertificateProperties) -> str:
        return properties.region or self._runtime.clients.default_region

    def _effective(self, properties: CertificateProperties) -> CertificateProperties:
        """The region made explicit, so a default and its spelled-out value compare equal."""
        return replace(properties, region=self._region(properties))

    def _ownership_tags(
        self, properties: CertificateProperties, *, with_request: bool = False
    ) -> list[Any]:
        fingerprint = identity_fingerprint(self._effective(properties).identity())
        token = request_token(self._event) if with_request else None
        return ownership_tags(self._request.stack_id, self._request.logical_id, fingerprint, token)

    def _zones_tag(self, properties: CertificateProperties, zones: Mapping[str, Zone]) -> Tag:
        """The zones tag; a warning when the renewal guard will not be able to use it."""
        tag = zones_tag(properties, zones)
        decoded = decode(tag.value)
        if isinstance(decoded, Unrecorded) and decoded.reason != NO_RECORDS:
            logger.warning(
                "The validation records' zones are not recorded on the certificate "
                f"({decoded.reason}): the renewal guard will not repair them",
                extra={"reason": decoded.reason},
            )
        return tag

    def _certificates(self, properties: CertificateProperties) -> CertificateService:
        return self._runtime_certificates(self._region(properties))

    def _runtime_certificates(self, region: str) -> CertificateService:
        return CertificateService(self._runtime.clients.acm(region))

    def _role_session_name(self) -> str:
        return role_session_name(self._request.stack_id, self._request.logical_id)

    @staticmethod
    def _arn_of(state: Continuation) -> str:
        if not state.certificate_arn:
            raise CertificateResourceError("Internal error: no certificate ARN in the state")
        return state.certificate_arn
