"""Issue 10 item 5: CleanupValidationRecords through the local CloudFormation and the strict
emulator. The emulator gives every certificate of a name in the account the same CNAME (an apex
and its wildcard share one, in every region), refuses a DELETE of an absent record or of other
values, and hides EC and N2 certificates from ListCertificates unless asked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.driver import LocalCloudFormation
from local.emulator import AwsEvent, Emulator, validation_record

CLEANUP = {"CleanupValidationRecords": "true"}


def _certificate(name: str, *sans: str, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"DomainName": name, **extra}
    if sans:
        properties["SubjectAlternativeNames"] = list(sans)
    return properties


def _records(*names: str) -> dict[str, str]:
    return dict(validation_record(name) for name in names)


class Deletes:
    """The record names DELETEd from each zone, as the emulator reports its changes."""

    def __init__(self) -> None:
        self.by_zone: dict[str, list[str]] = {}

    def __call__(self, event: AwsEvent) -> None:
        if event.kind != "records_changed":
            return
        for change in event.detail["changes"]:
            if change["action"] == "DELETE":
                self.by_zone.setdefault(event.detail["zone_id"], []).append(change["name"])

    def of(self, zone_id: str) -> list[str]:
        return self.by_zone.get(zone_id, [])


@pytest.fixture
def deletes(emulator: Emulator) -> Iterator[Deletes]:
    recorder = Deletes()
    unsubscribe = emulator.rules.subscribe(recorder)
    yield recorder
    unsubscribe()


def test_cleanup_when_two_certificates_share_example_com_deletes_only_what_none_needs(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str], deletes: Deletes
) -> None:
    zone = hosted_zones["example.com"]
    first, second = cfn.stack("first"), cfn.stack("second")
    assert first.create({"Cert": _certificate("example.com", "*.example.com", **CLEANUP)}).succeeded
    assert second.create(
        {"Cert": _certificate("example.com", "www.example.com", **CLEANUP)}
    ).succeeded
    assert emulator.cname_records(zone) == _records("example.com", "www.example.com")

    deleted_first = first.delete()

    assert deleted_first.status == "DELETE_COMPLETE"
    assert deleted_first.problems == []
    # example.com (and *.example.com, the same record) is the second certificate's too.
    assert emulator.cname_records(zone) == _records("example.com", "www.example.com")
    assert deletes.of(zone) == []

    deleted_second = second.delete()

    assert deleted_second.status == "DELETE_COMPLETE"
    assert deleted_second.problems == []
    assert emulator.cname_records(zone) == {}
    assert sorted(deletes.of(zone)) == sorted(_records("example.com", "www.example.com"))
    assert emulator.certificate_arns() == []


@pytest.mark.parametrize(
    "hidden",
    [
        {"KeyAlgorithm": "EC_prime256v1"},
        {"RootHierarchyType": "N2_AMAZON_MANAGED"},
        {"RootHierarchyType": "N2_SFG2_AMAZON_MANAGED", "KeyAlgorithm": "EC_secp384r1"},
    ],
    ids=["ec-p256", "n2", "n2-sfg2-ec-p384"],
)
def test_cleanup_when_a_certificate_listcertificates_hides_shares_the_name_keeps_the_record(
    emulator: Emulator,
    cfn: LocalCloudFormation,
    hosted_zones: dict[str, str],
    hidden: dict[str, str],
) -> None:
    zone = hosted_zones["example.com"]
    rsa, other = cfn.stack("rsa"), cfn.stack("hidden")
    assert rsa.create({"Cert": _certificate("example.com", **CLEANUP)}).succeeded
    assert other.create({"Cert": _certificate("example.com", **hidden)}).succeeded
    # ListCertificates without filters does not show it.
    listed = emulator.acm().list_certificates()["CertificateSummaryList"]
    assert [s["CertificateArn"] for s in listed] == [rsa.physical_id("Cert")]

    deleted = rsa.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.problems == []
    assert emulator.cname_records(zone) == _records("example.com")
    assert emulator.certificate_arns() == [other.physical_id("Cert")]


def test_cleanup_when_a_us_east_1_certificate_shares_an_eu_west_1_ones_record_keeps_it(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """The certificate deleted is in eu-west-1; the one sharing its record is in us-east-1 (the
    function's region and the default CLEANUP_CHECK_REGIONS)."""
    zone = hosted_zones["example.com"]
    europe, virginia = cfn.stack("europe"), cfn.stack("virginia")
    assert europe.create(
        {"Cert": _certificate("example.com", Region="eu-west-1", **CLEANUP)}
    ).succeeded
    assert virginia.create({"Cert": _certificate("example.com", Region="us-east-1")}).succeeded

    deleted = europe.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.problems == []
    assert emulator.cname_records(zone) == _records("example.com")
    assert emulator.certificate_arns("eu-west-1") == []


def test_cleanup_when_an_eu_west_1_certificate_in_check_regions_shares_the_record_keeps_it(
    emulator: Emulator,
    cfn: LocalCloudFormation,
    hosted_zones: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLEANUP_CHECK_REGIONS", "us-east-1,eu-west-1")
    zone = hosted_zones["example.com"]
    virginia, europe = cfn.stack("virginia"), cfn.stack("europe")
    assert virginia.create({"Cert": _certificate("example.com", **CLEANUP)}).succeeded
    assert europe.create({"Cert": _certificate("example.com", Region="eu-west-1")}).succeeded

    deleted = virginia.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert emulator.cname_records(zone) == _records("example.com")


def test_cleanup_when_the_sharing_region_is_neither_listed_nor_recorded_deletes_the_record(
    emulator: Emulator,
    cfn: LocalCloudFormation,
    hosted_zones: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What CLEANUP_CHECK_REGIONS is for: a region it leaves out, where the provider made no
    certificate (so its records do not name it either), is not searched. The sharing
    certificate here was requested outside the provider."""
    monkeypatch.setenv("CLEANUP_CHECK_REGIONS", "us-east-1")
    zone = hosted_zones["example.com"]
    virginia = cfn.stack("virginia")
    assert virginia.create({"Cert": _certificate("example.com", **CLEANUP)}).succeeded
    emulator.acm("eu-west-1").request_certificate(DomainName="example.com", ValidationMethod="DNS")

    assert virginia.delete().status == "DELETE_COMPLETE"

    assert emulator.cname_records(zone) == {}


def test_cleanup_when_the_provider_made_the_sharing_certificate_in_an_unlisted_region_keeps_it(
    emulator: Emulator,
    cfn: LocalCloudFormation,
    hosted_zones: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 18: every region the provider's records name is searched, listed or not (before,
    this record was deleted and the European certificate's renewal would have failed)."""
    monkeypatch.setenv("CLEANUP_CHECK_REGIONS", "us-east-1")
    zone = hosted_zones["example.com"]
    virginia, europe = cfn.stack("virginia"), cfn.stack("europe")
    assert virginia.create({"Cert": _certificate("example.com", **CLEANUP)}).succeeded
    assert europe.create({"Cert": _certificate("example.com", Region="eu-west-1")}).succeeded

    assert virginia.delete().status == "DELETE_COMPLETE"

    assert emulator.cname_records(zone) == _records("example.com")


def test_cleanup_by_default_deletes_nothing(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str], deletes: Deletes
) -> None:
    stack = cfn.stack("default")
    assert stack.create({"Cert": _certificate("example.com", "www.example.org")}).succeeded
    # The create's issuance wait lists pending certificates (the status board); the delete
    # lists nothing.
    lists_before = emulator.rules.calls["acm:ListCertificates"]

    deleted = stack.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")
    assert emulator.cname_records(hosted_zones["example.org"]) == _records("www.example.org")
    assert deletes.of(hosted_zones["example.com"]) == []
    assert emulator.rules.calls["acm:ListCertificates"] == lists_before


def test_cleanup_when_a_record_is_already_gone_is_not_an_error(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = cfn.stack("gone")
    properties = _certificate("example.com", "www.example.org", **CLEANUP)
    assert stack.create({"Cert": properties}).succeeded
    name, value = validation_record("example.com")
    emulator.delete_cname(hosted_zones["example.com"], name, value)

    deleted = stack.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.problems == []
    assert emulator.cname_records(hosted_zones["example.com"]) == {}
    assert emulator.cname_records(hosted_zones["example.org"]) == {}


def test_cleanup_when_a_record_was_changed_by_hand_leaves_it_alone(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = cfn.stack("changed")
    assert stack.create({"Cert": _certificate("example.com", **CLEANUP)}).succeeded
    name, _ = validation_record("example.com")
    emulator.route53().change_resource_record_sets(
        HostedZoneId=hosted_zones["example.com"],
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "elsewhere.example.net."}],
                    },
                }
            ]
        },
    )

    deleted = stack.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert emulator.cname_records(hosted_zones["example.com"]) == {name: "elsewhere.example.net."}


