"""Waits longer than one invocation: the handler hands off to a new invocation of itself."""

from __future__ import annotations

from local.answers import AnswerServer
from local.driver import LocalCloudFormation
from local.emulator import Emulator

#: The handler hands off when less than 30 s remain: with 31 s, after about one second.
SHORT_FUNCTION_TIMEOUT = 31.0


def test_issuance_that_needs_continuations(
    emulator: Emulator, hosted_zones: dict[str, str], answer_server: AnswerServer
) -> None:
    emulator.rules.settings.issue_delay = 2.0
    emulator.rules.settings.records_delay = 0.5
    with LocalCloudFormation(
        function_timeout=SHORT_FUNCTION_TIMEOUT, grace=0.3, answers=answer_server
    ) as cfn:
        stack = cfn.stack("continued")

        operation = stack.create({"Certificate": {"DomainName": "www.example.org"}})

    assert operation.status == "CREATE_COMPLETE", operation.step("Certificate").reason
    step = operation.step("Certificate")
    # No protocol problem: exactly one answer, no invocation over its time, none left running.
    assert step.problems == []
    assert step.answers == 1
    assert step.hops >= 1
    hops = [invocation.hop for invocation in step.invocations]
    assert hops == list(range(len(hops)))  # each continuation ran once, in order
    assert all(
        invocation.attempt == 0 and invocation.error is None for invocation in step.invocations
    )
    arn = step.physical_id
    certificate = emulator.describe(arn)
    assert certificate is not None and certificate["Status"] == "ISSUED"
    # The continuations carried the state on: no second certificate, no second request.
    assert emulator.certificate_arns() == [arn]
    assert emulator.rules.calls["acm:RequestCertificate"] == 1


def test_validation_that_never_completes_fails_before_the_service_timeout(
    emulator: Emulator, hosted_zones: dict[str, str], answer_server: AnswerServer
) -> None:
    """ACM never validates: across continuations the handler answers FAILED before
    CloudFormation's ServiceTimeout (the driver waits no longer than that), and the rollback
    Delete removes the pending certificate."""
    emulator.rules.settings.issue_delay = 3600.0
    with LocalCloudFormation(
        function_timeout=SHORT_FUNCTION_TIMEOUT, grace=0.3, answers=answer_server
    ) as cfn:
        stack = cfn.stack("never-validated")

        operation = stack.create(
            {"Certificate": {"DomainName": "example.com", "ServiceTimeout": 5}}
        )

    assert operation.status == "ROLLBACK_COMPLETE"
    assert operation.problems == []
    create = operation.step("Certificate", "create")
    assert create.status == "FAILED"
    # The handler's own deadline answer (the driver gives up at ServiceTimeout with no reason).
    assert "PENDING_VALIDATION" in create.reason
    assert create.hops >= 2
    assert operation.step("Certificate", "rollback").status == "SUCCESS"
    assert emulator.certificate_arns() == []
