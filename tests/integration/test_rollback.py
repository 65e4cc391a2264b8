"""Issue 3: the sequences CloudFormation plays when a step fails, and after a replacement."""

from __future__ import annotations

from typing import Any

from tests.integration.harness import Harness


def create(harness: Harness) -> tuple[str, dict[str, Any]]:
    event = harness.event("create-two-zones.json")
    answer = harness.run(event)
    assert answer.status == "SUCCESS", answer.reason
    return answer.physical_id, event["ResourceProperties"]


def replace(harness: Harness, old_arn: str, old: dict[str, Any]) -> dict[str, Any]:
    return harness.event("update-replace.json", physical_id=old_arn, old_properties=old)


def test_rollback_when_create_fails_after_request_answers_the_arn_and_delete_removes_it(
    harness: Harness,
) -> None:
    harness.faults.failure = ("FAILED", "CAA_ERROR")
    harness.faults.failure_after_describes = 1
    create_event = harness.event("create-two-zones.json")
    failed = harness.run(create_event)
    assert failed.status == "FAILED"
    assert failed.physical_id == harness.certificates()[0]

    rollback = harness.event(
        "delete.json",
        properties=create_event["ResourceProperties"],
        physical_id=failed.physical_id,
    )
    answer = harness.run(rollback)

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []


def test_rollback_when_replacement_fails_answers_old_id_and_deletes_the_new_certificate(
    harness: Harness,
) -> None:
    old_arn, old = create(harness)
    harness.faults.failure = ("FAILED", "CAA_ERROR")
    harness.faults.failure_after_describes = 1

    answer = harness.run(replace(harness, old_arn, old))

    assert answer.status == "FAILED"
    assert "CAA_ERROR" in answer.reason
    assert answer.physical_id == old_arn
    (requested,) = harness.calls.of("acm", "RequestCertificate")[1:]
    assert requested.params["SubjectAlternativeNames"]  # the replacement was requested...
    assert harness.certificates() == [old_arn]  # ...and deleted; the old one left alone


def test_rollback_when_replacement_failed_update_back_keeps_old_certificate_only(
    harness: Harness,
) -> None:
    old_arn, old = create(harness)
    harness.faults.failure = ("FAILED", "CAA_ERROR")
    harness.faults.failure_after_describes = 1
    update = replace(harness, old_arn, old)
    assert harness.run(update).status == "FAILED"
    harness.faults.failure = None
    mark = harness.calls.mark()

    rollback = harness.event(
        "update-replace.json",
        properties=old,
        old_properties=update["ResourceProperties"],
        physical_id=old_arn,
    )
    answer = harness.run(rollback)

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == old_arn
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.certificates() == [old_arn]


def test_rollback_when_replacement_fails_after_a_hand_off_still_deletes_new_certificate(
    harness: Harness,
) -> None:
    old_arn, old = create(harness)
    harness.faults.failure = ("VALIDATION_TIMED_OUT", "Validation timed out")
    harness.faults.failure_after_describes = 2
    update = replace(harness, old_arn, old)
    assert harness.invoke(update, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads

    answer = harness.invoke(payload)

    assert answer is not None
    assert answer.status == "FAILED"
    assert answer.physical_id == old_arn
    assert harness.certificates() == [old_arn]


def test_rollback_when_new_name_has_no_zone_fails_with_old_id_and_requests_nothing(
    harness: Harness,
) -> None:
    old_arn, old = create(harness)
    new = {**old, "SubjectAlternativeNames": [*old["SubjectAlternativeNames"], "x.example.net"]}
    mark = harness.calls.mark()

    answer = harness.run(
        harness.event(
            "update-replace.json", properties=new, old_properties=old, physical_id=old_arn
        )
    )

    assert answer.status == "FAILED"
    assert "'x.example.net'" in answer.reason
    assert answer.physical_id == old_arn
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.certificates() == [old_arn]


def test_cleanup_when_replacement_succeeded_deletes_old_and_keeps_new_certificate(
    harness: Harness,
) -> None:
    old_arn, old = create(harness)
    replaced = harness.run(replace(harness, old_arn, old))
    assert replaced.status == "SUCCESS", replaced.reason
    assert replaced.physical_id != old_arn

    cleanup = harness.event("delete.json", properties=old, physical_id=old_arn)
    answer = harness.run(cleanup)

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == old_arn
    assert harness.certificates() == [replaced.physical_id]
