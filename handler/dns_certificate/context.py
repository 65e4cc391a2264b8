"""What every step of one CloudFormation request shares: the request as received, the runtime's
clients and clock, the one Waiter (and its hand-off), the zones found so far, and the small
helpers create, update, delete and converge all use. Below them; imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NoReturn, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from . import continuation as cont
from .certificates import CertificateService, ownership_tags
from .clients import ClientFactory, error_code
from .continuation import (
    Continuation,
    ContinuationStore,
    DynamoDBContinuations,
    MemoryContinuations,
    SelfInvoke,
    load_state,
)
from .deadline import Clock, Seconds, overall_deadline
from .diagnoser import Diagnoser
from .errors import CertificateResourceError, ContinuationError, InvalidPropertyError
from .planning import idempotency_token, identity_fingerprint
from .properties import MAX_SERVICE_TIMEOUT, CertificateProperties, parse_properties
from .records import ValidationRecords, Zone, role_session_name, zones_tag
from .registry import DynamoDBRegistry, MemoryRegistry, Owner, Registry
from .requests import DynamoDBRequests, NoRequestsTable, RequestsStore
from .tagging import Tag
from .waiting import HandedOff, Waiter
from .zonetag import NO_RECORDS, Unrecorded, decode

logger = Logger(child=True)

ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})

#: An Update's state before it has decided between replacement and in place.
UNDECIDED = "update"
#: Physical ids of Creates that failed before a certificate ARN was known.
PLACEHOLDER_PREFIX = "dns-certificate-not-created-"


class Responder(Protocol):
    """The part of the protocol layer the lifecycle talks to."""

    def set_physical_id(self, physical_id: str) -> None: ...

    def set_data(self, data: Mapping[str, str]) -> None: ...

    def set_timeout_cleanup(self, cleanup: Callable[[Seconds], None] | None) -> None: ...

    def commit(self, physical_id: str, data: Mapping[str, str]) -> bool: ...

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

    @cached_property
    def registry(self) -> Registry:
        """The provider's records of its certificates: in the requests table when there is one."""
        if isinstance(self.requests, DynamoDBRequests):
            return DynamoDBRegistry(self.requests.table_name, self.requests.client)
        return MemoryRegistry()

    @cached_property
    def continuations(self) -> ContinuationStore:
        """Where a hand-off stores the state the next invocation continues from."""
        if isinstance(self.requests, DynamoDBRequests):
            return DynamoDBContinuations(self.requests.table_name, self.requests.client)
        return MemoryContinuations()


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


