"""Issue 8 (points 3 to 6): only this resource's certificates are deleted or changed, rollbacks
always complete, and in-place updates of old or unusable certificates behave."""

from __future__ import annotations

from typing import Any

from dns_certificate.certificates import IDENTITY_TAG
from dns_certificate.context import Runtime
from dns_certificate.continuation import Continuation
from tests.integration.harness import REGION, Harness, stored_continuation
from tests.support.aws_errors import error_response


def refuse(runtime: Runtime, operation: str, code: str, times: int | None = None) -> list[int]:
    """Make the handler's ACM client answer `operation` with `code` (`times` calls, or always)."""
    made: list[int] = []

    def hook(model: Any, **_: Any) -> Any:
        if model.name != operation or (times is not None and len(made) >= times):
            return None
        made.append(1)
        return error_response(code, f"{operation} refused (injected)")

    runtime.clients.acm(REGION).meta.events.register("before-call.acm", hook)
    return made


def created(harness: Harness, **top_level: Any) -> tuple[str, dict[str, Any]]:
    event = harness.event("create-two-zones.json", **top_level)
    answer = harness.run(event)
    assert answer.status == "SUCCESS", answer.reason
    return answer.physical_id, event["ResourceProperties"]


def failed_create(harness: Harness) -> tuple[str, dict[str, Any]]:
    """A Create whose RequestCertificate answer was lost: FAILED with the placeholder id."""
    harness.faults.lose_request_response = True
    event = harness.event("create-two-zones.json")
    answer = harness.run(event)
    harness.faults.lose_request_response = False
    assert answer.status == "FAILED"
    assert not answer.physical_id.startswith("arn:")
    assert len(harness.certificates()) == 1
    return answer.physical_id, event["ResourceProperties"]


def update(
    harness: Harness, arn: str, old: dict[str, Any], new: dict[str, Any], **top: Any
) -> dict[str, Any]:
    return harness.event(
        "update-tags.json", properties=new, old_properties=old, physical_id=arn, **top
    )


# ---- Delete ---------------------------------------------------------------------------------


def test_delete_when_certificate_belongs_to_another_logical_id_leaves_it_and_succeeds(
    harness: Harness,
) -> None:
    other, _ = created(harness, LogicalResourceId="Other")

    answer = harness.run(harness.event("delete.json", physical_id=other))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [other]
    assert harness.calls.of("acm", "DeleteCertificate") == []


def test_delete_when_certificate_belongs_to_another_stack_leaves_it_and_succeeds(
    harness: Harness,
) -> None:
    other_stack = "arn:aws:cloudformation:eu-west-1:123456789012:stack/other/0f1e2d3c"
    other, _ = created(harness, StackId=other_stack)

    answer = harness.run(harness.event("delete.json", physical_id=other))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [other]
    assert harness.calls.of("acm", "DeleteCertificate") == []


