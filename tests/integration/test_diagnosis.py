"""Issue 11: "why is my certificate not issuing?", through the handler, against a real DNS server.

A DNS server on 127.0.0.1 (local/dns_server.py, a random port, UDP and TCP) plays public DNS in
each broken world; the handler's diagnosis is pointed at it as DNS_RESOLVERS would. ACM (moto)
is kept PENDING_VALIDATION, and the fake clock makes the 5 minutes and the deadline pass at once.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

import app
from dns_certificate.context import Runtime
from dns_certificate.diagnoser import Diagnoser
from dns_certificate.diagnosis import ALL_PASS
from dns_certificate.dnsprobe import DnsSettings, parse_resolvers
from dns_certificate.errors import MAX_REASON_LENGTH
from local.dns_server import DnsServer
from tests.integration.harness import REGION, Harness, acm_like_record, carried_state

#: Short, so the silent resolver's world takes a second (the default is 2 s), yet long enough
#: for the local server to answer on a loaded machine.
QUERY_TIMEOUT = 1.0
REGISTRAR_NS = ["ns1.registrar-dns.net.", "ns2.registrar-dns.net."]


@pytest.fixture
def diagnosing(runtime: Runtime, dns_server: DnsServer) -> Iterator[DnsServer]:
    """The handler's runtime, its diagnosis asking the local DNS server."""
    settings = DnsSettings(
        resolvers=parse_resolvers(dns_server.address), query_timeout=QUERY_TIMEOUT
    )
    app.use_runtime(replace(runtime, diagnoser=Diagnoser(settings)))
    yield dns_server


def name_servers(zone_id: str) -> list[str]:
    zone = boto3.client("route53", region_name=REGION).get_hosted_zone(Id=zone_id)
    return [f"{ns}." for ns in zone["DelegationSet"]["NameServers"]]


def healthy_world(dns_server: DnsServer, harness: Harness, names: list[str]) -> None:
    """Public DNS as it should be: the zones delegated to Route 53, ACM's CNAMEs resolvable."""
    for zone_name, zone_id in harness.zones.items():
        dns_server.set(zone_name, "NS", name_servers(zone_id))
    for name in names:
        record = acm_like_record(name)
        dns_server.set(record["Name"], "CNAME", [record["Value"]])


def stuck(harness: Harness, names: list[str], timeout: str = "600") -> dict[str, Any]:
    harness.faults.pending_describes = 10**6
    properties = {"DomainName": names[0], "SubjectAlternativeNames": names[1:]}
    return harness.event("create.json", properties={**properties, "ServiceTimeout": timeout})


def diagnoses(log: io.StringIO, moment: str | None = None) -> list[dict[str, Any]]:
    lines = [json.loads(text) for text in log.getvalue().splitlines() if '"diagnosis"' in text]
    return [line for line in lines if moment is None or line["moment"] == moment]


NAMES = ["example.com", "www.example.org"]


def test_misdelegated_zone_is_named_in_the_log_and_the_failed_reason(
    harness: Harness, diagnosing: DnsServer, log_output: io.StringIO
) -> None:
    healthy_world(diagnosing, harness, NAMES)
    diagnosing.set("example.com", "NS", REGISTRAR_NS)
    ours = ", ".join(ns.rstrip(".") for ns in sorted(name_servers(harness.zones["example.com"])))

    answer = harness.run(stuck(harness, NAMES))

    expected = (
        "example.com is delegated to ns1.registrar-dns.net, ns2.registrar-dns.net, not to "
        f"hosted zone {harness.zones['example.com']}'s {ours}: update the name servers at the "
        "registrar"
    )
    first = sorted(name_servers(harness.zones["example.com"]))[0].rstrip(".")
    assert answer.status == "FAILED"
    assert answer.reason.startswith(
        "example.com: example.com is delegated to ns1.registrar-dns.net, ns2.registrar-dns.net, "
        f"not to hosted zone {harness.zones['example.com']}'s {first}, …: update the name "
        "servers at the registrar (+1 more pending name: see the log)"
    )
    assert "(+1 more pending name: see the log)" in answer.reason
    assert len(answer.reason) <= MAX_REASON_LENGTH
    at_deadline = {
        d["diagnosis"]["domain_name"]: d for d in diagnoses(log_output, "at the deadline")
    }
    assert at_deadline["example.com"]["diagnosis"]["finding"] == expected
    assert at_deadline["example.com"]["level"] == "WARNING"
    assert at_deadline["www.example.org"]["diagnosis"]["finding"] == ALL_PASS