def test_cleanup_when_route53_refuses_the_delete_still_deletes_the_stack(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = cfn.stack("refused")
    assert stack.create({"Cert": _certificate("example.com", **CLEANUP)}).succeeded
    emulator.rules.refuse("route53:ChangeResourceRecordSets")

    deleted = stack.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.problems == []
    assert emulator.certificate_arns() == []
    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")


def test_cleanup_after_a_replacement_keeps_what_the_new_certificate_needs(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """The clean-up Delete CloudFormation sends for the replaced certificate."""
    stack = cfn.stack("replaced")
    assert stack.create(
        {"Cert": _certificate("example.com", "old.example.org", **CLEANUP)}
    ).succeeded
    old_arn = stack.physical_id("Cert")

    updated = stack.update({"Cert": _certificate("example.com", "new.example.org", **CLEANUP)})

    assert updated.status == "UPDATE_COMPLETE", [s.describe() for s in updated.steps]
    assert updated.problems == []
    assert stack.physical_id("Cert") != old_arn
    assert emulator.certificate_arns() == [stack.physical_id("Cert")]
    assert emulator.cname_records(hosted_zones["example.com"]) == _records("example.com")
    assert emulator.cname_records(hosted_zones["example.org"]) == _records("new.example.org")


def test_cleanup_when_turned_on_by_an_update_applies_to_the_next_delete(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = cfn.stack("opt-in")
    assert stack.create({"Cert": _certificate("example.com")}).succeeded
    arn = stack.physical_id("Cert")

    updated = stack.update({"Cert": _certificate("example.com", **CLEANUP)})

    assert updated.status == "UPDATE_COMPLETE"
    assert stack.physical_id("Cert") == arn  # in place
    assert stack.delete().status == "DELETE_COMPLETE"
    assert emulator.cname_records(hosted_zones["example.com"]) == {}
