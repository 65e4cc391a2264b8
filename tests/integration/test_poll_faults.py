"""Polls go through a client without retries: what botocore would have retried, the wait does.

botocore's standard mode retries 500/502/503/504 and RequestTimeout within the call; the poller
(`clients.acm_poller`, one attempt) hands every such answer to the wait, which must poll again
rather than fail the resource on one transient error.
"""

from __future__ import annotations

from typing import Any

import pytest

from dns_certificate.context import Runtime
from tests.integration.harness import REGION, Harness
from tests.support.aws_errors import error_response


class Failing:
    """Answers the next `times` calls of `operation` with `code` at HTTP `status`."""

    def __init__(self, operation: str, code: str, status: int, times: int) -> None:
        self.operation, self.code, self.status, self.left = operation, code, status, times
        self.injected = 0

    def __call__(self, model: Any, **_: Any) -> Any:
        if model.name != self.operation or self.left <= 0:
            return None
        self.left -= 1
        self.injected += 1
        return error_response(self.code, "transient", status=self.status)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InternalFailure", 500),
        ("ServiceUnavailable", 503),
        ("BadGateway", 502),
        ("RequestTimeoutException", 400),
    ],
)
def test_create_when_a_poll_gets_a_transient_server_error_polls_again_and_succeeds(
    harness: Harness, runtime: Runtime, code: str, status: int
) -> None:
    failing = Failing("DescribeCertificate", code, status, times=3)
    runtime.clients.acm(REGION).meta.events.register("before-call.acm", failing)

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS", answer.reason
    assert failing.injected == 3
    assert harness.certificates() == [answer.physical_id]
