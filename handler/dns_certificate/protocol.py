"""crhelper as the protocol layer, one resource object per invocation.

Kept from crhelper: the event parsing, the dispatch to create/update/delete, the fallback to the
event's physical id, and the timeout timer. Replaced: the sender (see `answer`), the timer (it
answers first, then runs the lifecycle's clean-up within a hard budget, and is cancelled and
joined before the invocation returns), the claim of the answer in the requests table right
before it is sent (a second claimant sends nothing), and a way to end an invocation without
answering when the wait was handed to the next invocation.

A resource object serves exactly one invocation: nothing of one request (its ResponseURL, its
physical id, its timer) can reach another, even when a timer outlives its invocation.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import crhelper
from aws_lambda_powertools import Logger
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from crhelper import CfnResource

from .answer import AnswerNotDeliveredError, Sender, send_answer
from .deadline import TIMER_ANSWER_BUDGET_SECONDS, TIMER_MARGIN_SECONDS, Seconds

__all__ = ["TIMER_ANSWER_BUDGET_SECONDS", "TIMER_MARGIN_SECONDS", "CertificateResource"]
from .errors import MAX_LONG_REASON_LENGTH, CertificateResourceError, shorten
from .metrics import current as current_metrics
from .requests import NoRequestsTable, RequestKey, RequestsStore
from .waiting import HandedOff

logger = Logger(child=True)

#: The crhelper release whose internals the overrides below were written against.
CRHELPER_VERSION = "2.0.12"

FAILED = "FAILED"
#: What the timer's clean-up leaves of the invocation, so the join and return still fit.
CLEANUP_RESERVE_SECONDS = 1.0

#: A clean-up run by the timer after its answer; it gets the seconds it may take.
TimeoutCleanup = Callable[[Seconds], None]


@contextmanager
def _without_polling_clients() -> Iterator[None]:
    """Keep crhelper from building its lambda, events and logs clients.

    They serve only its EventBridge polling, which this resource does not use, and cost about
    80 ms of every cold start (measured by benchmarks/cold_start.py). crhelper skips them when
    AWS_SAM_LOCAL is set; without polling that flag has no other effect, and it is reset on the
    instance right after construction.
    """
    previous = os.environ.get("AWS_SAM_LOCAL")
    os.environ["AWS_SAM_LOCAL"] = "true"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["AWS_SAM_LOCAL"]
        else:
            os.environ["AWS_SAM_LOCAL"] = previous


class _RedactResponseUrl(logging.Filter):
    """crhelper logs the whole event at DEBUG, ResponseURL included: the URL is a credential.

    Installed on crhelper's logger, so that `LogLevel: DEBUG` shows the event without it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, Mapping) and "ResponseURL" in record.msg:
            record.msg = {**record.msg, "ResponseURL": "(redacted)"}
        return True


def _redact_crhelper_logs() -> None:
    crhelper_logger = logging.getLogger("crhelper.resource_helper")
    if not any(isinstance(f, _RedactResponseUrl) for f in crhelper_logger.filters):
        crhelper_logger.addFilter(_RedactResponseUrl())


_redact_crhelper_logs()


def crhelper_version() -> str:
    return str(getattr(crhelper, "__version__", "")) or _installed_version("crhelper")


def _installed_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""


class CertificateResource(CfnResource):
    # crhelper sets these; its bundled stubs declare only the public attributes.
    _event: dict[str, Any]
    _context: Any
    _response_url: str
    _timer: threading.Timer | None

    def __init__(
        self,
        *,
        sender: Sender = send_answer,
        requests: RequestsStore | None = None,
        log_level: str = "INFO",
    ) -> None:
        with _without_polling_clients():
            super().__init__(
                json_logging=False, log_level=log_level, boto_level="WARNING", sleep_on_delete=0
            )
        self._sam_local = None
        self._sender = sender
        self._requests: RequestsStore = requests or NoRequestsTable()
        self._answer_lock = threading.Lock()
        self._answered = False
        self._handed_off = False
        self._timeout_cleanup: TimeoutCleanup | None = None
        #: The step came to its answer (`commit`): a timer firing now sends that answer.
        self._committed = False
        self._key: RequestKey | None = None
        #: Every attempt to deliver the answer failed: the invocation must fail, so that
        #: Lambda retries it (the claim was released for that retry).
        self.undelivered = False
        #: Made inside the invocation: its metrics (the timer's thread answers through it too).
        self._metrics = current_metrics()

    # ---- what the lifecycle calls -------------------------------------------------------

    def set_physical_id(self, physical_id: str) -> None:
        self.PhysicalResourceId = physical_id

    def set_data(self, data: Mapping[str, str]) -> None:
        self.Data = dict(data)

    def set_timeout_cleanup(self, cleanup: TimeoutCleanup | None) -> None:
        self._timeout_cleanup = cleanup

    def commit(self, physical_id: str, data: Mapping[str, str]) -> bool:
        """The step is done: answer `physical_id` and `data`. False when this invocation's
        timer answered first (its FAILED named the id set before, and its clean-up runs): the
        caller must then undo what that answer does not name.

        Atomic with the timer's answer, so no window is left between the two: a timer firing
        after the commit sends this same answer and runs no clean-up.
        """
        with self._answer_lock:
            if self._answered:
                return False
            self.PhysicalResourceId = physical_id
            self.Data = dict(data)
            self._timeout_cleanup = None
            self._committed = True
            return True

    @property
    def answered(self) -> bool:
        """Answered by this invocation (its timer) or, as the requests table says, any other."""
        with self._answer_lock:
            if self._answered:
                return True
        return self._key is not None and self._requests.answered(self._key)

    def remaining_seconds(self) -> float:
        return float(self._context.get_remaining_time_in_millis()) / 1000.0

    # ---- crhelper overrides -------------------------------------------------------------

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        try:
            super().__call__(event, context)
        finally:
            self._stop_timer()

    def _crhelper_init(self, event: dict[str, Any], context: Any) -> bool:
        self._key = RequestKey.of(event)
        return bool(super()._crhelper_init(event, context))  # type: ignore[misc]

    def _wrap_function(self, func: Callable[[dict[str, Any], Any], str] | None) -> None:
        try:
            self.PhysicalResourceId = func(self._event, self._context) if func else ""
        except HandedOff:
            self._handed_off = True
        except CertificateResourceError as error:
            logger.warning(
                "Request failed", extra={"reason": error.reason, "error": type(error).__name__}
            )
            self.Reason = error.reason
            self.Status = FAILED
        except (ConnectTimeoutError, ReadTimeoutError) as error:
            # Every client gives up within deadline.CALL_WORST_SECONDS: a hung call ends here,
            # answered by this invocation, before the timer would have to.
            logger.exception("An AWS call did not return in time")
            self.Reason = shorten(
                f"An AWS call did not return in time ({type(error).__name__}: {error}); "
                "usually transient: retry"
            )
            self.Status = FAILED
        except Exception as error:  # every failure must still answer
            logger.exception("Unexpected error")
            self.Reason = shorten(f"Unexpected {type(error).__name__}: {error}")
            self.Status = FAILED

    def _cfn_response(self, event: dict[str, Any]) -> None:
        if self._handed_off:
            logger.info("No answer from this invocation: the next one carries on")
            return
        super()._cfn_response(event)  # type: ignore[misc]

    # ---- the timer ----------------------------------------------------------------------

    def _set_timeout(self) -> None:
        remaining = self.remaining_seconds()
        # Log keys (stack, request...) are per thread: hand this thread's to the timer's.
        keys = logger.thread_safe_get_current_keys()

        def timeout_with_keys() -> None:
            logger.thread_safe_append_keys(**keys)
            self._timeout()

        self._timer = threading.Timer(max(0.0, remaining - TIMER_MARGIN_SECONDS), timeout_with_keys)
        self._timer.daemon = True
        self._timer.start()

    def _timeout(self) -> None:
        """Answer FAILED first (CloudFormation must hear), then clean up within what is left.

        A step that committed its answer (`commit`) gets that answer sent instead. Whether it
        did, and the claim of the answer, are decided under one lock with `commit`."""
        with self._answer_lock:
            first = not self._answered
            self._answered = True
            committed = self._committed
            cleanup, self._timeout_cleanup = self._timeout_cleanup, None
            if not committed:
                physical_id = self.PhysicalResourceId or self._event.get("PhysicalResourceId")
                self.PhysicalResourceId = physical_id or self.generate_physical_id(self._event)
        if not first:
            logger.warning("The invocation is about to time out; its answer is on its way")
        elif committed:
            logger.warning("The invocation is about to time out; sending the step's answer")
            self._deliver(budget=TIMER_ANSWER_BUDGET_SECONDS)
        else:
            logger.error("The invocation is about to time out; answering FAILED")
            self._deliver(
                FAILED,
                "The function ran out of time before the step finished (an AWS call did not "
                "return); see the function's logs",
                budget=TIMER_ANSWER_BUDGET_SECONDS,
            )
        # The call the main thread waits for may never return: Lambda then ends the invocation
        # and the flush in lambda_handler's `finally` never runs. Flush here, once; whatever the
        # main thread records later is dropped (the request is answered).
        self._metrics.flush()
        if cleanup is None:
            return
        budget = Seconds(max(0.0, self.remaining_seconds() - CLEANUP_RESERVE_SECONDS))
        try:
            cleanup(budget)
        except Exception:
            logger.exception("Clean-up after the timeout answer failed")

    def _stop_timer(self) -> None:
        """Cancel the timer, or wait for it if it is answering: it must not outlive us."""
        timer = self._timer
        if timer is None:
            return
        timer.cancel()
        if timer.is_alive() and timer is not threading.current_thread():
            timer.join(max(0.0, self.remaining_seconds() - 0.2))
            if timer.is_alive():
                logger.error("The timeout timer's clean-up is still running as the invocation ends")

    # ---- the answer ---------------------------------------------------------------------

    def _send(
        self,
        status: str | None = None,
        reason: str = "",
        send_response: object = None,
        budget: float = 30.0,
    ) -> None:
        with self._answer_lock:
            if self._answered:
                logger.warning("A second answer for this request was suppressed")
                return
            self._answered = True
        self._deliver(status, reason, budget)

    def _deliver(self, status: str | None = None, reason: str = "", budget: float = 30.0) -> None:
        """Claim the answer in the requests table, then send it (once `_answered` is taken)."""
        key = self._key
        body: dict[str, Any] = {
            "Status": self.Status,
            "PhysicalResourceId": str(self.PhysicalResourceId),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "Reason": shorten(str(self.Reason), MAX_LONG_REASON_LENGTH),
            "Data": self.Data,
            "NoEcho": self.NoEcho,
        }
        if status:
            body.update({"Status": status, "Reason": shorten(reason, MAX_LONG_REASON_LENGTH)})
        if key is not None:
            claim = self._requests.claim_answer(
                key, self._context.get_remaining_time_in_millis(), body
            )
            if claim is None:
                return
            body = dict(claim.body)
        try:
            self._sender(self._response_url, body, budget)
        except AnswerNotDeliveredError as error:
            logger.exception("CloudFormation could not be answered")
            self.undelivered = True
            if key is not None:
                self._requests.release_answer(key, may_have_arrived=error.may_have_arrived)
            return
        self._metrics.answered(str(body["Status"]))
        if key is not None:
            self._requests.answer_sent(key)
