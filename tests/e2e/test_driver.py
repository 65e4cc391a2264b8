"""The local CloudFormation itself: the events it sends and the answers it refuses.

A fake function stands in for the handler, so each protocol mistake can be made on purpose;
if the driver did not catch these, the end-to-end tests could pass on a handler that
CloudFormation would reject.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.answers import AnswerServer
from local.driver import RESOURCE_TYPE, LocalCloudFormation

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def put(event: dict[str, Any], **changes: Any) -> None:
    body = {
        "Status": "SUCCESS",
        "Reason": "",
        "PhysicalResourceId": event.get("PhysicalResourceId") or "id-1",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": {},
        **changes,
    }
    request = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


class FakeFunction:
    """`behaviour(event, context, driver)` plays the function; every event is kept."""

    def __init__(self, behaviour: Callable[[dict[str, Any], Any, LocalCloudFormation], None]):
        self.behaviour = behaviour
        self.events: list[dict[str, Any]] = []
        self.remaining: list[int] = []
        self.driver: LocalCloudFormation | None = None
        self._lock = threading.Lock()

    def lambda_handler(self, event: dict[str, Any], context: Any) -> None:
        with self._lock:
            self.events.append(event)
            self.remaining.append(context.get_remaining_time_in_millis())
        assert self.driver is not None
        self.behaviour(event, context, self.driver)


@pytest.fixture
def run(answer_server: AnswerServer) -> Iterator[Callable[..., LocalCloudFormation]]:
    drivers: list[LocalCloudFormation] = []

    def start(function: FakeFunction, **options: Any) -> LocalCloudFormation:
        settings: dict[str, Any] = {"grace": 0.3, "retry_delay": 0.05, "answer_timeout": 5.0}
        settings.update(options)
        driver = LocalCloudFormation(function=function, answers=answer_server, **settings)
        function.driver = driver
        drivers.append(driver.start())
        return driver

    yield start
    for driver in drivers:
        driver.close(wait=2.0)


def test_events_are_built_like_cloudformation_builds_them(
    run: Callable[..., Any], answer_server: AnswerServer
) -> None:
    function = FakeFunction(lambda event, context, driver: put(event))
    cfn = run(function)
    stack = cfn.stack("events")

    stack.create({"R": {"DomainName": "example.com", "ServiceTimeout": 300, "Wait": True}})
    stack.update({"R": {"DomainName": "example.com", "Tags": [{"Key": "n", "Value": 1}]}})
    stack.delete()

    create, update, delete = function.events
    assert [e["RequestType"] for e in function.events] == ["Create", "Update", "Delete"]
    for event in function.events:
        assert UUID.match(event["RequestId"])
        assert event["StackId"] == stack.stack_id
        assert event["StackId"].startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/")
        assert event["LogicalResourceId"] == "R"
        assert event["ResourceType"] == RESOURCE_TYPE
        assert event["ServiceToken"] == cfn.function_arn
        assert event["ResourceProperties"]["ServiceToken"] == cfn.function_arn
        assert event["ResponseURL"].startswith(answer_server.base_url + "/")
    assert len({e["RequestId"] for e in function.events}) == 3
    assert len({e["ResponseURL"] for e in function.events}) == 3
    assert create["ResourceProperties"]["ServiceTimeout"] == "300"  # every scalar a string
    assert create["ResourceProperties"]["Wait"] == "true"
    assert "PhysicalResourceId" not in create and "OldResourceProperties" not in create
    assert update["PhysicalResourceId"] == "id-1"
    assert update["OldResourceProperties"] == create["ResourceProperties"]
    assert update["ResourceProperties"]["Tags"] == [{"Key": "n", "Value": "1"}]
    assert delete["PhysicalResourceId"] == "id-1"
    assert "OldResourceProperties" not in delete
    # The context counts down from the function's timeout.
    assert all(40_000 < remaining <= 45_000 for remaining in function.remaining)


def test_a_second_answer_is_a_problem(run: Callable[..., Any]) -> None:
    def twice(event: dict[str, Any], context: Any, driver: Any) -> None:
        put(event)
        put(event, Status="FAILED", Reason="late")

    cfn = run(FakeFunction(twice))

    step = cfn.stack("twice").create({"R": {"DomainName": "example.com"}}).steps[0]

    assert step.status == "SUCCESS"  # CloudFormation takes the first
    assert step.answers == 2
    assert any("answered 2 times" in problem for problem in step.problems)


def test_malformed_answers_are_problems(run: Callable[..., Any]) -> None:
    def sloppy(event: dict[str, Any], context: Any, driver: Any) -> None:
        put(event, RequestId="someone-else", Data={"Big": "x" * 5000}, Status="FAILED")

    cfn = run(FakeFunction(sloppy))

    step = cfn.stack("sloppy").create({"R": {"DomainName": "example.com"}}).steps[0]

    problems = " | ".join(step.problems)
    assert "4096" in problems
    assert "RequestId in the answer is not the request's" in problems
    assert "FAILED answer has no Reason" in problems


def test_no_answer_is_reported_and_rolled_back(run: Callable[..., Any]) -> None:
    cfn = run(FakeFunction(lambda event, context, driver: None), answer_timeout=0.5)

    operation = cfn.stack("silent").create({"R": {"DomainName": "example.com"}})

    assert operation.status == "ROLLBACK_FAILED"  # the rollback Delete goes unanswered too
    create, rollback = operation.steps
    assert create.status == rollback.status == "NO_ANSWER"
    assert rollback.physical_id_sent  # a generated id: CloudFormation deletes it anyway
    assert any("no answer" in problem for problem in create.problems)


def test_a_function_error_is_retried_like_lambda_retries_async_invocations(
    run: Callable[..., Any],
) -> None:
    def failing_twice(event: dict[str, Any], context: Any, driver: Any) -> None:
        if len(fake.events) < 3:
            raise RuntimeError(f"boom near {event['ResponseURL']}")
        put(event)

    fake = FakeFunction(failing_twice)
    cfn = run(fake)

    step = cfn.stack("retried").create({"R": {"DomainName": "example.com"}}).steps[0]

    assert step.status == "SUCCESS"
    assert [inv.attempt for inv in step.invocations] == [0, 1, 2]
    assert sum("raised RuntimeError" in problem for problem in step.problems) == 2
    assert all("X-Amz-Signature" not in problem for problem in step.problems)  # scrubbed


def test_a_continuation_runs_as_a_new_invocation(run: Callable[..., Any]) -> None:
    def hand_off_once(event: dict[str, Any], context: Any, driver: LocalCloudFormation) -> None:
        if "Continuation" not in event:
            driver.invoke_self(context.invoked_function_arn, {**event, "Continuation": {"hop": 1}})
        else:
            put(event)

    function = FakeFunction(hand_off_once)
    cfn = run(function)

    step = cfn.stack("hop").create({"R": {"DomainName": "example.com"}}).steps[0]

    assert step.ok
    assert [inv.hop for inv in step.invocations] == [0, 1]
    assert step.hops == 1
    assert function.events[1]["RequestId"] == function.events[0]["RequestId"]
    with pytest.raises(RuntimeError):
        cfn.invoke_self("arn:aws:lambda:us-east-1:123456789012:function:other", function.events[0])
