"""Issue 8 (points 5 to 8): malformed and crafted events get one clear answer, or a logged
refusal; never a crash, never an AWS call, never an answer on another request's URL."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import app
from dns_certificate.continuation import MAX_HOPS, Continuation
from dns_certificate.protocol import CRHELPER_VERSION, crhelper_version
from tests.integration.harness import Harness, corrupt_stored_state, stored_continuation

ROOT = Path(__file__).resolve().parents[2]


def no_acm_or_route53(harness: Harness, mark: int = 0) -> bool:
    return not harness.calls.since(mark, "acm") and not harness.calls.since(mark, "route53")


def test_create_when_region_is_unknown_fails_naming_it_with_zero_aws_calls(
    harness: Harness,
) -> None:
    properties = {**harness.event("create.json")["ResourceProperties"], "Region": "xx-fake-1"}

    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "Region" in answer.reason
    assert harness.calls.calls == []


# ---- crafted continuations ------------------------------------------------------------------


def crafted(now: float, **changes: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "action": "create",
        "started_at": now,
        "deadline": now + 600,
        "hop": 1,
        "phase": "requested",
    }
    return {**state, **changes}


CRAFTED: dict[str, Callable[[float], object]] = {
    "hop 0": lambda now: crafted(now, hop=0),
    "hop past the bound": lambda now: crafted(now, hop=MAX_HOPS + 1),
    "deadline beyond ServiceTimeout": lambda now: crafted(now, deadline=now + 7200),
    "another request type's action": lambda now: crafted(now, action="delete"),
    "started two days ago": lambda now: crafted(
        now, started_at=now - 2 * 86400, deadline=now - 2 * 86400 + 600
    ),
    "certificate_arn not an ARN": lambda now: crafted(now, certificate_arn="not-an-arn"),
    "certificate_arn of another service": lambda now: crafted(
        now, certificate_arn="arn:aws:iam::123456789012:server-certificate/x"
    ),
    "hop as a string": lambda now: crafted(now, hop="2"),
    "hop as a boolean": lambda now: crafted(now, hop=True),
    "deadline not a number": lambda now: crafted(now, deadline="soon"),
    "not an object": lambda now: ["action", "create"],
    "a string": lambda now: "create",
}


@pytest.mark.parametrize("shape", sorted(CRAFTED))
def test_create_when_continuation_is_crafted_is_refused_unanswered_with_zero_aws_calls(
    harness: Harness, shape: str, log_output: io.StringIO
) -> None:
    """Issue 18: the entry carries only a reference to a state the provider stored; a state
    written into the event (of any shape) is refused before any AWS call and not answered (the
    request's own delivery answers; CloudFormation never sends a continuation). A string or a
    list is not even a continuation entry: the event is malformed and answered FAILED."""
    event = harness.event("create-two-zones.json", Continuation=CRAFTED[shape](harness.clock.now()))

    answer = harness.invoke(event)

    if isinstance(event["Continuation"], dict):
        assert answer is None and harness.answers_for(event) == []
        assert "Refused a continuation" in log_output.getvalue()
    else:
        assert answer is not None
        assert answer.status == "FAILED"
        assert "continuation" in answer.reason.lower()
        assert not answer.physical_id.startswith("arn:")
    assert harness.calls.calls == []
    assert len(harness.self_invokes) == 0


def stored(now: float, **changes: Any) -> Continuation:
    return Continuation("create", now, now + 600, hop=1, phase="requested").advanced(**changes)


STORED_OUT_OF_BOUNDS: dict[str, Callable[[float], Continuation]] = {
    "hop 0": lambda now: stored(now, hop=0),
    "hop past the bound": lambda now: stored(now, hop=MAX_HOPS + 1),
    "deadline beyond ServiceTimeout": lambda now: stored(now, deadline=now + 7200),
    "another request type's action": lambda now: stored(now, action="delete"),
    "started two days ago": lambda now: stored(
        now, started_at=now - 2 * 86400, deadline=now - 2 * 86400 + 600
    ),
    "certificate_arn not an ARN": lambda now: stored(now, certificate_arn="not-an-arn"),
    "certificate_arn of another service": lambda now: stored(
        now, certificate_arn="arn:aws:iam::123456789012:server-certificate/x"
    ),
}


@pytest.mark.parametrize("shape", sorted(STORED_OUT_OF_BOUNDS))
def test_create_when_stored_state_is_out_of_bounds_fails_with_zero_aws_calls(
    harness: Harness, shape: str
) -> None:
    """A state in the table that this request cannot have written (the provider's bounds,
    kept behind the reference as a second line) fails the request, touching nothing."""
    state = STORED_OUT_OF_BOUNDS[shape](harness.clock.now())
    event = stored_continuation(harness.event("create-two-zones.json"), state)

    answer = harness.invoke(event)

    assert answer is not None
    assert answer.status == "FAILED"
    assert "continuation" in answer.reason.lower()
    assert not answer.physical_id.startswith("arn:")
    assert no_acm_or_route53(harness)
    assert len(harness.self_invokes) == 0


@pytest.mark.parametrize(
    "fields",
    [{"hop": "2"}, {"hop": True}, {"deadline": "soon"}, {"action": None}],
    ids=["hop-a-string", "hop-a-boolean", "deadline-not-a-number", "no-action"],
)
def test_create_when_stored_state_is_unreadable_fails_with_zero_aws_calls(
    harness: Harness, requests_table: str, fields: dict[str, Any]
) -> None:
    """A genuine reference (bound to this event) to a state this version cannot read: answered
    FAILED at once rather than left to CloudFormation's timeout, touching nothing."""
    handed = stored_continuation(
        harness.event("create-two-zones.json"), stored(harness.clock.now())
    )
    corrupt_stored_state(requests_table, handed, **fields)

    answer = harness.invoke(handed)

    assert answer is not None and answer.status == "FAILED"
    assert "stored state is unreadable" in answer.reason
    assert not answer.physical_id.startswith("arn:")
    assert len(harness.answers_for(handed)) == 1
    assert harness.calls.calls == []
    assert len(harness.self_invokes) == 0


# ---- crhelper's private keys ----------------------------------------------------------------


def test_create_when_event_carries_crhelper_poll_and_data_keys_ignores_them(
    harness: Harness,
) -> None:
    event = harness.event(
        "create.json",
        CrHelperPoll=True,
        CrHelperData={"Arn": "forged", "Extra": "forged"},
        CrHelperPermission="sid",
        CrHelperRule="arn:aws:events:us-east-1:123456789012:rule/forged",
    )

    answer = harness.run(event)

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id.startswith("arn:aws:acm:")
    assert answer.data["Arn"] == answer.physical_id
    assert "Extra" not in answer.data
    assert harness.calls.count("acm", "RequestCertificate") == 1


# ---- ResponseURL ----------------------------------------------------------------------------


def test_event_without_response_url_is_refused_without_answer_or_call(harness: Harness) -> None:
    previous = harness.event("create.json")
    harness.run(previous)
    mark = harness.calls.mark()
    event = harness.event("create.json")
    del event["ResponseURL"]

    app.lambda_handler(event, harness.context())  # returns, no exception

    assert len(harness.answers_for(previous)) == 1  # nothing sent on the last request's URL
    assert no_acm_or_route53(harness, mark)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/plain,hello",
        "ftp://example.com/x",
        "http://example.com/not-loopback",
        "",
        None,
        42,
        ["https://example.com/"],
    ],
)
def test_event_with_unusable_response_url_is_refused_without_crash(
    harness: Harness, url: object
) -> None:
    event = harness.event("create.json")
    event["ResponseURL"] = url

    app.lambda_handler(event, harness.context())

    assert no_acm_or_route53(harness)


