"""Throttling that outlasts botocore's own retries is waited out, never answered as a failure.

botocore's standard mode retries a throttled call a few times within the call; past that the
ClientError reaches the handler. Each test makes one API answer `Throttling` more times in a row
than the client retries (the hook answers before the request is sent, so each injected error is
one whole failed call), and checks the stack still gets its certificate, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dns_certificate.context import Runtime
from dns_certificate.pacing import POLL_PACING
from tests.integration.harness import REGION, Harness, expected_records
from tests.support.aws_errors import error_response


class Throttler:
    """Answers the next `times` calls of one operation with a throttling error."""

    def __init__(self) -> None:
        self.remaining: dict[str, int] = {}
        self.injected: dict[str, int] = {}

    def throttle(self, operation: str, times: int) -> None:
        self.remaining[operation] = times

    def __call__(self, model: Any, **_: Any) -> Any:
        left = self.remaining.get(model.name, 0)
        if left <= 0:
            return None
        self.remaining[model.name] = left - 1
        self.injected[model.name] = self.injected.get(model.name, 0) + 1
        code = (
            "Throttling"
            if model.service_model.service_name == "route53"
            else ("ThrottlingException")
        )
        return error_response(code, "Rate exceeded")


@pytest.fixture
def throttler(runtime: Runtime) -> Iterator[Throttler]:
    throttler = Throttler()
    runtime.clients.acm(REGION).meta.events.register("before-call.acm", throttler)
    runtime.clients.route53().meta.events.register("before-call.route53", throttler)
    yield throttler


@pytest.mark.parametrize(
    "operation",
    [
        "ListHostedZones",
        "RequestCertificate",
        "DescribeCertificate",
        "ChangeResourceRecordSets",
    ],
)
def test_create_when_an_api_stays_throttled_waits_and_succeeds_with_one_certificate(
    harness: Harness, throttler: Throttler, operation: str
) -> None:
    throttler.throttle(operation, times=6)
    event = harness.event("create-two-zones.json")

    answer = harness.run(event)

    assert answer.status == "SUCCESS", answer.reason
    assert throttler.injected[operation] == 6
    assert harness.certificates() == [answer.physical_id]
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )


def test_create_when_throttled_until_the_deadline_fails_naming_the_throttling(
    harness: Harness, throttler: Throttler
) -> None:
    throttler.throttle("ListHostedZonesByName", times=10_000)
    properties = {"DomainName": "example.com", "ServiceTimeout": "120"}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "throttled" in answer.reason
    assert harness.certificates() == []


def test_create_when_throttled_across_invocations_hands_off_and_requests_once(
    harness: Harness, throttler: Throttler
) -> None:
    # Polls throttled for ~20 minutes at the widest poll interval: longer than one invocation.
    throttler.throttle("DescribeCertificate", times=int(1200 / POLL_PACING.ceiling))
    event = harness.event("create-two-zones.json")

    answer = harness.run(event, max_invocations=20)

    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.self_invokes) >= 1
    assert harness.calls.count("acm", "RequestCertificate") == 1
    assert harness.certificates() == [answer.physical_id]


def test_delete_when_delete_stays_throttled_waits_and_deletes(
    harness: Harness, throttler: Throttler
) -> None:
    arn = harness.create(name="create-two-zones.json")
    throttler.throttle("DeleteCertificate", times=6)

    answer = harness.run(harness.event("delete.json", physical_id=arn))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []


def test_update_when_tagging_stays_throttled_waits_and_updates_in_place(
    harness: Harness, throttler: Throttler
) -> None:
    arn = harness.create(name="create-two-zones.json")
    old = harness.event("create-two-zones.json")["ResourceProperties"]
    throttler.throttle("AddTagsToCertificate", times=6)
    event = harness.event("update-tags.json", physical_id=arn, old_properties=old)

    answer = harness.run(event)

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.tags(arn)["team"] == "web"


def test_create_when_route53_admits_one_change_a_second_writes_every_zone_and_succeeds(
    harness: Harness, runtime: Runtime
) -> None:
    """Route 53 at one change per second (its quota is 5/s per account, shared): a retried
    write that began again with the zone already written spent the second on it every time,
    and the next zone was throttled until the deadline (seen at 1 req/s in tests/e2e)."""
    admitted_at: list[float] = []

    def one_change_a_second(model: Any, **_: Any) -> Any:
        if model.name != "ChangeResourceRecordSets":
            return None
        now = harness.clock.now()
        if admitted_at and now - admitted_at[-1] < 1.0:
            return error_response("Throttling", "Rate exceeded")
        admitted_at.append(now)
        return None

    runtime.clients.route53().meta.events.register("before-call.route53", one_change_a_second)
    properties = {"DomainName": "example.com", "SubjectAlternativeNames": ["www.example.org"]}

    answer = harness.run(harness.event("create.json", properties=properties), max_invocations=4)

    assert answer.status == "SUCCESS", answer.reason
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )
