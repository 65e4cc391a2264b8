"""Crash at every step (issue 19): each scenario is run once with every AWS call recorded, then
again for every call k, killing the invocation right *before* call k and right *after* call k
returned, and once more with a second delivery of the same event arriving at call k.

A kill is a process that dies: `Crash` is a BaseException the handler never catches, and once
raised every later AWS call of that invocation raises it again (a `finally` that calls AWS takes
no effect). The timer never fires (the invocation's 900 s are never spent on the fake clock).
Lambda then plays its documented part on the fake clock: a retry after about 1 minute and
another about 2 minutes later, then the on-failure destination record, handled by the same
handler. The answer's PUT and the self-invoke count as calls too.

Invariants after each run (and CloudFormation's follow-up: the rollback Delete of a failed
Create, the rollback Update of a failed Update, the clean-up Delete of a replaced certificate):
* CloudFormation got exactly one answer per request, before its ServiceTimeout;
* no certificate of the run's stack is left that the stack's resource does not hold;
* every validation record a held (DNS-validated) certificate needs is in its zone;
* nothing outside the provider's own certificates and records was touched (a certificate of
  the same name made by someone else, and a record next to the validation records).

`make test` runs a deterministic sample of the points (every SAMPLE_EVERY-th of each scenario,
and the first and last); `make reliability` and `.ci/run` set CRASH_POINTS=all. Violations that
a known open defect explains are counted apart and asserted by a strict xfail naming its owner:
it fails (flips) once the defect is fixed, and the violation then counts as unexpected.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

import app
from dns_certificate import requests
from dns_certificate.certificates import STACK_TAG, CertificateService, DeleteOutcome
from dns_certificate.context import Runtime
from dns_certificate.requests import AnswerClaim, ClaimHeld, DynamoDBRequests
from local.driver import acm_event
from tests.integration.harness import OTHER_REGION, REGION, Harness, acm_like_record

from .conftest import Figures

pytestmark = pytest.mark.xdist_group("crash-points")

SECTION = "crash points"
ALL_POINTS = os.environ.get("CRASH_POINTS", "") == "all"
#: In `make test`: every n-th point of each scenario (and its first and last).
SAMPLE_EVERY = 13
SERVICE_TIMEOUT = 3600.0
#: Lambda's retries of a failed asynchronous invocation (seconds after the previous attempt).
RETRY_DELAYS = (60.0, 120.0)
#: Known open defects: a violation one explains is counted apart and asserted by a strict xfail
#: naming it (it flips once fixed). Each: (violation prefix, the calls the kill fell between).
#: Issue 19 defect 1 (a dead hop swallowed Lambda's retries) was listed here until main's
#: 1996405 fixed it: its strict xfail flipped, as designed.
#: "2 answers" (an invocation killed after the answer's PUT and before recording it: Lambda's
#: retry answered again, possibly otherwise) was listed here until the answer claim stored the
#: answer itself: the retry now sends those bytes again (see `Run.check`).
KNOWN_DEFECTS: dict[str, str] = {}


def _known(violation: str, point: tuple[str, int], trace: list[str]) -> str | None:
    """The known open defect that explains `violation` at `point`, if any."""
    return None


def _sent_again(violation: str, point: tuple[str, int], trace: list[str]) -> bool:
    """An invocation killed between its answer's PUT and recording it: nobody can know
    whether the PUT arrived (the presigned URL can only be written), so Lambda's retry
    writes the same S3 object again with the stored answer's bytes, and CloudFormation reads
    one answer. Only there is a repeat allowed, and only of the same bytes."""
    kind, k = point
    between_put_and_record = (kind == "after" and trace[k] == "answer") or (
        kind == "before" and k > 0 and trace[k - 1] == "answer"
    )
    return between_put_and_record and violation.startswith("2 answers, the same bytes")


class Crash(BaseException):
    """The process died: nothing in the handler catches it."""


# ---- the kill switch ------------------------------------------------------------------------


@dataclass
class Killer:
    """Counts the AWS calls of the target request's delivery and kills or duplicates at one."""

    armed: bool = False
    #: ("before" | "after" | "duplicate", k), or None: only record.
    target: tuple[str, int] | None = None
    fired: bool = False
    dead: bool = False
    count: int = 0
    trace: list[str] = field(default_factory=list)
    #: Called at the duplicate point: delivers the same payload again (nested, as if concurrent).
    duplicate: Callable[[], object] | None = None

    def before(self, name: str) -> int | None:
        if self.dead:
            raise Crash()
        if not self.armed:
            return None
        k = self.count
        self.count += 1
        self.trace.append(name)
        if not self.fired and self.target == ("before", k):
            self.fired = self.dead = True
            raise Crash()
        if not self.fired and self.target == ("duplicate", k) and self.duplicate:
            self.fired = True
            self.armed = False
            try:
                self.duplicate()
            finally:
                self.armed = True
        return k

    def after(self, k: int | None) -> None:
        if k is not None and not self.fired and self.target == ("after", k):
            self.fired = self.dead = True
            raise Crash()

    # botocore hooks
    def before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context["crash_k"] = self.before(model.name)

    def after_call(self, context: dict[str, Any], **_: Any) -> None:
        self.after(context.get("crash_k"))


