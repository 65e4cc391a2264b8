"""`make demo`: a certificate's whole life in a local stack, with no AWS account.

Starts the strict AWS emulator (`local.emulator`), creates hosted zones, and plays a stack
through the local CloudFormation (`local.driver`) against the real handler:

    create -> update the tags (in place) -> update the names (replacement) -> delete
    -> stuck validation (a zone the registrar delegates elsewhere: the FAILED reason says so)
    -> record clean-up (two certificates share example.com's CNAME; CleanupValidationRecords
       deletes only the records no remaining certificate needs)
    -> renewal guard (a CNAME deleted by hand is back after ACM's Renewal Action Required event)

for a certificate with an apex (example.com), a wildcard (*.example.com) and a name in a
second zone (www.example.org). It prints what happens as it happens, checks every step the
way someone looking at CloudFormation, ACM and Route 53 would, and exits non-zero if any
check fails. Every line the handler writes (its JSON logs and its EMF metric lines) goes to a
file (see --log-file), unless --logs-to-stdout is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from local.dns_server import DnsServer
from local.driver import DriverEvent, LocalCloudFormation, StackOperation, acm_event, load_app
from local.emulator import AwsEvent, Emulator, StrictSettings, validation_record

DEFAULT_LOG_FILE = Path("build/demo/handler.log")

APEX, WILDCARD, OTHER_ZONE, ADDED = (
    "example.com",
    "*.example.com",
    "www.example.org",
    "api.example.org",
)
ZONE_OF = {
    APEX: "example.com",
    WILDCARD: "example.com",
    OTHER_ZONE: "example.org",
    ADDED: "example.org",
}

CREATE = {
    "DomainName": APEX,
    "SubjectAlternativeNames": [WILDCARD, OTHER_ZONE],
    "Tags": [{"Key": "team", "Value": "platform"}],
}
TAGS_UPDATE = {**CREATE, "Tags": [{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "demo"}]}
REPLACEMENT = {**TAGS_UPDATE, "SubjectAlternativeNames": [WILDCARD, OTHER_ZONE, ADDED]}

#: The stuck validation: a zone in Route 53 whose domain the registrar delegates elsewhere.
STUCK_ZONE, STUCK_NAME = "example.net", "www.example.net"
REGISTRAR_NS = ["ns1.registrar-dns.net.", "ns2.registrar-dns.net."]
#: Short, so the deadline (and its diagnosis) comes within seconds.
STUCK_SERVICE_TIMEOUT = "20"


#: Every step of the demo, in the order it runs: the step numbers ([1/7] ...) come from here.
STEPS = (
    "create",
    "update tags (in place)",
    "update names (replacement)",
    "delete",
    "stuck validation",
    "record clean-up",
    "renewal guard",
)


def numbered(short: str, title: str) -> str:
    """`title` under its number out of every step: `[3/7] title` for STEPS' third."""
    return f"[{STEPS.index(short) + 1}/{len(STEPS)}] {title}"


# ---- output -----------------------------------------------------------------------------------


