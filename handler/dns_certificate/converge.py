"""Write the validation records once ACM has published them all, then wait for ISSUED (or hand
off to a new invocation); say why when it does not come. Used by create and update.
"""

from __future__ import annotations

from functools import partial

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from . import continuation as cont
from .board import BoardWatch, StatusBoard
from .certificates import (
    ISSUED,
    PENDING_VALIDATION,
    TERMINAL_FAILURES,
    CertificateService,
    CertificateView,
)
from .clients import error_code
from .context import RequestContext
from .continuation import Continuation
from .deadline import HANDOFF_MARGIN_SECONDS, RECORDS_BACKOFF, answer_margin, overall_deadline
from .diagnosis import DIAGNOSIS_BUDGET_SECONDS, Diagnosis, summary_reason
from .errors import CertificateFailedError, quote_list
from .gate import LANES, RECORDS, SLOT_WORST_SECONDS, WAITS, DescribeGate, GateKeeper
from .listing import list_all_certificates
from .metrics import current as current_metrics
from .planning import (
    Done,
    Fail,
    NextAction,
    Wait,
    WriteRecords,
    next_action,
    pending_names,
    record_attributes,
)
from .properties import CertificateProperties
from .requests import DynamoDBRequests
from .waiting import Reason

logger = Logger(child=True)

#: How long a certificate just requested may be missing from DescribeCertificate.
NEW_CERTIFICATE_GRACE_SECONDS = 60.0

#: Records in place this long without issuance: diagnose why (once per request).
STUCK_AFTER_SECONDS = 300.0
#: What a diagnosis at the deadline leaves of the invocation, for the answer.
DIAGNOSIS_RESERVE_SECONDS = 10.0
#: ACM gave up: these statuses and FailureReasons get the diagnosis in their reason too.
DIAGNOSED_STATUSES = frozenset({"VALIDATION_TIMED_OUT"})
DIAGNOSED_REASONS = frozenset({"CAA_ERROR"})


