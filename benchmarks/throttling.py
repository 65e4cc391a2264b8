"""Scale under throttling: N certificates created at once, then deleted, at AWS's API rates.

Runs the real handler through the local CloudFormation (`local.driver`) against the strict AWS
emulator (`local.emulator`, moto's server over local HTTP). For each N, stacks of up to
`--per-stack` resources are created concurrently (CloudFormation sends a stack's independent
resources at once, and the stacks run side by side), every certificate with two or three names
across two hosted zones; then every stack is deleted concurrently. Each N runs twice: without
throttling, and with a token bucket per API at AWS's published rates (`AWS_RATES`).

Reported per N and mode: the wall time until every request was answered, how many succeeded,
throttled responses per API, API calls (every attempt that reached the emulator, throttled ones
included) in all and per certificate, the most invocations (continuations and Lambda retries
included) one request needed, and any protocol or consistency problem (a second answer, an
invocation past its timeout, a duplicate or leftover certificate, a missing record).

    .venv/bin/python -m benchmarks.throttling                      # N = 1 5 10 20
    .venv/bin/python -m benchmarks.throttling --certificates 20 --modes throttled --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from local.demo import handler_logs_to
from local.driver import LocalCloudFormation, StackOperation, load_app
from local.emulator import Emulator, StrictSettings, validation_record

#: AWS's rate quotas per account and region (requests per second; see ../shared/README.md).
#: "route53:*" is one bucket for every Route 53 API: its quota is per account, not per API
#: (10/s since 30 July 2026, was 5). ListCertificates at ACM's 8/s: the waits' shared status
#: board (board.py) lists the pending certificates about once a second, and the delete's
#: search by tags lists them too.
AWS_RATES: dict[str, float] = {
    "acm:RequestCertificate": 5.0,
    "acm:DescribeCertificate": 10.0,
    "acm:DeleteCertificate": 10.0,
    "acm:ListCertificates": 8.0,
    "acm:ListTagsForCertificate": 5.0,
    "acm:AddTagsToCertificate": 5.0,
    "acm:RemoveTagsFromCertificate": 5.0,
    "route53:*": 10.0,
}
#: Bucket sizes where AWS documents one (Route 53's account bucket of 50); every other bucket
#: holds one second's worth.
AWS_BURSTS: dict[str, float] = {"route53:*": 50.0}
ZONES = ("example.com", "example.org")
DEFAULT_LOG_FILE = Path("build/benchmarks/throttling.log")


# ---- what is measured -----------------------------------------------------------------------


@dataclass
class Phase:
    """One stack operation (create or delete) over every stack."""

    seconds: float = 0.0  # wall time until every request was answered
    succeeded: int = 0
    requests: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # attempts, throttled ones included
    throttled: dict[str, int] = field(default_factory=dict)
    max_invocations: int = 0  # of one request: first one, continuations and retries
    max_continuations: int = 0
    rollbacks: int = 0  # Deletes CloudFormation sent because a create failed
    slowest_answer: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_throttled(self) -> int:
        return sum(self.throttled.values())


@dataclass
class Run:
    mode: str  # throttled | unthrottled
    certificates: int
    stacks: int
    names: int
    create: Phase
    delete: Phase
    problems: list[str]

    @property
    def calls_per_certificate(self) -> float:
        return (self.create.total_calls + self.delete.total_calls) / self.certificates

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("create", "delete"):
            phase: Phase = getattr(self, name)
            data[name]["total_calls"] = phase.total_calls
            data[name]["total_throttled"] = phase.total_throttled
        data["calls_per_certificate"] = round(self.calls_per_certificate, 1)
        return data


# ---- the template ---------------------------------------------------------------------------


def certificate_properties(index: int) -> dict[str, Any]:
    """Two or three names across example.com and example.org, none shared with another
    certificate (an apex and its wildcard share one validation CNAME, as in ACM)."""
    if index % 2 == 0:
        names = [f"c{index}.example.com", f"*.c{index}.example.com", f"c{index}.example.org"]
    else:
        names = [f"c{index}.example.org", f"www.c{index}.example.com"]
    return {
        "DomainName": names[0],
        "SubjectAlternativeNames": names[1:],
        "Tags": [{"Key": "benchmark", "Value": "throttling"}],
    }


def templates(certificates: int, per_stack: int) -> list[dict[str, dict[str, Any]]]:
    stacks: list[dict[str, dict[str, Any]]] = []
    for index in range(certificates):
        if index % per_stack == 0:
            stacks.append({})
        stacks[-1][f"Certificate{index}"] = certificate_properties(index)
    return stacks


# ---- clients --------------------------------------------------------------------------------


class PerWorkerClients:
    """Each driver worker (a warm Lambda container) gets its own boto3 clients.

    The driver shares one client factory between its worker threads; in Lambda each concurrent
    invocation runs in its own container with its own clients, and botocore's retry quota
    (standard mode: 500 tokens, 5 per retried error) is per client. Sharing it would let 20
    throttled invocations drain one quota that in AWS would be 20.
    """

    _creation_lock = threading.Lock()

    def __init__(self, default_region: str) -> None:
        self.default_region = default_region
        self._local = threading.local()

    def _own(self) -> Any:
        from dns_certificate.clients import AwsClients

        clients = getattr(self._local, "clients", None)
        if clients is None:
            with self._creation_lock:  # making sessions and clients at once is not safe
                clients = self._local.clients = AwsClients(self.default_region)
                clients.acm()
                clients.route53()
        return clients

    def acm(self, region: str | None = None) -> Any:
        own = self._own()
        with self._creation_lock:
            return own.acm(region)

    def acm_poller(self, region: str | None = None) -> Any:
        own = self._own()
        with self._creation_lock:
            return own.acm_poller(region)

    def route53(self) -> Any:
        own = self._own()
        with self._creation_lock:
            return own.route53()

    def cloudformation(self, region: str) -> Any:
        own = self._own()
        with self._creation_lock:
            return own.cloudformation(region)

    def route53_as(self, access: Any, session_name: str) -> Any:
        own = self._own()
        with self._creation_lock:
            return own.route53_as(access, session_name)

    def lambda_(self) -> Any:
        own = self._own()
        with self._creation_lock:
            return own.lambda_()

    def dynamodb(self) -> Any:
        own = self._own()
        with self._creation_lock:
            return own.dynamodb()


def use_per_worker_clients(cfn: LocalCloudFormation) -> None:
    """Swap the driver's shared clients for per-worker ones (the driver restores on close)."""
    app = load_app()
    from dns_certificate.context import Runtime
    from dns_certificate.deadline import SystemClock
    from dns_certificate.requests import DynamoDBRequests

    clients = PerWorkerClients(cfn.region)
    table = os.environ["REQUESTS_TABLE"]
    app.use_runtime(
        Runtime(
            clients=clients,
            invoke_self=cfn.invoke_self,
            clock=SystemClock(),
            requests=DynamoDBRequests(table, clients.dynamodb()),
        )
    )