# ---- one run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A CloudFormation request of the run: the event, and when CloudFormation sent it."""

    event: dict[str, Any]
    sent_at: float


@dataclass
class Run:
    """One scenario's stack: its names, the requests sent, what the resource holds."""

    h: Harness
    killer: Killer
    answered_at: dict[str, list[float]]
    number: int
    domain: str = ""
    stack_id: str = ""
    logical_id: str = ""
    requests: list[Request] = field(default_factory=list)
    #: The physical id the stack's resource holds (None: no resource).
    held: str | None = None
    foreign_arn: str = ""
    foreign_record: str = ""
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.domain = f"r{self.number}.example.com"
        self.stack_id = (
            f"arn:aws:cloudformation:{REGION}:123456789012:stack/crash{self.number}/{uuid.uuid4()}"
        )
        self.logical_id = f"Cert{self.number}"

    # -- CloudFormation's side --

    def properties(self, **extra: Any) -> dict[str, Any]:
        return {"DomainName": self.domain, **extra}

    def event(
        self,
        name: str,
        properties: Mapping[str, Any],
        old: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        event = self.h.event(
            name,
            properties=properties,
            old_properties=old,
            physical_id=physical_id,
            StackId=self.stack_id,
            LogicalResourceId=self.logical_id,
        )
        if event["RequestType"] != "Update":
            event.pop("OldResourceProperties", None)
        return event

    def send(self, event: dict[str, Any], *, target: bool = False) -> str | None:
        """Deliver one request as Lambda would (the target's first invocation may be killed);
        the status of its one answer (None: no answer)."""
        self.requests.append(Request(event, self.h.clock.now()))
        self.killer.armed = target
        try:
            deliver(self.h, self.killer, event)
        finally:
            self.killer.armed = False
        answers = self.h.answers_for(event)
        return answers[0].status if answers else None

    def physical_id(self) -> str | None:
        return self.held

    def create(self, properties: Mapping[str, Any], *, target: bool = False) -> None:
        event = self.event("create.json", properties)
        status = self.send(event, target=target)
        answers = self.h.answers_for(event)
        assert target or status == "SUCCESS", f"the scenario's setup Create: {answers}"
        if status == "SUCCESS":
            self.held = answers[0].physical_id
        elif answers:  # CloudFormation's rollback Delete, of whatever id was answered
            self.send(self.event("delete.json", properties, physical_id=answers[0].physical_id))

    def update(
        self, old: Mapping[str, Any], new: Mapping[str, Any], *, target: bool = False
    ) -> None:
        before = self.physical_id()
        assert before is not None
        event = self.event("update-tags.json", new, old, before)
        status = self.send(event, target=target)
        if status == "SUCCESS":
            self.held = self.h.answers_for(event)[0].physical_id
        if status == "SUCCESS" and self.held != before:  # replaced: clean-up Delete of the old one
            self.send(self.event("delete.json", old, physical_id=before))
        elif status == "FAILED":  # rollback to the old properties, with the id it holds
            self.send(self.event("update-tags.json", old, new, before))

    def delete(self, properties: Mapping[str, Any], *, target: bool = False) -> None:
        physical_id = self.physical_id()
        assert physical_id is not None
        status = self.send(
            self.event("delete.json", properties, physical_id=physical_id), target=target
        )
        if status == "SUCCESS":
            self.held = None

    # -- what is outside the provider's --

    def add_foreign(self) -> None:
        """Someone else's certificate of the same name, and a record next to the provider's."""
        acm = boto3.client("acm", region_name=REGION)
        self.foreign_arn = acm.request_certificate(DomainName=self.domain, ValidationMethod="DNS")[
            "CertificateArn"
        ]
        self.foreign_record = f"foreign.{self.domain}."
        boto3.client("route53", region_name=REGION).change_resource_record_sets(
            HostedZoneId=self.h.zones["example.com"],
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": self.foreign_record,
                            "Type": "CNAME",
                            "TTL": 300,
                            "ResourceRecords": [{"Value": "elsewhere.example.net"}],
                        },
                    }
                ]
            },
        )

    # -- the invariants --

    def check(self) -> list[str]:
        found: list[str] = []
        for request in self.requests:
            url = request.event["ResponseURL"]
            answers = self.h.answers_for(request.event)
            kind = f"{request.event['RequestType']} {request.event['RequestId'][:8]}"
            if not answers:
                found.append(f"no answer: {kind}")
            elif len({answer.raw for answer in answers}) > 1:
                found.append(f"{len(answers)} answers, not the same: {kind}")
            elif len(answers) > 1:
                found.append(f"{len(answers)} answers, the same bytes: {kind}")
            times = self.answered_at.get(url.split("?")[0], [])
            if times and times[0] > request.sent_at + SERVICE_TIMEOUT:
                found.append(f"answer after ServiceTimeout: {kind}")
        held = {self.held} if self.held else set()
        certificates = [arn for region in REGIONS for arn in self.h.certificates(region)]
        for arn in certificates:
            tags = self.h.tags(arn, _region(arn))
            if tags.get(STACK_TAG) == self.stack_id and arn not in held:
                found.append(f"orphan certificate: {arn}")
        for kept in held | {self.foreign_arn}:
            if kept and kept in certificates:
                found.extend(self._records_needed(kept))
        if self.foreign_arn and self.foreign_arn not in certificates:
            found.append("someone else's certificate was deleted")
        if self.foreign_record and self.foreign_record not in self.h.records(
            self.h.zones["example.com"]
        ):
            found.append("someone else's record was deleted")
        return found

    def _records_needed(self, arn: str) -> list[str]:
        certificate = self.h.describe(arn, _region(arn))
        options = certificate.get("DomainValidationOptions", [])
        if not options or options[0].get("ValidationMethod") == "EMAIL":
            return []
        records = self.h.records(self.h.zones["example.com"])
        missing = []
        for option in options:
            record = acm_like_record(option["DomainName"])
            present = records.get(record["Name"].lower())
            if present is None or record["Value"] not in present.values:
                missing.append(f"record deleted that {arn[-12:]} needs: {record['Name']}")
        return missing