def test_stuck_validation_logs_one_warning_per_name_after_5_minutes_with_every_check(
    harness: Harness, diagnosing: DnsServer, log_output: io.StringIO
) -> None:
    """Once, though the wait spans two invocations (the moment is carried in the state)."""
    healthy_world(diagnosing, harness, NAMES)
    diagnosing.set("example.com", "NS", REGISTRAR_NS)
    event = stuck(harness, NAMES, timeout="1500")

    answer = harness.run(event)

    assert answer.status == "FAILED"
    assert len(harness.self_invokes) >= 1  # the wait went on in another invocation
    early = diagnoses(log_output, "after 5 minutes")
    assert sorted(d["diagnosis"]["domain_name"] for d in early) == NAMES
    for line in early:
        assert line["level"] == "WARNING"
        assert set(line["diagnosis"]["checks"]) == {"record", "delegation", "cname", "caa"}
    # The last hand-off's state (the first one was superseded by the later hand-offs).
    state = carried_state(harness.self_invokes.payloads[-1][1])
    assert state.diagnosed is True
    assert state.records_written_at is not None


@pytest.mark.parametrize(
    ("world", "names", "expected"),
    [
        pytest.param(
            {("example.com", "CAA"): ['0 issue "letsencrypt.org"']},
            NAMES,
            "example.com: CAA issue at example.com allows only letsencrypt.org, not Amazon",
            id="caa-another-ca",
        ),
        pytest.param(
            {("example.com", "CAA"): ['0 issue "amazon.com"', '0 issuewild ";"']},
            ["*.example.com", "example.com"],
            "*.example.com: CAA issuewild at example.com allows only no CA, not Amazon",
            id="caa-issuewild-forbids-wildcard",
        ),
        pytest.param(
            {(acm_like_record("example.com")["Name"], "CNAME"): ["_other.acm-validations.aws."]},
            NAMES,
            f"example.com: {acm_like_record('example.com')['Name'].rstrip('.')} resolves "
            "publicly to _other.acm-validations.aws, not ACM's",
            id="cname-another-value",
        ),
        pytest.param(
            {(acm_like_record("example.com")["Name"], "CNAME"): []},
            NAMES,
            f"example.com: {acm_like_record('example.com')['Name'].rstrip('.')} does not exist "
            "in public DNS",
            id="no-cname",
        ),
    ],
)
def test_broken_world_gives_its_finding_in_the_log_and_the_failed_reason(
    harness: Harness,
    diagnosing: DnsServer,
    log_output: io.StringIO,
    world: dict[tuple[str, str], list[str]],
    names: list[str],
    expected: str,
) -> None:
    healthy_world(diagnosing, harness, names)
    for (name, rdtype), values in world.items():
        diagnosing.set(name, rdtype, values)

    answer = harness.run(stuck(harness, names))

    assert answer.status == "FAILED"
    assert answer.reason.startswith(expected)
    logged = diagnoses(log_output, "at the deadline")[0]["diagnosis"]
    assert f"{logged['domain_name']}: {logged['finding']}".startswith(expected)


