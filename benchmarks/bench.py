"""`make bench`: every benchmark, one table, `benchmarks/results.json` and its picture
`benchmarks/results.svg` (`benchmarks.plot`).

What runs (nothing reaches AWS):

1. Calls per lifecycle step, by API: the handler through the local CloudFormation
   (`local.driver`) against the strict emulator (`local.emulator`), unthrottled. Certificates:
   an apex and its wildcard; 3 names in 2 zones, then a tag update and a replacement of it (the
   replacement row includes CloudFormation's clean-up Delete of the old certificate); 100 names in
   10 zones; the Delete of each.
2. Issuance to answer, one certificate and 50 at once, every API at AWS's rates. ACM issues DNS
   certificates minutes after the records are written; the emulator issues each certificate at a
   moment drawn uniformly from `ISSUE_DELAY` to `ISSUE_DELAY + ISSUE_SPREAD` seconds after its
   last record, a span of real ACM's 1 to 10 minutes scaled down `TIME_SCALE` times. The answer's
   lateness is *not* scaled: it is the handler's polling, measured in real seconds. The function
   timeout is template.yaml's. The 50 certificates are then deleted at the same rates: all must
   answer SUCCESS, none may fail on throttling, and no certificate may be left in ACM.
3. The `DescribeCertificate` rate: the most calls (throttled ones included) in any one-second
   window while the 50 certificates are created.
4. Cold start: `import app` against a bare `import boto3`, sampled in turn in fresh interpreters
   (`benchmarks.cold_start`).
5. Lambda GB-seconds billed per certificate for a 3-minute issuance: the single-certificate runs'
   billed invocation time (create and delete, rounded up to the millisecond), with the scaled
   wait for ACM replaced by 180 s, times template.yaml's MemorySize.
6. `benchmarks.lifecycle_calls` (plain moto, in-process) as it always ran; its figures go to
   results.json only.

Exit status 1 when a *count* misses its target (calls, the DescribeCertificate rate, failures,
orphans); latencies are reported against their targets but never fail the run (timings depend on
the machine). The targets are issue 12's.

    .venv/bin/python -m benchmarks.bench [--single-runs 5] [--certificates 50]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import cold_start, plot
from benchmarks.throttling import (
    AWS_BURSTS,
    AWS_RATES,
    ZONES,
    _check_created,
    _count_afresh,
    _parallel,
    _phase,
    certificate_properties,
    templates,
    use_per_worker_clients,
)
from local.demo import handler_logs_to
from local.driver import DriverEvent, LocalCloudFormation, StepResult
from local.emulator import Emulator, StrictSettings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
LOG_FILE = Path("build/benchmarks/bench.log")

#: Real ACM issues a DNS-validated certificate about 1 to 10 minutes after its records are in
#: place (our reading of "minutes"; AWS publishes no figure). Scaled down 30 times: 2 to 20 s.
TIME_SCALE = 30
REAL_ISSUE_SPAN = (60.0, 600.0)
ISSUE_DELAY = REAL_ISSUE_SPAN[0] / TIME_SCALE
ISSUE_SPREAD = (REAL_ISSUE_SPAN[1] - REAL_ISSUE_SPAN[0]) / TIME_SCALE
RECORDS_DELAY = 0.3
ISSUANCE_FOR_BILLING = 180.0

ZONE_LOOKUP_APIS = frozenset(
    {"route53:ListHostedZonesByName", "route53:ListHostedZones", "route53:GetHostedZone"}
)

# ---- targets (issue 12) ---------------------------------------------------------------------

LATENCY_ONE_MAX = 2.0
LATENCY_MANY_MAX = 5.0
DESCRIBE_RATE_MAX = 10
#: ACM's ListCertificates quota (requests/s per account and region).
LIST_RATE_MAX = 8
#: The window of the sustained DescribeCertificate rate: one poll period of 50 certificates
#: sharing 10/s.
SUSTAINED_WINDOW = 5.0
HUNDRED_NAMES_CHANGES = 10
HUNDRED_NAMES_LOOKUPS_MAX = 10


def template_figures() -> tuple[int, float]:
    """(MemorySize MB, Timeout s) of the certificate function in template.yaml."""
    text = (ROOT / "template.yaml").read_text()
    memory = re.search(r"^\s+MemorySize:\s*(\d+)", text, re.MULTILINE)
    timeout = re.search(r"^\s+Timeout:\s*(\d+)", text, re.MULTILINE)
    if memory is None or timeout is None:
        raise SystemExit("template.yaml: no MemorySize or Timeout found")
    return int(memory.group(1)), float(timeout.group(1))


# ---- observing a run ------------------------------------------------------------------------


@dataclass
class Observer:
    """Wall-clock moments of requests and answers (driver events), and of every ACM/Route 53
    call that reached the emulator (wrapping `StrictRules.intercept`)."""

    requested: dict[str, float] = field(default_factory=dict)  # request id -> epoch
    answered: dict[str, float] = field(default_factory=dict)
    #: (monotonic, api, throttled)
    calls: list[tuple[float, str, bool]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_driver(self, event: DriverEvent) -> None:
        now = time.time()
        with self._lock:
            if event.kind == "request":
                self.requested[event.request_id] = now
            elif event.kind == "answered":
                self.answered.setdefault(event.request_id, now)

    def watch(self, aws: Emulator) -> None:
        original = aws.rules.intercept

        def intercept(api: str, scope: str = "") -> Any:
            at = time.monotonic()
            fault, after_effect = original(api, scope)
            throttled = fault is not None and "Throttl" in fault.code
            with self._lock:
                self.calls.append((at, api, throttled))
            return fault, after_effect

        aws.rules.intercept = intercept  # type: ignore[method-assign]

    def peak_rate(
        self,
        api: str,
        since: float,
        until: float,
        *,
        answered: bool = False,
        window: float = 1.0,
    ) -> int:
        """The most calls of `api` within any `window`-second window in [since, until],
        throttled ones included unless `answered`."""
        with self._lock:
            moments = sorted(
                at
                for at, name, throttled in self.calls
                if name == api and since <= at <= until and not (answered and throttled)
            )
        best = 0
        start = 0
        for end, moment in enumerate(moments):
            while moment - moments[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def timeline(
        self, start: float, windows: Sequence[tuple[float, float]]
    ) -> dict[str, dict[str, list[float]]]:
        """Every call within one of the (since, until) `windows`, per API: the moments (seconds
        after `start`) of the answered ones and of the throttled ones. The windows leave out
        the benchmark's own checks between and after them. results.svg plots them per second."""
        by_api: dict[str, dict[str, list[float]]] = {}
        with self._lock:
            for at, api, throttled in sorted(self.calls):
                if any(since <= at <= until for since, until in windows):
                    moments = by_api.setdefault(api, {"answered": [], "throttled": []})
                    moments["throttled" if throttled else "answered"].append(round(at - start, 3))
        return dict(sorted(by_api.items()))


def percentiles(values: Sequence[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0, "p50": math.nan, "p95": math.nan, "max": math.nan}
    ordered = sorted(values)
    rank = max(0, math.ceil(0.95 * len(ordered)) - 1)  # nearest rank
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[rank], 2),
        "max": round(ordered[-1], 2),
    }


def _latencies(
    aws: Emulator, observer: Observer, steps: Sequence[StepResult]
) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    problems: list[str] = []
    for step in steps:
        if step.purpose != "create" or step.status != "SUCCESS":
            continue
        due = aws.rules.issuance_due(step.physical_id)
        answered = observer.answered.get(step.request_id)
        if due is None or answered is None:
            problems.append(f"{step.logical_id}: no issuance moment or answer time")
            continue
        latencies.append(round(answered - due, 3))
    return latencies, problems


def _billed(step: StepResult) -> float:
    """Lambda bills each invocation's duration rounded up to the millisecond."""
    return sum(math.ceil(invocation.seconds * 1000) / 1000 for invocation in step.invocations)


def _throttling_failures(steps: Sequence[StepResult]) -> int:
    return sum(
        1
        for step in steps
        if step.status != "SUCCESS"
        and re.search(r"thrott|rate exceeded", step.reason, re.IGNORECASE)
    )


# ---- 1. calls per lifecycle step ------------------------------------------------------------

HUNDRED_ZONES = tuple(f"zone{j}.example.net" for j in range(10))


def _props(names: Sequence[str], tag: str = "bench") -> dict[str, Any]:
    return {
        "DomainName": names[0],
        "SubjectAlternativeNames": list(names[1:]),
        "Tags": [{"Key": "benchmark", "Value": tag}],
    }


def calls_per_step(function_timeout: float) -> dict[str, Any]:
    apex = _props(["apex.example.com", "*.apex.example.com"])
    three = _props(["shop.example.com", "*.shop.example.com", "shop.example.org"])
    hundred = _props([f"n{i}.{HUNDRED_ZONES[i % 10]}" for i in range(100)])
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    settings = StrictSettings(issue_delay=0.5, records_delay=RECORDS_DELAY, names_quota=100)
    with (
        Emulator(settings=settings) as aws,
        LocalCloudFormation(
            function_timeout=function_timeout, answer_timeout=300.0, grace=0.3, retry_delay=0.5
        ) as cfn,
    ):
        for zone in (*ZONES, *HUNDRED_ZONES):
            aws.create_zone(zone)

        def measure(step: str, operation: Callable[[], Any]) -> None:
            _count_afresh(aws)
            started = time.monotonic()
            result = operation()
            seconds = time.monotonic() - started
            calls = dict(sorted(aws.rules.calls.items()))
            rows.append(
                {
                    "step": step,
                    "calls": sum(calls.values()),
                    "by_api": calls,
                    "zone_lookups": sum(n for api, n in calls.items() if api in ZONE_LOOKUP_APIS),
                    "seconds": round(seconds, 2),
                }
            )
            if not result.succeeded or result.problems:
                reasons = [s.describe() for s in result.steps if s.status != "SUCCESS"]
                problems.append(f"{step}: {result.status} {reasons + result.problems}"[:500])

        stacks = {name: cfn.stack(f"calls-{name}") for name in ("apex", "three", "hundred")}
        measure("create: apex + wildcard", partial(stacks["apex"].create, {"Certificate": apex}))
        measure(
            "create: 3 names in 2 zones", partial(stacks["three"].create, {"Certificate": three})
        )
        measure(
            "create: 100 names in 10 zones",
            partial(stacks["hundred"].create, {"Certificate": hundred}),
        )
        retagged = dict(three, Tags=[{"Key": "benchmark", "Value": "retagged"}])
        measure(
            "update: tags only (3 names)",
            partial(stacks["three"].update, {"Certificate": retagged}),
        )
        grown = dict(
            retagged, SubjectAlternativeNames=[*three["SubjectAlternativeNames"], "api.example.org"]
        )
        measure(
            "update: replacement, a name added (3 names; with the old one's Delete)",
            partial(stacks["three"].update, {"Certificate": grown}),
        )
        measure("delete: apex + wildcard", stacks["apex"].delete)
        measure("delete: 4 names in 2 zones", stacks["three"].delete)
        measure("delete: 100 names in 10 zones", stacks["hundred"].delete)
        left = aws.certificate_arns()
        if left:
            problems.append(f"{len(left)} certificate(s) left after the deletes")
    return {"rows": rows, "problems": problems}


# ---- 2./3./5. issuance to answer, at AWS's rates --------------------------------------------


def _rated_emulator(seed: int) -> Emulator:
    settings = StrictSettings(
        issue_delay=ISSUE_DELAY,
        issue_spread=ISSUE_SPREAD,
        issue_seed=seed,
        records_delay=RECORDS_DELAY,
    )
    return Emulator(settings=settings)


def single_certificates(runs: int, function_timeout: float, memory_mb: int) -> dict[str, Any]:
    """`runs` certificates one after another, each alone in the account."""
    observer = Observer()
    latencies: list[float] = []
    billed: list[float] = []
    problems: list[str] = []
    with (
        _rated_emulator(seed=1) as aws,
        LocalCloudFormation(
            function_timeout=function_timeout, answer_timeout=300.0, grace=0.3, retry_delay=0.5
        ) as cfn,
    ):
        use_per_worker_clients(cfn)
        observer.watch(aws)
        cfn.subscribe(observer.on_driver)
        for zone in ZONES:
            aws.create_zone(zone)
        aws.rules.throttle(AWS_RATES, bursts=AWS_BURSTS)
        for index in range(runs):
            stack = cfn.stack(f"single-{index}")
            # Names no other run used: no validation record is there before the request.
            created = stack.create({"Certificate": certificate_properties(1000 + index)})
            problems.extend(created.problems)
            run_latencies, missing = _latencies(aws, observer, created.steps)
            latencies.extend(run_latencies)
            problems.extend(missing)
            create_step = next((s for s in created.steps if s.purpose == "create"), None)
            due = sent = None
            if create_step is not None and create_step.status == "SUCCESS":
                due = aws.rules.issuance_due(create_step.physical_id)  # before the delete
                sent = observer.requested.get(create_step.request_id)
            deleted = stack.delete()
            problems.extend(deleted.problems)
            delete_step = next((s for s in deleted.steps if s.purpose == "delete"), None)
            if create_step is None or delete_step is None or due is None or sent is None:
                problems.append(f"single-{index}: no create or delete step to bill")
                continue
            # The scaled wait for ACM (request to issuance) becomes a 3-minute one.
            waited_for_acm = due - sent
            billed.append(
                _billed(create_step) - waited_for_acm + ISSUANCE_FOR_BILLING + _billed(delete_step)
            )
        aws.rules.throttle(None)  # the check below is the benchmark's, not the handler's
        left = aws.certificate_arns()
        if left:
            problems.append(f"{len(left)} certificate(s) left after the deletes")
    seconds = statistics.mean(billed) if billed else math.nan
    return {
        "latencies": latencies,
        "latency": percentiles(latencies),
        "billed_seconds_per_certificate": round(seconds, 2),
        "gb_seconds_per_certificate": round(seconds * memory_mb / 1024, 2),
        "problems": problems,
    }