class RequestContext:
    """One request's shared state and helpers; each request type's steps receive it."""

    def __init__(
        self,
        runtime: Runtime,
        event: Mapping[str, Any],
        *,
        function_arn: str,
        remaining_seconds: Callable[[], float],
        responder: Responder,
        state: Continuation | None = None,
    ) -> None:
        #: The stored state, already read and checked by the protocol layer (app.py).
        self._preloaded_state = state
        self.runtime = runtime
        self.event = event
        self.request = CfnRequest.from_event(event)
        self.function_arn = function_arn
        self.remaining_seconds = remaining_seconds
        self.responder = responder
        self.clock = runtime.clock
        self.records = ValidationRecords(
            runtime.clients, role_session_name(self.request.stack_id, self.request.logical_id)
        )
        self.waiter = Waiter(runtime.clock, remaining_seconds, self.hand_off)

    @property
    def owner(self) -> Owner:
        """The resource the event names (what the provider's records must name to act)."""
        return Owner(self.request.stack_id, self.request.logical_id)

    @property
    def registry(self) -> Registry:
        return self.runtime.registry

    def stored_state(self) -> Continuation | None:
        """The state this invocation continues from (None for CloudFormation's own delivery)."""
        if self._preloaded_state is not None:
            return self._preloaded_state
        return load_state(self.event, self.runtime.continuations)

    def state_or_new(self, actions: tuple[str, ...], service_timeout: int) -> Continuation:
        state = self.stored_state()
        if state is None:
            return self.new_state(actions[0], service_timeout)
        state.check(
            actions=actions,
            latest_deadline=overall_deadline(state.started_at, service_timeout),
            now=self.clock.now(),
        )
        self._check_recorded(state)
        self.records.remember(state.zones)  # found by an earlier invocation: not looked up again
        return state

    def _check_recorded(self, state: Continuation) -> None:
        """A stored state is the provider's own, yet a certificate it names is acted on only
        when the provider's records give it to this resource (a second line: a state written
        by a bug, or by anyone else with access to the table, steers nothing)."""
        arn = state.certificate_arn
        if not arn:
            return
        record = self.registry.certificate(arn)
        if state.action in ("create", "replace"):
            allowed = record is not None and record.made_by(self.owner, request_token(self.event))
        else:
            allowed = (
                record is not None
                and record.belongs_to(self.owner)
                and arn == self.request.physical_id
            )
        if not allowed:
            raise ContinuationError(
                "The continuation state is refused: its certificate is not the resource's"
            )

    def stop_if_answered(self, step: str) -> None:
        """Change nothing once the timeout timer has answered FAILED (an earlier call, such as
        a throttled zone lookup, outlasted the invocation): CloudFormation has moved on to its
        rollback. A certificate requested now would be left behind if the rollback Delete
        already searched for it by its tags; a tag change could overtake the rollback Update.
        """
        if self.responder.answered:
            logger.warning(f"Not {step}: this request was already answered")
            raise HandedOff()

    def discard_budget(self) -> Seconds:
        """Time a clean-up may take before the answer: never into the timer's margin."""
        return Seconds(max(0.0, min(60.0, self.remaining_seconds() - 10.0)))

    def hand_off(self, state: Continuation) -> NoReturn:
        # After the timer's FAILED answer a next invocation would answer a second time.
        self.stop_if_answered("handing off")
        payload = cont.next_event(
            self.event,
            state.advanced(zones=self.records.carried_zones()),
            self.runtime.continuations,
        )
        try:
            self.runtime.invoke_self(self.function_arn, payload)
        except ContinuationError:
            raise
        except Exception as error:
            hint = ""
            if isinstance(error, ClientError) and error_code(error) in ACCESS_DENIED_CODES:
                hint = "; it needs lambda:InvokeFunction on itself"
            raise ContinuationError(
                f"Could not invoke {self.function_arn} to keep waiting ({type(error).__name__}: "
                f"{error}){hint}"
            ) from error
        self.runtime.continuations.supersede_others(
            cont.binding_of(self.event), payload[cont.CONTINUATION_KEY][cont.REFERENCE_KEY]
        )
        logger.info(
            "Handed off to a new invocation",
            extra={
                "hop": state.hop + 1,
                "phase": state.phase,
                "certificate_arn": state.certificate_arn,
            },
        )
        raise HandedOff()

    def new_state(self, action: str, service_timeout: int) -> Continuation:
        now = self.clock.now()
        return Continuation(
            action=action, started_at=now, deadline=overall_deadline(now, service_timeout)
        )

    def lenient_timeout(self) -> int:
        try:
            return parse_properties(self.request.properties).service_timeout
        except InvalidPropertyError:
            return MAX_SERVICE_TIMEOUT

    def region(self, properties: CertificateProperties) -> str:
        return properties.region or self.runtime.clients.default_region

    def effective(self, properties: CertificateProperties) -> CertificateProperties:
        """The region made explicit, so a default and its spelled-out value compare equal."""
        return replace(properties, region=self.region(properties))

    def ownership_tags(
        self, properties: CertificateProperties, *, with_request: bool = False
    ) -> list[Any]:
        fingerprint = identity_fingerprint(self.effective(properties).identity())
        token = request_token(self.event) if with_request else None
        return ownership_tags(self.request.stack_id, self.request.logical_id, fingerprint, token)

    def zones_tag(self, properties: CertificateProperties, zones: Mapping[str, Zone]) -> Tag:
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

    def certificates(self, properties: CertificateProperties) -> CertificateService:
        return self.runtime_certificates(self.region(properties))

    def runtime_certificates(self, region: str) -> CertificateService:
        return CertificateService(self.runtime.clients.acm(region))

    @staticmethod
    def arn_of(state: Continuation) -> str:
        if not state.certificate_arn:
            raise CertificateResourceError("Internal error: no certificate ARN in the state")
        return state.certificate_arn