class Progress:
    """Progress lines from the emulator's and the driver's events, timed from the step start."""

    def __init__(self, out: TextIO, aws: Emulator, settings: StrictSettings) -> None:
        self._out = out
        self._aws = aws
        self._settings = settings
        self._lock = threading.Lock()
        self._step_started = time.monotonic()
        self._waiting_for: dict[str, set[str]] = {}  # arn -> validation record names to write
        self._written: set[str] = set()
        #: Some zone is delegated elsewhere (the stuck validation): ACM may never validate.
        self.misdelegated = False

    def line(self, text: str = "") -> None:
        with self._lock:
            print(text, file=self._out, flush=True)

    def step(self, title: str) -> None:
        self._step_started = time.monotonic()
        self.line()
        self.line(title)

    def _at(self, moment: float) -> str:
        return f"  {moment - self._step_started:5.1f}s  "

    def on_driver(self, event: DriverEvent) -> None:
        at = self._at(event.at)
        detail = event.detail
        if event.kind == "request":
            sent = detail.get("physical_id")
            suffix = f" for {sent}" if sent else ""
            self.line(
                f"{at}CloudFormation sends {event.request_type} ({detail['purpose']}){suffix}"
            )
        elif event.kind == "invoked" and detail["hop"] == 0 and detail["attempt"] == 0:
            self.line(f"{at}Lambda invoked asynchronously")
        elif event.kind == "invoked":
            self.line(f"{at}continuation #{detail['hop']} invoked with a fresh context")
        elif event.kind == "handed_off":
            self.line(f"{at}time nearly up: the function hands the wait to a new invocation")
        elif event.kind == "function_error":
            self.line(f"{at}the function raised: {detail['error']}")
        elif event.kind == "answered":
            status, physical_id = detail["status"], detail["physical_id"]
            self.line(f"{at}answered {status}  PhysicalResourceId={physical_id}")
            if detail.get("reason"):
                self.line(f"{' ' * 10}reason: {detail['reason']}")
        elif event.kind == "no_answer":
            self.line(f"{at}NO ANSWER after {detail['waited']:.0f} s")

    def on_aws(self, event: AwsEvent) -> None:
        at = self._at(event.at)
        detail = event.detail
        if event.kind == "certificate_requested" and not detail["reused"]:
            arn = detail["arn"]
            self.line(f"{at}requested {arn}")
            self.line(f"{' ' * 10}names: {', '.join(detail['names'])}")
            with self._lock:
                self._waiting_for[arn] = {validation_record(n)[0] for n in detail["names"]}
        elif event.kind == "records_changed":
            kind = "private" if detail["private"] else "public"
            deleted = all(change["action"] == "DELETE" for change in detail["changes"])
            what = "deleted from" if deleted else "written in"
            self.line(
                f"{at}records {what} {detail['zone_name']} ({kind} zone {detail['zone_id']}):"
            )
            for change in detail["changes"]:
                self.line(f"{' ' * 12}{change['action']} {change['name']} -> {change['value']}")
            self._maybe_waiting(event.at, [c["name"] for c in detail["changes"]])
        elif event.kind == "certificate_issued":
            self.line(f"{at}ISSUED {detail['arn']}")
        elif event.kind == "certificate_failed":
            self.line(f"{at}{detail['status']} {detail['arn']} ({detail['reason']})")
        elif event.kind == "certificate_deleted":
            self.line(f"{at}deleted {detail['arn']}")
        elif event.kind == "delete_refused":
            self.line(f"{at}delete refused: in use by {', '.join(detail['in_use_by'])}")
        elif event.kind == "throttled":
            self.line(f"{at}throttled: {detail['api']}")

    def _maybe_waiting(self, moment: float, names: Sequence[str]) -> None:
        ready: list[str] = []
        with self._lock:
            self._written.update(names)
            for arn, needed in list(self._waiting_for.items()):
                if needed <= self._written:
                    ready.append(arn)
                    del self._waiting_for[arn]
        for arn in ready:
            self.line(
                f"{self._at(moment)}waiting: every validation CNAME of {arn.split('/')[-1]} "
                f"is in place; ACM validates ~{self._settings.issue_delay:g} s later"
                f"{' if public DNS sees it' if self.misdelegated else ''}"
            )


# ---- checks ---------------------------------------------------------------------------------


@dataclass
class StepReport:
    name: str
    short: str = ""
    operation: StackOperation | None = None
    checks: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for passed, _ in self.checks)

    def check(self, passed: bool, text: str) -> bool:
        self.checks.append((passed, text))
        return passed


@dataclass
class LifecycleReport:
    steps: list[StepReport]
    zones: dict[str, str]
    arns: dict[str, str]  # "created" / "replacement"

    @property
    def ok(self) -> bool:
        return len(self.steps) >= 4 and all(step.ok for step in self.steps)

    @property
    def failures(self) -> list[str]:
        return [f"{s.name}: {text}" for s in self.steps for passed, text in s.checks if not passed]


def create_zones(aws: Emulator) -> dict[str, str]:
    """The public zones the certificate's names live in, and a private twin to be ignored."""
    return {
        "example.com": aws.create_zone("example.com"),
        "example.org": aws.create_zone("example.org"),
        "example.com (private)": aws.create_zone("example.com", private=True),
    }


def _check_operation(report: StepReport, operation: StackOperation, expected: str) -> bool:
    """The stack's status and the protocol; False when the lifecycle cannot go on."""
    report.operation = operation
    reached = report.check(
        operation.status == expected, f"stack status {operation.status} (expected {expected})"
    )
    report.check(
        not operation.problems,
        "every answer well-formed, exactly one per request"
        + (f": {'; '.join(operation.problems)}" if operation.problems else ""),
    )
    for step in operation.steps:
        if step.status != "SUCCESS":
            report.check(False, f"{step.describe()}")
    return reached


def _check_certificate(
    report: StepReport, aws: Emulator, zones: dict[str, str], arn: str, names: Sequence[str]
) -> None:
    certificate = aws.describe(arn) or {}
    report.check(
        certificate.get("Status") == "ISSUED",
        f"certificate {certificate.get('Status')} (expected ISSUED)",
    )
    listed = set(certificate.get("SubjectAlternativeNames", []))
    report.check(listed == set(names), f"certificate names: {', '.join(sorted(listed))}")
    records = aws.validation_records(arn)
    in_zone = {zone: aws.cname_records(zone_id) for zone, zone_id in zones.items()}
    for name in names:
        record = records.get(name)
        if record is None:
            report.check(False, f"ACM shows no validation record for {name}")
            continue
        record_name, value = record
        present = in_zone[ZONE_OF[name]].get(record_name.lower())
        report.check(
            present == value,
            f"{name}: {record_name} -> {value} in {ZONE_OF[name]}"
            + ("" if present == value else f" (found {present!r})"),
        )
    private = in_zone["example.com (private)"]
    report.check(
        not private, "private example.com zone untouched" + (f": {private}" if private else "")
    )


