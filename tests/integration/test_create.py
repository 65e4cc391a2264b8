"""Issue 2: the whole Create path through `lambda_handler`, answered to a real local server."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dns_certificate.certificates import LOGICAL_ID_TAG, STACK_TAG
from dns_certificate.context import Runtime
from dns_certificate.dns import RECORD_TTL
from tests.integration.harness import FUNCTION_ARN, REGION, Harness, carried_state, expected_records
from tests.support.aws_errors import error_response

TWO_ZONE_NAMES = ["example.com", "*.example.com", "www.example.org"]


def test_create_when_names_span_two_zones_writes_exactly_the_records_acm_asked_for(
    harness: Harness,
) -> None:
    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS", answer.reason
    asked = {
        option["ResourceRecord"]["Name"]: option["ResourceRecord"]
        for option in harness.describe(answer.physical_id)["DomainValidationOptions"]
    }
    written = {
        **harness.records(harness.zones["example.com"]),
        **harness.records(harness.zones["example.org"]),
    }
    assert set(written) == set(asked)
    for name, record in asked.items():
        assert written[name].type == record["Type"] == "CNAME"
        assert written[name].values == (record["Value"],)
        assert written[name].ttl == RECORD_TTL


def test_create_when_names_span_two_zones_puts_each_record_in_its_own_zone(
    harness: Harness,
) -> None:
    harness.run(harness.event("create-two-zones.json"))

    expected = expected_records(TWO_ZONE_NAMES)
    com = {name: r.values[0] for name, r in harness.records(harness.zones["example.com"]).items()}
    org = {name: r.values[0] for name, r in harness.records(harness.zones["example.org"]).items()}
    assert com == {n: v for n, v in expected.items() if n.endswith(".example.com.")}
    assert org == {n: v for n, v in expected.items() if n.endswith(".example.org.")}


def test_create_when_names_span_two_zones_makes_one_change_call_per_zone(
    harness: Harness,
) -> None:
    harness.run(harness.event("create-two-zones.json"))

    zones_changed = sorted(c.params["HostedZoneId"] for c in harness.change_batches())
    assert zones_changed == sorted(harness.zones.values())


def test_create_when_apex_and_wildcard_share_a_record_writes_it_once(harness: Harness) -> None:
    properties = {"DomainName": "example.com", "SubjectAlternativeNames": ["*.example.com"]}

    harness.run(harness.event("create.json", properties=properties))

    (batch,) = harness.change_batches(harness.zones["example.com"])
    changes = batch.params["ChangeBatch"]["Changes"]
    assert len(changes) == 1
    assert changes[0]["Action"] == "UPSERT"
    assert list(harness.records(harness.zones["example.com"])) == list(
        expected_records(["example.com"])
    )


def test_create_when_issued_answers_data_with_arn_and_domain_name(harness: Harness) -> None:
    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.data == {"Arn": answer.physical_id, "DomainName": "example.com"}
    assert answer.physical_id in harness.certificates()


def test_create_when_issued_answers_only_after_acm_says_issued(harness: Harness) -> None:
    harness.faults.pending_describes = 6

    answer = harness.run(harness.event("create.json"))

    assert answer.status == "SUCCESS"
    assert harness.describe(answer.physical_id)["Status"] == "ISSUED"
    assert harness.calls.count("acm", "DescribeCertificate") == 7
    assert len(harness.change_batches()) == 1


def test_create_when_same_event_is_delivered_twice_requests_one_certificate_answers_once(
    harness: Harness,
) -> None:
    event = harness.event("create-two-zones.json")

    first = harness.run(event)
    calls = harness.calls.mark()
    second = harness.invoke(event)

    assert first.status == "SUCCESS"
    assert second is None  # the request was answered: the duplicate changes nothing
    assert harness.calls.calls[calls:] == []
    assert harness.certificates() == [first.physical_id]


def test_create_when_request_id_differs_requests_a_second_certificate(harness: Harness) -> None:
    first = harness.run(harness.event("create-two-zones.json"))
    second = harness.run(harness.event("create-two-zones.json"))

    assert second.physical_id != first.physical_id
    assert harness.certificates() == sorted([first.physical_id, second.physical_id])


def test_create_when_request_id_has_hyphens_sends_a_token_acm_accepts(harness: Harness) -> None:
    event = harness.event("create.json")
    assert not re.fullmatch(r"\w{1,32}", event["RequestId"])

    harness.run(event)

    (request,) = harness.calls.of("acm", "RequestCertificate")
    assert re.fullmatch(r"\w{1,32}", request.params["IdempotencyToken"])


def test_create_when_requested_tags_certificate_with_stack_and_logical_id(
    harness: Harness,
) -> None:
    event = harness.event("create-two-zones.json")

    arn = harness.run(event).physical_id

    tags = harness.tags(arn)
    assert tags[STACK_TAG] == event["StackId"]
    assert tags[LOGICAL_ID_TAG] == event["LogicalResourceId"]
    assert tags["team"] == "platform"
    assert not any(key.lower().startswith("aws:") for key in tags)


# ---- validation records that appear late --------------------------------------------------


def test_create_when_a_record_appears_late_waits_and_writes_all_in_one_call_per_zone(
    harness: Harness,
) -> None:
    harness.faults.hidden_records = {"www.example.org": 4}

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.change_batches(harness.zones["example.com"])) == 1
    assert len(harness.change_batches(harness.zones["example.org"])) == 1
    assert list(harness.records(harness.zones["example.org"])) == list(
        expected_records(["www.example.org"])
    )


def test_create_when_records_appear_late_writes_nothing_before_all_are_known(
    harness: Harness,
) -> None:
    harness.faults.hidden_records = {"example.com": 2, "*.example.com": 3}

    harness.run(harness.event("create-two-zones.json"))

    operations = [(c.service, c.operation) for c in harness.calls.calls]
    first_change = operations.index(("route53", "ChangeResourceRecordSets"))
    describes_before = operations[:first_change].count(("acm", "DescribeCertificate"))
    assert describes_before == 4
    assert harness.clock.slept > 0


def test_create_when_only_some_names_have_records_matches_records_by_name(
    harness: Harness,
) -> None:
    harness.faults.hidden_records = {"example.com": 3}

    harness.run(harness.event("create-two-zones.json"))

    (batch,) = harness.change_batches(harness.zones["example.com"])
    (change,) = batch.params["ChangeBatch"]["Changes"]
    record = change["ResourceRecordSet"]
    assert {record["Name"]: record["ResourceRecords"][0]["Value"]} == expected_records(
        ["example.com"]
    )


# ---- waiting across invocations -----------------------------------------------------------


def test_create_when_invocation_time_runs_short_hands_off_without_answering(
    harness: Harness,
) -> None:
    event = harness.event("create-two-zones.json")

    answer = harness.invoke(event, harness.context(timeout_seconds=25))

    assert answer is None
    assert harness.answers_for(event) == []
    ((function_arn, payload),) = harness.self_invokes.payloads
    assert function_arn == FUNCTION_ARN
    assert {k: v for k, v in payload.items() if k != "Continuation"} == event
    assert set(payload["Continuation"]) == {"reference", "hop"}
    assert carried_state(payload).certificate_arn == harness.certificates()[0]


def test_create_when_continued_in_next_invocation_answers_once_with_same_arn(
    harness: Harness,
) -> None:
    event = harness.event("create-two-zones.json")
    harness.invoke(event, harness.context(timeout_seconds=25))
    ((_, payload),) = harness.self_invokes.payloads
    handed_arn = carried_state(payload).certificate_arn

    answer = harness.invoke(payload, harness.context())

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == handed_arn
    assert len(harness.answers_for(event)) == 1
    assert harness.calls.count("acm", "RequestCertificate") == 1
    assert len(harness.change_batches()) == 2  # one per zone, not repeated by the next hop


# ---- ACM gives up, or the deadline passes -------------------------------------------------


@pytest.mark.parametrize("status", ["FAILED", "VALIDATION_TIMED_OUT", "REVOKED"])
def test_create_when_acm_ends_in_failure_status_answers_failed_with_its_reason(
    harness: Harness, status: str
) -> None:
    harness.faults.failure = (status, "CAA_ERROR")
    harness.faults.failure_after_describes = 1

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "FAILED"
    assert status in answer.reason
    assert "CAA_ERROR" in answer.reason
    assert answer.physical_id == harness.certificates()[0]


def test_create_when_never_issued_before_service_timeout_fails_listing_pending_names(
    harness: Harness,
) -> None:
    harness.faults.pending_describes = 10**6
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org"],
        "ServiceTimeout": "120",
    }
    start = harness.clock.now()

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "'example.com'" in answer.reason
    assert "'www.example.org'" in answer.reason
    assert answer.physical_id == harness.certificates()[0]
    assert harness.clock.now() - start <= 120
    assert harness.self_invokes.payloads == []


def test_create_when_records_never_appear_fails_naming_only_the_missing_names(
    harness: Harness,
) -> None:
    harness.faults.hidden_records = {"www.example.org": 10**6}
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org"],
        "ServiceTimeout": "300",
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "'www.example.org'" in answer.reason
    assert "'example.com'" not in answer.reason
    assert harness.change_batches() == []


def test_create_when_wait_for_issuance_is_false_answers_once_records_are_written(
    harness: Harness,
) -> None:
    harness.faults.pending_describes = 10**6
    properties = {"DomainName": "example.com", "WaitForIssuance": "false"}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.calls.count("acm", "DescribeCertificate") == 1  # pending, records known
    assert len(harness.change_batches()) == 1


def test_create_when_some_names_validated_by_the_deadline_names_only_the_others(
    harness: Harness, runtime: Runtime
) -> None:
    harness.faults.pending_describes = 10**6

    def apex_validated(parsed: dict[str, Any], **_: Any) -> None:
        for option in parsed.get("Certificate", {}).get("DomainValidationOptions", []):
            if option["DomainName"] == "example.com":
                option["ValidationStatus"] = "SUCCESS"

    runtime.clients.acm(REGION).meta.events.register(
        "after-call.acm.DescribeCertificate", apex_validated
    )
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org"],
        "ServiceTimeout": "120",
    }

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "not yet validated: 'www.example.org'" in answer.reason
    assert "'example.com'" not in answer.reason


def _describe_not_found(times: int) -> Any:
    """DescribeCertificate answers ResourceNotFoundException `times` times, as ACM can for a
    certificate requested a moment ago (eventual consistency)."""
    left = [times]

    def hook(**_: Any) -> Any:
        if left[0] <= 0:
            return None
        left[0] -= 1
        return error_response("ResourceNotFoundException", "Could not find")

    return hook


def test_create_when_new_certificate_is_not_visible_at_first_waits_for_it(
    harness: Harness, runtime: Runtime
) -> None:
    runtime.clients.acm(REGION).meta.events.register(
        "before-call.acm.DescribeCertificate", _describe_not_found(3)
    )

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [answer.physical_id]


def test_create_when_certificate_never_becomes_visible_fails_saying_it_is_gone(
    harness: Harness, runtime: Runtime
) -> None:
    runtime.clients.acm(REGION).meta.events.register(
        "before-call.acm.DescribeCertificate", _describe_not_found(10**6)
    )

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "FAILED"
    assert "no longer exists" in answer.reason
    assert answer.physical_id == harness.certificates()[0]