def test_rollback_delete_when_list_certificates_is_denied_succeeds(
    harness: Harness, runtime: Runtime
) -> None:
    placeholder, properties = failed_create(harness)
    refuse(runtime, "ListCertificates", "AccessDeniedException")

    answer = harness.run(
        harness.event("delete.json", properties=properties, physical_id=placeholder)
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == placeholder


def test_rollback_delete_when_list_certificates_is_throttled_until_the_deadline_succeeds(
    harness: Harness, runtime: Runtime
) -> None:
    """Best effort: a search AWS keeps throttling must not leave the stack ROLLBACK_FAILED."""
    placeholder, properties = failed_create(harness)
    refuse(runtime, "ListCertificates", "ThrottlingException")
    properties = {**properties, "ServiceTimeout": "300"}

    answer = harness.run(
        harness.event("delete.json", properties=properties, physical_id=placeholder)
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == placeholder


# ---- continuations that name another certificate ---------------------------------------------
# Issue 18: a caller can no longer craft a continuation state (the event carries a reference to
# a state the provider stored). A forged one is refused before any AWS call (test_authority.py);
# these store the state as the provider would, to show that even a state of the provider's own
# naming another resource's certificate steers nothing (the registry decides, not the state).


def stored_replacement(
    harness: Harness, arn: str, old: dict[str, Any], victim: str
) -> dict[str, Any]:
    now = harness.clock.now()
    state = Continuation(
        "replace", now, now + 600, hop=1, phase="requested", certificate_arn=victim
    )
    event = harness.event("update-replace.json", physical_id=arn, old_properties=old)
    return stored_continuation(event, state)


def test_stored_replacement_state_naming_another_certificate_when_it_fails_leaves_it_alone(
    harness: Harness,
) -> None:
    """A failing replacement discards "its" certificate: never one this request did not make."""
    victim, _ = created(harness, LogicalResourceId="Other")
    arn, old = created(harness)
    harness.faults.failing[victim] = ("REVOKED", "KEY_COMPROMISE", 0)

    answer = harness.invoke(stored_replacement(harness, arn, old, victim))

    assert answer is not None
    assert answer.status == "FAILED"
    assert harness.calls.of("acm", "DeleteCertificate") == []
    assert harness.certificates() == sorted([arn, victim])


def test_forged_replacement_continuation_when_it_names_another_certificate_is_refused(
    harness: Harness,
) -> None:
    """The attack as it was before issue 18 (the state in the event): now refused unanswered,
    with no AWS call."""
    victim, _ = created(harness, LogicalResourceId="Other")
    arn, old = created(harness)
    harness.faults.failing[victim] = ("REVOKED", "KEY_COMPROMISE", 0)
    now = harness.clock.now()
    forged = {
        "action": "replace",
        "started_at": now,
        "deadline": now + 600,
        "hop": 1,
        "phase": "requested",
        "certificate_arn": victim,
    }
    event = harness.event(
        "update-replace.json", physical_id=arn, old_properties=old, Continuation=forged
    )
    mark = harness.calls.mark()

    answer = harness.invoke(event)

    assert answer is None and harness.answers_for(event) == []
    assert harness.calls.calls[mark:] == []
    assert harness.certificates() == sorted([arn, victim])


def test_stored_in_place_state_naming_another_certificate_fails_untouched(
    harness: Harness,
) -> None:
    victim, _ = created(harness, LogicalResourceId="Other")
    arn, old = created(harness)
    now = harness.clock.now()
    state = Continuation(
        "in_place", now, now + 600, hop=1, phase="untouched", certificate_arn=victim
    )
    victim_tags = harness.tags(victim)
    mark = harness.calls.mark()

    answer = harness.invoke(stored_continuation(update(harness, arn, old, old), state))

    assert answer is not None
    assert answer.status == "FAILED"
    assert answer.physical_id == arn
    assert harness.calls.since(mark, "acm") == []
    assert harness.calls.since(mark, "route53") == []
    assert harness.tags(victim) == victim_tags


# ---- in-place updates -----------------------------------------------------------------------


def test_in_place_update_when_certificate_was_created_hours_ago_waits_for_issuance(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    harness.clock.advance(5 * 3600)
    harness.faults.pending_describes = harness.faults.describes[arn] + 3
    new = {**old, "Tags": [{"Key": "team", "Value": "web"}]}
    sleeps_before = len(harness.clock.sleeps)

    answer = harness.run(update(harness, arn, old, new))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert len(harness.clock.sleeps) > sleeps_before  # it waited, rather than failing at once
    assert harness.tags(arn)["team"] == "web"


def test_update_when_certificate_expired_and_tags_change_replaces_it(harness: Harness) -> None:
    arn, old = created(harness)
    harness.faults.failing[arn] = ("EXPIRED", "", 0)
    new = {**old, "Tags": [{"Key": "team", "Value": "web"}]}

    answer = harness.run(update(harness, arn, old, new))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != arn
    assert answer.physical_id in harness.certificates()
    assert harness.tags(answer.physical_id)["team"] == "web"
    assert harness.tags(arn)["team"] == "platform"  # the expired one left as it was


def test_rollback_update_when_certificate_expired_answers_success_untouched(
    harness: Harness,
) -> None:
    """The update back to the old properties after a failed update: nothing would change."""
    arn, original = created(harness)
    harness.faults.failing[arn] = ("EXPIRED", "", 0)
    failed_update = {**original, "Tags": [{"Key": "team", "Value": "web"}]}
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, failed_update, original))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    touching = ("RequestCertificate", "AddTagsToCertificate", "RemoveTagsFromCertificate")
    assert [c for c in harness.calls.since(mark, "acm") if c.operation in touching] == []
    assert harness.calls.since(mark, "route53", "ChangeResourceRecordSets") == []


def test_update_when_only_tags_change_on_certificate_without_identity_tag_is_in_place(
    harness: Harness,
) -> None:
    arn, old = created(harness)
    identity = harness.tags(arn)[IDENTITY_TAG]
    harness.acm().remove_tags_from_certificate(
        CertificateArn=arn, Tags=[{"Key": IDENTITY_TAG, "Value": identity}]
    )
    mark = harness.calls.mark()
    new = {**old, "Tags": [{"Key": "team", "Value": "web"}]}

    answer = harness.run(update(harness, arn, old, new))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.tags(arn)["team"] == "web"
