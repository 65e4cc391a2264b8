"""The presigned ResponseURL, played by a local HTTP server.

CloudFormation reads the provider's answer from an S3 object the provider PUTs to. This server
accepts those PUTs on 127.0.0.1, checks each the way CloudFormation would (JSON, required
fields, at most 4096 bytes, one answer per request) and keeps them for the caller to read.

Fault modes, for the URLs of one label (`new_url(label)`; the local CloudFormation labels each
request's URL with its stack, logical id and purpose, as the real URL names the stack):
refuse the first N PUTs to each URL (HTTP 503), refuse every PUT, or hang: hold the first N PUTs
for some seconds without taking them, then answer 503. Every PUT is counted as an attempt, taken
or not, so a test can tell one answer retried from two different answers.

What CloudFormation then knows of each resource (`physical_id_of`, and `answer_stack_resources`
for a boto3 client's DescribeStackResource) comes from the answers: the physical id of a
resource is the one its last SUCCESS answer gave.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 4096
REQUIRED_FIELDS = ("Status", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId")


@dataclass
class Answer:
    path: str
    raw: bytes
    body: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.body.get("Status"))

    @property
    def reason(self) -> str:
        return str(self.body.get("Reason", ""))

    @property
    def physical_id(self) -> str:
        return str(self.body.get("PhysicalResourceId", ""))

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.body.get("Data") or {})


def check_answer(raw: bytes) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    if len(raw) > MAX_BODY_BYTES:
        problems.append(
            f"body is {len(raw)} bytes; CloudFormation accepts at most {MAX_BODY_BYTES}"
        )
    try:
        body = json.loads(raw)
    except ValueError:
        return {}, [*problems, "body is not JSON"]
    if not isinstance(body, dict):
        return {}, [*problems, "body is not a JSON object"]
    for name in REQUIRED_FIELDS:
        if not body.get(name):
            problems.append(f"{name} is missing or empty")
    if body.get("Status") not in ("SUCCESS", "FAILED"):
        problems.append(f"Status {body.get('Status')!r} is not SUCCESS or FAILED")
    if len(str(body.get("PhysicalResourceId", "")).encode()) > 1024:
        problems.append("PhysicalResourceId is longer than 1 KB")
    if body.get("Status") == "FAILED" and not body.get("Reason"):
        problems.append("a FAILED answer has no Reason")
    return body, problems


@dataclass
class UrlFault:
    """What the URLs of a label do with PUTs: refuse the first `refuse` of each URL (None:
    every one), or hold the first `hang_count` for `hang_seconds` and then refuse them."""

    refuse: int | None = 0
    hang_seconds: float = 0.0
    hang_count: int = 0


@dataclass(frozen=True)
class Attempt:
    """One PUT as it arrived, taken or refused, whatever status it was given."""

    method: str
    target: str  # the path with its query, as the request line carried it
    headers: dict[str, str]  # names in lower case
    body: bytes
    status: int

    @property
    def raw(self) -> bytes:
        return self.body

    @property
    def code(self) -> int:
        return self.status


class AnswerServer:
    """Each request gets its own URL; `wait_for(url)` blocks until that URL was answered.

    A PUT answered with a 2xx status is an answer (`answers_for`); every PUT, refused or not,
    is an attempt (`attempts_for`).
    """

    def __init__(self, *, fail_first: int = 0, status_code: int = 200) -> None:
        self._answers: dict[str, list[Answer]] = {}
        self._in_order: list[Answer] = []
        self._attempts: dict[str, list[Attempt]] = {}
        self._started: dict[str, int] = {}  # PUTs begun per path (a hanging one included)
        self._faults: dict[str, UrlFault] = {}  # label -> fault
        self._closing = threading.Event()
        self._condition = threading.Condition()
        self._fail_first = fail_first
        self._status_code = status_code
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                path = self.path.split("?")[0]
                code, hang = server._fault_code(path)
                if code:  # refused by an injected fault: counted at once, answered after `hang`
                    with server._condition:
                        server._attempts.setdefault(path, []).append(
                            Attempt(
                                self.command,
                                self.path,
                                {k.lower(): v for k, v in self.headers.items()},
                                raw,
                                code,
                            )
                        )
                    server._closing.wait(hang)
                    server._reply(self, code)
                    return
                with server._condition:
                    if server._fail_first > 0:
                        server._fail_first -= 1
                        code = 503
                    else:
                        code = server._status_code
                        if 200 <= code < 300:
                            body, problems = check_answer(raw)
                            answer = Answer(path=path, raw=raw, body=body, problems=problems)
                            server._answers.setdefault(path, []).append(answer)
                            server._in_order.append(answer)
                            server._condition.notify_all()
                    headers = {key.lower(): value for key, value in self.headers.items()}
                    server._attempts.setdefault(path, []).append(
                        Attempt(self.command, self.path, headers, raw, code)
                    )
                server._reply(self, code)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, code: int) -> None:
        try:
            handler.send_response(code)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        except OSError:
            pass  # the sender gave up on a hanging PUT and closed the connection

    def __enter__(self) -> AnswerServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else host
        return f"http://{host_text}:{port}"

    def new_url(self, label: str = "") -> str:
        """A presigned-looking URL: the signature makes it a credential, like the real one.
        `label` (letters, digits, `-._`) goes into the path, where `set_fault` finds it."""
        token = uuid.uuid4().hex
        prefix = f"{label}/" if label else ""
        return f"{self.base_url}/responses/{prefix}{token}?X-Amz-Signature=secret{token}"

    def set_fault(self, label: str, fault: UrlFault | None) -> None:
        """PUTs to the URLs whose label starts with `label` meet `fault` (None lifts it)."""
        with self._condition:
            if fault is None:
                self._faults.pop(label, None)
            else:
                self._faults[label] = fault

    def _fault_code(self, path: str) -> tuple[int, float]:
        """(status code to refuse with or 0, seconds to hold the PUT first) for a new PUT."""
        label = path.removeprefix("/responses/").rpartition("/")[0]
        with self._condition:
            made = self._started.get(path, 0)
            self._started[path] = made + 1
            fault = next(
                (f for prefix, f in self._faults.items() if label.startswith(prefix)), None
            )
            if fault is None or not label:
                return 0, 0.0
            if made < fault.hang_count:
                return 503, fault.hang_seconds
            if fault.refuse is None or made - fault.hang_count < fault.refuse:
                return 503, 0.0
            return 0, 0.0

    def attempts_for(self, url: str) -> list[Attempt]:
        """Every PUT made to `url`, taken or refused, in order."""
        path = url.split("?")[0].removeprefix(self.base_url)
        with self._condition:
            return list(self._attempts.get(path, []))

    def set_status_code(self, code: int, fail_first: int = 0) -> None:
        with self._condition:
            self._status_code = code
            self._fail_first = fail_first

    def answers_for(self, url: str) -> list[Answer]:
        path = url.split("?")[0].removeprefix(self.base_url)
        with self._condition:
            return list(self._answers.get(path, []))

    def physical_id_of(self, stack_id: str, logical_id: str) -> str | None:
        """The resource's physical id as CloudFormation knows it: its last SUCCESS answer's."""
        with self._condition:
            found = None
            for answer in self._in_order:
                body = answer.body
                if (
                    answer.status == "SUCCESS"
                    and body.get("StackId") == stack_id
                    and body.get("LogicalResourceId") == logical_id
                ):
                    found = answer.physical_id
            return found

    def wait_for(self, url: str, timeout: float = 30.0) -> Answer:
        path = url.split("?")[0].removeprefix(self.base_url)
        with self._condition:
            if not self._condition.wait_for(lambda: path in self._answers, timeout=timeout):
                raise TimeoutError(f"no answer for {path} within {timeout} s")
            return self._answers[path][0]


def answer_stack_resources(client: Any, answers: AnswerServer) -> None:
    """Make a boto3 CloudFormation client answer DescribeStackResource as CloudFormation would
    for the stacks whose requests `answers` received (the local stacks exist nowhere else)."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ClientError

    def describe(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = params.get("body") or {}
        stack_id, logical_id = str(body.get("StackName")), str(body.get("LogicalResourceId"))
        physical_id = answers.physical_id_of(stack_id, logical_id)
        if not physical_id:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Resource {logical_id} does not exist for stack {stack_id}",
                    }
                },
                "DescribeStackResource",
            )
        detail = {
            "StackId": stack_id,
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical_id,
            "ResourceType": "Custom::DnsCertificate",
            "ResourceStatus": "CREATE_COMPLETE",
        }
        url = "https://cloudformation.amazonaws.com/"
        response = AWSResponse(url, 200, {}, None)  # type: ignore[arg-type]
        return response, {
            "StackResourceDetail": detail,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    client.meta.events.register("before-call.cloudformation.DescribeStackResource", describe)