def run_lifecycle(
    aws: Emulator, cfn: LocalCloudFormation, zones: dict[str, str], progress: Progress | None = None
) -> LifecycleReport:
    """create -> tag update -> replacement -> delete, each step checked; stops after a step
    whose stack operation did not complete (the next steps would mean nothing)."""
    say: Callable[[str], None] = progress.line if progress else (lambda text: None)
    stack = cfn.stack("certificate-demo")
    report = LifecycleReport(steps=[], zones=zones, arns={})

    def begin(short: str, title: str) -> StepReport:
        title = numbered(short, title)
        if progress:
            progress.step(title)
        step = StepReport(title, short)
        report.steps.append(step)
        return step

    def verdicts(step: StepReport) -> None:
        for passed, text in step.checks:
            say(f"    {'ok  ' if passed else 'FAIL'}  {text}")

    def stop(step: StepReport) -> LifecycleReport:
        verdicts(step)
        say("    stopping: the next steps need this one to have completed")
        return report

    # 1. create
    step = begin("create", f"Create: {APEX}, {WILDCARD}, {OTHER_ZONE} (tags team=platform)")
    operation = stack.create({"Certificate": CREATE})
    if not _check_operation(step, operation, "CREATE_COMPLETE"):
        return stop(step)
    arn = operation.step("Certificate").physical_id
    report.arns["created"] = arn
    step.check(arn.startswith("arn:aws:acm:"), f"PhysicalResourceId is the certificate ARN ({arn})")
    step.check(operation.step("Certificate").data.get("Arn") == arn, "Data.Arn is the ARN")
    _check_certificate(step, aws, zones, arn, [APEX, WILDCARD, OTHER_ZONE])
    step.check(aws.tags(arn).get("team") == "platform", "tag team=platform")
    verdicts(step)

    # 2. tag update, in place
    step = begin(
        "update tags (in place)", "Update: tags team=web, env=demo (in place: same certificate)"
    )
    operation = stack.update({"Certificate": TAGS_UPDATE})
    if not _check_operation(step, operation, "UPDATE_COMPLETE"):
        return stop(step)
    step.check(operation.step("Certificate").physical_id == arn, "ARN kept (no replacement)")
    step.check(not operation.steps_for("Certificate", "cleanup"), "no clean-up Delete")
    tags = aws.tags(arn)
    step.check(
        tags.get("team") == "web" and tags.get("env") == "demo",
        f"tags now team={tags.get('team')}, env={tags.get('env')}",
    )
    step.check(aws.certificate_arns() == [arn], "still exactly one certificate in ACM")
    verdicts(step)

    # 3. replacement
    step = begin(
        "update names (replacement)", f"Update: add {ADDED} (replacement: a new certificate)"
    )
    operation = stack.update({"Certificate": REPLACEMENT})
    if not _check_operation(step, operation, "UPDATE_COMPLETE"):
        return stop(step)
    new_arn = operation.step("Certificate", "update").physical_id
    report.arns["replacement"] = new_arn
    step.check(new_arn.startswith("arn:aws:acm:") and new_arn != arn, f"new ARN {new_arn}")
    cleanup = operation.steps_for("Certificate", "cleanup")
    step.check(
        len(cleanup) == 1 and cleanup[0].physical_id_sent == arn and cleanup[0].status == "SUCCESS",
        "clean-up Delete of the old ARN answered SUCCESS",
    )
    step.check(aws.describe(arn) is None, "old certificate deleted")
    _check_certificate(step, aws, zones, new_arn, [APEX, WILDCARD, OTHER_ZONE, ADDED])
    step.check(aws.certificate_arns() == [new_arn], "exactly one certificate in ACM: the new one")
    verdicts(step)

    # 4. delete
    step = begin("delete", "Delete the stack")
    operation = stack.delete()
    _check_operation(step, operation, "DELETE_COMPLETE")
    step.check(aws.describe(new_arn) is None, "certificate deleted")
    step.check(aws.certificate_arns() == [], "no certificate left in ACM")
    verdicts(step)
    kept = sum(len(aws.cname_records(zones[zone])) for zone in ("example.com", "example.org"))
    say(
        f"    note  {kept} validation CNAMEs stay in Route 53 "
        "(any certificate for these names uses them)"
    )
    return report


def run_stuck_validation(
    aws: Emulator,
    cfn: LocalCloudFormation,
    dns_server: DnsServer,
    progress: Progress | None = None,
) -> StepReport:
    """A certificate whose zone public DNS never asks: the registrar delegates example.net to
    other name servers. The handler's diagnosis (pointed at `dns_server`, which plays public
    DNS) finds it, and the FAILED reason says what to do."""
    say: Callable[[str], None] = progress.line if progress else (lambda text: None)
    zone_id = aws.create_zone(STUCK_ZONE)
    aws.rules.misdelegate(STUCK_ZONE)  # ACM never sees the record...
    dns_server.set(STUCK_ZONE, "NS", REGISTRAR_NS)  # ...because public DNS asks these
    short = "stuck validation"
    title = numbered(
        short,
        f"Stuck validation: {STUCK_NAME}, whose zone {STUCK_ZONE} ({zone_id}) the "
        f"registrar delegates to {', '.join(ns.rstrip('.') for ns in REGISTRAR_NS)} "
        f"(ServiceTimeout {STUCK_SERVICE_TIMEOUT} s)",
    )
    if progress:
        progress.step(title)
        progress.misdelegated = True
    step = StepReport(title, short)
    operation = cfn.stack("stuck-demo").create(
        {"Certificate": {"DomainName": STUCK_NAME, "ServiceTimeout": STUCK_SERVICE_TIMEOUT}}
    )
    step.operation = operation
    step.check(
        operation.status == "ROLLBACK_COMPLETE",
        f"stack status {operation.status} (expected ROLLBACK_COMPLETE)",
    )
    step.check(not operation.problems, "every answer well-formed, exactly one per request")
    created = operation.steps_for("Certificate", "create")
    reason = created[0].reason if created else ""
    expected = (
        f"{STUCK_NAME}: {STUCK_ZONE} is delegated to ns1.registrar-dns.net, "
        f"ns2.registrar-dns.net, not to hosted zone {zone_id}'s"
    )
    step.check(
        bool(created) and created[0].status == "FAILED" and reason.startswith(expected),
        "the FAILED reason names the misdelegation and the fix",
    )
    step.check(aws.certificate_arns() == [], "the rollback Delete removed the certificate")
    for passed, text in step.checks:
        say(f"    {'ok  ' if passed else 'FAIL'}  {text}")
    return step


