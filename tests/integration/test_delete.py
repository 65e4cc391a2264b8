"""Issue 3: Delete is idempotent, region-aware, patient with certificates still in use."""

from __future__ import annotations

import pytest
from botocore.exceptions import InvalidRegionError
from botocore.utils import validate_region_name
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.harness import OTHER_REGION, Harness, load_event

LOAD_BALANCER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
)
DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"


def created(harness: Harness) -> str:
    return harness.create(name="create-two-zones.json")


def test_delete_when_certificate_exists_deletes_it(harness: Harness) -> None:
    arn = created(harness)

    answer = harness.run(harness.event("delete.json", physical_id=arn))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.certificates() == []


def test_delete_when_certificate_exists_keeps_its_validation_records(harness: Harness) -> None:
    arn = created(harness)
    records = harness.records(harness.zones["example.com"])

    harness.run(harness.event("delete.json", physical_id=arn))

    assert records
    assert harness.records(harness.zones["example.com"]) == records
    assert harness.calls.count("route53", "ChangeResourceRecordSets") == 2  # the create's


def test_delete_when_physical_id_is_not_an_arn_succeeds(harness: Harness) -> None:
    physical_id = "website_Certificate_4XK2P9QZ"

    answer = harness.run(harness.event("delete.json", physical_id=physical_id))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == physical_id
    assert harness.calls.of("acm", "DeleteCertificate") == []


def test_delete_when_non_arn_id_leaves_other_resources_certificates_alone(
    harness: Harness,
) -> None:
    other = harness.run(harness.event("create-two-zones.json", LogicalResourceId="Other"))

    answer = harness.run(harness.event("delete.json", physical_id="website_Certificate_4XK2P9QZ"))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [other.physical_id]


def test_delete_when_failed_create_requested_a_certificate_deletes_it_by_its_tags(
    harness: Harness,
) -> None:
    harness.faults.lose_request_response = True
    create = harness.event("create-two-zones.json")
    failed = harness.run(create)
    harness.faults.lose_request_response = False
    assert failed.status == "FAILED"
    assert not failed.physical_id.startswith("arn:")
    assert len(harness.certificates()) == 1

    answer = harness.run(
        harness.event(
            "delete.json",
            properties=create["ResourceProperties"],
            physical_id=failed.physical_id,
        )
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == failed.physical_id
    assert harness.certificates() == []


def test_delete_when_sent_twice_succeeds_both_times(harness: Harness) -> None:
    arn = created(harness)

    first = harness.run(harness.event("delete.json", physical_id=arn))
    second = harness.run(harness.event("delete.json", physical_id=arn))

    assert (first.status, second.status) == ("SUCCESS", "SUCCESS"), second.reason
    assert second.physical_id == arn
    assert harness.certificates() == []


def test_delete_when_certificate_is_in_another_region_deletes_it_there(harness: Harness) -> None:
    """Made by the provider in another region (so its records name it): deleted there. (Before
    issue 18 the certificate was requested outside the provider with this resource's tags;
    tags no longer grant anything: test_authority.py.)"""
    arn = harness.create({"DomainName": "example.com", "Region": OTHER_REGION})
    assert harness.certificates(OTHER_REGION) == [arn]
    event = harness.event("delete.json")

    answer = harness.run({**event, "PhysicalResourceId": arn})

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates(OTHER_REGION) == []
    (call,) = harness.calls.of("acm", "DeleteCertificate")
    assert call.region == OTHER_REGION


def test_delete_when_in_use_for_a_while_retries_until_deleted(harness: Harness) -> None:
    arn = created(harness)
    harness.faults.in_use(by=(LOAD_BALANCER,), times=4)

    answer = harness.run(harness.event("delete.json", physical_id=arn))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []
    assert harness.calls.count("acm", "DeleteCertificate") == 5
    assert len(harness.clock.sleeps) >= 4  # backed off between tries


def test_delete_when_in_use_longer_than_one_invocation_continues_and_succeeds(
    harness: Harness,
) -> None:
    arn = created(harness)
    harness.faults.in_use(by=(LOAD_BALANCER,), times=40)  # > 15 minutes of backoff

    answer = harness.run(harness.event("delete.json", physical_id=arn))

    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.self_invokes) >= 1
    assert harness.certificates() == []


def test_delete_when_in_use_past_the_deadline_fails_naming_the_users(harness: Harness) -> None:
    arn = created(harness)
    harness.faults.in_use(by=(LOAD_BALANCER, DISTRIBUTION), times=None)
    properties = {**harness.event("delete.json")["ResourceProperties"], "ServiceTimeout": "600"}
    start = harness.clock.now()

    answer = harness.run(harness.event("delete.json", properties=properties, physical_id=arn))

    assert answer.status == "FAILED"
    assert answer.physical_id == arn
    assert LOAD_BALANCER in answer.reason
    assert DISTRIBUTION in answer.reason
    assert harness.certificates() == [arn]
    assert harness.clock.now() - start <= 600


#: Physical ids a rollback Delete can carry that name a region botocore refuses to build a
#: client for (or that are no ARN at all): each must still be answered SUCCESS (issue 19, 4).
UNUSABLE_PHYSICAL_IDS = (
    "arn:aws:acm:us_east_1:123456789012:certificate/0b8e3a1c-1111-2222-3333-444455556666",
    "arn:aws:acm:US-EAST-1.:123456789012:certificate/0b8e3a1c-1111-2222-3333-444455556666",
    "arn:aws:acm:a b:123456789012:certificate/0b8e3a1c-1111-2222-3333-444455556666",
    "arn:aws:acm:-:123456789012:certificate/x",
    "arn:aws:acm:us-east-1.evil.example:123456789012:certificate/x",
    "arn:aws:acm:us-east-1:123456789012:certificate/",
    "arn:aws:acm:us-east-1:not-an-account:certificate/../../x",
    "arn:aws:acm:\u00e9t\u00e9:123456789012:certificate/x",
    "a b",
    "us_east_1",
)


@pytest.mark.parametrize("physical_id", UNUSABLE_PHYSICAL_IDS)
@pytest.mark.parametrize("cleanup", [False, True], ids=["plain", "cleanup"])
def test_delete_when_physical_id_names_an_unusable_region_succeeds(
    harness: Harness, physical_id: str, cleanup: bool
) -> None:
    kept = created(harness)
    properties = dict(load_event("delete.json")["ResourceProperties"])
    if cleanup:
        properties["CleanupValidationRecords"] = "true"
    properties.pop("ServiceToken", None)

    answer = harness.run(
        harness.event("delete.json", properties=properties, physical_id=physical_id)
    )

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [kept]  # nothing else was touched


def _refused_by_botocore(region: str) -> bool:
    if ":" in region:
        return False
    try:
        validate_region_name(region)
    except InvalidRegionError:
        return True
    return False


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(region=st.text(min_size=1, max_size=30).filter(_refused_by_botocore))
def test_delete_when_arn_names_any_region_text_succeeds(harness: Harness, region: str) -> None:
    """Whatever CloudFormation hands back as the id (a rollback Delete carries what the
    failed step answered, or what a user typed), the Delete answers SUCCESS. (A well-formed
    region that does not exist is an EndpointConnectionError in AWS, but a KeyError in moto:
    not generated here.)"""
    physical_id = f"arn:aws:acm:{region}:123456789012:certificate/0b8e3a1c-1111-2222-3333-4444"

    answer = harness.run(harness.event("delete.json", physical_id=physical_id))

    assert answer.status == "SUCCESS", answer.reason