# ---- one run --------------------------------------------------------------------------------


def _parallel[T](calls: Sequence[Callable[[], T]]) -> list[T]:
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in results:
        if isinstance(outcome, BaseException):
            raise outcome
    return results


def _phase(
    operations: Sequence[StackOperation], seconds: float, aws: Emulator, purpose: str
) -> Phase:
    phase = Phase(seconds=round(seconds, 2))
    phase.calls = dict(sorted(aws.rules.calls.items()))
    phase.throttled = dict(sorted(aws.rules.throttled.items()))
    for operation in operations:
        phase.problems.extend(operation.problems)
        if not operation.succeeded:
            phase.problems.append(f"stack {operation.action} ended {operation.status}")
        for step in operation.steps:
            if step.purpose != purpose:
                phase.rollbacks += 1
                if step.status != "SUCCESS":
                    phase.problems.append(step.describe())
                continue
            phase.requests += 1
            if step.ok:
                phase.succeeded += 1
            elif step.status != "SUCCESS":
                phase.problems.append(step.describe())
            phase.max_invocations = max(phase.max_invocations, len(step.invocations))
            phase.max_continuations = max(phase.max_continuations, step.hops)
            phase.slowest_answer = max(phase.slowest_answer, round(step.seconds, 2))
    return phase


def _count_afresh(aws: Emulator) -> None:
    with aws.rules._lock:  # the counters are written under this lock
        aws.rules.calls.clear()
        aws.rules.throttled.clear()
        aws.rules.table_calls.clear()