#: Where the runs' certificates may be: the stack's region, and the other one a `Region`
#: property moves a certificate to (the default CLEANUP_CHECK_REGIONS does not list it).
REGIONS = (REGION, OTHER_REGION)


def _region(arn: str) -> str:
    return arn.split(":")[3]


def deliver(h: Harness, killer: Killer, event: dict[str, Any]) -> None:
    """One asynchronous event through Lambda: continuations followed, a failed invocation
    retried after ~1 and ~2 more minutes, then its on-failure destination record."""
    queue = [event]
    while queue:
        payload = queue.pop(0)
        handed_off = len(h.self_invokes)
        attempt = 0
        while True:
            killer.duplicate = functools.partial(invoke, h, payload)
            failed = invoke(h, payload, killer)
            if not failed:
                break
            if attempt == len(RETRY_DELAYS):
                invoke(h, dead_record(payload))
                break
            h.clock.advance(RETRY_DELAYS[attempt])
            attempt += 1
        queue.extend(p for _, p in h.self_invokes.payloads[handed_off:])


def invoke(h: Harness, payload: dict[str, Any], killer: Killer | None = None) -> bool:
    """One invocation; True when it failed (killed, or raised): Lambda retries it."""
    try:
        app.lambda_handler(copy.deepcopy(payload), h.context())
    except Crash:
        return True
    except Exception:
        return True
    finally:
        if killer is not None:
            killer.dead = False
    return False