#: The clean-up: two certificates share example.com's CNAME (an apex and its wildcard use one).
CLEANUP_FIRST = {
    "DomainName": APEX,
    "SubjectAlternativeNames": [WILDCARD, OTHER_ZONE],
    "CleanupValidationRecords": "true",
}
CLEANUP_SECOND = {
    "DomainName": APEX,
    "SubjectAlternativeNames": [ADDED],
    "CleanupValidationRecords": "true",
}


def run_cleanup(
    aws: Emulator, cfn: LocalCloudFormation, zones: dict[str, str], progress: Progress | None = None
) -> StepReport:
    """CleanupValidationRecords: two stacks whose certificates share example.com's record.
    Deleting the first removes only what the second does not need; deleting the second removes
    the rest, and the zones are left as they were before either certificate."""
    say: Callable[[str], None] = progress.line if progress else (lambda text: None)
    short = "record clean-up"
    title = numbered(
        short,
        f"Record clean-up: A = {APEX}, {WILDCARD}, {OTHER_ZONE} and B = {APEX}, {ADDED}, "
        "both CleanupValidationRecords true; delete A, then B",
    )
    if progress:
        progress.step(title)
    step = StepReport(title, short)
    com, org = zones["example.com"], zones["example.org"]
    for zone_id in (com, org):  # what the earlier steps left (records are kept by default)
        for name, value in aws.cname_records(zone_id).items():
            aws.delete_cname(zone_id, name, value)
    say("    (the validation CNAMEs earlier steps kept were removed by hand first)")
    first, second = cfn.stack("cleanup-a"), cfn.stack("cleanup-b")
    created = first.create({"Certificate": CLEANUP_FIRST})
    step.operation = created
    step.check(created.status == "CREATE_COMPLETE", f"stack A {created.status}")
    created = second.create({"Certificate": CLEANUP_SECOND})
    step.check(created.status == "CREATE_COMPLETE", f"stack B {created.status}")
    apex, added = validation_record(APEX), validation_record(ADDED)

    deleted = first.delete()
    step.check(deleted.status == "DELETE_COMPLETE" and not deleted.problems, "stack A deleted")
    step.check(
        aws.cname_records(com) == dict([apex]),
        f"A deleted: {APEX}'s CNAME kept (B needs it)",
    )
    step.check(
        aws.cname_records(org) == dict([added]),
        f"A deleted: {OTHER_ZONE}'s CNAME removed, {ADDED}'s (B's) kept",
    )
    deleted = second.delete()
    step.check(deleted.status == "DELETE_COMPLETE" and not deleted.problems, "stack B deleted")
    step.check(
        aws.cname_records(com) == {} and aws.cname_records(org) == {},
        "B deleted: no validation CNAME left in either zone",
    )
    step.check(aws.certificate_arns() == [], "no certificate left in ACM")
    for passed, text in step.checks:
        say(f"    {'ok  ' if passed else 'FAIL'}  {text}")
    return step


def run_guard(
    aws: Emulator, cfn: LocalCloudFormation, zones: dict[str, str], progress: Progress | None = None
) -> StepReport:
    """The renewal guard: a validation CNAME deleted by hand (ACM's renewal would fail months
    later) is back once ACM's `Renewal Action Required` event reaches the function."""
    say: Callable[[str], None] = progress.line if progress else (lambda text: None)
    short = "renewal guard"
    title = numbered(
        short,
        f"Renewal guard: {APEX}, {OTHER_ZONE}; {OTHER_ZONE}'s CNAME deleted by hand, then "
        "ACM's Renewal Action Required event",
    )
    if progress:
        progress.step(title)
    step = StepReport(title, short)
    stack = cfn.stack("guarded")
    created = stack.create(
        {"Certificate": {"DomainName": APEX, "SubjectAlternativeNames": [OTHER_ZONE]}}
    )
    step.operation = created
    step.check(created.status == "CREATE_COMPLETE", f"stack {created.status}")
    if created.status == "CREATE_COMPLETE":
        arn = stack.physical_id("Certificate")
        org = zones["example.org"]
        name, value = validation_record(OTHER_ZONE)
        aws.delete_cname(org, name, value)
        say(f"    (deleted by hand: {name} from example.org; ACM's renewal would fail)")
        step.check(name not in aws.cname_records(org), f"{OTHER_ZONE}'s CNAME is gone")
        say("    EventBridge delivers ACM Certificate Renewal Action Required")
        cfn.deliver_event(acm_event(arn))
        step.check(
            aws.cname_records(org).get(name) == value,
            f"{OTHER_ZONE}'s CNAME is back in example.org",
        )
        step.check(
            aws.cname_records(zones["example.com"]).get(validation_record(APEX)[0])
            == validation_record(APEX)[1],
            f"{APEX}'s CNAME untouched",
        )
        deleted = stack.delete()
        step.check(deleted.status == "DELETE_COMPLETE", f"stack {deleted.status}")
    for passed, text in step.checks:
        say(f"    {'ok  ' if passed else 'FAIL'}  {text}")
    return step


def diagnoser_for(dns_server: DnsServer) -> Any:
    """The handler's diagnosis, asking `dns_server` as DNS_RESOLVERS would make it."""
    load_app()  # handler/ on the path, as the Lambda runtime has it
    from dns_certificate.diagnoser import Diagnoser
    from dns_certificate.dnsprobe import DnsSettings, parse_resolvers

    return Diagnoser(DnsSettings(resolvers=parse_resolvers(dns_server.address)))


# ---- handler logs ---------------------------------------------------------------------------


@contextmanager
def handler_logs_to(path: Path | None) -> Iterator[None]:
    """Send every line the handler writes to `path` instead of stdout: its JSON logs
    (Powertools, crhelper) and its metrics (Powertools prints one EMF line per invocation to
    `sys.stdout`, which is swapped for the file meanwhile: whoever must still reach the
    terminal writes to a stream taken before, as `main` does)."""
    app = load_app()
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    targets = [logging.getLogger(app.logger.name), logging.getLogger("crhelper")]
    with path.open("w", encoding="utf-8") as stream, redirect_stdout(stream):
        saved: list[tuple[logging.StreamHandler[Any], Any]] = []
        for target in targets:
            for handler in target.handlers:
                if isinstance(handler, logging.StreamHandler) and handler not in [
                    h for h, _ in saved
                ]:
                    saved.append((handler, handler.setStream(stream)))
        try:
            yield
        finally:
            for handler, previous in saved:
                handler.setStream(previous)


# ---- main -----------------------------------------------------------------------------------