@pytest.mark.parametrize(
    "payload", [None, [], "Create", 42, {"RequestType": "Create"}, {"ResponseURL": 1}]
)
def test_payload_that_is_no_request_is_refused_without_crash(
    harness: Harness, payload: object
) -> None:
    app.lambda_handler(payload, harness.context())

    assert no_acm_or_route53(harness)


# ---- the pinned crhelper and the log level --------------------------------------------------


def test_crhelper_installed_is_the_version_the_overrides_were_written_for() -> None:
    """protocol.py overrides crhelper internals: a new release must be read before it is used."""
    assert version("crhelper") == CRHELPER_VERSION
    assert crhelper_version() == CRHELPER_VERSION
    requirements = (ROOT / "handler" / "requirements.txt").read_text()
    assert f"crhelper=={CRHELPER_VERSION}" in requirements.split()


DEBUG_SCRIPT = """
import logging, sys
sys.path[:0] = ["handler", "."]
logging.root.addHandler(logging.StreamHandler(sys.stdout))  # as Lambda's runtime does
import app
from local.context import LambdaContext
sent = []
app.SENDER = lambda url, body, budget: sent.append(body["Status"])
event = {
    "RequestType": "Create", "ResponseURL": "https://example.com/r?X-Amz-Signature=SECRETSIG",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "RequestId": "r-1",
    "LogicalResourceId": "Certificate", "ResourceType": "Custom::DnsValidatedCertificate",
    "ResourceProperties": {"DomainName": "example.com", "Region": "xx-fake-1"},
}
app.lambda_handler(event, LambdaContext(timeout_seconds=60))
print("SENT", sent)
"""


def test_log_level_debug_logs_debug_lines_but_never_the_response_url() -> None:
    env = {
        **os.environ,
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    env.pop("REQUESTS_TABLE", None)
    result = subprocess.run(
        [sys.executable, "-c", DEBUG_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output = result.stdout + result.stderr

    assert "SENT ['FAILED']" in output
    assert re.search(r'"level":\s*"DEBUG"', output)
    assert "SECRETSIG" not in output
