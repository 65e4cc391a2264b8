"""A Lambda context whose remaining time counts down for real (or on an injected clock)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable


class LambdaContext:
    def __init__(
        self,
        *,
        timeout_seconds: float = 900.0,
        function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:dns-certificate",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._deadline = clock() + timeout_seconds
        self.invoked_function_arn = function_arn
        self.function_name = function_arn.split(":")[-1]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))
