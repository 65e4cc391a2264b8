"""Issue 2: which hosted zone each validation record goes to."""

from __future__ import annotations

import pytest

from tests.integration.harness import Harness, expected_records


@pytest.fixture(autouse=True, params=["small account", "account of over 100 zones"])
def account(request: pytest.FixtureRequest, harness: Harness) -> None:
    """Every rule holds both where one ListHostedZones page lists every zone and where the
    zones are searched by name (more zones than a page holds)."""
    if request.param != "small account":
        for index in range(100):
            harness.create_zone(f"z{index}.filler.test")


#: A name whose only candidate zone is example.com (searched by name), and one with two
#: candidates (www.example.com, example.com: found by listing the zones, in a small account).
ONE_OR_TWO_CANDIDATES = pytest.mark.parametrize("name", ["example.com", "www.example.com"])


@ONE_OR_TWO_CANDIDATES
def test_create_when_private_zone_has_same_name_writes_to_public_zone(
    harness: Harness, name: str
) -> None:
    private = harness.create_zone("example.com", private=True)

    answer = harness.run(harness.event("create.json", properties={"DomainName": name}))

    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(harness.zones["example.com"])) == list(expected_records([name]))
    assert harness.records(private) == {}


def test_create_when_only_a_private_zone_matches_fails_naming_the_name(harness: Harness) -> None:
    harness.create_zone("internal.example.net", private=True)
    properties = {"DomainName": "app.internal.example.net"}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "'app.internal.example.net'" in answer.reason
    assert harness.calls.count("acm") == 0
    assert harness.certificates() == []


def test_create_when_zones_are_nested_writes_to_the_most_specific_zone(harness: Harness) -> None:
    sub = harness.create_zone("sub.example.com")
    properties = {"DomainName": "a.sub.example.com", "SubjectAlternativeNames": ["example.com"]}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(sub)) == list(expected_records(["a.sub.example.com"]))
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )


@ONE_OR_TWO_CANDIDATES
def test_create_when_two_public_zones_share_a_name_fails_asking_for_hosted_zone_id(
    harness: Harness, name: str
) -> None:
    second = harness.create_zone("example.com")

    answer = harness.run(harness.event("create.json", properties={"DomainName": name}))

    assert answer.status == "FAILED"
    assert answer.reason.startswith("Two or more public hosted zones are named 'example.com' ("), (
        answer.reason
    )
    assert harness.zones["example.com"] in answer.reason
    assert second in answer.reason
    assert f"set HostedZoneId or DomainValidationOptions[].HostedZoneId for '{name}'" in (
        answer.reason
    )
    assert harness.calls.count("acm") == 0
    assert harness.certificates() == []


def test_create_when_hosted_zone_id_is_set_writes_there_without_discovery(
    harness: Harness,
) -> None:
    second = harness.create_zone("example.com")  # ambiguous for discovery
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["*.example.com"],
        "HostedZoneId": second,
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(second)) == list(expected_records(["example.com"]))
    assert harness.records(harness.zones["example.com"]) == {}
    assert harness.calls.count("route53", "ListHostedZonesByName") == 0


def test_create_when_a_name_has_its_own_hosted_zone_id_writes_that_name_there(
    harness: Harness,
) -> None:
    second_org = harness.create_zone("example.org")
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org"],
        "DomainValidationOptions": [{"DomainName": "www.example.org", "HostedZoneId": second_org}],
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(second_org)) == list(expected_records(["www.example.org"]))
    assert harness.records(harness.zones["example.org"]) == {}
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )


def test_create_when_per_name_zone_and_default_zone_are_set_per_name_wins(
    harness: Harness,
) -> None:
    second_com = harness.create_zone("example.com")
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.com"],
        "HostedZoneId": harness.zones["example.com"],
        "DomainValidationOptions": [{"DomainName": "www.example.com", "HostedZoneId": second_com}],
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(second_com)) == list(expected_records(["www.example.com"]))
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )


def test_create_when_a_name_has_no_zone_fails_naming_it_before_requesting(
    harness: Harness,
) -> None:
    properties = {"DomainName": "example.com", "SubjectAlternativeNames": ["shop.example.net"]}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "'shop.example.net'" in answer.reason
    assert harness.calls.count("acm") == 0
    assert harness.certificates() == []


def test_create_when_hosted_zone_id_does_not_exist_fails_before_requesting(
    harness: Harness,
) -> None:
    properties = {"DomainName": "example.com", "HostedZoneId": "Z0000000000000NOSUCH"}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "HostedZoneId 'Z0000000000000NOSUCH' is not a hosted zone" in answer.reason
    assert harness.calls.count("acm") == 0
    assert harness.certificates() == []


def test_create_when_hosted_zone_id_is_a_private_zone_fails_before_requesting(
    harness: Harness,
) -> None:
    private = harness.create_zone("example.com", private=True)
    properties = {"DomainName": "example.com", "HostedZoneId": private}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "private zone" in answer.reason
    assert harness.calls.count("acm") == 0
    assert harness.records(private) == {}


def test_create_when_per_name_zone_cannot_hold_the_name_fails_naming_the_option(
    harness: Harness,
) -> None:
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org"],
        "DomainValidationOptions": [
            {"DomainName": "www.example.org", "HostedZoneId": harness.zones["example.com"]}
        ],
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "DomainValidationOptions[0].HostedZoneId" in answer.reason
    assert "'www.example.org'" in answer.reason
    assert harness.calls.count("acm") == 0
    assert harness.certificates() == []