def many_certificates(count: int, per_stack: int, function_timeout: float) -> dict[str, Any]:
    """`count` certificates at once (stacks of `per_stack`), then their deletes, at AWS's rates."""
    observer = Observer()
    stack_templates = templates(count, per_stack)
    with (
        _rated_emulator(seed=2) as aws,
        LocalCloudFormation(
            function_timeout=function_timeout,
            answer_timeout=600.0,
            grace=0.3,
            retry_delay=0.5,
            max_workers=max(32, 2 * count),
        ) as cfn,
    ):
        use_per_worker_clients(cfn)
        observer.watch(aws)
        cfn.subscribe(observer.on_driver)
        zones = {name: aws.create_zone(name) for name in ZONES}
        stacks = [cfn.stack(f"many-{i}") for i in range(len(stack_templates))]

        _count_afresh(aws)
        aws.rules.throttle(AWS_RATES, bursts=AWS_BURSTS)
        started = time.monotonic()
        created = _parallel(
            [
                partial(stack.create, template)
                for stack, template in zip(stacks, stack_templates, strict=True)
            ]
        )
        ended = time.monotonic()
        create_started = started
        create = _phase(created, ended - started, aws, "create")
        aws.rules.throttle(None)
        describe_peak = observer.peak_rate("acm:DescribeCertificate", started, ended)
        describe_answered_peak = observer.peak_rate(
            "acm:DescribeCertificate", started, ended, answered=True
        )
        # 50 certificates each polled every 5 s average exactly 10/s: over the poll period
        # (5 s) the rate is what the quota allows or not; a 1-s window also counts how the
        # independent phases of the pollers happen to bunch (see benchmarks/README.md).
        describe_sustained = (
            observer.peak_rate("acm:DescribeCertificate", started, ended, window=SUSTAINED_WINDOW)
            / SUSTAINED_WINDOW
        )
        list_peak = observer.peak_rate("acm:ListCertificates", started, ended)
        with aws.rules._lock:  # the counters are written under this lock
            table_calls = dict(sorted(aws.rules.table_calls.items()))
        create_steps = [step for operation in created for step in operation.steps]
        latencies, missing = _latencies(aws, observer, create_steps)
        checks = _check_created(aws, zones, stacks, stack_templates)

        _count_afresh(aws)
        aws.rules.throttle(AWS_RATES, bursts=AWS_BURSTS)
        started = time.monotonic()
        deleted = _parallel([stack.delete for stack in stacks])
        delete_ended = time.monotonic()
        delete = _phase(deleted, delete_ended - started, aws, "delete")
        aws.rules.throttle(None)
        delete_steps = [step for operation in deleted for step in operation.steps]
        left = aws.certificate_arns()
        # Each call's moment during the creates and the deletes (not the checks between and
        # after, which are the benchmark's): the calls-per-second panels of results.svg.
        timeline = {
            "delete_started": round(started - create_started, 3),
            "calls": observer.timeline(
                create_started, [(create_started, ended), (started, delete_ended)]
            ),
        }
    orphans = len(left) + sum(1 for problem in checks if "no resource holds" in problem)
    return {
        "certificates": count,
        "stacks": len(stacks),
        "latencies": latencies,
        "latency": percentiles(latencies),
        "describe_peak_per_second": describe_peak,
        "describe_answered_peak_per_second": describe_answered_peak,
        "describe_sustained_peak_per_second": round(describe_sustained, 1),
        "describe_calls": create.calls.get("acm:DescribeCertificate", 0),
        "describe_throttled": create.throttled.get("acm:DescribeCertificate", 0),
        "list_peak_per_second": list_peak,
        "list_calls": create.calls.get("acm:ListCertificates", 0),
        "list_throttled": create.throttled.get("acm:ListCertificates", 0),
        # The requests table and the status board (board.py), per certificate created.
        "table_calls": table_calls,
        "table_calls_per_certificate": round(sum(table_calls.values()) / count, 1),
        "created": create.succeeded,
        "deleted": delete.succeeded,
        "throttling_failures": _throttling_failures(create_steps + delete_steps),
        "failures": sum(1 for s in create_steps + delete_steps if s.status != "SUCCESS"),
        "orphans": orphans,
        "left_after_delete": len(left),
        "create": asdict(create)
        | {"total_calls": create.total_calls, "total_throttled": create.total_throttled},
        "delete": asdict(delete)
        | {"total_calls": delete.total_calls, "total_throttled": delete.total_throttled},
        "problems": [*missing, *checks, *create.problems, *delete.problems],
        "timeline": timeline,
    }


# ---- 6. the moto benchmark as it always ran -------------------------------------------------


def lifecycle_calls_moto() -> list[Any]:
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.lifecycle_calls"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        return [{"error": output.stderr.strip().splitlines()[-1:]}]
    return [json.loads(line) for line in output.stdout.splitlines() if line.startswith("{")]


# ---- the table ------------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    measured: str
    target: str = "-"
    met: bool | None = None  # None: no target
    gates: bool = True  # a count: a miss fails the run

    @property
    def verdict(self) -> str:
        if self.met is None:
            return ""
        if self.met:
            return "met"
        return "MISSED" if self.gates else "missed (timed: reported only)"


def _short(by_api: Mapping[str, int]) -> str:
    return ", ".join(f"{api.split(':', 1)[1]} {n}" for api, n in by_api.items()) or "-"


