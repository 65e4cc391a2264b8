"""Issue 12 item 2: each name's zone is looked up with few calls, once per invocation, and the
zones travel in the continuation so that a later invocation looks none of them up again."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.acm.responses import AWSCertificateManagerResponse
from moto.core.responses import ActionResult

from dns_certificate.context import Runtime
from tests.integration.harness import (
    REGION,
    Harness,
    carried_state,
    corrupt_stored_state,
    expected_records,
    with_stored_state,
)
from tests.support.aws_errors import error_response

LOOKUPS = ("ListHostedZones", "ListHostedZonesByName", "GetHostedZone")
#: example.com, *.example.com and www.example.org: three candidate zone names in two zones.
TWO_ZONES = "create-two-zones.json"


def lookups(harness: Harness, mark: int = 0) -> int:
    """Route 53 calls that look a zone up (search or check), made after `mark`."""
    return sum(len(harness.calls.since(mark, "route53", operation)) for operation in LOOKUPS)


def handed_off_before_the_write(harness: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Create whose first invocation requests the certificate, finds the zones and hands off
    before ACM shows the records (so the next invocation writes them): (event, payload)."""
    harness.faults.hidden_records = {"www.example.org": 1}
    event = harness.event(TWO_ZONES)
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    assert harness.change_batches() == []
    return event, payload


def raise_names_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto refuses more than 10 names per certificate (AWS's default quota): an account
    whose quota was raised to 100."""

    def request_certificate(response: AWSCertificateManagerResponse) -> ActionResult:
        arn = response.acm_backend.request_certificate(
            response._get_param("DomainName"),
            response._get_param("IdempotencyToken"),
            response._get_param("SubjectAlternativeNames"),
            response._get_param("Tags"),
            response._get_param("CertificateAuthorityArn"),
            response._get_param("Options"),
        )
        return ActionResult(result={"CertificateArn": arn})

    monkeypatch.setattr(AWSCertificateManagerResponse, "request_certificate", request_certificate)


def recreate_zone(harness: Harness, name: str) -> str:
    """Delete the zone `name` (still empty) and create another of that name: a new id."""
    boto3.client("route53", region_name=REGION).delete_hosted_zone(Id=harness.zones[name])
    return harness.create_zone(name)


# ---- fewest calls ---------------------------------------------------------------------------


def test_create_when_100_names_in_10_zones_makes_10_changes_and_at_most_10_lookups(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    raise_names_quota(monkeypatch)
    zones = [harness.create_zone(f"zone{j}.example.net") for j in range(10)]
    names = [f"n{i}.zone{i % 10}.example.net" for i in range(100)]
    properties = {"DomainName": names[0], "SubjectAlternativeNames": names[1:]}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.change_batches()) == 10
    assert lookups(harness) <= 10
    for j, zone in enumerate(zones):
        assert sorted(harness.records(zone)) == sorted(expected_records(names[j::10]))


def test_create_when_names_have_several_candidate_zones_lists_the_zones_once(
    harness: Harness,
) -> None:
    answer = harness.run(harness.event(TWO_ZONES))

    assert answer.status == "SUCCESS", answer.reason
    # Found before the request, used again by the write: one call for the invocation.
    assert harness.calls.count("route53", "ListHostedZones") == 1
    assert lookups(harness) == 1
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )


def test_create_when_apex_and_wildcard_have_one_candidate_zone_asks_for_it_by_name(
    harness: Harness,
) -> None:
    properties = {"DomainName": "example.com", "SubjectAlternativeNames": ["*.example.com"]}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.calls.count("route53", "ListHostedZonesByName") == 1
    assert lookups(harness) == 1


def test_create_when_account_has_over_100_zones_searches_by_name_and_writes_the_same(
    harness: Harness,
) -> None:
    for index in range(100):
        harness.create_zone(f"z{index}.filler.test")

    answer = harness.run(harness.event(TWO_ZONES))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.calls.count("route53", "ListHostedZones") == 1  # one page: not all of them
    assert harness.calls.count("route53", "ListHostedZonesByName") == 3
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )


def test_create_when_listing_zones_is_not_allowed_searches_by_name(
    harness: Harness, runtime: Runtime
) -> None:
    """A DNS account's role granted only ListHostedZonesByName, as it needed before."""

    def deny(model: Any, **_: Any) -> Any:
        return (
            error_response("AccessDenied", "not authorized")
            if model.name == "ListHostedZones"
            else None
        )

    runtime.clients.route53().meta.events.register("before-call.route53", deny)

    answer = harness.run(harness.event(TWO_ZONES))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.calls.count("route53", "ListHostedZonesByName") == 3
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )


# ---- carried across invocations ----------------------------------------------------------


