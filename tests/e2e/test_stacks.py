"""Stacks as CloudFormation runs them: concurrent creates, rollbacks, in-use deletes, throttling."""

from __future__ import annotations

from typing import Any

from local.driver import LocalCloudFormation
from local.emulator import Emulator, validation_record

LOAD_BALANCER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
)


def _certificate(name: str, *sans: str, **extra: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"DomainName": name, **extra}
    if sans:
        properties["SubjectAlternativeNames"] = list(sans)
    return properties


def test_three_certificates_created_concurrently(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """Three resources in one stack, requested at once; two of them share a validation CNAME
    (example.com), so their record writes race in the same zone. ACM shows the records late."""
    emulator.rules.settings.records_delay = 0.3
    stack = cfn.stack("three")
    template = {
        "Apex": _certificate("example.com", "*.example.com"),
        "Org": _certificate("www.example.org"),
        "Both": _certificate("example.com", "api.example.org", ServiceTimeout=300),
    }

    created = stack.create(template)

    assert created.status == "CREATE_COMPLETE", [s.describe() for s in created.steps]
    assert created.problems == []
    arns = {step.logical_id: step.physical_id for step in created.steps}
    assert len(set(arns.values())) == 3
    # CloudFormation sent the three requests together: their invocations overlapped.
    first = [step.invocations[0] for step in created.steps]
    assert max(inv.started for inv in first) < min(inv.ended or 0.0 for inv in first)
    for logical_id, properties in template.items():
        certificate = emulator.describe(arns[logical_id])
        assert certificate is not None
        assert certificate["Status"] == "ISSUED"
        names = {properties["DomainName"], *properties.get("SubjectAlternativeNames", [])}
        assert set(certificate["SubjectAlternativeNames"]) == names
    com = emulator.cname_records(hosted_zones["example.com"])
    org = emulator.cname_records(hosted_zones["example.org"])
    assert com == dict([validation_record("example.com")])
    assert org == dict([validation_record("www.example.org"), validation_record("api.example.org")])

    deleted = stack.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.problems == []
    assert emulator.certificate_arns() == []


def test_rollback_after_a_failed_create_leaves_no_certificate(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """ACM refuses one name (CAA): that resource answers FAILED with its ARN, the stack rolls
    back, and the Deletes remove both certificates, the failed one included."""
    emulator.rules.fail_validation("www.example.org", reason="CAA_ERROR")
    stack = cfn.stack("rollback")

    operation = stack.create(
        {"Good": _certificate("example.com"), "Bad": _certificate("www.example.org")}
    )

    assert operation.status == "ROLLBACK_COMPLETE"
    assert operation.problems == []
    bad = operation.step("Bad", "create")
    assert bad.status == "FAILED"
    assert "FAILED" in bad.reason and "CAA_ERROR" in bad.reason
    assert bad.physical_id.startswith("arn:aws:acm:")
    rollback = operation.steps_for("Bad", "rollback") + operation.steps_for("Good", "rollback")
    assert [step.request_type for step in rollback] == ["Delete", "Delete"]
    assert rollback[0].physical_id_sent == bad.physical_id
    assert all(step.status == "SUCCESS" for step in rollback)
    assert emulator.certificate_arns() == []


def test_rollback_when_the_request_certificate_response_was_lost(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """ACM made the certificate but its answer never reached the function: the Create fails
    without an ARN, and the rollback Delete (with a physical id that is not an ARN) still finds
    and deletes the certificate by its ownership tags."""
    emulator.rules.inject_fault(
        "acm:RequestCertificate", "InvalidParameterException", after_effect=True
    )
    stack = cfn.stack("lost-response")

    operation = stack.create({"Certificate": _certificate("example.com", "www.example.org")})

    assert operation.status == "ROLLBACK_COMPLETE"
    assert operation.problems == []
    create = operation.step("Certificate", "create")
    assert create.status == "FAILED"
    assert not create.physical_id.startswith("arn:")
    assert emulator.rules.calls["acm:RequestCertificate"] == 1  # the certificate was made
    delete = operation.step("Certificate", "rollback")
    assert delete.physical_id_sent == create.physical_id
    assert delete.status == "SUCCESS"
    assert emulator.certificate_arns() == []


def test_failed_replacement_rolls_back_to_the_old_certificate(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = cfn.stack("failed-update")
    created = stack.create({"Certificate": _certificate("example.com")})
    assert created.status == "CREATE_COMPLETE"
    old_arn = stack.physical_id("Certificate")
    emulator.rules.fail_validation("api.example.org", reason="CAA_ERROR")

    updated = stack.update({"Certificate": _certificate("example.com", "api.example.org")})

    assert updated.status == "UPDATE_ROLLBACK_COMPLETE"
    assert updated.problems == []
    assert updated.step("Certificate", "update").status == "FAILED"
    rollback = updated.step("Certificate", "rollback")
    assert rollback.request_type == "Update"
    assert rollback.physical_id_sent == old_arn
    assert rollback.status == "SUCCESS"
    assert rollback.physical_id == old_arn  # the old certificate is kept, not replaced again
    assert emulator.certificate_arns() == [old_arn]  # the failed replacement was discarded
    certificate = emulator.describe(old_arn)
    assert certificate is not None and certificate["Status"] == "ISSUED"
    assert stack.physical_id("Certificate") == old_arn


def test_delete_waits_while_the_certificate_is_in_use(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """A load balancer still holds the certificate for the first delete attempt (ACM answers
    ResourceInUseException, as it does for a while after the listener is gone): the Delete
    waits and retries instead of failing the stack."""
    stack = cfn.stack("in-use")
    # Made by the provider (its records name it; a certificate merely tagged for the stack is
    # never deleted: test_authority.py).
    created = stack.create({"Certificate": _certificate("example.com")})
    assert created.succeeded, created.step("Certificate").reason
    arn = stack.physical_id("Certificate")
    emulator.rules.mark_in_use(arn, LOAD_BALANCER, refuse_deletes=1)
    properties = stack.request_properties(_certificate("example.com"))

    deleted = cfn.send(
        "delete", "Delete", stack.stack_id, "Certificate", properties, physical_id=arn
    )

    assert deleted.status == "SUCCESS", deleted.reason
    assert deleted.problems == []
    assert emulator.rules.calls["acm:DeleteCertificate"] == 2  # refused once, then deleted
    assert emulator.describe(arn) is None


def test_throttled_apis_slow_the_lifecycle_down_but_do_not_break_it(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    emulator.rules.throttle(1.0)  # one request per second per API, ACM and Route 53
    # At 1 request/s per API the lifecycle takes about a minute (hand-offs included): what is
    # checked is that it completes, not how fast; CloudFormation would wait up to an hour.
    cfn.answer_timeout = 180.0
    stack = cfn.stack("throttled")

    created = stack.create({"Certificate": _certificate("example.com", "www.example.org")})
    deleted = stack.delete()
    throttled = sum(emulator.rules.throttled.values())
    emulator.rules.throttle(None)  # the test's own reads below

    assert created.status == "CREATE_COMPLETE", created.step("Certificate").reason
    assert deleted.status == "DELETE_COMPLETE"
    assert created.problems == [] and deleted.problems == []
    assert throttled > 0  # throttling did happen, and was retried
    assert emulator.certificate_arns() == []
