"""Issue 2: invalid properties fail at once, with one clear reason, and touch nothing in AWS."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.harness import Harness


def assert_no_aws_call(harness: Harness) -> None:
    assert harness.calls.calls == []
    assert harness.self_invokes.payloads == []
    assert harness.certificates() == []


def test_create_when_sample_bad_input_event_fails_naming_the_bad_name(harness: Harness) -> None:
    answer = harness.run(harness.event("create-bad-input.json"))

    assert answer.status == "FAILED"
    assert "SubjectAlternativeNames[0]" in answer.reason
    assert "www..example.com" in answer.reason
    assert_no_aws_call(harness)


def test_create_when_property_name_has_a_typo_fails_listing_accepted_names(
    harness: Harness,
) -> None:
    properties = {"DomainName": "example.com", "SubjectAlternativeName": ["www.example.com"]}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "'SubjectAlternativeName'" in answer.reason
    for accepted in ("DomainName", "SubjectAlternativeNames", "HostedZoneId", "Tags"):
        assert accepted in answer.reason
    assert_no_aws_call(harness)


def test_create_when_idempotency_token_is_given_refuses_it_explaining_why(
    harness: Harness,
) -> None:
    properties = {"DomainName": "example.com", "IdempotencyToken": "mytoken"}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "IdempotencyToken" in answer.reason
    assert "request" in answer.reason
    assert_no_aws_call(harness)


def test_create_when_more_than_100_names_fails_naming_the_limit(harness: Harness) -> None:
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": [f"host{i}.example.com" for i in range(100)],
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "101" in answer.reason
    assert "100" in answer.reason
    assert_no_aws_call(harness)


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ([{"Key": "aws:owner", "Value": "me"}], "aws:"),
        ([{"Key": "team", "Value": "x" * 257}], "256"),
        ([{"Key": "", "Value": "empty"}], "Tags[0].Key"),
    ],
    ids=["reserved-prefix", "value-too-long", "empty-key"],
)
def test_create_when_a_tag_is_invalid_fails_naming_the_tag(
    harness: Harness, tags: list[dict[str, Any]], fragment: str
) -> None:
    properties = {"DomainName": "example.com", "Tags": tags}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "Tags[0]" in answer.reason
    assert fragment in answer.reason
    assert_no_aws_call(harness)


def test_create_when_string_values_come_from_cloudformation_converts_them(
    harness: Harness,
) -> None:
    properties = {"DomainName": "example.com", "ServiceTimeout": "300", "WaitForIssuance": "true"}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason


def test_delete_when_create_had_bad_input_succeeds_without_aws_call(harness: Harness) -> None:
    created = harness.run(harness.event("create-bad-input.json"))
    event = harness.event(
        "delete.json",
        properties=harness.event("create-bad-input.json")["ResourceProperties"],
        physical_id=created.physical_id,
    )

    answer = harness.run(event)

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == created.physical_id
    assert_no_aws_call(harness)
