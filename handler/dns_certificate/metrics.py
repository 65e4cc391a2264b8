"""CloudWatch metrics (embedded metric format, Powertools Metrics): one namespace, one flush per
invocation.

Every metric of an invocation carries the dimensions `Provider` (the installation: the stack's
name, from METRICS_PROVIDER) and `RequestType`. What is recorded:

* `Succeeded` / `Failed` (Count): a request answered, by whoever answered it (the lifecycle, the
  timeout timer, the on-failure function);
* `ContinuationsUsed` (Count): with each answer, how many hand-offs the request took;
* `SecondsToRecordsWritten` (Seconds): from the request to its validation records written;
* `SecondsToIssued` (Seconds): from the request to ISSUED, for a certificate it requested;
* `ThrottledCalls` (Count): calls still throttled after botocore's own retries (each one is then
  waited out);
* `RecordsDeleted` (Count): validation records a Delete's clean-up removed;
* `RecordsRepaired` (Count): validation records the renewal guard put back (RequestType
  `RenewalGuard`);
* `RenewalGuardFailed` (Count): certificates whose records the renewal guard could not check
  this run (throttled past its patience, access denied, an error);
* `RenewalGuardCannotRepair` (Count): certificates whose records the guard can never repair as
  things stand (no zones recorded, a role with an external id, a zone gone...): left alone,
  they expire silently. `ManageDnsRecords` "false" is the user's choice and is not counted.
  The template's `RenewalGuardAlarm` watches both.

Values are kept here and handed to Powertools only at the flush: counts as one sum, other values
at most `MAX_VALUES` each. Powertools publishes by itself when a metric reaches 100 values, and
that line would carry none of the dimensions (they are added at the flush): a second line, in a
series no alarm watches.

`recording()` opens an invocation's metrics; the protocol object and the lifecycle, both made
inside it, write to `current()`. It flushes once, in a `finally`, whether the invocation
answered or handed off; when the timeout timer answers, the timer flushes right after its answer
(the call the main thread waits for may never return, and then the `finally` never runs).
One `EphemeralMetrics` per invocation: Powertools'
`Metrics` shares its state process-wide, which would mix concurrent invocations (the local
driver runs several in one process).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

logger = Logger(child=True)

DEFAULT_NAMESPACE = "DnsCertificate"
DEFAULT_PROVIDER = "dns-certificate"
PROVIDER_DIMENSION = "Provider"
REQUEST_TYPE_DIMENSION = "RequestType"

SUCCEEDED = "Succeeded"
FAILED = "Failed"
CONTINUATIONS_USED = "ContinuationsUsed"
SECONDS_TO_RECORDS_WRITTEN = "SecondsToRecordsWritten"
SECONDS_TO_ISSUED = "SecondsToIssued"
THROTTLED_CALLS = "ThrottledCalls"
RECORDS_DELETED = "RecordsDeleted"
RECORDS_REPAIRED = "RecordsRepaired"
GUARD_FAILED = "RenewalGuardFailed"
GUARD_CANNOT_REPAIR = "RenewalGuardCannotRepair"
#: The RequestType dimension of the renewal guard's invocations (no CloudFormation request).
RENEWAL_GUARD = "RenewalGuard"

#: Values kept per metric that is not a count (Powertools' own limit is 100 per line).
MAX_VALUES = 50


class InvocationMetrics:
    """The metrics of one invocation; thread-safe (the timeout timer answers from its thread)."""

    def __init__(self, request_type: str | None = None, hop: int = 0) -> None:
        namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        # service="" keeps Powertools from adding its own `service` dimension.
        self._emf = EphemeralMetrics(namespace=namespace, service="")
        self._provider = os.environ.get("METRICS_PROVIDER") or DEFAULT_PROVIDER
        self._request_type = request_type
        self._hop = hop
        self._lock = threading.Lock()
        self._values: dict[str, tuple[MetricUnit, list[float]]] = {}
        self._flushed = False

    def describe(self, request_type: str | None, hop: int) -> None:
        """The request this invocation serves, once the event is read."""
        with self._lock:
            self._request_type = request_type
            self._hop = hop

    def _add(self, name: str, unit: MetricUnit, value: float) -> None:
        with self._lock:
            if self._flushed:
                logger.warning("A metric after the flush was dropped", extra={"metric": name})
                return
            _, values = self._values.setdefault(name, (unit, []))
            if unit is MetricUnit.Count and values:
                values[0] += value
            elif len(values) < MAX_VALUES:
                values.append(value)

    def answered(self, status: str) -> None:
        self._add(SUCCEEDED if status == "SUCCESS" else FAILED, MetricUnit.Count, 1)
        self._add(CONTINUATIONS_USED, MetricUnit.Count, self._hop)

    def records_written(self, seconds: float) -> None:
        self._add(SECONDS_TO_RECORDS_WRITTEN, MetricUnit.Seconds, max(0.0, seconds))

    def issued(self, seconds: float) -> None:
        self._add(SECONDS_TO_ISSUED, MetricUnit.Seconds, max(0.0, seconds))

    def throttled(self) -> None:
        self._add(THROTTLED_CALLS, MetricUnit.Count, 1)

    def records_deleted(self, count: int) -> None:
        """Validation records the clean-up on Delete removed (none: nothing recorded)."""
        if count:
            self._add(RECORDS_DELETED, MetricUnit.Count, count)

    def records_repaired(self, count: int) -> None:
        """Validation records the renewal guard put back (none: nothing recorded)."""
        if count:
            self._add(RECORDS_REPAIRED, MetricUnit.Count, count)

    def guard_failed(self, certificates: int) -> None:
        """Certificates the renewal guard could not check this run (none: nothing recorded)."""
        if certificates:
            self._add(GUARD_FAILED, MetricUnit.Count, certificates)

    def guard_cannot_repair(self, certificates: int) -> None:
        """Certificates whose records the renewal guard cannot reach (none: nothing recorded)."""
        if certificates:
            self._add(GUARD_CANNOT_REPAIR, MetricUnit.Count, certificates)

    def flush(self) -> None:
        """Print the EMF line (once; nothing when nothing was recorded). Never raises."""
        with self._lock:
            if self._flushed:
                return
            self._flushed = True
            if not self._values:
                return
            try:
                for name, (unit, values) in self._values.items():
                    for value in values:
                        self._emf.add_metric(name=name, unit=unit, value=value)
                self._emf.add_dimension(PROVIDER_DIMENSION, self._provider)
                self._emf.add_dimension(REQUEST_TYPE_DIMENSION, self._request_type or "Unknown")
                self._emf.flush_metrics()
            except Exception:
                logger.exception("Could not write the invocation's metrics")


class _NoMetrics(InvocationMetrics):
    """Outside an invocation (tests of single modules): records nothing."""

    def __init__(self) -> None:
        pass

    def describe(self, request_type: str | None, hop: int) -> None:
        return

    def answered(self, status: str) -> None:
        return

    def _add(self, name: str, unit: MetricUnit, value: float) -> None:
        return

    def flush(self) -> None:
        return


_NONE = _NoMetrics()
_current: ContextVar[InvocationMetrics | None] = ContextVar("dns_certificate_metrics", default=None)


def current() -> InvocationMetrics:
    """The running invocation's metrics (a recorder that drops everything outside one)."""
    return _current.get() or _NONE


@contextmanager
def recording(request_type: str | None = None, hop: int = 0) -> Iterator[InvocationMetrics]:
    """One invocation's metrics, flushed once when it ends, however it ends."""
    metrics = InvocationMetrics(request_type, hop)
    token = _current.set(metrics)
    try:
        yield metrics
    finally:
        _current.reset(token)
        metrics.flush()
