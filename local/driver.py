"""A local CloudFormation: the custom-resource protocol, played against `app.lambda_handler`.

What CloudFormation and Lambda do, done here in one process:

* **Requests** are built as CloudFormation builds them: a UUID `RequestId`, a `ResponseURL`
  (presigned-looking, served by `local.answers.AnswerServer`), the stack's ARN as `StackId`,
  `LogicalResourceId`, `ResourceType`, `ServiceToken`, `ResourceProperties` with every scalar
  turned into a string (and `ServiceToken` inside them), `OldResourceProperties` on Update and
  `PhysicalResourceId` on Update and Delete.
* **Invocations** are asynchronous, as CloudFormation's are: each runs in a worker thread with
  a fresh `LambdaContext` whose remaining time counts down for real from the function's
  timeout. A function error is retried (twice, like Lambda's async retries, but after a short
  delay). The handler's `invoke_self` is this driver's: the continuation payload goes through
  JSON (and Lambda's 256 KB async payload limit) and runs as a new invocation with a new
  context.
* **Timeouts** stop the invocation as Lambda does: at the function's timeout the invocation is
  over (recorded as timed out, retried with the same event like a function error). A thread
  cannot be killed, so the stopped one is fenced instead: its next AWS call or answer raises
  `InvocationStopped` (a BaseException the handler does not catch). Its crhelper timer thread is
  not fenced (it answers before the timeout, and must be joined by the handler anyway).
* **The on-failure destination** (optional, `on_failure_destination=True`): when the last
  retry failed or timed out, the function gets Lambda's destination record
  (`requestContext.condition` RetriesExhausted, `requestPayload` the event).
* **Duplicate delivery** (`duplicate(Duplicate(...))`): Lambda may deliver an event twice; a
  rule delivers the matching events (a stack's Create/Update/Delete, or one hop of its chain) a
  second time, at the same moment or right after the first delivery ended.
* **Scopes**: every AWS call an invocation makes carries the header `x-local-scope` with its
  stack's name, so the emulator can inject a fault into one stack's calls only; the
  ResponseURL's path names the stack, the logical id and the purpose (as the real one names
  the stack), so the answer server can fail one request's answers.
* **Answers** are checked the way CloudFormation reads them (JSON, required fields, at most
  4096 bytes, the request's own ids echoed) and there must be exactly one per request: after
  the first, the driver waits a short grace period and counts again.
* **Stack operations**: create (all resources at once; a failure rolls back with a Delete of
  every resource that answered, with the physical id it answered), update (in place or
  replacement; a replacement's old physical id gets a Delete in the cleanup phase; a failure
  rolls back with an Update to the old properties and the old physical id, then a Delete of
  any replacement's new id), and delete.

Every step records its time, its invocations (continuations and retries included) and the
protocol problems found. The ResponseURL is a credential: nothing here prints or logs it, and
error texts are scrubbed of it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from local.answers import Answer, AnswerServer, Attempt, answer_stack_resources
from local.context import LambdaContext
from local.emulator import ACCOUNT_ID, DEFAULT_REGION, SCOPE_HEADER

HANDLER_DIR = Path(__file__).resolve().parent.parent / "handler"
RESOURCE_TYPE = "Custom::DnsValidatedCertificate"
FUNCTION_NAME = "dns-certificate-local"
#: Lambda's limit for an asynchronous invocation's payload.
ASYNC_PAYLOAD_LIMIT = 256 * 1024
SUCCESS = "SUCCESS"
FAILED = "FAILED"
NO_ANSWER = "NO_ANSWER"


class InvocationStopped(BaseException):
    """Raised in an invocation Lambda has stopped (timed out) when it calls AWS or answers."""


#: The invocation running on this thread: its scope (stack name) and its record.
_current = threading.local()


def stack_name(stack_id: str) -> str:
    """`arn:aws:cloudformation:...:stack/<name>/<id>` -> name ("" when not a stack ARN)."""
    parts = stack_id.split(":stack/", 1)
    return parts[1].split("/", 1)[0] if len(parts) == 2 else ""


def _fence_and_scope(request: Any, **_: Any) -> None:
    """botocore `before-send`: label the call with its stack; stop a stopped invocation."""
    invocation: Invocation | None = getattr(_current, "invocation", None)
    if invocation is None:
        return
    if invocation.timed_out:
        raise InvocationStopped(f"invocation {invocation.hop}.{invocation.attempt} timed out")
    request.headers[SCOPE_HEADER] = getattr(_current, "scope", "")


def load_app() -> ModuleType:
    """The Lambda's entry module, importable from `handler/` as the runtime sees it."""
    if str(HANDLER_DIR) not in sys.path:
        sys.path.insert(0, str(HANDLER_DIR))
    return importlib.import_module("app")