def test_silent_resolver_skips_the_public_checks_and_says_so(
    harness: Harness, diagnosing: DnsServer, log_output: io.StringIO
) -> None:
    diagnosing.silent = True

    answer = harness.run(stuck(harness, NAMES))

    assert answer.status == "FAILED"
    assert answer.reason.startswith(
        f"example.com: public DNS did not answer (no answer from {diagnosing.address} within "
        f"{QUERY_TIMEOUT:g} s); delegation, cname, caa checks skipped"
    )
    checks = diagnoses(log_output, "at the deadline")[0]["diagnosis"]["checks"]
    assert checks["record"]["outcome"] == "pass"
    assert checks["delegation"]["outcome"] == "skipped"


def test_healthy_world_stuck_finds_nothing_wrong(
    harness: Harness, diagnosing: DnsServer, log_output: io.StringIO
) -> None:
    healthy_world(diagnosing, harness, NAMES)

    answer = harness.run(stuck(harness, NAMES))

    assert answer.reason.startswith(f"example.com: {ALL_PASS} (+1 more pending name")
    assert {d["diagnosis"]["failed_check"] for d in diagnoses(log_output)} == {None}


def test_healthy_world_issued_in_time_diagnoses_nothing(
    harness: Harness, diagnosing: DnsServer, log_output: io.StringIO
) -> None:
    healthy_world(diagnosing, harness, NAMES)

    answer = harness.run(harness.event("create.json", properties={"DomainName": "example.com"}))

    assert answer.status == "SUCCESS"
    assert diagnoses(log_output) == []
    assert diagnosing.queries == []


def test_record_changed_in_the_zone_after_writing_is_found_by_read_back(
    harness: Harness, diagnosing: DnsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy_world(diagnosing, harness, NAMES)
    record = acm_like_record("example.com")
    route53 = boto3.client("route53", region_name=REGION)
    record_calls = harness.calls.add

    def someone_edits_the_record(call: Any) -> None:
        """Right before the diagnosis reads the zone back: the record was changed by hand."""
        record_calls(call)
        if call.operation == "GetHostedZone":
            route53.change_resource_record_sets(
                HostedZoneId=harness.zones["example.com"],
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {
                                "Name": record["Name"],
                                "Type": "CNAME",
                                "TTL": 300,
                                "ResourceRecords": [{"Value": "_typo.acm-validations.aws."}],
                            },
                        }
                    ]
                },
            )

    monkeypatch.setattr(harness.calls, "add", someone_edits_the_record)

    answer = harness.run(stuck(harness, NAMES))

    assert answer.reason.startswith(
        f"example.com: the validation CNAME {record['Name'].rstrip('.')} in hosted zone "
        f"{harness.zones['example.com']} has value _typo.acm-validations.aws, not ACM's"
    )


@pytest.mark.parametrize(
    ("failure", "prefix"),
    [
        (("VALIDATION_TIMED_OUT", None), "VALIDATION_TIMED_OUT: example.com: example.com is "),
        (("FAILED", "CAA_ERROR"), "FAILED (CAA_ERROR): example.com: example.com is delegated"),
    ],
)
def test_acm_giving_up_gets_the_diagnosis_in_its_reason(
    harness: Harness,
    diagnosing: DnsServer,
    failure: tuple[str, str | None],
    prefix: str,
) -> None:
    healthy_world(diagnosing, harness, NAMES)
    diagnosing.set("example.com", "NS", REGISTRAR_NS)
    harness.faults.failure = failure  # type: ignore[assignment]
    harness.faults.failure_after_describes = 3
    harness.faults.pending_describes = 10**6

    answer = harness.run(harness.event("create.json", properties={"DomainName": "example.com"}))

    assert answer.status == "FAILED"
    assert answer.reason.startswith(prefix)