def dead_record(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "1.0",
        "timestamp": "2026-11-30T12:00:00.000Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:dns-certificate",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    }


# ---- the scenarios --------------------------------------------------------------------------


def create(run: Run) -> None:
    run.create(run.properties(), target=True)


def update_in_place(run: Run) -> None:
    old = run.properties(Tags=[{"Key": "team", "Value": "a"}])
    run.create(old)
    run.update(old, run.properties(Tags=[{"Key": "team", "Value": "b"}]), target=True)


def replacement(run: Run) -> None:
    old = run.properties()
    run.create(old)
    run.update(old, run.properties(SubjectAlternativeNames=[f"www.{run.domain}"]), target=True)


def replacement_cleanup_delete(run: Run) -> None:
    """The clean-up Delete of a replaced certificate, with CleanupValidationRecords: the new
    certificate needs the same record (same name), which must stay."""
    old = run.properties(CleanupValidationRecords="true")
    run.create(old)
    before = run.physical_id()
    new = run.properties(CleanupValidationRecords="true", Tags=[{"Key": "k", "Value": "v"}])
    new["SubjectAlternativeNames"] = [f"www.{run.domain}"]
    replaced = run.event("update-tags.json", new, old, before)
    run.send(replaced)
    run.held = run.h.answers_for(replaced)[0].physical_id
    assert run.held != before
    run.send(run.event("delete.json", old, physical_id=before), target=True)


def cross_region_replacement(run: Run) -> None:
    """A `Region` change replaces the certificate in another region; both need the same
    record (same name), which the clean-up Delete of the old one must keep."""
    old = run.properties(CleanupValidationRecords="true")
    run.create(old)
    run.update(
        old, run.properties(CleanupValidationRecords="true", Region=OTHER_REGION), target=True
    )


def cross_region_replacement_cleanup_delete(run: Run) -> None:
    """Issue 19 defect 5: the clean-up Delete, with CleanupValidationRecords and the default
    CleanupCheckRegions, of a certificate replaced by one in a region not checked by default."""
    old = run.properties(CleanupValidationRecords="true")
    run.create(old)
    before = run.physical_id()
    new = run.properties(CleanupValidationRecords="true", Region=OTHER_REGION)
    moved = run.event("update-tags.json", new, old, before)
    run.send(moved)
    run.held = run.h.answers_for(moved)[0].physical_id
    assert run.held is not None and _region(run.held) == OTHER_REGION
    run.send(run.event("delete.json", old, physical_id=before), target=True)


def delete(run: Run) -> None:
    properties = run.properties()
    run.create(properties)
    run.delete(properties, target=True)


def cleanup(run: Run) -> None:
    properties = run.properties(CleanupValidationRecords="true")
    run.create(properties)
    run.delete(properties, target=True)


def rollback_of_a_failed_create(run: Run) -> None:
    run.h.faults.failure = ("FAILED", "CAA_ERROR")
    run.h.faults.failure_after_describes = 1
    properties = run.properties()
    event = run.event("create.json", properties)
    run.send(event)
    run.h.faults.failure = None
    (failed,) = run.h.answers_for(event)
    assert failed.status == "FAILED"
    run.send(run.event("delete.json", properties, physical_id=failed.physical_id), target=True)


def migration(run: Run) -> None:
    email = run.properties(ValidationMethod="EMAIL")
    run.create(email)
    run.update(email, run.properties(ValidationMethod="DNS"), target=True)


def renewal_guard(run: Run) -> None:
    """The renewal guard repairs a validation record someone deleted."""
    properties = run.properties()
    run.create(properties)
    arn = run.physical_id()
    assert arn is not None
    record = acm_like_record(run.domain)
    boto3.client("route53", region_name=REGION).change_resource_record_sets(
        HostedZoneId=run.h.zones["example.com"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "DELETE",
                    "ResourceRecordSet": {
                        "Name": record["Name"],
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": record["Value"]}],
                    },
                }
            ]
        },
    )
    run.killer.armed = True
    try:
        deliver(run.h, run.killer, json.loads(json.dumps(acm_event(arn))))
    finally:
        run.killer.armed = False