def test_continuation_carries_each_names_zone_to_the_next_invocation(harness: Harness) -> None:
    _, payload = handed_off_before_the_write(harness)

    carried = {name: zone_id for name, zone_id, _ in carried_state(payload).zones}

    assert carried == {
        "example.com": harness.zones["example.com"],
        "*.example.com": harness.zones["example.com"],
        "www.example.org": harness.zones["example.org"],
    }


def test_next_invocation_when_zones_are_carried_looks_none_up_and_writes_them(
    harness: Harness,
) -> None:
    _, payload = handed_off_before_the_write(harness)
    mark = harness.calls.mark()

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert lookups(harness, mark) == 0
    assert len(harness.change_batches()) == 2
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )


def test_next_invocation_when_a_named_zone_is_carried_does_not_check_it_again(
    harness: Harness,
) -> None:
    harness.faults.hidden_records = {"example.com": 1}
    properties = {"DomainName": "example.com", "HostedZoneId": harness.zones["example.com"]}
    event = harness.event("create.json", properties=properties)
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    assert harness.calls.count("route53", "GetHostedZone") == 1
    mark = harness.calls.mark()

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert lookups(harness, mark) == 0
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )


def test_next_invocation_when_carried_zones_do_not_fit_ignores_them(harness: Harness) -> None:
    """A continuation naming, for a name, a zone that cannot hold its record, or a name the
    certificate does not have, steers nothing: the names' zones are looked up."""
    _, handed = handed_off_before_the_write(harness)
    payload = with_stored_state(
        handed,
        zones=(
            ("example.com", harness.zones["example.org"], "example.org"),
            ("www.example.org", harness.zones["example.com"], "example.com"),
            ("other.example.net", "Z0000000000000OTHER", "example.net"),
        ),
    )

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )


def test_next_invocation_when_zones_are_put_in_the_continuation_entry_ignores_them(
    harness: Harness,
) -> None:
    """Before issue 18 the zones travelled in the event and a malformed list was refused; now
    the entry carries a reference only: zones written next to it steer nothing."""
    _, payload = handed_off_before_the_write(harness)
    payload["Continuation"]["zones"] = [["example.com", "../../x", "example.com"]]
    payload["Continuation"]["certificate_arn"] = "arn:aws:acm:us-east-1:123456789012:certificate/x"

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == harness.certificates()[0]
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )


def test_next_invocation_when_stored_zones_are_unreadable_fails_and_writes_nothing(
    harness: Harness, requests_table: str
) -> None:
    """A stored state that does not parse (the table edited by hand, or a format this version
    cannot read) is not acted on: FAILED is answered, no record is written."""
    _, payload = handed_off_before_the_write(harness)
    corrupt_stored_state(requests_table, payload, zones=[["example.com", "../../x", "x.com"]])

    answer = harness.invoke(payload)

    assert answer is not None and answer.status == "FAILED"
    assert "stored state is unreadable" in answer.reason
    assert harness.change_batches() == []


# ---- a carried zone that is gone ------------------------------------------------------------


def test_next_invocation_when_a_carried_zone_was_recreated_writes_to_the_new_one(
    harness: Harness,
) -> None:
    _, payload = handed_off_before_the_write(harness)
    new_zone = recreate_zone(harness, "example.com")
    mark = harness.calls.mark()

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(new_zone)) == list(expected_records(["example.com"]))
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )
    assert lookups(harness, mark) == 1  # looked up again once, all names in one call


def test_next_invocation_when_a_carried_zone_is_gone_for_good_fails_naming_the_name(
    harness: Harness,
) -> None:
    _, payload = handed_off_before_the_write(harness)
    boto3.client("route53", region_name=REGION).delete_hosted_zone(Id=harness.zones["example.com"])

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "FAILED"
    assert "No public hosted zone in this account matches 'example.com'" in answer.reason


@pytest.mark.parametrize(("fillers", "listed_in_full"), [(97, True), (98, False)])
def test_create_when_account_has_100_or_101_zones_finds_them_with_the_fewest_calls(
    harness: Harness, fillers: int, listed_in_full: bool
) -> None:
    """100 zones (2 + 97 + a private one) fit one ListHostedZones page, no search by name;
    101 do not (IsTruncated): searched by name."""
    for index in range(fillers):
        harness.create_zone(f"z{index}.filler.test")
    harness.create_zone("example.com", private=True)  # same name, private: not the one

    answer = harness.run(harness.event(TWO_ZONES))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.calls.count("route53", "ListHostedZones") == 1
    by_name = harness.calls.count("route53", "ListHostedZonesByName")
    assert by_name == (0 if listed_in_full else 3)
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )
