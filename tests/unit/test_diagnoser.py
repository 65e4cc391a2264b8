"""Gathering a diagnosis from Route 53 (a fake) without public DNS: the read-back's cost."""

from __future__ import annotations

import time
from typing import Any, cast

from botocore.exceptions import ClientError

from dns_certificate.diagnoser import Diagnoser
from dns_certificate.dns import HostedZoneService
from dns_certificate.dnsprobe import DnsSettings, parse_resolvers
from dns_certificate.planning import ValidationRecord
from local.dns_server import DnsServer

VALUE = "_v.acm-validations.aws."


class FakeRoute53:
    """GetHostedZone and ListResourceRecordSets, each taking `delay` seconds."""

    def __init__(self, delay: float = 0.0, error: str = "") -> None:
        self.delay = delay
        self.error = error
        self.calls: list[str] = []

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        time.sleep(self.delay)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, operation)

    def get_hosted_zone(self, Id: str) -> dict[str, Any]:  # noqa: N803
        self._call("GetHostedZone")
        return {
            "HostedZone": {"Id": Id, "Name": "example.com."},
            "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]},
        }

    def list_resource_record_sets(self, **arguments: Any) -> dict[str, Any]:
        self._call("ListResourceRecordSets")
        name = arguments["StartRecordName"]
        return {
            "ResourceRecordSets": [
                {"Name": name, "Type": "CNAME", "ResourceRecords": [{"Value": VALUE}]}
            ]
        }


def run(route53: FakeRoute53, count: int, budget: float = 10.0) -> list[Any]:
    names = [f"n{i}.example.com" for i in range(count)]
    records = {n: ValidationRecord(n, f"_r.{n}.", "CNAME", VALUE) for n in names}
    service = HostedZoneService(cast(Any, route53))
    diagnoser = Diagnoser(DnsSettings(problem="public DNS is not asked in this test"))
    return diagnoser.run(
        "arn:cert",
        names,
        records,
        lambda: {n: (service, "Z1") for n in names},
        moment="at the deadline",
        budget_seconds=budget,
    )


def test_hundred_names_in_one_zone_read_its_delegation_set_once() -> None:
    # Review 11: GetHostedZone was called once per name (100 calls for 100 names, against
    # Route 53's 5 requests per second).
    route53 = FakeRoute53()
    diagnoses = run(route53, 100)

    assert len(diagnoses) == 100
    assert route53.calls.count("GetHostedZone") == 1
    assert route53.calls.count("ListResourceRecordSets") == 100


def test_a_slow_route53_does_not_outlast_the_budget() -> None:
    # Review 11: the read-back was not bounded by the diagnosis' budget; 100 names at 50 ms a
    # call took 10 s of a 0.5 s budget, delaying the answer at the deadline.
    route53 = FakeRoute53(delay=0.05)
    started = time.monotonic()
    diagnoses = run(route53, 100, budget=0.5)
    elapsed = time.monotonic() - started

    assert elapsed < 2.5  # unbounded it takes 5 s; generous for a loaded machine
    assert len(diagnoses) == 100
    assert diagnoses[0].results[0].outcome == "pass"  # the first name is read first
    last = diagnoses[-1].results[0]
    assert last.outcome == "skipped"
    assert "budget" in last.detail


def test_access_denied_on_the_zone_is_asked_once_and_skips_route53_checks() -> None:
    route53 = FakeRoute53(error="AccessDenied")
    diagnoses = run(route53, 20)

    assert route53.calls == ["GetHostedZone"]
    assert all("AccessDenied" in d.results[0].detail for d in diagnoses)
    assert all(d.results[0].outcome == "skipped" for d in diagnoses)


def public_world(dns_server: DnsServer) -> Diagnoser:
    return Diagnoser(DnsSettings(resolvers=parse_resolvers(dns_server.address), query_timeout=0.3))


def test_zone_answered_servfail_while_its_parent_resolves_is_a_delegation_finding(
    dns_server: DnsServer,
) -> None:
    dns_server.set("com", "NS", ["a.gtld-servers.net."])
    dns_server.servfail.add("example.com")
    route53 = FakeRoute53()
    service = HostedZoneService(cast(Any, route53))
    record = ValidationRecord("example.com", "_r.example.com.", "CNAME", VALUE)

    [diagnosis] = public_world(dns_server).run(
        "arn:cert",
        ["example.com"],
        {"example.com": record},
        lambda: {"example.com": (service, "Z1")},
        moment="at the deadline",
        budget_seconds=5,
    )

    assert diagnosis.failed_check == "delegation"
    assert "SERVFAIL" in diagnosis.finding


def test_servfail_for_everything_is_a_broken_resolver_not_a_finding(
    dns_server: DnsServer,
) -> None:
    dns_server.servfail.update({"example.com", "com"})
    route53 = FakeRoute53()
    service = HostedZoneService(cast(Any, route53))
    record = ValidationRecord("example.com", "_r.example.com.", "CNAME", VALUE)

    [diagnosis] = public_world(dns_server).run(
        "arn:cert",
        ["example.com"],
        {"example.com": record},
        lambda: {"example.com": (service, "Z1")},
        moment="at the deadline",
        budget_seconds=5,
    )

    assert diagnosis.failed_check is None
    assert diagnosis.results[1].outcome == "skipped"


def test_cold_start_when_app_is_imported_leaves_dnspython_unimported() -> None:
    """dnspython (~120 ms) is for the diagnosis only: a cold start that never diagnoses
    must not pay for it."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    probe = "import sys, app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'dns'))"
    env = {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1", "PYTHONPATH": str(root / "handler")}
    output = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"


def test_diagnoser_when_first_asked_reads_dns_resolvers_then() -> None:
    environ = {"DNS_RESOLVERS": "resolver.internal"}
    diagnoser = Diagnoser.from_environment(environ)
    environ["DNS_RESOLVERS"] = "127.0.0.1:5300"  # read on first use, not when built
    assert [str(server) for server in diagnoser.dns.resolvers] == ["127.0.0.1:5300"]
    assert diagnoser.dns is diagnoser.dns
