"""Issue 3: an Update replaces the certificate only when ACM fixed what changed."""

from __future__ import annotations

from typing import Any

import pytest

from dns_certificate.certificates import IDENTITY_TAG, LOGICAL_ID_TAG, STACK_TAG
from tests.integration.harness import OTHER_REGION, REGION, Harness, carried_state, expected_records


def created(harness: Harness, properties: dict[str, Any] | None = None) -> tuple[str, dict]:
    """A certificate made by a Create; its ARN and the properties it was made with."""
    event = harness.event("create-two-zones.json", properties=properties)
    answer = harness.run(event)
    assert answer.status == "SUCCESS", answer.reason
    return answer.physical_id, event["ResourceProperties"]


def update(
    harness: Harness, arn: str, old: dict[str, Any], new: dict[str, Any], name: str
) -> dict[str, Any]:
    return harness.event(name, properties=new, old_properties=old, physical_id=arn)


def test_update_when_only_tags_change_on_certificate_with_sans_keeps_the_arn(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    event = harness.event("update-tags.json", physical_id=arn, old_properties=old)
    mark = harness.calls.mark()

    answer = harness.run(event)

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.tags(arn)["team"] == "web"
    assert harness.certificates() == [arn]


def test_update_when_sans_are_reordered_and_recased_keeps_the_arn(harness: Harness) -> None:
    arn, old = created(harness)
    new = {**old, "SubjectAlternativeNames": ["WWW.Example.ORG.", "*.EXAMPLE.com", "example.com"]}
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, old, new, "update-tags.json"))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.certificates() == [arn]


def test_update_when_a_san_is_added_answers_a_new_arn_and_keeps_the_old(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    event = harness.event("update-replace.json", physical_id=arn, old_properties=old)

    answer = harness.run(event)

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != arn
    assert answer.data == {"Arn": answer.physical_id, "DomainName": "example.com"}
    assert harness.certificates() == sorted([arn, answer.physical_id])
    new_names = harness.describe(answer.physical_id)["SubjectAlternativeNames"]
    assert "api.example.org" in new_names
    assert set(harness.records(harness.zones["example.org"])) == set(
        expected_records(["www.example.org", "api.example.org"])
    )


def test_update_when_a_tag_is_removed_removes_it_and_keeps_ownership_tags(
    harness: Harness,
) -> None:
    without_env = harness.event("create-two-zones.json")["ResourceProperties"]
    tags = [{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "prod"}]
    arn, with_env = created(harness, {**without_env, "Tags": tags})
    before = harness.tags(arn)
    assert before["env"] == "prod"

    answer = harness.run(update(harness, arn, with_env, without_env, "update-tags.json"))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    after = harness.tags(arn)
    assert "env" not in after
    assert after["team"] == "platform"
    for key in (STACK_TAG, LOGICAL_ID_TAG, IDENTITY_TAG):
        assert after[key] == before[key]


def test_update_when_transparency_logging_changes_updates_options_in_place(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    new = {**old, "Options": {"CertificateTransparencyLoggingPreference": "DISABLED"}}
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, old, new, "update-tags.json"))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    (call,) = harness.calls.since(mark, "acm", "UpdateCertificateOptions")
    assert call.params == {
        "CertificateArn": arn,
        "Options": {"CertificateTransparencyLoggingPreference": "DISABLED"},
    }
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.describe(arn)["Options"]["CertificateTransparencyLoggingPreference"] == (
        "DISABLED"
    )


def test_update_when_transparency_logging_is_unchanged_does_not_call_update_options(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    mark = harness.calls.mark()

    harness.run(harness.event("update-tags.json", physical_id=arn, old_properties=old))

    assert harness.calls.since(mark, "acm", "UpdateCertificateOptions") == []


def test_update_when_hosted_zone_id_changes_writes_records_to_new_zone_in_place(
    harness: Harness,
) -> None:
    new_zone = harness.create_zone("example.com")  # e.g. the domain moved to a new zone
    properties = {"DomainName": "example.com", "HostedZoneId": harness.zones["example.com"]}
    arn, old = created(harness, properties)
    mark = harness.calls.mark()

    answer = harness.run(
        update(harness, arn, old, {**old, "HostedZoneId": new_zone}, "update-tags.json")
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    (change,) = harness.calls.since(mark, "route53", "ChangeResourceRecordSets")
    assert change.params["HostedZoneId"] == new_zone
    assert list(harness.records(new_zone)) == list(expected_records(["example.com"]))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"ServiceTimeout": "600"}, id="service-timeout-changes"),
        pytest.param({"Region": REGION}, id="region-spelled-out-as-the-default"),
    ],
)
def test_update_when_nothing_acm_fixed_changes_keeps_the_arn(
    harness: Harness, change: dict[str, str]
) -> None:
    arn, old = created(harness)
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, old, {**old, **change}, "update-tags.json"))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []


def test_update_when_replacement_event_is_delivered_twice_requests_one_new_certificate(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    event = harness.event("update-replace.json", physical_id=arn, old_properties=old)

    first = harness.run(event)
    second = harness.invoke(event)

    assert second is None  # answered already: the duplicate changes nothing
    assert first.physical_id != arn
    assert harness.certificates() == sorted([arn, first.physical_id])


def test_update_when_replacement_waits_across_invocations_answers_new_arn_once(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    event = harness.event("update-replace.json", physical_id=arn, old_properties=old)
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    handed_arn = carried_state(payload).certificate_arn

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == handed_arn != arn
    assert len(harness.answers_for(event)) == 1
    assert harness.certificates() == sorted([arn, answer.physical_id])


def test_update_when_region_changes_requests_the_new_certificate_in_that_region(
    harness: Harness,
) -> None:
    arn, old = created(harness)

    answer = harness.run(
        update(harness, arn, old, {**old, "Region": OTHER_REGION}, "update-replace.json")
    )

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates(OTHER_REGION) == [answer.physical_id]
    assert harness.certificates() == [arn]


def test_update_when_new_properties_are_invalid_fails_with_old_id_without_aws_call(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    mark = harness.calls.mark()

    answer = harness.run(
        update(
            harness,
            arn,
            old,
            {**old, "SubjectAlternativeNames": ["-bad-.example.com"]},
            "update-replace.json",
        )
    )

    assert answer.status == "FAILED"
    assert "SubjectAlternativeNames[0]" in answer.reason
    assert answer.physical_id == arn
    assert harness.calls.calls[mark:] == []
    assert harness.certificates() == [arn]


def test_update_when_certificate_was_deleted_out_of_band_requests_a_new_one(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    harness.acm().delete_certificate(CertificateArn=arn)

    answer = harness.run(harness.event("update-tags.json", physical_id=arn, old_properties=old))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != arn
    assert harness.certificates() == [answer.physical_id]


def test_update_when_new_hosted_zone_id_is_wrong_fails_before_changing_anything(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    new = {
        **old,
        "HostedZoneId": "Z0000000000000NOSUCH",
        "Tags": [{"Key": "team", "Value": "web"}],
    }
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, old, new, "update-tags.json"))

    assert answer.status == "FAILED"
    assert answer.physical_id == arn
    assert "Z0000000000000NOSUCH" in answer.reason
    assert harness.calls.since(mark, "acm", "AddTagsToCertificate") == []
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.tags(arn)["team"] == "platform"
