"""Lambda entry point: wiring only. The behaviour lives in the `dns_certificate` package."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from dns_certificate.answer import AnswerNotDeliveredError, Sender, send_answer
from dns_certificate.clients import AwsClients
from dns_certificate.context import Runtime, placeholder_physical_id
from dns_certificate.continuation import Continuation, lambda_self_invoke, load_state
from dns_certificate.deadline import SystemClock
from dns_certificate.diagnoser import Diagnoser
from dns_certificate.errors import (
    CertificateResourceError,
    ContinuationError,
    DecidedFailure,
    InvocationDiedError,
    StateUnavailableError,
    StoredStateUnreadableError,
)
from dns_certificate.guard import RenewalGuard
from dns_certificate.intake import (
    CertificateEvent,
    DeadInvocation,
    IgnoredEvent,
    Malformed,
    Refusal,
    Request,
    SweepEvent,
    classify,
    hop_of,
)
from dns_certificate.lifecycle import Lifecycle
from dns_certificate.metrics import RENEWAL_GUARD
from dns_certificate.metrics import current as current_metrics
from dns_certificate.metrics import recording as metrics_recording
from dns_certificate.protocol import CertificateResource
from dns_certificate.requests import DynamoDBRequests, NoRequestsTable, RequestKey, RequestsStore

LOG_LEVEL = (
    os.environ.get("POWERTOOLS_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO"
).upper()
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "dns-certificate"))

#: How answers are delivered; tests replace it to run the real sender on a fake clock.
SENDER: Sender = send_answer
#: What the on-failure path keeps for answering (the sender's 30 s budget and the clean-up)
#: after watching a hop's lease (template.yaml gives the failure function 60 s).
DEAD_CHECK_RESERVE_SECONDS = 35.0
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def default_runtime() -> Runtime:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    clients = AwsClients(region)
    table = os.environ.get("REQUESTS_TABLE", "")
    requests: RequestsStore
    if table:
        requests = DynamoDBRequests(table, clients.dynamodb())
    else:
        logger.warning(
            "REQUESTS_TABLE is not set: duplicate deliveries are not detected, no wait survives "
            "one invocation, and certificates are recorded in this process only (a later "
            "invocation touches none of them)"
        )
        requests = NoRequestsTable()
    return Runtime(
        clients=clients,
        invoke_self=lambda_self_invoke(clients.lambda_()),
        clock=SystemClock(),
        requests=requests,
        diagnoser=Diagnoser.from_environment(),
    )


def use_runtime(runtime: Runtime | None) -> None:
    """Tests and the local driver inject their clients, self-invoke, clock and table here."""
    global _runtime
    with _runtime_lock:
        _runtime = runtime


def _current_runtime() -> Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = default_runtime()
        return _runtime


def _resource(runtime: Runtime) -> CertificateResource:
    """A new protocol object for each invocation: nothing of one request reaches another."""
    return CertificateResource(sender=SENDER, requests=runtime.requests, log_level=LOG_LEVEL)


def _lifecycle(
    runtime: Runtime,
    event: dict[str, Any],
    context: Any,
    resource: CertificateResource,
    state: Continuation | None = None,
) -> Lifecycle:
    return Lifecycle(
        runtime,
        event,
        function_arn=context.invoked_function_arn,
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000.0,
        responder=resource,
        state=state,
    )


def _serve_every_type(
    resource: CertificateResource, handler: Callable[[dict[str, Any], Any], str]
) -> None:
    """One handler for Create, Update and Delete (a refusal, or a dead invocation's answer)."""
    resource.create(handler)
    resource.update(handler)
    resource.delete(handler)


def _run_lifecycle(
    runtime: Runtime, event: dict[str, Any], context: Any, state: Continuation | None
) -> CertificateResource:
    resource = _resource(runtime)

    def steps(event: dict[str, Any], context: Any) -> Lifecycle:
        return _lifecycle(runtime, event, context, resource, state)

    resource.create(lambda event, context: steps(event, context).create())
    resource.update(lambda event, context: steps(event, context).update())
    resource.delete(lambda event, context: steps(event, context).delete())
    resource(event, context)
    return resource


def _continued_state(runtime: Runtime, event: dict[str, Any]) -> Continuation | bool | None:
    """The stored state a continuation event names; False when the continuation is refused
    (logged; nothing answered, nothing else asked of AWS: CloudFormation never sends one, so
    it is a replay, a forgery, or a late duplicate of a hop that already handed off).
    A table that cannot be read raises: Lambda retries the invocation."""
    try:
        return load_state(event, runtime.continuations)
    except (StateUnavailableError, StoredStateUnreadableError):
        raise
    except ContinuationError as error:
        logger.error("Refused a continuation", extra={"why": error.reason})
        return False


def _raise_if_undelivered(resource: CertificateResource) -> None:
    """Fail the invocation: Lambda retries it (the claim was released for that retry), and
    in the end hands the event to the on-failure destination."""
    if resource.undelivered:
        raise AnswerNotDeliveredError(
            "CloudFormation could not be answered; failing the invocation so that Lambda retries"
        )


def _answer_failed(
    runtime: Runtime, event: dict[str, Any], context: Any, error: CertificateResourceError
) -> None:
    """Answer FAILED without touching AWS (the physical id a rollback can clean up after)."""
    resource = _resource(runtime)

    def fail(event: dict[str, Any], context: Any) -> str:
        if event.get("RequestType") == "Create" or not event.get("PhysicalResourceId"):
            resource.set_physical_id(placeholder_physical_id(event))
        raise error

    _serve_every_type(resource, fail)
    if event.get("RequestType") not in ("Create", "Update", "Delete"):
        event["RequestType"] = "Create"
    resource(event, context)
    _raise_if_undelivered(resource)


def _handle_request(runtime: Runtime, event: dict[str, Any], context: Any) -> None:
    try:
        state = _continued_state(runtime, event)
    except StoredStateUnreadableError as error:
        # The reference and the whole event match what a hand-off stored: CloudFormation's own
        # request, which must hear rather than wait for its timeout.
        logger.error("The continuation's stored state is unreadable", extra={"why": error.reason})
        _answer_failed(runtime, event, context, error)
        return
    if state is False:
        return
    key = RequestKey.of(event)
    requests = runtime.requests
    if requests.answered(key):
        logger.info("This request was answered already; nothing to do")
        return
    hop = hop_of(event)
    # Raises ClaimHeld (the invocation fails, Lambda retries) while another delivery runs it.
    if not requests.start_hop(key, hop, context.get_remaining_time_in_millis()):
        return
    completed = False
    try:
        decided = requests.decided_answer(key)
        if decided is not None:
            _resend_decided(runtime, event, context, decided)
        else:
            continued = state if isinstance(state, Continuation) else None
            _raise_if_undelivered(_run_lifecycle(runtime, event, context, continued))
        completed = True
    finally:
        requests.end_hop(key, hop, completed=completed)


def _resend_decided(
    runtime: Runtime, event: dict[str, Any], context: Any, decided: Mapping[str, Any]
) -> None:
    """An answer an invocation claimed to send is final: its PUT may have arrived (a presigned
    URL can only be written, so nobody can know). The request is not run again, whatever its
    outcome would be now; the answer is sent again, the same bytes. A FAILED one first discards
    what the request made and the answer does not name (as the on-failure path does): a
    Create's certificate, a replacement's."""
    logger.warning(
        "This request's answer was decided by an earlier invocation; sending it again",
        extra={"status": decided.get("Status")},
    )
    resource = _resource(runtime)

    physical_id = str(decided.get("PhysicalResourceId") or placeholder_physical_id(event))

    def resend(event: dict[str, Any], context: Any) -> str:
        # The decided answer itself, should the claim fall back to this invocation's own.
        if decided.get("Status") != "SUCCESS":
            _lifecycle(runtime, event, context, resource).abandon()
            resource.set_physical_id(physical_id)
            raise DecidedFailure(str(decided.get("Reason") or "The request failed"))
        data = decided.get("Data")
        if isinstance(data, dict):
            resource.set_data({str(k): str(v) for k, v in data.items()})
        return physical_id

    _serve_every_type(resource, resend)
    resource(event, context)
    _raise_if_undelivered(resource)


def _handle_dead_invocation(runtime: Runtime, intake: DeadInvocation, context: Any) -> None:
    event = intake.event
    key = RequestKey.of(event)
    if runtime.requests.answered(key):
        logger.info("An invocation died after its request was answered; nothing to do")
        return
    remaining = context.get_remaining_time_in_millis() / 1000.0 - DEAD_CHECK_RESERVE_SECONDS
    if runtime.requests.hop_alive(key, hop_of(event), remaining):
        # A delivery that failed only because another held the hop (issue 19): that one
        # completed or still runs, and answers (or fails into its own retries).
        logger.info("The invocation's hop completed or still runs elsewhere; nothing to do")
        return
    decided = runtime.requests.decided_answer(key)
    if decided is not None:
        _resend_decided(runtime, event, context, decided)
        return
    logger.error("An invocation died before answering", extra={"condition": intake.condition})
    error = InvocationDiedError(
        f"The function's invocation ended without answering ({intake.condition}: a timeout "
        "or crash Lambda could not retry away); see the function's logs"
    )
    resource = _resource(runtime)

    def fail(event: dict[str, Any], context: Any) -> str:
        # The id a rollback can clean up after; a replacement's certificate discarded.
        _lifecycle(runtime, event, context, resource).abandon()
        raise error

    _serve_every_type(resource, fail)
    resource(event, context)
    _raise_if_undelivered(resource)


def lambda_handler(event: Any, context: Any) -> None:
    """One invocation; its metrics are flushed once however it ends (answer, hand-off, timer)."""
    with metrics_recording():
        _handle_invocation(event, context)


def _handle_guard_event(intake: CertificateEvent | SweepEvent, context: Any) -> None:
    """An EventBridge event: nothing is answered, the requests table is not consulted."""
    current_metrics().describe(RENEWAL_GUARD, 0)
    runtime = _current_runtime()
    guard = RenewalGuard(
        runtime.clients,
        runtime.registry,
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000.0,
    )
    if isinstance(intake, SweepEvent):
        logger.info("Renewal guard: scheduled sweep")
        guard.sweep()
    else:
        logger.info(
            "Renewal guard: ACM event",
            extra={"detail_type": intake.detail_type, "certificate_arns": list(intake.arns)},
        )
        guard.certificates(intake.arns)


def _handle_invocation(event: Any, context: Any) -> None:
    intake = classify(event)
    if isinstance(intake, IgnoredEvent):
        logger.thread_safe_clear_keys()
        logger.warning(
            "Ignored an event this function does not handle",
            extra={"source": intake.source, "detail_type": intake.detail_type, "why": intake.why},
        )
        return
    if isinstance(intake, CertificateEvent | SweepEvent):
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(lambda_request_id=getattr(context, "aws_request_id", None))
        _handle_guard_event(intake, context)
        return
    inner = getattr(intake, "event", {})
    current_metrics().describe(inner.get("RequestType"), hop_of(inner))
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(
        stack_id=inner.get("StackId"),
        logical_resource_id=inner.get("LogicalResourceId"),
        request_id=inner.get("RequestId"),
        request_type=inner.get("RequestType"),
        lambda_request_id=getattr(context, "aws_request_id", None),
        hop=hop_of(inner),
    )
    if isinstance(intake, Refusal):
        logger.error("Refused an event that cannot be answered", extra={"why": intake.why})
        return
    # Every claim this invocation writes names it (requests.py: our own claim is told apart
    # from another delivery's).
    base = _current_runtime()
    invocation_id = str(getattr(context, "aws_request_id", "") or "local")
    runtime = replace(base, requests=base.requests.for_invocation(invocation_id))
    if isinstance(intake, DeadInvocation):
        _handle_dead_invocation(runtime, intake, context)
    elif isinstance(intake, Malformed):
        logger.error("Malformed request", extra={"why": intake.reason})
        _answer_failed(runtime, intake.event, context, CertificateResourceError(intake.reason))
    elif isinstance(intake, Request):
        logger.debug("Request received", extra={"hop": hop_of(intake.event)})
        _handle_request(runtime, intake.event, context)


copy_config_to_registered_loggers(source_logger=logger, include={"crhelper"}, log_level=LOG_LEVEL)