SCENARIOS: dict[str, Callable[[Run], None]] = {
    "create": create,
    "in-place update": update_in_place,
    "replacement": replacement,
    "replacement's clean-up Delete": replacement_cleanup_delete,
    "cross-region replacement": cross_region_replacement,
    "cross-region replacement's clean-up Delete": cross_region_replacement_cleanup_delete,
    "delete": delete,
    "rollback of a failed create": rollback_of_a_failed_create,
    "migration": migration,
    "clean-up": cleanup,
    "renewal guard": renewal_guard,
}


# ---- the enumeration ------------------------------------------------------------------------


@dataclass
class Tally:
    tried: int = 0
    calls: int = 0
    unexpected: list[str] = field(default_factory=list)
    known: dict[str, list[str]] = field(default_factory=dict)
    #: Answers written again with the same bytes after a kill between PUT and record.
    sent_again: int = 0


class Enumerator:
    def __init__(self, h: Harness, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.h = h
        self.killer = Killer()
        self.answered_at: dict[str, list[float]] = {}
        self.runs = 0
        clients: Any = runtime.clients
        for client in (clients._session, clients.dynamodb().meta):
            client.events.register("before-parameter-build", self.killer.before_call)
            client.events.register("after-call", self.killer.after_call)
        sender = app.SENDER
        killer, clock = self.killer, h.clock

        def send(url: str, body: Mapping[str, Any], budget: float) -> None:
            k = killer.before("answer")
            sender(url, body, budget)
            self.answered_at.setdefault(url.split("?")[0], []).append(clock.now())
            killer.after(k)

        monkeypatch.setattr(app, "SENDER", send)
        invoke_self = runtime.invoke_self

        def self_invoke(function_arn: str, payload: Mapping[str, Any]) -> None:
            k = killer.before("Invoke")
            invoke_self(function_arn, payload)
            killer.after(k)

        app.use_runtime(Runtime(**{**vars(runtime), "invoke_self": self_invoke}))

    def play(self, scenario: Callable[[Run], None], target: tuple[str, int] | None) -> Run:
        self.runs += 1
        self.killer.target, self.killer.fired, self.killer.count = target, False, 0
        self.killer.trace = []
        self.h.faults.pending_describes = 1
        run = Run(self.h, self.killer, self.answered_at, self.runs)
        run.add_foreign()
        scenario(run)
        run.violations = run.check()
        return run

    def enumerate(
        self, name: str, scenario: Callable[[Run], None], coverage: str | None = None
    ) -> Tally:
        """Every point (`coverage="all"`, or CRASH_POINTS=all) or the sample."""
        every_point = ALL_POINTS if coverage is None else coverage == "all"
        tally = Tally()
        clean = self.play(scenario, None)
        assert not clean.violations, f"{name} without a crash: {clean.violations}"
        calls = len(self.killer.trace)
        tally.calls = calls
        points = [(kind, k) for k in range(calls) for kind in ("before", "after", "duplicate")]
        if not every_point:
            points = [
                p for i, p in enumerate(points) if i % SAMPLE_EVERY == 0 or i == len(points) - 1
            ]
        for point in points:
            run = self.play(scenario, point)
            tally.tried += 1
            trace = self.killer.trace
            called = trace[point[1]] if point[1] < len(trace) else "?"
            where = f"{name}: {point[0]} call {point[1]} ({called})"
            for violation in run.violations:
                if _sent_again(violation, point, trace):
                    tally.sent_again += 1
                    continue
                kind = _known(violation, point, trace)
                if kind is not None:
                    tally.known.setdefault(kind, []).append(f"{where}: {violation}")
                else:
                    tally.unexpected.append(f"{where}: {violation}")
        return tally


# ---- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tallies() -> dict[str, Tally]:
    return {}


@pytest.fixture
def enumerator(
    harness: Harness, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Enumerator]:
    yield Enumerator(harness, runtime, monkeypatch)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_crash_at_every_point_breaks_no_invariant(
    enumerator: Enumerator, tallies: dict[str, Tally], figures: Figures, name: str
) -> None:
    tally = enumerator.enumerate(name, SCENARIOS[name])
    tallies[name] = tally
    known = sum(len(v) for v in tally.known.values())
    figures.record(
        SECTION,
        f"{name}: points tried / violations (known defects)",
        f"{tally.tried} of {3 * tally.calls} / {len(tally.unexpected)} ({known})",
        "0 (0)",
        not tally.unexpected and not known,
    )
    assert not tally.unexpected, "\n".join(tally.unexpected[:20])


def test_crash_points_figure(tallies: dict[str, Tally], figures: Figures) -> None:
    """The one line `make reliability` prints for all scenarios together."""
    if not tallies:
        pytest.skip("the crash-point enumeration did not run in this process")
    tried = sum(t.tried for t in tallies.values())
    every = sum(3 * t.calls for t in tallies.values())
    unexpected = sum(len(t.unexpected) for t in tallies.values())
    known = sum(len(v) for t in tallies.values() for v in t.known.values())
    figures.record(
        SECTION,
        "crash points tried / invariant violations (known open defects)",
        f"{tried} of {every} / {unexpected} ({known})",
        f"{every} of {every} / 0 (0)",
        tried == every and unexpected == 0 and known == 0,
    )
    figures.record(
        SECTION,
        "answers written again, same bytes (killed between the PUT and its record)",
        sum(t.sent_again for t in tallies.values()),
    )
    assert unexpected == 0


@pytest.mark.parametrize("kind", list(KNOWN_DEFECTS))
def test_known_defect_still_shows(
    tallies: dict[str, Tally], kind: str, request: pytest.FixtureRequest
) -> None:
    request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[kind]))
    if not tallies:
        pytest.skip("the crash-point enumeration did not run in this process")
    seen = [v for tally in tallies.values() for v in tally.known.get(kind, [])]
    assert not seen, f"{len(seen)} violations: " + "\n".join(seen[:10])


