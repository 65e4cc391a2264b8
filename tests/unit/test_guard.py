"""guard.py's decisions with fake ACM and Route 53: a throttled certificate does not stop the
sweep, the sweep stops before the invocation's end, each record goes to the longest recorded
zone that can hold it, and only certificates the provider's own records name are looked at
(issue 18: not tags, not stacks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dns_certificate.certificates import LOGICAL_ID_TAG, STACK_TAG, CertificateView
from dns_certificate.errors import RegistryError
from dns_certificate.guard import (
    SWEEP_RESERVE_SECONDS,
    THROTTLED_CERTIFICATE_SECONDS,
    RenewalGuard,
)
from dns_certificate.planning import ValidationRecord
from dns_certificate.registry import CertificateRecord, MemoryRegistry, Owner
from dns_certificate.zonetag import ZONES_TAG
from tests.support.clock import FakeClock

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/site/1"


def arn(n: int, account: str = "123456789012") -> str:
    return f"arn:aws:acm:us-east-1:{account}:certificate/{n:08d}-0000-0000-0000-000000000000"


def record(name: str) -> ValidationRecord:
    return ValidationRecord(name, f"_{abs(hash(name)) % 10**8}.{name}.", "CNAME", "_v.acm.aws.")


class FakeRoute53:
    def __init__(self, zones: dict[str, str]) -> None:
        self.zones = zones  # id -> name
        self.records: dict[tuple[str, str], str] = {}
        self.changes: list[tuple[str, list[str]]] = []

    def get_hosted_zone(self, Id: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"HostedZone": {"Name": self.zones[Id] + "."}, "DelegationSet": {}}

    def list_resource_record_sets(self, HostedZoneId: str, StartRecordName: str, **_: Any) -> Any:  # noqa: N803
        value = self.records.get((HostedZoneId, StartRecordName))
        if value is None:
            return {"ResourceRecordSets": []}
        rrset = {"Name": StartRecordName, "Type": "CNAME", "ResourceRecords": [{"Value": value}]}
        return {"ResourceRecordSets": [rrset]}

    def change_resource_record_sets(self, HostedZoneId: str, ChangeBatch: Any) -> Any:  # noqa: N803
        names = []
        for change in ChangeBatch["Changes"]:
            rrset = change["ResourceRecordSet"]
            self.records[(HostedZoneId, rrset["Name"])] = rrset["ResourceRecords"][0]["Value"]
            names.append(rrset["Name"])
        self.changes.append((HostedZoneId, names))
        return {"ChangeInfo": {"Id": "change"}}


class FakeCertificates:
    """ACM as the guard sees it; every certificate also carries this resource's ownership
    tags (anyone allowed to tag can copy them): only the provider's records make it guarded."""

    def __init__(self, registry: MemoryRegistry | None = None) -> None:
        self.registry = registry or MemoryRegistry()
        self.tag_sets: dict[str, dict[str, str]] = {}
        self.views: dict[str, CertificateView] = {}
        self.failures: dict[str, Exception] = {}
        self.described: list[str] = []

    def add(
        self,
        arn: str,
        zones: str,
        names: list[str],
        recorded: bool = True,
        logical_id: str = "Cert",
        failure: Exception | None = None,
    ) -> None:
        """A certificate; with `failure`, every DescribeCertificate of it raises that."""
        if failure is not None:
            self.failures[arn] = failure
        self.tag_sets[arn] = owned(zones, logical_id)
        if recorded:
            self.registry.record(
                CertificateRecord(
                    arn=arn,
                    owner=Owner(STACK, logical_id),
                    token=f"token{logical_id}",
                    region=arn.split(":")[3],
                    zones=zones,
                )
            )
        self.views[arn] = CertificateView(
            arn=arn,
            status="ISSUED",
            failure_reason=None,
            domain_name=names[0],
            records={name: record(name) for name in names},
        )

    def list_certificates(self, filters: Any) -> list[dict[str, Any]]:
        raise AssertionError("the guard lists the provider's records, not ACM's certificates")

    def tags_if_exists(self, arn: str) -> dict[str, str] | None:
        raise AssertionError("the guard reads the provider's records, not tags")

    def describe_if_exists(self, arn: str) -> CertificateView | None:
        self.described.append(arn)
        failure = self.failures.get(arn)
        if failure is not None:
            raise failure
        return self.views.get(arn)


class FakeClients:
    default_region = "us-east-1"

    def __init__(self, route53: FakeRoute53) -> None:
        self._route53 = route53

    def route53(self) -> FakeRoute53:
        return self._route53

    def cloudformation(self, region: str) -> Any:
        raise AssertionError("the guard trusts no stack resource (issue 18)")


def guard_with(
    monkeypatch: pytest.MonkeyPatch,
    certificates: FakeCertificates,
    route53: FakeRoute53,
    remaining: Callable[[], float] = lambda: 900.0,
    clock: FakeClock | None = None,
) -> RenewalGuard:
    guard = RenewalGuard(
        FakeClients(route53),  # type: ignore[arg-type]
        certificates.registry,
        remaining,
        clock=clock or FakeClock(),
    )
    monkeypatch.setattr(guard, "_service", lambda region: certificates)
    return guard


def owned(zones: str, logical_id: str = "Cert") -> dict[str, str]:
    return {STACK_TAG: STACK, LOGICAL_ID_TAG: logical_id, ZONES_TAG: zones}


def throttling() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
        "DescribeCertificate",
    )


def test_sweep_when_one_certificate_is_throttled_repairs_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", ["a.example.com"], failure=throttling())
    certificates.add(arn(2), "ZCOM", ["b.example.com"])

    report = guard_with(monkeypatch, certificates, route53).sweep()

    assert report.failed == [arn(1)]
    assert report.repaired == {arn(2): (record("b.example.com").name,)}
    assert route53.changes == [("ZCOM", [record("b.example.com").name])]


class ThrottledAtFirst(FakeCertificates):
    """DescribeCertificate throttled the first `times` calls for each certificate."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times
        self.calls: dict[str, int] = {}

    def describe_if_exists(self, arn: str) -> CertificateView | None:
        self.calls[arn] = self.calls.get(arn, 0) + 1
        if self.calls[arn] <= self.times:
            raise throttling()
        return super().describe_if_exists(arn)


def test_guard_when_throttled_for_a_while_waits_with_backoff_and_repairs_in_the_same_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = ThrottledAtFirst(times=3)
    certificates.add(arn(1), "ZCOM", ["a.example.com"])
    clock = FakeClock()

    report = guard_with(monkeypatch, certificates, route53, clock=clock).sweep()

    assert report.failed == [] and report.checked == [arn(1)]
    assert report.repaired == {arn(1): (record("a.example.com").name,)}
    assert len(clock.sleeps) == 3 and all(seconds > 0 for seconds in clock.sleeps)


def test_guard_when_throttled_beyond_its_budget_moves_on_and_the_next_run_checks_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = ThrottledAtFirst(times=10**6)
    certificates.add(arn(1), "ZCOM", ["a.example.com"])
    clock = FakeClock()
    started = clock.now()

    report = guard_with(monkeypatch, certificates, route53, clock=clock).sweep()

    assert report.failed == [arn(1)] and route53.changes == []
    assert (
        THROTTLED_CERTIFICATE_SECONDS <= clock.now() - started <= THROTTLED_CERTIFICATE_SECONDS + 1
    )


def test_sweep_when_the_invocation_is_nearly_over_stops_before_any_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", ["a.example.com"])

    guard = guard_with(monkeypatch, certificates, route53, lambda: SWEEP_RESERVE_SECONDS - 1)
    report = guard.sweep()

    assert report.checked == [] and route53.changes == []


def test_guard_puts_each_record_in_the_longest_recorded_zone_that_holds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route53 = FakeRoute53({"ZCOM": "example.com", "ZSUB": "sub.example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM ZSUB", ["example.com", "*.sub.example.com"])

    guard_with(monkeypatch, certificates, route53).certificates([arn(1)])

    assert sorted(route53.changes) == [
        ("ZCOM", [record("example.com").name]),
        ("ZSUB", [record("*.sub.example.com").name]),
    ]


def test_guard_when_a_record_is_intact_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    route53 = FakeRoute53({"ZCOM": "example.com"})
    route53.records[("ZCOM", record("a.example.com").name)] = record("a.example.com").value
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", ["a.example.com"])

    report = guard_with(monkeypatch, certificates, route53).certificates([arn(1)])

    assert report.checked == [arn(1)] and route53.changes == []


@pytest.mark.parametrize(
    "registry_says",
    ["nothing", "deleted", "another-region"],
    ids=["unrecorded-with-copied-tags", "recorded-then-deleted", "recorded-in-another-region"],
)
def test_guard_when_the_registry_does_not_name_the_certificate_never_describes_it(
    monkeypatch: pytest.MonkeyPatch, registry_says: str
) -> None:
    """Tags (copied here) and stacks prove nothing: only the provider's own record of a
    live certificate in the ARN's region makes the guard look at it (event and sweep)."""
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", ["a.example.com"], recorded=registry_says != "nothing")
    if registry_says == "deleted":
        certificates.registry.forget(arn(1))
    if registry_says == "another-region":
        known = certificates.registry.certificate(arn(1))
        assert known is not None
        certificates.registry.record(replace(known, region="eu-west-1"))

    guard = guard_with(monkeypatch, certificates, route53)
    report = guard.certificates([arn(1)])
    if registry_says != "another-region":  # the sweep checks a record where it says it is
        report_of_sweep = guard.sweep()
        assert report_of_sweep.checked == report_of_sweep.cannot_repair == []

    assert certificates.described == [] and route53.changes == []
    assert report.checked == report.cannot_repair == []