def _summary(report: LifecycleReport, out: TextIO) -> None:
    print(file=out)
    print(f"{'step':<28} {'result':<6} {'time':>7}  invocations", file=out)
    for step in report.steps:
        operation = step.operation
        seconds = operation.seconds if operation else 0.0
        invocations = ""
        if operation:
            parts = []
            for result in operation.steps:
                continuations = result.hops
                text = f"{result.purpose} {len(result.invocations)}"
                if continuations:
                    text += f" ({continuations} continuation{'s' if continuations > 1 else ''})"
                parts.append(text)
            invocations = ", ".join(parts)
        verdict = "ok" if step.ok else "FAIL"
        print(f"{step.short:<28} {verdict:<6} {seconds:6.1f}s  {invocations}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--issue-delay",
        type=float,
        default=3.0,
        help="seconds from the last validation record to ISSUED (default 3)",
    )
    parser.add_argument(
        "--records-delay",
        type=float,
        default=1.0,
        help="seconds before ACM shows the validation records (default 1)",
    )
    parser.add_argument(
        "--function-timeout",
        type=float,
        default=32.0,
        help="the function's timeout (s); the handler hands off with < 30 s left (default 32)",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        default=DEFAULT_LOG_FILE,
        help=f"the handler's JSON logs and EMF metric lines (default {DEFAULT_LOG_FILE})",
    )
    parser.add_argument(
        "--logs-to-stdout",
        action="store_true",
        help="print the handler's JSON logs and metric lines among the demo's own",
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    settings = StrictSettings(issue_delay=args.issue_delay, records_delay=args.records_delay)
    log_file: Path | None = None if args.logs_to_stdout else args.log_file
    started = time.monotonic()

    print(
        "Local demo: a DNS-validated ACM certificate through create, update and delete.", file=out
    )
    print("No AWS account is used: moto's server plays ACM and Route 53, made strict:", file=out)
    print(
        f"  a certificate is ISSUED only when every validation CNAME is in a public zone with the "
        f"exact value ({settings.issue_delay:g} s after the last one),",
        file=out,
    )
    print(
        "  Route 53 refuses bad change batches, ACM refuses to delete certificates in use.",
        file=out,
    )
    print(
        f"The function's timeout is {args.function_timeout:g} s: waits longer than "
        f"{max(0.0, args.function_timeout - 30):g} s continue in a new invocation.",
        file=out,
    )
    if log_file is not None:
        print(f"Handler logs and metrics (JSON lines): {log_file}", file=out)

    with (
        handler_logs_to(log_file),
        Emulator(settings=settings) as aws,
        DnsServer() as dns_server,
        LocalCloudFormation(
            function_timeout=args.function_timeout,
            diagnoser=diagnoser_for(dns_server),
        ) as cfn,
    ):
        progress = Progress(out, aws, settings)
        aws.rules.subscribe(progress.on_aws)
        cfn.subscribe(progress.on_driver)
        zones = create_zones(aws)
        print(f"AWS emulator on {aws.endpoint_url}; hosted zones:", file=out)
        for name, zone_id in zones.items():
            print(f"  {name:<22} {zone_id}", file=out)
        print(f"Public DNS played by a local DNS server on {dns_server.address}", file=out)
        report = run_lifecycle(aws, cfn, zones, progress)
        if report.ok:
            report.steps.append(run_stuck_validation(aws, cfn, dns_server, progress))
            report.steps.append(run_cleanup(aws, cfn, zones, progress))
            report.steps.append(run_guard(aws, cfn, zones, progress))

    _summary(report, out)
    elapsed = time.monotonic() - started
    if report.ok:
        print(f"\nAll {len(report.steps)} steps passed in {elapsed:.1f} s.", file=out)
        return 0
    print(f"\n{len(report.failures)} check(s) FAILED ({elapsed:.1f} s):", file=out)
    for failure in report.failures:
        print(f"  - {failure}", file=out)
    if log_file is not None:
        print(f"See the handler's logs in {log_file}.", file=out)
    return 1


if __name__ == "__main__":
    sys.exit(main())