def run_once(
    mode: str,
    certificates: int,
    *,
    per_stack: int,
    settings: StrictSettings,
    function_timeout: float,
    per_worker_clients: bool,
    rates: Mapping[str, float],
) -> Run:
    stack_templates = templates(certificates, per_stack)
    names = sum(
        1 + len(props["SubjectAlternativeNames"])
        for template in stack_templates
        for props in template.values()
    )
    problems: list[str] = []
    with (
        Emulator(settings=StrictSettings(**asdict(settings))) as aws,
        LocalCloudFormation(
            function_timeout=function_timeout,
            answer_timeout=300.0,
            grace=0.3,
            retry_delay=0.5,
            max_workers=max(32, 2 * certificates),
        ) as cfn,
    ):
        if per_worker_clients:
            use_per_worker_clients(cfn)
        zones = {name: aws.create_zone(name) for name in ZONES}
        stacks = [cfn.stack(f"bench-{i}") for i in range(len(stack_templates))]
        throttle = dict(rates) if mode == "throttled" else None

        # ---- create
        _count_afresh(aws)
        aws.rules.throttle(throttle, bursts=AWS_BURSTS)
        started = time.monotonic()
        created = _parallel(
            [
                partial(stack.create, template)
                for stack, template in zip(stacks, stack_templates, strict=True)
            ]
        )
        create = _phase(created, time.monotonic() - started, aws, "create")
        aws.rules.throttle(None)  # the checks below are the benchmark's, not the handler's
        problems.extend(_check_created(aws, zones, stacks, stack_templates))

        # ---- delete
        _count_afresh(aws)
        aws.rules.throttle(throttle, bursts=AWS_BURSTS)
        started = time.monotonic()
        deleted = _parallel([stack.delete for stack in stacks])
        delete = _phase(deleted, time.monotonic() - started, aws, "delete")
        aws.rules.throttle(None)
        left = aws.certificate_arns()
        if left:
            problems.append(f"{len(left)} certificate(s) left after the delete")
    return Run(
        mode=mode,
        certificates=certificates,
        stacks=len(stacks),
        names=names,
        create=create,
        delete=delete,
        problems=problems,
    )


def _check_created(
    aws: Emulator,
    zones: Mapping[str, str],
    stacks: Sequence[Any],
    stack_templates: Sequence[Mapping[str, Mapping[str, Any]]],
) -> list[str]:
    """One ISSUED certificate per resource CloudFormation holds, no other (no duplicate, no
    orphan of a failed create); every validation record in its zone."""
    problems: list[str] = []
    arns = set(aws.certificate_arns())
    held = {resource.physical_id for stack in stacks for resource in stack.resources.values()}
    if arns - held:
        problems.append(
            f"{len(arns - held)} certificate(s) in ACM that no resource holds (duplicates or "
            "orphans)"
        )
    if held - arns:
        problems.append(f"{len(held - arns)} resource(s) whose certificate is not in ACM")
    records = {zone: aws.cname_records(zone_id) for zone, zone_id in zones.items()}
    for stack, template in zip(stacks, stack_templates, strict=True):
        for logical_id, properties in template.items():
            arn = stack.resources.get(logical_id)
            if arn is None:
                continue  # its create failed; reported with the step
            certificate = aws.describe(arn.physical_id) or {}
            if certificate.get("Status") != "ISSUED":
                problems.append(f"{logical_id} is {certificate.get('Status', 'missing')}")
            for name in [properties["DomainName"], *properties["SubjectAlternativeNames"]]:
                zone = next(z for z in ZONES if name.endswith("." + z))
                record_name, value = validation_record(name)
                if records[zone].get(record_name) != value:
                    problems.append(f"{logical_id}: no validation record for {name} in {zone}")
    return problems


# ---- output ---------------------------------------------------------------------------------


def _short(api_counts: Mapping[str, int]) -> str:
    return ", ".join(f"{api.split(':')[1]} {count}" for api, count in api_counts.items()) or "-"