def test_sweep_when_the_registry_cannot_be_read_checks_nothing_and_does_not_raise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", ["a.example.com"])

    def unreadable() -> list[CertificateRecord]:
        raise RegistryError("Could not read the certificate records")

    monkeypatch.setattr(certificates.registry, "live", unreadable)

    report = guard_with(monkeypatch, certificates, route53).sweep()

    assert report.checked == [] and certificates.described == [] and route53.changes == []


# ---- review of issue 10: production races and limits ------------------------------------


def test_sweep_that_cannot_finish_in_one_invocation_reaches_every_certificate_over_sweeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each sweep has time for 4 of 12 certificates: over successive sweeps every one is
    checked (before, every sweep began with the same 4 and the other 8 were never checked)."""
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    for n in range(12):
        certificates.add(arn(n), "ZCOM", [f"n{n}.example.com"], logical_id=f"Cert{n}")
    ever_checked: set[str] = set()
    for _ in range(60):
        checked_before = len(certificates.described)

        def remaining(start: int = checked_before) -> float:
            return 900.0 if len(certificates.described) - start < 4 else 0.0

        report = guard_with(monkeypatch, certificates, route53, remaining).sweep()
        assert len(report.checked) <= 4
        ever_checked.update(report.checked)

    assert ever_checked == {arn(n) for n in range(12)}


def test_guard_when_the_certificate_is_deleted_while_its_records_are_read_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Delete with clean-up removes the certificate, then its CNAME, while the guard reads
    the record back: the guard must not write the record again for a certificate gone."""
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", ["a.example.com"])
    read_back = route53.list_resource_record_sets

    def delete_meanwhile(**arguments: Any) -> Any:
        certificates.views.pop(arn(1), None)  # DeleteCertificate, then the clean-up's DELETE
        return read_back(**arguments)

    monkeypatch.setattr(route53, "list_resource_record_sets", delete_meanwhile)

    report = guard_with(monkeypatch, certificates, route53).certificates([arn(1)])

    assert route53.changes == [] and report.repaired == {}


def test_guard_stops_reading_records_before_the_invocation_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One certificate with 60 names, each read-back costing 1 s of a 30 s invocation: no
    Route 53 call may start inside the reserve (before, the guard read on past the end and
    Lambda killed the sweep, then retried it twice from the start)."""
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", [f"n{n}.example.com" for n in range(60)])
    clock = {"left": 30.0}
    calls_at: list[float] = []
    read_back = route53.list_resource_record_sets

    def slow_read(**arguments: Any) -> Any:
        calls_at.append(clock["left"])
        clock["left"] -= 1.0
        return read_back(**arguments)

    def slow_write(**arguments: Any) -> Any:
        calls_at.append(clock["left"])
        return FakeRoute53.change_resource_record_sets(route53, **arguments)

    monkeypatch.setattr(route53, "list_resource_record_sets", slow_read)
    monkeypatch.setattr(route53, "change_resource_record_sets", slow_write)

    report = guard_with(monkeypatch, certificates, route53, lambda: clock["left"]).sweep()

    assert calls_at and min(calls_at) >= SWEEP_RESERVE_SECONDS / 2
    assert report.failed == [arn(1)]  # logged; the next sweep checks it again


@pytest.mark.parametrize(
    "recorded_for",
    [None, "Other"],
    ids=["recorded-for-nobody", "another-certificate-recorded-for-the-resource"],
)
def test_guard_when_tags_were_forged_in_the_account_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, recorded_for: str | None
) -> None:
    """Anyone allowed to request and tag certificates in the account can write our tags (a
    stack of this account, a zone of it): the guard must not validate their certificate by
    writing its CNAME. Only a certificate the provider's records name is guarded (before
    issue 18: the one the stack's resource held, which a native resource could hold too)."""
    route53 = FakeRoute53({"ZCOM": "example.com"})
    certificates = FakeCertificates()
    certificates.add(arn(1), "ZCOM", ["bank.example.com"], recorded=False)
    if recorded_for:
        certificates.add(arn(2), "ZCOM", ["www.example.com"], logical_id=recorded_for)

    guard = guard_with(monkeypatch, certificates, route53)
    report = guard.certificates([arn(1)])
    report_of_sweep = guard.sweep()

    assert [name for _zone, names in route53.changes for name in names] == (
        [record("www.example.com").name] if recorded_for else []
    )
    assert arn(1) not in certificates.described
    assert report.checked == []
    assert report_of_sweep.checked == ([arn(2)] if recorded_for else [])