# ---- the enumeration checks itself ----------------------------------------------------------


def _swallow_held_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19 defect 1 put back: a hop's claim lasts as long as its invocation could, and a
    retry that finds it live returns normally (Lambda counts it a success: no further retry,
    no on-failure record)."""
    monkeypatch.setattr(requests, "LEASE_SECONDS", 900.0)
    start_hop = DynamoDBRequests.start_hop

    def swallowing(self: DynamoDBRequests, key: Any, hop: int, remaining_ms: int) -> bool:
        try:
            return start_hop(self, key, hop, remaining_ms)
        except ClaimHeld:
            return False

    monkeypatch.setattr(DynamoDBRequests, "start_hop", swallowing)


def _no_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every delivery runs and answers, whoever else is running or answered the request (as
    without a requests table)."""
    monkeypatch.setattr(DynamoDBRequests, "start_hop", lambda *_: True)
    monkeypatch.setattr(DynamoDBRequests, "answered", lambda *_: False)
    monkeypatch.setattr(
        DynamoDBRequests,
        "claim_answer",
        lambda _self, _key, _ms, body=None: AnswerClaim(body or {}),
    )


def _delete_keeps_the_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Delete that answers SUCCESS and leaves the certificate."""
    monkeypatch.setattr(CertificateService, "delete", lambda *_: DeleteOutcome(deleted=True))


#: A defect put back by a patch -> (scenario, the violation the enumeration must report).
REINTRODUCED: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str, str]] = {
    "a dead hop swallows Lambda's retries": (_swallow_held_claims, "create", "no answer"),
    "a second delivery runs and answers beside the first": (_no_claims, "create", "2 answers"),
    "a Delete leaves its certificate": (_delete_keeps_the_certificate, "delete", "orphan"),
}


@pytest.mark.parametrize("defect", list(REINTRODUCED))
def test_the_enumeration_reports_a_defect_put_back(
    harness: Harness, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, defect: str
) -> None:
    """A crash-point run that reports nothing whatever the code does would prove nothing: with
    a fixed defect put back, the same enumeration (the `make test` sample) must report it."""
    enumerator = Enumerator(harness, runtime, monkeypatch)
    patch, scenario, violation = REINTRODUCED[defect]
    patch(monkeypatch)

    try:
        tally = enumerator.enumerate(scenario, SCENARIOS[scenario], coverage="sample")
    except AssertionError as error:  # a defect a run without any crash already shows
        reported = [str(error)]
    else:
        reported = tally.unexpected

    assert any(violation in found for found in reported), reported[:5]