def print_table(runs: Sequence[Run], out: Any = sys.stdout) -> None:
    header = (
        f"{'mode':<11} {'N':>3} {'stacks':>6} {'create s':>8} {'delete s':>8} "
        f"{'created':>7} {'deleted':>7} {'calls':>6} {'/cert':>6} {'thr':>5} {'inv':>4} "
        f"{'cont':>4} {'rb':>3}  problems"
    )
    print(header, file=out)
    for run in runs:
        created = f"{run.create.succeeded}/{run.create.requests}"
        deleted = f"{run.delete.succeeded}/{run.delete.requests}"
        invocations = max(run.create.max_invocations, run.delete.max_invocations)
        continuations = max(run.create.max_continuations, run.delete.max_continuations)
        problems = len(run.problems) + len(run.create.problems) + len(run.delete.problems)
        print(
            f"{run.mode:<11} {run.certificates:>3} {run.stacks:>6} {run.create.seconds:>8.1f} "
            f"{run.delete.seconds:>8.1f} {created:>7} {deleted:>7} "
            f"{run.create.total_calls + run.delete.total_calls:>6} "
            f"{run.calls_per_certificate:>6.1f} "
            f"{run.create.total_throttled + run.delete.total_throttled:>5} {invocations:>4} "
            f"{continuations:>4} {run.create.rollbacks:>3}  {problems or 'none'}",
            file=out,
        )
    print(file=out)
    for run in runs:
        print(f"{run.mode} N={run.certificates}:", file=out)
        for name in ("create", "delete"):
            phase: Phase = getattr(run, name)
            print(f"  {name} calls:     {_short(phase.calls)}", file=out)
            print(f"  {name} throttled: {_short(phase.throttled)}", file=out)
        for problem in [*run.create.problems, *run.delete.problems, *run.problems]:
            print(f"  PROBLEM: {problem}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throttling", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--certificates",
        type=int,
        nargs="+",
        default=[1, 5, 10, 20],
        metavar="N",
        help="how many certificates to create at once (default 1 5 10 20)",
    )
    parser.add_argument("--per-stack", type=int, default=5, help="resources per stack (default 5)")
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=["unthrottled", "throttled"],
        default=["unthrottled", "throttled"],
        help="run without throttling, with AWS's rates, or both (default both)",
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply every AWS rate by this (0.5: half AWS's rates; default 1)",
    )
    parser.add_argument(
        "--issue-delay",
        type=float,
        default=0.5,
        help="seconds from the last validation record to ISSUED (default 0.5)",
    )
    parser.add_argument(
        "--records-delay",
        type=float,
        default=0.3,
        help="seconds before ACM shows every validation record (default 0.3)",
    )
    parser.add_argument(
        "--function-timeout",
        type=float,
        default=45.0,
        help="the function's timeout (s); the handler hands off with < 30 s left (default 45)",
    )
    parser.add_argument(
        "--shared-clients",
        action="store_true",
        help="one set of boto3 clients for every invocation (the driver's default) instead of "
        "one per worker, as concurrent Lambda containers have",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        default=DEFAULT_LOG_FILE,
        help=f"the handler's JSON logs (default {DEFAULT_LOG_FILE})",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per run, too")
    args = parser.parse_args(argv)
    settings = StrictSettings(issue_delay=args.issue_delay, records_delay=args.records_delay)
    rates = {api: rate * args.rate_scale for api, rate in AWS_RATES.items()}
    runs: list[Run] = []
    started = time.monotonic()
    with handler_logs_to(args.log_file):
        for mode in args.modes:
            for certificates in args.certificates:
                run = run_once(
                    mode,
                    certificates,
                    per_stack=args.per_stack,
                    settings=settings,
                    function_timeout=args.function_timeout,
                    per_worker_clients=not args.shared_clients,
                    rates=rates,
                )
                runs.append(run)
                print(
                    f"{mode} N={certificates}: create {run.create.seconds:.1f} s, delete "
                    f"{run.delete.seconds:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"issue delay {args.issue_delay:g} s, records delay {args.records_delay:g} s, function "
        f"timeout {args.function_timeout:g} s, {args.per_stack} resources per stack, "
        f"{'shared' if args.shared_clients else 'per-worker'} clients; rates (/s): "
        + ", ".join(f"{api} {rate:g}" for api, rate in rates.items())
    )
    print()
    print_table(runs)
    if args.json:
        for run in runs:
            print(json.dumps(run.as_json()))
    print(f"\n{time.monotonic() - started:.1f} s in all; handler logs in {args.log_file}")
    failed = any(
        run.problems
        or run.create.problems
        or run.delete.problems
        or run.create.succeeded < run.certificates
        or run.delete.succeeded < run.certificates
        for run in runs
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
