"""Update as CloudFormation means it: decide between replacement and in place, then carry out
either (or an email -> DNS migration), then converge. The order of steps, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from aws_lambda_powertools import Logger

from . import continuation as cont
from . import migration
from .certificates import (
    IDENTITY_TAG,
    REPLACEABLE_STATUSES,
    CertificateService,
    CertificateView,
    is_certificate_arn,
    region_of,
)
from .context import UNDECIDED, RequestContext
from .continuation import Continuation
from .converge import Converger
from .create import Creator
from .deadline import Seconds
from .delete import Deleter
from .errors import ContinuationError, InvalidPropertyError
from .planning import decide_update, identity_fingerprint, tag_changes
from .policy import Policy, asks_for_something_new
from .properties import CertificateProperties, parse_properties
from .records import Zone
from .tagging import MAX_TAGS, RESERVED_TAG_PREFIX
from .waiting import HandedOff
from .zonetag import ZONES_TAG

logger = Logger(child=True)

DEFAULT_TRANSPARENCY = "ENABLED"


@dataclass(frozen=True)
class _Current:
    """The certificate an Update found under its physical id."""

    view: CertificateView
    tags: dict[str, str]
    #: An email → DNS migration, or a certificate kept migrated (migration.py).
    method_change: migration.MethodChange | None = None


class Updater:
    """An Update's steps."""

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx
        self._converger = Converger(ctx)
        self._deleter = Deleter(ctx)
        self._creator = Creator(ctx)
        #: An Update that decided to replace: a failure discards what it requested.
        self._replacing = False

    def update(self) -> str:
        properties = parse_properties(self._ctx.request.properties)
        if asks_for_something_new(properties, self._old_properties()):
            Policy.from_environment().check(properties)  # before any AWS call
        state = self._ctx.state_or_new(
            (UNDECIDED, "replace", "in_place"), properties.service_timeout
        )
        if state.action == "in_place" and state.certificate_arn != self._ctx.request.physical_id:
            # An in-place update keeps the certificate CloudFormation named; anything else is
            # a state this resource did not write.
            raise ContinuationError(
                "The continuation state is refused: its certificate is not the resource's"
            )
        try:
            if state.action == UNDECIDED:
                state = self._ctx.waiter.persevering(
                    state, "updating the certificate", lambda s: self._decide(properties, s)
                )
            elif state.action == "replace" and not state.certificate_arn:
                self._replacing = True
                state = self._ctx.waiter.persevering(
                    state,
                    "requesting the replacement",
                    lambda s: self._creator.request_new(properties, s),
                )
        except HandedOff:
            raise
        except Exception:
            if self._replacing:  # the request may have reached ACM though its answer did not
                self._deleter.discard_requested(properties, None, self._ctx.discard_budget())
            raise
        if state.action == "replace":
            return self._complete_replacement(properties, state)
        if state.phase in migration.PHASES:
            return self._complete_migration(properties, state)
        if state.phase == cont.UNTOUCHED:
            return self._answer_untouched(properties, state)
        return self._creator.complete(properties, state)

    def _decide(self, properties: CertificateProperties, state: Continuation) -> Continuation:
        """Replacement or in place; either way nothing changes before the zones are known."""
        current = self._certificate_to_keep(properties)
        if current is None:
            self._replacing = True
            self._ctx.responder.set_timeout_cleanup(
                lambda budget: self._deleter.discard_requested(properties, None, budget)
            )
            return self._creator.request_new(properties, state.advanced(action="replace"))
        if current.view.status in REPLACEABLE_STATUSES:
            return state.advanced(
                action="in_place", certificate_arn=current.view.arn, phase=cont.UNTOUCHED
            )
        self._ctx.records.zones(properties)
        migrates = current.method_change and current.method_change.kind == migration.MIGRATE
        if migrates:
            migration.check_readable(self._ctx.certificates(properties), current.view.arn)
        state = self._start_in_place(properties, state.advanced(action="in_place"), current)
        if migrates:
            self._ctx.stop_if_answered("starting the migration to DNS validation")
            state = migration.start(self._ctx.certificates(properties), current.view, state)
        return state

    def _old_properties(self) -> CertificateProperties | None:
        try:
            return parse_properties(self._ctx.request.old_properties)
        except InvalidPropertyError:
            return None

    def _answer_untouched(self, properties: CertificateProperties, state: Continuation) -> str:
        """A certificate that can never serve again, asked for exactly as it is: what a rollback
        to it looks like. Answered as it is; touching it could only fail the rollback."""
        arn = self._ctx.arn_of(state)
        logger.warning(
            "The certificate is no longer usable and the update asks for nothing that would "
            "change it; answered without touching it",
            extra={"certificate_arn": arn},
        )
        self._ctx.responder.set_physical_id(arn)
        self._ctx.responder.set_data({"Arn": arn, "DomainName": properties.domain_name})
        return arn

    def _complete_replacement(self, properties: CertificateProperties, state: Continuation) -> str:
        """A replacement that fails removes its own certificate and leaves the old one alone.

        CloudFormation rolls a failed replacement back with an Update to the old properties
        and the old physical id; it never sends a Delete for a certificate it was not told of.
        """
        arn = self._ctx.arn_of(state)
        old_physical_id = self._ctx.request.physical_id or arn

        def discard(budget: Seconds) -> None:
            self._deleter.discard_requested(properties, arn, budget)

        self._ctx.responder.set_physical_id(old_physical_id)
        self._ctx.responder.set_timeout_cleanup(discard)
        try:
            self._converger.converge(properties, state)
        except HandedOff:
            if self._ctx.responder.answered:  # the timer answered FAILED: nobody waits for it
                discard(self._ctx.discard_budget())
            raise
        except Exception:
            discard(self._ctx.discard_budget())
            raise
        # Issued, but too late: CloudFormation was told FAILED (by another invocation, or by
        # this one's timer, whose clean-up stays armed until the commit). The table read may
        # take seconds: a timer firing meanwhile makes the commit fail, and the new
        # certificate is discarded either way.
        data = {"Arn": arn, "DomainName": properties.domain_name}
        if self._ctx.responder.answered or not self._ctx.responder.commit(arn, data):
            discard(self._ctx.discard_budget())
            return old_physical_id
        return arn

    def _certificate_to_keep(self, properties: CertificateProperties) -> _Current | None:
        """The certificate an in-place update keeps (as read while deciding, so the update
        does not read it again), or None when a new certificate is needed."""
        physical_id = self._ctx.request.physical_id
        if not is_certificate_arn(physical_id):
            logger.info("Replacing: the physical id is not a certificate ARN")
            return None
        assert physical_id is not None
        if region_of(physical_id) != self._ctx.region(properties):
            logger.info("Replacing: the certificate is in another region")
            return None
        service = self._ctx.certificates(properties)
        view = service.describe_if_exists(physical_id)
        if view is None:
            logger.info("Replacing: the certificate no longer exists")
            return None
        record = self._ctx.registry.certificate(physical_id)
        if record is None or not record.belongs_to(self._ctx.owner):
            logger.warning(
                "Replacing: the provider's records do not name this resource as the "
                "certificate's owner, so it is left as it is",
                extra={"certificate_arn": physical_id, "recorded": record is not None},
            )
            return None
        current = _Current(view=view, tags=service.tags(physical_id))
        try:
            old: CertificateProperties | None = self._ctx.effective(
                parse_properties(self._ctx.request.old_properties)
            )
        except InvalidPropertyError:
            old = None
        fingerprint = current.tags.get(IDENTITY_TAG)
        plan = decide_update(old, self._ctx.effective(properties), fingerprint)
        logger.info("Update decided", extra={"replace": plan.replace, "why": plan.why})
        if plan.replace:
            change = migration.plan_method_change(
                desired=self._ctx.effective(properties).identity(),
                old=old.identity() if old else None,
                desired_as_email=self._ctx.effective(
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
        desired.update({tag.key: tag.value for tag in self._ctx.ownership_tags(properties)})
        if zones is not None:
            tag = self._ctx.zones_tag(properties, zones)
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
        self._ctx.stop_if_answered("updating in place")
        arn = current.view.arn
        service = self._ctx.certificates(properties)
        current_tags = current.tags
        # The zones tag follows the zones, found while deciding (no new call). An EMAIL (or
        # private) update keeps the tag it finds: a rollback to EMAIL changes nothing, and a
        # certificate kept migrated to DNS still renews through the records the tag names.
        keeps_zones = not properties.uses_dns_validation and ZONES_TAG in current_tags
        zones = None if keeps_zones else self._ctx.records.zones(properties)
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
        if zones is not None:  # the renewal guard reads the zones from the provider's records
            self._ctx.registry.set_zones(arn, self._ctx.zones_tag(properties, zones).value)
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
        arn = self._ctx.arn_of(state)
        self._ctx.responder.set_physical_id(arn)
        self._ctx.responder.set_data({"Arn": arn, "DomainName": properties.domain_name})
        run = migration.MigrationRun(
            service=self._ctx.certificates(properties),
            poller=CertificateService(
                self._ctx.runtime.clients.acm_poller(self._ctx.region(properties))
            ),
            handle_records=lambda view: self._converger.handle_records(properties, view),
            waiter=self._ctx.waiter,
            stop_if_answered=self._ctx.stop_if_answered,
        )
        identity = identity_fingerprint(self._ctx.effective(properties).identity())
        run.converge(properties, state, identity)
        return arn