def build_rows(results: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []
    single = results["single"]
    many = results["many"]
    one = single["latency"]
    rows.append(
        Row(
            f"issuance -> answer, 1 certificate ({one['n']} runs) p50/p95/max",
            f"{one['p50']:.2f} / {one['p95']:.2f} / {one['max']:.2f} s",
            f"max <= {LATENCY_ONE_MAX:g} s",
            one["n"] > 0 and one["max"] <= LATENCY_ONE_MAX,
            gates=False,
        )
    )
    fifty = many["latency"]
    rows.append(
        Row(
            f"issuance -> answer, {many['certificates']} at once p50/p95/max",
            f"{fifty['p50']:.2f} / {fifty['p95']:.2f} / {fifty['max']:.2f} s",
            f"max <= {LATENCY_MANY_MAX:g} s",
            fifty["n"] > 0 and fifty["max"] <= LATENCY_MANY_MAX,
            gates=False,
        )
    )
    rows.append(
        Row(
            f"DescribeCertificate peak, {many['certificates']} at once (any 1-s window)",
            f"{many['describe_peak_per_second']}/s attempted "
            f"({many.get('describe_answered_peak_per_second', '?')}/s answered; "
            f"{many.get('describe_throttled', '?')} of {many.get('describe_calls', '?')} "
            "throttled)",
            f"<= {DESCRIBE_RATE_MAX}/s",
            many["describe_peak_per_second"] <= DESCRIBE_RATE_MAX,
        )
    )
    if "describe_sustained_peak_per_second" in many:
        rows.append(
            Row(
                f"DescribeCertificate sustained peak, {many['certificates']} at once (any "
                f"{SUSTAINED_WINDOW:g}-s window, attempts / {SUSTAINED_WINDOW:g})",
                f"{many['describe_sustained_peak_per_second']:.1f}/s",
            )
        )
    if "list_peak_per_second" in many:
        rows.append(
            Row(
                f"ListCertificates peak, {many['certificates']} at once (any 1-s window; the "
                "status board)",
                f"{many['list_peak_per_second']}/s attempted ({many['list_throttled']} of "
                f"{many['list_calls']} throttled)",
                f"<= {LIST_RATE_MAX}/s",
                many["list_peak_per_second"] <= LIST_RATE_MAX,
            )
        )
        rows.append(
            Row(
                f"DynamoDB calls per certificate, {many['certificates']} at once (requests "
                "table + status board)",
                f"{many['table_calls_per_certificate']:.1f}: {_short(many['table_calls'])}",
            )
        )
    for step in results["calls"]["rows"]:
        row = Row(f"calls, {step['step']}", f"{step['calls']}: {_short(step['by_api'])}")
        if step["step"].startswith("create: 100 names"):
            changes = step["by_api"].get("route53:ChangeResourceRecordSets", 0)
            lookups = step["zone_lookups"]
            row.measured += f" [ChangeResourceRecordSets {changes}, zone look-ups {lookups}]"
            row.target = (
                f"ChangeResourceRecordSets = {HUNDRED_NAMES_CHANGES}, zone look-ups <= "
                f"{HUNDRED_NAMES_LOOKUPS_MAX}"
            )
            row.met = changes == HUNDRED_NAMES_CHANGES and lookups <= HUNDRED_NAMES_LOOKUPS_MAX
        rows.append(row)
    rows.append(
        Row(
            "calls-per-step scenarios: every step answered SUCCESS, nothing left",
            "yes" if not results["calls"]["problems"] else "; ".join(results["calls"]["problems"]),
            "no failure",
            not results["calls"]["problems"],
        )
    )
    count = many["certificates"]
    created_ok = many["created"] == count and many["deleted"] == count
    rows.append(
        Row(
            f"{count} created and deleted at AWS's rates",
            f"created {many['created']}/{count}, deleted {many['deleted']}/{count}, "
            f"{many['failures']} failed ({many['throttling_failures']} on throttling), "
            f"{many['orphans']} orphans; {many['create']['total_throttled']} + "
            f"{many['delete']['total_throttled']} throttled responses, create "
            f"{many['create']['seconds']:.0f} s, delete {many['delete']['seconds']:.0f} s",
            "all SUCCESS, 0 throttling failures, 0 orphans",
            created_ok and many["throttling_failures"] == 0 and many["orphans"] == 0,
        )
    )
    cold = results["cold_start"]
    rows.append(
        Row(
            f"cold import of app / bare import boto3 ({cold['samples']} samples each)",
            f"{cold['app_to_boto3_ratio']:.2f}x ({cold['import_app_median_ms']:.0f} ms / "
            f"{cold['import_boto3_median_ms']:.0f} ms, medians)",
        )
    )
    rows.append(
        Row(
            f"Lambda GB-s per certificate, 3-minute issuance ({results['memory_mb']} MB)",
            f"{single['gb_seconds_per_certificate']:.2f} GB-s "
            f"({single['billed_seconds_per_certificate']:.1f} s billed, create + delete)",
        )
    )
    return rows


def print_table(rows: Sequence[Row], header: str, out: Any = sys.stdout) -> None:
    print(header, file=out)
    print(file=out)
    print("| Measure | Measured | Target | Result |", file=out)
    print("|---|---|---|---|", file=out)
    for row in rows:
        print(f"| {row.what} | {row.measured} | {row.target} | {row.verdict} |", file=out)


# ---- main -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _stdout_to(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as sink, contextlib.redirect_stdout(sink):
        yield


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--single-runs", type=int, default=5, help="one-certificate runs (5)")
    parser.add_argument("--certificates", type=int, default=50, help="at once (default 50)")
    parser.add_argument("--per-stack", type=int, default=5, help="resources per stack (5)")
    parser.add_argument("--cold-samples", type=int, default=10, help="per import (default 10)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--table-only", action="store_true", help="print the table of an existing --results file"
    )
    args = parser.parse_args(argv)
    if args.table_only:
        return report(json.loads(args.results.read_text()), args.results)

    memory_mb, function_timeout = template_figures()
    started = time.monotonic()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        "memory_mb": memory_mb,
        "function_timeout_seconds": function_timeout,
        "time_scale": TIME_SCALE,
        "issuance_span_seconds": [ISSUE_DELAY, ISSUE_DELAY + ISSUE_SPREAD],
        "real_issuance_span_seconds": list(REAL_ISSUE_SPAN),
        "rates": AWS_RATES,
        "bursts": AWS_BURSTS,
    }

    def step(name: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {name}", file=sys.stderr, flush=True)

    # The handler's logs, and its metrics (EMF lines on stdout), go to the log file.
    with handler_logs_to(LOG_FILE), _stdout_to(LOG_FILE.with_suffix(".metrics.log")):
        step("cold start")
        results["cold_start"] = cold_start.measure(args.cold_samples)
        step("lifecycle_calls (moto)")
        results["lifecycle_calls_moto"] = lifecycle_calls_moto()
        step("calls per lifecycle step")
        results["calls"] = calls_per_step(function_timeout)
        step(f"{args.single_runs} single certificates at AWS's rates")
        results["single"] = single_certificates(args.single_runs, function_timeout, memory_mb)
        step(f"{args.certificates} certificates at once at AWS's rates")
        results["many"] = many_certificates(args.certificates, args.per_stack, function_timeout)
    step("done")
    results["seconds"] = round(time.monotonic() - started, 1)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")  # kept if the table fails
    return report(results, args.results)


def report(results: dict[str, Any], path: Path) -> int:
    """Print the table, complete results.json with it; 1 if a count missed its target."""
    rows = build_rows(results)
    results["table"] = [asdict(row) | {"verdict": row.verdict} for row in rows]
    failed = [row.what for row in rows if row.met is False and row.gates]
    results["failed_targets"] = failed
    path.write_text(json.dumps(results, indent=2) + "\n")

    header = (
        f"make bench, {results['when']}, commit {results['commit']}, {results['machine']}. "
        f"ACM issues each certificate at a random moment {ISSUE_DELAY:g}-"
        f"{ISSUE_DELAY + ISSUE_SPREAD:g} s after its records (real ACM ~1-10 min, scaled 1:"
        f"{TIME_SCALE}); answer latencies are real seconds. AWS rates per second: "
        + ", ".join(f"{api} {rate:g}" for api, rate in results["rates"].items())
        + " (Route 53 bucket "
        + ", ".join(f"{size:g}" for size in results["bursts"].values())
        + f"); function timeout {results['function_timeout_seconds']:g} s, "
        f"{results['memory_mb']} MB."
    )
    print_table(rows, header)
    picture = plot.write(results, path.with_suffix(".svg"), LATENCY_MANY_MAX)
    for section in ("calls", "single", "many"):
        for problem in results[section]["problems"]:
            print(f"PROBLEM ({section}): {problem}")
    print(
        f"\n{results['seconds']:.0f} s in all; results in {path}, picture in {picture}; logs in "
        f"{LOG_FILE}"
    )
    if failed:
        print(f"\nmissed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