def test_caa_error_after_every_name_validated_is_still_diagnosed(
    harness: Harness, diagnosing: DnsServer
) -> None:
    # ACM checks CAA when it issues: every name can show SUCCESS and the certificate fail.
    healthy_world(diagnosing, harness, NAMES)
    diagnosing.set("example.com", "CAA", ['0 issue "letsencrypt.org"'])
    harness.faults.failure = ("FAILED", "CAA_ERROR")
    harness.faults.pending_describes = 2  # records written while pending, then all SUCCESS
    harness.faults.failure_after_describes = 2

    answer = harness.run(harness.event("create.json", properties={"DomainName": "example.com"}))

    assert answer.status == "FAILED"
    assert answer.reason.startswith(
        "FAILED (CAA_ERROR): example.com: CAA issue at example.com allows only letsencrypt.org"
    )


def test_other_failure_reasons_are_not_diagnosed(harness: Harness, diagnosing: DnsServer) -> None:
    harness.faults.failure = ("FAILED", "DOMAIN_NOT_ALLOWED")
    harness.faults.failure_after_describes = 3
    harness.faults.pending_describes = 10**6

    answer = harness.run(harness.event("create.json", properties={"DomainName": "example.com"}))

    assert answer.reason.endswith("is FAILED: DOMAIN_NOT_ALLOWED")
    assert diagnosing.queries == []


def test_diagnosis_that_breaks_still_answers_with_the_plain_reason(
    harness: Harness, runtime: Runtime, log_output: io.StringIO
) -> None:
    class Broken(Diagnoser):
        def _diagnose(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    app.use_runtime(replace(runtime, diagnoser=Broken(DnsSettings())))

    answer = harness.run(stuck(harness, NAMES))

    assert answer.status == "FAILED"
    assert "was still PENDING_VALIDATION at the deadline" in answer.reason
    assert "Could not diagnose" in log_output.getvalue()


@pytest.mark.parametrize("invocation_seconds", [329 + step / 2 for step in range(11)])
def test_5_minute_warning_due_at_a_hand_off_is_logged_once_after_it(
    harness: Harness, diagnosing: DnsServer, log_output: io.StringIO, invocation_seconds: float
) -> None:
    """Review 11: the 5 minutes ending in an invocation's last 30 s left the diagnosis no time:
    it was marked done without a word, and never logged."""
    healthy_world(diagnosing, harness, NAMES)
    event = stuck(harness, NAMES, timeout="1500")

    assert harness.invoke(event, harness.context(invocation_seconds)) is None
    for _ in range(3):
        payload = harness.self_invokes.payloads[-1][1]
        assert harness.invoke(payload, harness.context(60)) is None

    early = diagnoses(log_output, "after 5 minutes")
    assert sorted(d["diagnosis"]["domain_name"] for d in early) == NAMES


@pytest.mark.parametrize("service_timeout", [20, 40, 60])
def test_diagnosis_at_the_deadline_fits_before_cloudformation_gives_up(
    harness: Harness, runtime: Runtime, dns_server: DnsServer, service_timeout: int
) -> None:
    """Review 11: at the deadline the diagnosis got up to 10 s, though a short ServiceTimeout
    leaves only a quarter of itself (5 s for 20 s) between the deadline and CloudFormation's
    own: the diagnosed answer came after CloudFormation had given up."""
    budgets: list[tuple[str, float]] = []

    class Recording(Diagnoser):
        def run(self, *args: Any, moment: str, budget_seconds: float, **kwargs: Any) -> Any:
            budgets.append((moment, budget_seconds))
            return super().run(*args, moment=moment, budget_seconds=budget_seconds, **kwargs)

    settings = DnsSettings(resolvers=parse_resolvers(dns_server.address))
    app.use_runtime(replace(runtime, diagnoser=Recording(settings)))

    answer = harness.run(stuck(harness, NAMES, timeout=str(service_timeout)))

    assert answer.status == "FAILED"
    at_deadline = [seconds for moment, seconds in budgets if moment == "at the deadline"]
    assert at_deadline
    margin = min(30.0, service_timeout / 4)
    assert all(0 < seconds <= margin / 2 for seconds in at_deadline)