class Converger:
    """The wait for one certificate of one request: records, then issuance."""

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx

    def converge(self, properties: CertificateProperties, state: Continuation) -> CertificateView:
        """Write the records once they are all known, then wait for ISSUED (or hand off).

        DescribeCertificate is polled through the poller client (no retries): quickly with
        backoff while the records appear, then at the interval the polls have learned, which
        widens while ACM throttles (many certificates waiting in one account) and narrows back
        when it stops (`Waiter.poll`, `pacing`).
        """
        service = CertificateService(
            self._ctx.runtime.clients.acm_poller(self._ctx.region(properties))
        )
        arn = self._ctx.arn_of(state)
        watch = self._board_watch(service, properties, arn)
        keeper = self._gate_keeper(properties, arn)
        reason: Reason = f"Could not read {arn} before the deadline"
        attempt = 0
        while True:
            if keeper is not None:  # many certificates waiting: ACM is asked on a schedule
                for_records = properties.uses_dns_validation and state.phase != cont.RECORDS_WRITTEN
                self._await_turn(keeper, RECORDS if for_records else WAITS, state, reason)
            try:
                state, polled = self._ctx.waiter.poll(
                    state, partial(service.describe, arn), f"reading {arn}"
                )
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
                self._not_visible_yet(arn, state)
                self._ctx.waiter.wait(
                    state, RECORDS_BACKOFF, attempt, f"Could not read {arn} before the deadline"
                )
                attempt += 1
                continue
            if polled is None:  # throttled, and waited out
                continue
            view = polled
            state = self._anchor_deadline(state, view, properties)
            action = self._next_action(properties, view, state)
            if isinstance(action, WriteRecords):
                # A poll that hung past the timer's FAILED: the rollback may have cleaned up.
                self._ctx.stop_if_answered("writing the validation records")
                try:
                    self.handle_records(properties, view)
                except ClientError as error:
                    self._ctx.waiter.wait_out_throttling(
                        error, state, "writing the validation records", attempt
                    )
                    attempt += 1
                    continue
                state = state.advanced(
                    phase=cont.RECORDS_WRITTEN, records_written_at=self._ctx.clock.now()
                )
                if properties.writes_dns_records:
                    current_metrics().records_written(self._ctx.clock.now() - state.started_at)
                action = self._next_action(properties, view, state)
            if isinstance(action, Fail):
                failure = view.failure_reason or "no reason given"
                reason = f"Certificate {arn} is {view.status}: {failure}"
                raise CertificateFailedError(self._diagnosed_failure(properties, view, reason))
            if isinstance(action, Done):
                if action.issued:
                    logger.info("Certificate issued", extra={"certificate_arn": arn})
                    if state.action in ("create", "replace"):
                        current_metrics().issued(self._ctx.clock.now() - state.started_at)
                else:
                    logger.info("Not waiting for issuance", extra={"certificate_arn": arn})
                return view
            if not isinstance(action, Wait):  # records written already: asked again above
                raise AssertionError(f"Unexpected next action {action}")
            state = self._diagnose_when_stuck(properties, view, state)
            records_needed = action.for_records
            reason = partial(self._pending_reason, arn, properties, view, records_needed)
            if records_needed:  # a fast start: the records appear seconds after the request
                self._ctx.waiter.wait(state, RECORDS_BACKOFF, attempt, reason)
                attempt += 1
            elif watch is not None:  # on a shared board: ACM is asked once it is not pending
                watch.wait(self._ctx.waiter, state, reason)
            else:
                self._ctx.waiter.pace(state, reason)

    @staticmethod
    def _next_action(
        properties: CertificateProperties, view: CertificateView, state: Continuation
    ) -> NextAction:
        """`planning.next_action` for what this poll showed."""
        return next_action(
            properties,
            issued=view.status == ISSUED,
            failed=view.status in TERMINAL_FAILURES,
            records_published=not pending_names(properties.all_names, view.records),
            records_written=state.phase == cont.RECORDS_WRITTEN,
        )

    def _board_watch(
        self, poller: CertificateService, properties: CertificateProperties, arn: str
    ) -> BoardWatch | None:
        """The issuance wait on the region's status board, when there is a requests table."""
        requests = self._ctx.runtime.requests
        if not isinstance(requests, DynamoDBRequests):
            return None
        board = StatusBoard(
            requests.table_name,
            self._ctx.runtime.clients.dynamodb(),
            self._ctx.region(properties),
            lambda: [
                summary["CertificateArn"]
                for summary in list_all_certificates(poller, (PENDING_VALIDATION,))
            ],
        )
        return BoardWatch(board, arn)

    def _await_turn(
        self, keeper: GateKeeper, lane: str, state: Continuation, reason: Reason
    ) -> None:
        """Wait for a slot of the DescribeCertificate schedule; one more if woken late.

        Past the deadline it asks at once: the slot's wait would fail the request without the
        last look at ACM (a hand-off delivered late, a certificate issued meanwhile)."""
        for _ in range(2):
            if self._ctx.remaining_seconds() - HANDOFF_MARGIN_SECONDS < SLOT_WORST_SECONDS:
                return  # no time to take a slot and still ask before the hand-off margin
            if self._ctx.waiter.budget(state).past_deadline:
                return
            asked = self._ctx.clock.now()
            # Counted from when the slot is known: its writes took time (a busy table).
            seconds = keeper.wait_before_ask(asked, lane) - (self._ctx.clock.now() - asked)
            if self._ctx.waiter.budget(state).past_deadline:
                return  # reached during the slot's writes
            if seconds > 0:
                self._ctx.waiter.wait(state, seconds, 0, reason)
            if not keeper.missed(self._ctx.clock.now()):
                return

    def _gate_keeper(self, properties: CertificateProperties, arn: str) -> GateKeeper | None:
        """The account and region's DescribeCertificate schedule, when there is a table."""
        requests = self._ctx.runtime.requests
        if not isinstance(requests, DynamoDBRequests):
            return None
        table, client = requests.table_name, self._ctx.runtime.clients.dynamodb()
        region = self._ctx.region(properties)
        return GateKeeper({lane: DescribeGate(table, client, region, lane) for lane in LANES}, arn)

    def _not_visible_yet(self, arn: str, state: Continuation) -> None:
        """ACM is eventually consistent: a certificate just requested may not be found for a few
        seconds. Later, or for a certificate this request did not create, it is really gone."""
        requested_recently = (
            self._ctx.clock.now() - state.started_at < NEW_CERTIFICATE_GRACE_SECONDS
        )
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
            self._ctx.remaining_seconds() - DIAGNOSIS_RESERVE_SECONDS,
            answer_margin(properties.service_timeout) / 2,  # CloudFormation's own timeout
        )
        diagnoses = self._diagnose(properties, view, "at the deadline", budget)
        if diagnoses:
            return summary_reason(diagnoses, f"Still {view.status} at the deadline")
        return (
            f"Certificate {arn} was still {view.status} at the deadline; not yet validated: "
            f"{quote_list(pending or properties.all_names)}. Check their records resolve publicly"
        )

    def _diagnose_when_stuck(
        self, properties: CertificateProperties, view: CertificateView, state: Continuation
    ) -> Continuation:
        """Once the records have been in place STUCK_AFTER_SECONDS without issuance, log why
        (once per request: the state remembers it across hand-offs)."""
        if state.phase != cont.RECORDS_WRITTEN or state.diagnosed:
            return state
        if state.records_written_at is None:  # a payload from before the field existed
            return state.advanced(records_written_at=self._ctx.clock.now())
        if self._ctx.clock.now() - state.records_written_at < STUCK_AFTER_SECONDS:
            return state
        seconds = self._ctx.waiter.budget(state).sleep_for(float("inf"))
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
            DIAGNOSIS_BUDGET_SECONDS, self._ctx.remaining_seconds() - DIAGNOSIS_RESERVE_SECONDS
        )
        diagnoses = self._diagnose(properties, view, view.status, budget)
        if not diagnoses:
            return reason
        failure = f" ({view.failure_reason})" if view.failure_reason else ""
        return summary_reason(diagnoses, prefix=f"{view.status}{failure}: ")

    def _diagnose(
        self, properties: CertificateProperties, view: CertificateView, moment: str, budget: float
    ) -> list[Diagnosis]:
        diagnoser = self._ctx.runtime.diagnoser
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
            partial(self._ctx.records.zone_services, properties),
            moment=moment,
            budget_seconds=budget,
        )

    def handle_records(self, properties: CertificateProperties, view: CertificateView) -> None:
        """Write the records, or (ManageDnsRecords false) hand them to the user's template."""
        if properties.writes_dns_records:
            self._ctx.records.write(properties, view.records)
            return
        self._ctx.responder.set_data(
            {
                "Arn": view.arn,
                "DomainName": properties.domain_name,
                **record_attributes(properties.all_names, view.records),
            }
        )
        logger.info("Validation records exposed as attributes, not written")

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
