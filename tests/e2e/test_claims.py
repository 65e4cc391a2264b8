"""Who may conclude that another delivery is doing the work (issues 24, 19 and 18), end to end:
claims in the requests table through the local CloudFormation and the strict emulator."""

from __future__ import annotations

from local.driver import Duplicate, LocalCloudFormation
from local.emulator import Emulator


def test_forged_delivery_first_cannot_take_the_answer_of_cloudformations_own(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """Issue 18 point 6: an event with the request's StackId, RequestId and LogicalResourceId but
    another ResponseURL, delivered first, runs as its own request; CloudFormation's own
    delivery still gets exactly one answer."""
    cfn.duplicate(Duplicate("hijacked", "Create", forged=True))
    stack = cfn.stack("hijacked")

    operation = stack.create({"Certificate": {"DomainName": "www.example.com"}})

    assert operation.status == "CREATE_COMPLETE", operation.problems
    create = operation.step("Certificate", "create")
    assert create.status == "SUCCESS"
    assert create.answers == 1
    assert operation.problems == []
    forged = cfn.forged_answers(create.request_id)
    assert len(forged) == 1  # the forgery ran (and was answered) before the real delivery
    assert forged[0].physical_id == create.physical_id  # one certificate (the request's token)
    assert emulator.certificate_arns() == [create.physical_id]
