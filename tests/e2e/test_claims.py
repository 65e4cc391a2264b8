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


#: Longer than the table client's read timeout (clients.TABLE_CLIENT_CONFIG: 1.5 s): the write
#: lands, the client gives up on its response and sends it again, which meets the condition.
LATE_BY = 2.0


def test_claims_whose_write_landed_but_answered_too_late_are_ours_and_answered_once(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """Issue 24 point 1: the hop claim and the answer claim (each a conditional PutItem) and
    the status board's and schedule's claims (UpdateItem) succeed on the table but their
    responses come too late: each retry meets its own claim, which is ours. Before, the hop's
    retry took its own claim for another delivery's and the request was never answered."""
    emulator.rules.hang("dynamodb:PutItem", LATE_BY, count=2, scope="late-claims")
    emulator.rules.hang("dynamodb:UpdateItem", LATE_BY, count=2, scope="late-claims")
    stack = cfn.stack("late-claims")

    operation = stack.create({"Certificate": {"DomainName": "late.example.com"}})

    assert emulator.rules.pending_faults("late-claims") == 0  # every late answer was given
    assert operation.status == "CREATE_COMPLETE", operation.problems
    create = operation.step("Certificate", "create")
    assert create.status == "SUCCESS"
    assert create.answers == 1
    assert operation.problems == []
    assert emulator.certificate_arns() == [create.physical_id]
    assert stack.delete().status == "DELETE_COMPLETE"