def acm_event(
    arn: str, detail_type: str = "ACM Certificate Renewal Action Required"
) -> dict[str, Any]:
    """ACM's EventBridge event for one certificate, shaped as ACM's documentation shows it."""
    region, account = arn.split(":")[3], arn.split(":")[4]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.acm",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [arn],
        "detail": {"DaysToExpiry": 31, "CommonName": "example.com"},
    }


def scheduled_event(region: str = DEFAULT_REGION, account: str = ACCOUNT_ID) -> dict[str, Any]:
    """What an EventBridge schedule delivers to its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/dns-certificate-sweep"],
        "detail": {},
    }


def cfn_strings(value: Any) -> Any:
    """Properties as CloudFormation delivers them: scalars become strings, lists stay lists."""
    if isinstance(value, Mapping):
        return {str(key): cfn_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [cfn_strings(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


# ---- records ----------------------------------------------------------------------------------


@dataclass
class Invocation:
    request_id: str
    hop: int  # 0: CloudFormation's invocation; n: the n-th continuation
    attempt: int  # 0: first delivery; 1, 2: Lambda's retries after a function error
    timeout_seconds: float
    started: float
    ended: float | None = None
    error: str | None = None
    #: Lambda stopped it at the function's timeout.
    timed_out: bool = False
    #: A second delivery of an event Lambda had already delivered (`Duplicate`).
    duplicate: bool = False
    #: Lambda's on-failure destination record for this request, not the event itself.
    destination: bool = False

    @property
    def seconds(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    @property
    def overran(self) -> bool:
        return not self.timed_out and self.seconds > self.timeout_seconds


@dataclass(frozen=True)
class Duplicate:
    """Deliver the events of `stack` of `request_type` (hop `hop` of their chain) twice:
    `concurrent` at the same moment, else `delay` seconds after the first delivery ended.

    `forged`: the second delivery is a forgery that copies the event's ids but carries another
    ResponseURL (the forger's own), and it comes *first*: CloudFormation's own delivery follows
    `delay` seconds after the forged one ended (or at the same moment, `concurrent`)."""

    stack: str
    request_type: str
    hop: int = 0
    concurrent: bool = False
    delay: float = 0.1
    forged: bool = False


@dataclass(frozen=True)
class DriverEvent:
    """request | invoked | handed_off | function_error | answered | no_answer"""

    kind: str
    at: float  # time.monotonic()
    request_type: str
    logical_id: str
    request_id: str
    detail: Mapping[str, Any]


DriverListener = Callable[[DriverEvent], None]


@dataclass
class StepResult:
    """One request to the custom resource, as CloudFormation saw it."""

    purpose: str  # create | update | cleanup | rollback | delete
    request_type: str
    logical_id: str
    request_id: str
    physical_id_sent: str | None
    status: str  # SUCCESS | FAILED | NO_ANSWER
    physical_id: str
    reason: str
    data: dict[str, Any]
    seconds: float
    invocations: list[Invocation]
    problems: list[str]
    answers: int
    #: The label of the request's ResponseURL (stack.logical-id.purpose).
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS and not self.problems

    @property
    def hops(self) -> int:
        """How many continuations the request needed."""
        return max((inv.hop for inv in self.invocations), default=0)

    def describe(self) -> str:
        line = f"{self.purpose} {self.logical_id} ({self.request_type}): {self.status}"
        if self.reason:
            line += f" - {self.reason}"
        return line


@dataclass
class StackOperation:
    action: str  # CREATE | UPDATE | DELETE
    status: str  # e.g. CREATE_COMPLETE, ROLLBACK_COMPLETE, UPDATE_ROLLBACK_COMPLETE
    steps: list[StepResult]
    seconds: float

    @property
    def succeeded(self) -> bool:
        return self.status == f"{self.action}_COMPLETE"

    @property
    def problems(self) -> list[str]:
        return [
            f"{step.purpose} {step.logical_id}: {problem}"
            for step in self.steps
            for problem in step.problems
        ]

    def steps_for(self, logical_id: str, purpose: str | None = None) -> list[StepResult]:
        return [
            step
            for step in self.steps
            if step.logical_id == logical_id and (purpose is None or step.purpose == purpose)
        ]

    def step(self, logical_id: str, purpose: str | None = None) -> StepResult:
        steps = self.steps_for(logical_id, purpose)
        if not steps:
            raise KeyError(f"no {purpose or ''} step for {logical_id}")
        return steps[0]


@dataclass
class _Tracked:
    request_type: str
    logical_id: str
    invocations: list[Invocation] = field(default_factory=list)


# ---- Lambda ---------------------------------------------------------------------------------


def _locked_clients(region: str, answers: AnswerServer | None = None) -> Any:
    """The handler's `AwsClients`, one set per worker thread, as each Lambda container has its own.

    Lambda runs one invocation per container, so the handler makes its clients lazily without
    a lock, and each container's clients keep their own state (botocore's retry quota among
    it: one shared set would let one stack's throttled calls use up another's retries). Here a
    worker thread plays a warm container: each gets its own `AwsClients`, made on first use;
    clients are made under one lock (a boto3 session must not make two at the same time). Every
    client made is labelled with the calling invocation's scope and fenced when it is stopped.
    """
    from dns_certificate.clients import AwsClients

    lock = threading.RLock()
    containers = threading.local()

    class ContainerClients:
        default_region = region

        def _own(self) -> AwsClients:
            clients: AwsClients | None = getattr(containers, "clients", None)
            if clients is None:
                with lock:
                    clients = containers.clients = AwsClients(region)
            return clients

        def __getattr__(self, name: str) -> Any:
            attribute = getattr(self._own(), name)
            if name.startswith("_") or not callable(attribute):
                return attribute

            def locked(*args: Any, **kwargs: Any) -> Any:
                with lock:
                    made = attribute(*args, **kwargs)
                events = getattr(getattr(made, "meta", None), "events", None)
                if events is not None:  # a client: label its calls, fence stopped invocations
                    events.register("before-send", _fence_and_scope, unique_id="local-driver")
                if name == "cloudformation" and answers is not None:
                    # The local stacks exist only here: their resources as the answers say.
                    answer_stack_resources(made, answers)
                return made

            return locked

    return ContainerClients()


class _WorkerPool:
    """Daemon worker threads ("warm containers"), started as needed.

    Daemon threads, so a handler stuck in a wait never keeps the process alive; reused, so the
    handler's per-thread resource is built once per worker like a warm Lambda container.
    """

    def __init__(self, max_workers: int, warm: Callable[[], None]) -> None:
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._max = max_workers
        self._warm = warm
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._idle = 0

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            if self._idle > 0:
                self._idle -= 1  # an idle worker takes this task
            elif len(self._workers) < self._max:
                worker = threading.Thread(
                    target=self._work, name=f"lambda-{len(self._workers)}", daemon=True
                )
                self._workers.append(worker)
                worker.start()
            # else: the task waits for the first worker to finish (Lambda's concurrency limit)
        self._queue.put(task)

    def _work(self) -> None:
        self._warm()
        while True:
            task = self._queue.get()
            if task is None:
                return
            try:
                task()
            finally:
                with self._lock:
                    self._idle += 1

    def close(self) -> None:
        with self._lock:
            workers = list(self._workers)
        for _ in workers:
            self._queue.put(None)


# ---- the driver -----------------------------------------------------------------------------


class LocalCloudFormation:
    """CloudFormation and Lambda for `app.lambda_handler`, in this process.

    Start it after the emulator (the handler's clients are made from the environment the
    emulator sets). While it runs, the handler's runtime is this driver's: its clients honour
    AWS_ENDPOINT_URL and its self-invoke runs the continuation here.
    """

    def __init__(
        self,
        *,
        region: str = DEFAULT_REGION,
        account_id: str = ACCOUNT_ID,
        function_timeout: float = 45.0,
        answer_timeout: float = 120.0,
        grace: float = 0.5,
        lambda_retries: int = 2,
        retry_delay: float = 0.5,
        max_workers: int = 32,
        answers: AnswerServer | None = None,
        function: Any = None,
        diagnoser: Any = None,
        on_failure_destination: bool = True,
    ) -> None:
        """`function`: what Lambda runs, anything with `lambda_handler(event, context)`;
        by default the handler (`handler/app.py`), wired to this driver; `diagnoser`: the
        handler's diagnosis of stuck validations (None: none)."""
        self.diagnoser = diagnoser
        self.region = region
        self.account_id = account_id
        self.function_timeout = function_timeout
        self.answer_timeout = answer_timeout
        self.grace = grace
        self.lambda_retries = lambda_retries
        self.retry_delay = retry_delay
        self.on_failure_destination = on_failure_destination
        self.function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{FUNCTION_NAME}"
        self._max_workers = max_workers
        self._answers: AnswerServer | None = answers
        self._owns_answers = answers is None
        self._pool: _WorkerPool | None = None
        self._app: Any = function
        self._wires_handler = function is None
        self._lock = threading.Condition()
        self._tracked: dict[str, _Tracked] = {}
        self._listeners: list[DriverListener] = []
        self._closed = True
        self._duplicates: list[Duplicate] = []
        self._timeouts: dict[str, float] = {}  # stack name -> function timeout
        self._urls: dict[str, str] = {}  # request id -> ResponseURL (never printed)
        self._forged_urls: dict[str, str] = {}  # request id -> a forgery's ResponseURL
        #: Deliveries scheduled (retries, duplicates, destinations) but not started, by request.
        self._pending: dict[str, int] = {}
        self._saved_sender: Any = None

    # ---- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> LocalCloudFormation:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> LocalCloudFormation:
        if self._owns_answers:
            self._answers = AnswerServer().__enter__()
        self._pool = _WorkerPool(self._max_workers, self._warm)
        if self._wires_handler:
            app = self._app = load_app()
            from dns_certificate.context import Runtime
            from dns_certificate.deadline import SystemClock
            from dns_certificate.requests import DynamoDBRequests, NoRequestsTable, RequestsStore

            clients = _locked_clients(self.region, self._answers)
            table = os.environ.get("REQUESTS_TABLE", "")
            requests: RequestsStore = (
                DynamoDBRequests(table, clients.dynamodb()) if table else NoRequestsTable()
            )
            runtime = Runtime(
                clients=clients,
                invoke_self=self.invoke_self,
                clock=SystemClock(),
                requests=requests,
                diagnoser=self.diagnoser,
            )
            app.use_runtime(runtime)
            self._saved_sender = sender = self._app.SENDER

            def fenced_sender(url: str, body: Any, budget: float) -> None:
                invocation: Invocation | None = getattr(_current, "invocation", None)
                if invocation is not None and invocation.timed_out:
                    raise InvocationStopped("a stopped invocation cannot answer")
                sender(url, body, budget)

            self._app.SENDER = fenced_sender
        self._closed = False
        return self

    def close(self, wait: float | None = None) -> None:
        """Stop taking continuations, let running invocations end, restore the runtime."""
        if self._closed:
            return
        self._closed = True
        self.wait_idle(self.function_timeout if wait is None else wait)
        if self._pool is not None:
            self._pool.close()
        if self._wires_handler and self._app is not None:
            self._app.use_runtime(None)
            if self._saved_sender is not None:
                self._app.SENDER = self._saved_sender
                self._saved_sender = None
        if self._answers is not None and self._owns_answers:
            self._answers.close()
            self._answers = None

    def _warm(self) -> None:
        """Nothing to build ahead: the handler makes one protocol object per invocation, without
        AWS clients, and the injected runtime's clients are made under its own lock."""
        return

    def subscribe(self, listener: DriverListener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, kind: str, request_id: str, **detail: Any) -> None:
        with self._lock:
            tracked = self._tracked.get(request_id)
            listeners = list(self._listeners)
        event = DriverEvent(
            kind=kind,
            at=time.monotonic(),
            request_type=tracked.request_type if tracked else "",
            logical_id=tracked.logical_id if tracked else "",
            request_id=request_id,
            detail=detail,
        )
        for listener in listeners:
            with contextlib.suppress(Exception):  # a listener must never break the run
                listener(event)

    # ---- Lambda -------------------------------------------------------------------------

    def invoke_self(self, function_arn: str, payload: Mapping[str, Any]) -> None:
        """Lambda's asynchronous Invoke, as the handler's `invoke_self` sees it."""
        if self._closed:
            raise RuntimeError("the local CloudFormation driver is closed")
        if function_arn != self.function_arn:
            raise RuntimeError(f"Function not found: {function_arn}")
        text = json.dumps(payload)
        if len(text.encode()) > ASYNC_PAYLOAD_LIMIT:
            raise RuntimeError(
                f"Payload of {len(text.encode())} bytes exceeds the asynchronous invocation "
                f"limit of {ASYNC_PAYLOAD_LIMIT}"
            )
        request_id = str(payload.get("RequestId", ""))
        hop = int((payload.get("Continuation") or {}).get("hop", 0))
        self._emit("handed_off", request_id, hop=hop)
        self._invoke(text, request_id, hop=hop, attempt=0)

    def set_function_timeout(self, stack: str, seconds: float) -> None:
        """Invocations for `stack` (by name) run with this timeout: as if its ServiceToken
        named another deployment of the function, configured differently."""
        with self._lock:
            self._timeouts[stack] = seconds

    def function_timeout_of(self, stack: str) -> float:
        with self._lock:
            return self._timeouts.get(stack, self.function_timeout)

    def duplicate(self, rule: Duplicate) -> None:
        """Deliver the events `rule` matches twice (see `Duplicate`)."""
        with self._lock:
            self._duplicates.append(rule)

    def _duplicate_rule(self, event_text: str, request_id: str, hop: int) -> Duplicate | None:
        with self._lock:
            rules = list(self._duplicates)
            tracked = self._tracked.get(request_id)
        if not rules or tracked is None:
            return None
        stack = stack_name(str(json.loads(event_text).get("StackId", "")))
        for rule in rules:
            if (rule.stack, rule.request_type, rule.hop) == (stack, tracked.request_type, hop):
                return rule
        return None

    def _invoke(self, event_text: str, request_id: str, *, hop: int, attempt: int) -> None:
        assert self._pool is not None
        rule = self._duplicate_rule(event_text, request_id, hop) if attempt == 0 else None
        then: Callable[[], None] | None = None
        if rule is not None and rule.forged:
            self._emit("forged", request_id, hop=hop, concurrent=rule.concurrent)
            assert self._answers is not None
            forged = json.loads(event_text)
            forged["ResponseURL"] = self._answers.new_url(f"forged.{request_id}")
            with self._lock:
                self._forged_urls[request_id] = forged["ResponseURL"]
            first = partial(self._run, json.dumps(forged), request_id, hop, 0, duplicate=True)
            real = partial(self._run, event_text, request_id, hop, attempt)
            if rule.concurrent:
                self._hold(request_id, +1)
                self._pool.submit(partial(first, release=True))
                self._pool.submit(real)
            else:
                self._pool.submit(
                    partial(first, then=partial(self._later, request_id, rule.delay, real))
                )
            return
        if rule is not None:
            self._emit("duplicated", request_id, hop=hop, concurrent=rule.concurrent)
            second = partial(self._run, event_text, request_id, hop, 0, duplicate=True)
            if rule.concurrent:
                self._hold(request_id, +1)
                self._pool.submit(partial(second, release=True))
            else:
                then = partial(self._later, request_id, rule.delay, second)
        self._pool.submit(partial(self._run, event_text, request_id, hop, attempt, then=then))

    def _later(self, request_id: str, delay: float, task: Callable[..., None]) -> None:
        """Run `task` (a `_run`) as a new delivery in `delay` seconds; it counts as pending
        until its invocation is recorded, so `wait_idle` cannot miss it."""
        self._hold(request_id, +1)

        def start() -> None:
            if not self._closed and self._pool is not None:
                self._pool.submit(partial(task, release=True))
            else:
                self._hold(request_id, -1)

        timer = threading.Timer(delay, start)
        timer.daemon = True
        timer.start()

    def _run(
        self,
        event_text: str,
        request_id: str,
        hop: int,
        attempt: int,
        *,
        duplicate: bool = False,
        destination: bool = False,
        then: Callable[[], None] | None = None,
        release: bool = False,
    ) -> None:
        """One invocation. `release`: it was counted as pending (`_hold`) until recorded."""
        assert self._app is not None
        payload = json.loads(event_text)
        inner = payload.get("requestPayload", payload) if destination else payload
        scope = stack_name(str(inner.get("StackId", "")))
        timeout = self.function_timeout_of(scope)
        invocation = Invocation(
            request_id=request_id,
            hop=hop,
            attempt=attempt,
            timeout_seconds=timeout,
            started=time.monotonic(),
            duplicate=duplicate,
            destination=destination,
        )
        with self._lock:
            tracked = self._tracked.get(request_id)
            if tracked is not None:
                tracked.invocations.append(invocation)
            if release:
                self._hold(request_id, -1)
        self._emit(
            "invoked", request_id, hop=hop, attempt=attempt, duplicate=duplicate,
            destination=destination,
        )  # fmt: skip
        context = LambdaContext(timeout_seconds=timeout, function_arn=self.function_arn)
        _current.invocation = invocation
        _current.scope = scope
        stopper = threading.Timer(timeout, self._stop, args=(invocation, event_text, then))
        stopper.daemon = True
        stopper.start()
        failed = False
        try:
            self._app.lambda_handler(payload, context)
        except InvocationStopped:
            pass  # Lambda ended it at the timeout: `_stop` recorded it and retries it
        except Exception as error:
            failed = True
            with self._lock:
                if not invocation.timed_out:
                    invocation.error = self._scrub(f"{type(error).__name__}: {error}")
            self._emit("function_error", request_id, hop=hop, error=invocation.error)
        finally:
            stopper.cancel()
            _current.invocation = None
            _current.scope = ""
            with self._lock:
                ended_now = invocation.ended is None
                if ended_now:
                    invocation.ended = time.monotonic()
                    self._hold(request_id, +1)  # until what follows it is scheduled
                self._lock.notify_all()
        if ended_now:  # not stopped at the timeout (`_stop` schedules what follows then)
            try:
                if failed and not destination:
                    self._after_failure(invocation, event_text, "RetriesExhausted")
                if then is not None:
                    then()
            finally:
                self._hold(request_id, -1)

    def _stop(
        self, invocation: Invocation, event_text: str, then: Callable[[], None] | None
    ) -> None:
        """The function's timeout: Lambda ends the invocation and retries the event."""
        with self._lock:
            if invocation.ended is not None:
                return
            invocation.timed_out = True
            invocation.ended = time.monotonic()
            invocation.error = f"Task timed out after {invocation.timeout_seconds:.2f} seconds"
            self._hold(invocation.request_id, +1)  # until the retry is scheduled
            self._lock.notify_all()
        try:
            self._emit("timed_out", invocation.request_id, hop=invocation.hop)
            if not invocation.destination:
                self._after_failure(invocation, event_text, "RetriesExhausted")
            if then is not None:
                then()
        finally:
            self._hold(invocation.request_id, -1)

    def _hold(self, request_id: str, change: int) -> None:
        """Count a delivery about to be scheduled as pending, so `wait_idle` waits for it."""
        with self._lock:
            self._pending[request_id] = self._pending.get(request_id, 0) + change
            self._lock.notify_all()

    def _after_failure(self, invocation: Invocation, event_text: str, condition: str) -> None:
        """Lambda's retry of a failed or timed-out event, or its on-failure destination."""
        if self._closed:
            return
        request_id, hop, attempt = invocation.request_id, invocation.hop, invocation.attempt
        if attempt < self.lambda_retries:
            self._later(
                request_id,
                self.retry_delay,
                partial(self._run, event_text, request_id, hop, attempt + 1),
            )
        elif self.on_failure_destination and not invocation.duplicate:
            record = {
                "version": "1.0",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": f"{self.function_arn}:$LATEST",
                    "condition": condition,
                    "approximateInvokeCount": attempt + 1,
                },
                "requestPayload": json.loads(event_text),
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "responsePayload": {"errorMessage": invocation.error or "unknown"},
            }
            self._emit("destination", request_id, hop=hop)
            self._later(
                request_id,
                self.retry_delay,
                partial(self._run, json.dumps(record), request_id, hop, attempt + 1,
                        destination=True),
            )  # fmt: skip

    def invocations(self, request_id: str) -> list[Invocation]:
        with self._lock:
            tracked = self._tracked.get(request_id)
            return list(tracked.invocations) if tracked else []

    def _running(self, request_id: str | None = None) -> int:
        """Invocations running or scheduled (of `request_id`, or all)."""
        pending = sum(count for key, count in self._pending.items() if request_id in (None, key))
        return pending + sum(
            1
            for key, tracked in self._tracked.items()
            if request_id is None or key == request_id
            for inv in tracked.invocations
            if inv.ended is None
        )

    def answers_received(self, request_id: str) -> list[Answer]:
        """Every answer the request's ResponseURL took, so far."""
        url = self._urls.get(request_id)
        return self._answers.answers_for(url) if url and self._answers else []

    def forged_answers(self, request_id: str) -> list[Answer]:
        """Every answer a forged delivery's ResponseURL took (see `Duplicate.forged`)."""
        url = self._forged_urls.get(request_id)
        return self._answers.answers_for(url) if url and self._answers else []

    def answer_attempts(self, request_id: str) -> list[Attempt]:
        """Every PUT to the request's ResponseURL, taken or refused, so far."""
        url = self._urls.get(request_id)
        return self._answers.attempts_for(url) if url and self._answers else []

    def wait_idle(self, timeout: float, request_id: str | None = None) -> bool:
        """Wait until no invocation (of `request_id`, or at all) is running."""
        with self._lock:
            return self._lock.wait_for(lambda: self._running(request_id) == 0, timeout=timeout)

    def _scrub(self, text: str) -> str:
        if self._answers is not None:
            base = self._answers.base_url
            while base in text:
                start = text.index(base)
                end = start
                while end < len(text) and not text[end].isspace() and text[end] not in "'\")":
                    end += 1
                text = text[:start] + "<ResponseURL>" + text[end:]
        return text

    # ---- EventBridge --------------------------------------------------------------------

    def deliver_event(self, event: Mapping[str, Any], timeout: float | None = None) -> None:
        """An EventBridge event (ACM's, or the schedule's) delivered to the function, which
        answers nothing: run in this thread with a fresh context, until the handler returns.
        A function error is raised here (the guard must never fail an invocation)."""
        assert self._app is not None, "start the driver first"
        context = LambdaContext(
            timeout_seconds=self.function_timeout if timeout is None else timeout,
            function_arn=self.function_arn,
        )
        self._app.lambda_handler(json.loads(json.dumps(event)), context)

    def stack(self, name: str) -> Stack:
        return Stack(self, name)

    def send(
        self,
        purpose: str,
        request_type: str,
        stack_id: str,
        logical_id: str,
        properties: Mapping[str, Any],
        *,
        old_properties: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> StepResult:
        """Send one request, wait for its answer and check it. `properties` are sent as
        given: `Stack` has already turned them into strings with the ServiceToken inside."""
        if self._closed or self._answers is None:
            raise RuntimeError("start the driver first")
        answers = self._answers
        label = f"{stack_name(stack_id)}.{logical_id}.{purpose}"
        url = answers.new_url(label)
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": self.function_arn,
            "ResponseURL": url,
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": RESOURCE_TYPE,
            "ResourceProperties": dict(properties),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = dict(old_properties)
        with self._lock:
            self._tracked[request_id] = _Tracked(request_type, logical_id)
            self._urls[request_id] = url
        self._emit("request", request_id, purpose=purpose, physical_id=physical_id)
        wait = self.answer_timeout
        timeout_property = str(properties.get("ServiceTimeout", "")).strip()
        if timeout_property.isdigit():
            wait = min(wait, float(timeout_property))
        started = time.monotonic()
        self._invoke(json.dumps(event), request_id, hop=0, attempt=0)
        answer: Answer | None
        try:
            answer = answers.wait_for(url, timeout=wait)
        except TimeoutError:
            answer = None
        seconds = time.monotonic() - started
        if answer is None:
            self._emit("no_answer", request_id, waited=wait)
        else:
            self._emit(
                "answered",
                request_id,
                status=answer.status,
                physical_id=answer.physical_id,
                reason=answer.reason,
                data=answer.data,
                seconds=seconds,
            )
        time.sleep(self.grace)
        settled = self.wait_idle(self.grace + 5.0, request_id)
        received = answers.answers_for(url)
        problems = self._check(
            answer, received, request_id, stack_id, logical_id, wait, settled=settled
        )
        return StepResult(
            purpose=purpose,
            request_type=request_type,
            logical_id=logical_id,
            request_id=request_id,
            physical_id_sent=physical_id,
            status=answer.status if answer else NO_ANSWER,
            physical_id=answer.physical_id if answer else "",
            reason=answer.reason if answer else "",
            data=answer.data if answer else {},
            seconds=seconds,
            invocations=self.invocations(request_id),
            problems=problems,
            answers=len(received),
            label=label,
        )

    def _check(
        self,
        answer: Answer | None,
        received: list[Answer],
        request_id: str,
        stack_id: str,
        logical_id: str,
        waited: float,
        *,
        settled: bool,
    ) -> list[str]:
        problems: list[str] = []
        if answer is None:
            problems.append(f"no answer within {waited:.0f} s")
        else:
            problems.extend(answer.problems)
            expected = {
                "RequestId": request_id,
                "StackId": stack_id,
                "LogicalResourceId": logical_id,
            }
            for key, value in expected.items():
                if answer.body.get(key) != value:
                    problems.append(f"{key} in the answer is not the request's")
            if not isinstance(answer.body.get("Data", {}), dict):
                problems.append("Data is not a JSON object")
        if len(received) > 1:
            problems.append(
                f"answered {len(received)} times; CloudFormation takes the first and ignores "
                "the rest"
            )
        for invocation in self.invocations(request_id):
            where = f"invocation {invocation.hop}.{invocation.attempt}"
            if invocation.timed_out:
                problems.append(
                    f"{where} timed out after {invocation.timeout_seconds:.0f} s (Lambda "
                    "stopped it)"
                )
            elif invocation.error:
                problems.append(f"{where} raised {invocation.error}")
            if invocation.overran:
                problems.append(
                    f"{where} ran {invocation.seconds:.1f} s, past the function's "
                    f"{invocation.timeout_seconds:.0f} s timeout (Lambda would have stopped it)"
                )
        if not settled:
            problems.append("an invocation was still running after the answer")
        return problems


# ---- stacks -----------------------------------------------------------------------------------


@dataclass
class _Resource:
    properties: dict[str, Any]  # as sent: strings, ServiceToken included
    physical_id: str


class Stack:
    """One stack's custom resources (all of this resource type, no dependencies between
    them: CloudFormation sends their requests concurrently)."""

    def __init__(self, cfn: LocalCloudFormation, name: str) -> None:
        self.cfn = cfn
        self.name = name
        self.stack_id = (
            f"arn:aws:cloudformation:{cfn.region}:{cfn.account_id}:stack/{name}/{uuid.uuid4()}"
        )
        self.resources: dict[str, _Resource] = {}

    def physical_id(self, logical_id: str) -> str:
        return self.resources[logical_id].physical_id

    def request_properties(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        """`properties` as this stack's requests carry them: strings, ServiceToken included."""
        strings: dict[str, Any] = cfn_strings(dict(properties))
        return {"ServiceToken": self.cfn.function_arn, **strings}

    def _request(
        self,
        purpose: str,
        request_type: str,
        logical_id: str,
        properties: Mapping[str, Any],
        *,
        old_properties: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> Callable[[], StepResult]:
        return partial(
            self.cfn.send,
            purpose,
            request_type,
            self.stack_id,
            logical_id,
            properties,
            old_properties=old_properties,
            physical_id=physical_id,
        )

    @staticmethod
    def _parallel(calls: Iterable[Callable[[], StepResult]]) -> list[StepResult]:
        """Run the requests at once, as CloudFormation does for independent resources."""
        calls = list(calls)
        results: list[StepResult | BaseException | None] = [None] * len(calls)

        def run(index: int, call: Callable[[], StepResult]) -> None:
            try:
                results[index] = call()
            except BaseException as error:
                results[index] = error

        threads = [
            threading.Thread(target=run, args=(index, call), daemon=True)
            for index, call in enumerate(calls)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        steps: list[StepResult] = []
        for outcome in results:
            if isinstance(outcome, BaseException):
                raise outcome
            assert outcome is not None
            steps.append(outcome)
        return steps

    def _unanswered_id(self, logical_id: str) -> str:
        """A Create that never answered has no physical id; CloudFormation still deletes it."""
        return f"{self.name}-{logical_id}-{uuid.uuid4().hex[:12].upper()}"

    # ---- operations ---------------------------------------------------------------------

    def create(self, template: Mapping[str, Mapping[str, Any]]) -> StackOperation:
        """Create every resource at once; on a failure, roll back: a Delete for every resource
        with the physical id it answered (FAILED answers included)."""
        if self.resources:
            raise RuntimeError("the stack exists; update or delete it")
        started = time.monotonic()
        wanted = {lid: self.request_properties(props) for lid, props in template.items()}
        steps = self._parallel(
            self._request("create", "Create", lid, props) for lid, props in wanted.items()
        )
        if all(step.status == SUCCESS for step in steps):
            self.resources = {
                step.logical_id: _Resource(wanted[step.logical_id], step.physical_id)
                for step in steps
            }
            return StackOperation("CREATE", "CREATE_COMPLETE", steps, time.monotonic() - started)
        rollback = self._parallel(
            self._request(
                "rollback",
                "Delete",
                step.logical_id,
                wanted[step.logical_id],
                physical_id=step.physical_id or self._unanswered_id(step.logical_id),
            )
            for step in steps
        )
        status = "ROLLBACK_COMPLETE" if _all_succeeded(rollback) else "ROLLBACK_FAILED"
        # A ROLLBACK_FAILED stack keeps what it could not delete; deleting the stack retries.
        self.resources = {
            step.logical_id: _Resource(wanted[step.logical_id], str(step.physical_id_sent))
            for step in rollback
            if step.status != SUCCESS
        }
        return StackOperation("CREATE", status, steps + rollback, time.monotonic() - started)

    def update(self, template: Mapping[str, Mapping[str, Any]]) -> StackOperation:
        """Update changed resources and create new ones at once, then clean up: a Delete for
        the old physical id of every replacement and for every resource no longer in the
        template. On a failure, roll back: an Update to the old properties with the old
        physical id for every changed resource, a Delete for every new resource, then a
        Delete for the new physical id of every replacement."""
        started = time.monotonic()
        wanted = {lid: self.request_properties(props) for lid, props in template.items()}
        old = dict(self.resources)
        added = [lid for lid in wanted if lid not in old]
        changed = [lid for lid in wanted if lid in old and wanted[lid] != old[lid].properties]
        removed = [lid for lid in old if lid not in wanted]
        calls = [self._request("create", "Create", lid, wanted[lid]) for lid in added]
        calls += [
            self._request(
                "update",
                "Update",
                lid,
                wanted[lid],
                old_properties=old[lid].properties,
                physical_id=old[lid].physical_id,
            )
            for lid in changed
        ]
        steps = self._parallel(calls)
        replacements = [
            step
            for step in steps
            if step.request_type == "Update"
            and step.status == SUCCESS
            and step.physical_id != old[step.logical_id].physical_id
        ]
        if all(step.status == SUCCESS for step in steps):
            for step in steps:
                self.resources[step.logical_id] = _Resource(
                    wanted[step.logical_id], step.physical_id
                )
            for lid in removed:
                del self.resources[lid]
            cleanup = self._parallel(
                self._request(
                    "cleanup",
                    "Delete",
                    lid,
                    old[lid].properties,
                    physical_id=old[lid].physical_id,
                )
                for lid in [*(step.logical_id for step in replacements), *removed]
            )
            # CloudFormation does not fail an update whose clean-up failed; it reports it.
            elapsed = time.monotonic() - started
            return StackOperation("UPDATE", "UPDATE_COMPLETE", steps + cleanup, elapsed)
        rollback = self._parallel(
            self._request(
                "rollback",
                "Delete",
                step.logical_id,
                wanted[step.logical_id],
                physical_id=step.physical_id or self._unanswered_id(step.logical_id),
            )
            if step.request_type == "Create"
            else self._request(
                "rollback",
                "Update",
                step.logical_id,
                old[step.logical_id].properties,
                old_properties=wanted[step.logical_id],
                physical_id=old[step.logical_id].physical_id,
            )
            for step in steps
        )
        rollback += self._parallel(
            self._request(
                "rollback",
                "Delete",
                step.logical_id,
                wanted[step.logical_id],
                physical_id=step.physical_id,
            )
            for step in replacements
        )
        self.resources = old
        status = (
            "UPDATE_ROLLBACK_COMPLETE" if _all_succeeded(rollback) else "UPDATE_ROLLBACK_FAILED"
        )
        return StackOperation("UPDATE", status, steps + rollback, time.monotonic() - started)

    def delete(self) -> StackOperation:
        started = time.monotonic()
        steps = self._parallel(
            self._request(
                "delete", "Delete", lid, resource.properties, physical_id=resource.physical_id
            )
            for lid, resource in self.resources.items()
        )
        for step in steps:
            if step.status == SUCCESS:
                del self.resources[step.logical_id]
        status = "DELETE_COMPLETE" if not self.resources else "DELETE_FAILED"
        return StackOperation("DELETE", status, steps, time.monotonic() - started)


def _all_succeeded(steps: Iterable[StepResult]) -> bool:
    return all(step.status == SUCCESS for step in steps)
