"""The local CloudFormation's checks that the end-to-end tests rely on, with a fake function.

Every end-to-end test asserts `problems == []` and one answer per request: that means something
only if the driver reports a second answer, a malformed answer and a function that raised. The
handler is tested on events shaped like CloudFormation's: properties as strings, and the ids an
Update and a Delete carry. Everything else the driver does (hand-offs, no answer, its own
bookkeeping) the end-to-end tests check for themselves.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.answers import AnswerServer
from local.driver import LocalCloudFormation


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
    """`behaviour(event)` plays the function; every event is kept."""

    def __init__(self, behaviour: Callable[[dict[str, Any]], None]):
        self.behaviour = behaviour
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def lambda_handler(self, event: dict[str, Any], context: Any) -> None:
        with self._lock:
            self.events.append(event)
        self.behaviour(event)


Run = Callable[[FakeFunction], LocalCloudFormation]


@pytest.fixture
def run(answer_server: AnswerServer) -> Iterator[Run]:
    drivers: list[LocalCloudFormation] = []

    def start(function: FakeFunction) -> LocalCloudFormation:
        driver = LocalCloudFormation(
            function=function, answers=answer_server, grace=0.3, retry_delay=0.05, answer_timeout=5
        )
        drivers.append(driver.start())
        return driver

    yield start
    for driver in drivers:
        driver.close(wait=2.0)


def test_events_are_built_like_cloudformation_builds_them(
    run: Run,
) -> None:
    function = FakeFunction(put)
    cfn = run(function)
    stack = cfn.stack("events")

    stack.create({"R": {"DomainName": "example.com", "ServiceTimeout": 300, "Wait": True}})
    stack.update({"R": {"DomainName": "example.com", "Tags": [{"Key": "n", "Value": 1}]}})
    stack.delete()

    create, update, delete = function.events
    assert [e["RequestType"] for e in function.events] == ["Create", "Update", "Delete"]
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


def test_a_second_answer_is_a_problem(run: Run) -> None:
    def twice(event: dict[str, Any]) -> None:
        put(event)
        put(event, Status="FAILED", Reason="late")

    cfn = run(FakeFunction(twice))

    step = cfn.stack("twice").create({"R": {"DomainName": "example.com"}}).steps[0]

    assert step.status == "SUCCESS"  # CloudFormation takes the first
    assert step.answers == 2
    assert any("answered 2 times" in problem for problem in step.problems)


def test_malformed_answers_are_problems(run: Run) -> None:
    def sloppy(event: dict[str, Any]) -> None:
        put(event, RequestId="someone-else", Data={"Big": "x" * 5000}, Status="FAILED")

    cfn = run(FakeFunction(sloppy))

    step = cfn.stack("sloppy").create({"R": {"DomainName": "example.com"}}).steps[0]

    problems = " | ".join(step.problems)
    assert "4096" in problems
    assert "RequestId in the answer is not the request's" in problems
    assert "FAILED answer has no Reason" in problems


def test_a_function_error_is_retried_like_lambda_retries_async_invocations(
    run: Run,
) -> None:
    def failing_twice(event: dict[str, Any]) -> None:
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
