"""The one builder of AWS error responses in the test suite.

Tests make an AWS call fail the way AWS would by returning a response from a botocore
`before-call` hook: botocore then parses it like a real error, retries it under its own retry
rules (a throttling code is retried, an access denial is not) and raises the same
`botocore.exceptions.ClientError` the handler sees in production.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders


def error_response(
    code: str, message: str = "", *, status: int = 400
) -> tuple[AWSResponse, dict[str, Any]]:
    """What a `before-call` hook returns to make the call fail with this error code."""
    http = AWSResponse("https://aws.invalid/", status, HTTPHeaders(), None)
    return http, {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
