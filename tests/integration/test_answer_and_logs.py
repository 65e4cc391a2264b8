"""Issue 2: the answer's delivery and size, and what the logs may (not) contain."""

from __future__ import annotations

import functools
import io
import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import app
from dns_certificate import answer as answer_module
from dns_certificate.answer import AnswerNotDeliveredError, send_answer
from tests.integration.harness import Harness
from tests.support.clock import FakeClock

REQUEST_KEYS = ("stack_id", "logical_resource_id", "request_id", "request_type")


def use_sender(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    """The real sender, with its backoff on a fake clock so retries take no time."""
    sender = functools.partial(send_answer, sleep=clock.sleep, monotonic=clock.now)
    monkeypatch.setattr(app, "SENDER", sender)


def bodies_to_encode(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every answer body as the handler hands it to `encode_body`, before it is fitted."""
    bodies: list[dict[str, Any]] = []
    encode = answer_module.encode_body

    def spy(body: Any) -> bytes:
        bodies.append(json.loads(json.dumps(body)))
        return encode(body)

    monkeypatch.setattr(answer_module, "encode_body", spy)
    return bodies


def log_records(output: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.getvalue().splitlines() if line.strip()]


def run_a_bit_of_everything(harness: Harness) -> list[dict[str, Any]]:
    """A create handed across invocations, a failed create and a delete: the events used."""
    create = harness.event("create-two-zones.json")
    harness.invoke(create, harness.context(timeout_seconds=25))
    ((_, payload),) = harness.self_invokes.payloads
    harness.invoke(payload)
    arn = harness.answers_for(create)[0].physical_id
    failed = harness.event("create-bad-input.json")
    harness.run(failed)
    delete = harness.event("delete.json", physical_id=arn)
    harness.run(delete)
    return [create, failed, delete]


def test_logs_when_handling_requests_never_contain_the_response_url(
    harness: Harness,
    log_output: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)

    events = run_a_bit_of_everything(harness)

    captured = capfd.readouterr()
    everything = "\n".join([log_output.getvalue(), caplog.text, captured.out, captured.err])
    assert "Certificate requested" in everything  # the capture did see the handler's lines
    for event in events:
        url = event["ResponseURL"]
        (signature,) = parse_qs(urlsplit(url).query)["X-Amz-Signature"]
        assert signature not in everything
        assert urlsplit(url).path not in everything


def test_logs_when_handling_requests_carry_stack_request_and_type_on_every_line(
    harness: Harness, log_output: io.StringIO
) -> None:
    events = run_a_bit_of_everything(harness)

    records = log_records(log_output)
    by_request = {event["RequestId"]: event for event in events}
    assert {record.get("name", "").split(".")[-1] for record in records} >= {
        "create",
        "converge",
        "protocol",
        "answer",
    }
    for record in records:
        missing = [key for key in REQUEST_KEYS if not record.get(key)]
        assert not missing, f"{missing} missing from {record}"
        event = by_request[record["request_id"]]
        assert record["stack_id"] == event["StackId"]
        assert record["logical_resource_id"] == event["LogicalResourceId"]
        assert record["request_type"] == event["RequestType"]


def test_answer_when_response_url_fails_twice_is_stored_exactly_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender_clock = FakeClock()
    use_sender(monkeypatch, sender_clock)
    harness.answers.set_status_code(200, fail_first=2)

    answer = harness.run(harness.event("create.json"))

    assert answer.status == "SUCCESS"
    assert len(sender_clock.sleeps) == 2  # backed off after each 503


def test_answer_when_response_url_keeps_refusing_gives_up_after_bounded_retries(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender_clock = FakeClock()
    use_sender(monkeypatch, sender_clock)
    harness.answers.set_status_code(403)
    event = harness.event("create.json")

    with pytest.raises(AnswerNotDeliveredError):  # a failed invocation: Lambda retries it
        harness.invoke(event)

    assert harness.answers_for(event) == []
    assert 2 <= len(sender_clock.sleeps) <= 10
    assert sender_clock.slept <= 30


#: The longest ids CloudFormation sends: a 128-character stack name, a 255-character logical id.
LONGEST_IDS: dict[str, Any] = {
    "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{'s' * 128}/"
    "5b7c1d50-8a1f-11ef-b6c6-0a8e3f3b2c41",
    "LogicalResourceId": "L" * 255,
}


def test_answer_when_ids_and_names_are_longest_fits_in_4096_bytes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 63-octet common name and nine 253-octet names whose records are answered as attributes
    (ManageDnsRecords "false"): the Data alone is over twice 4096 bytes, so attributes must go."""
    label = "a" * 63
    domain = f"{'b' * 51}.example.com"  # a 63-character common name (64 is the limit)
    names = [f"{index}{'c' * 48}.{label}.{label}.{label}.example.com" for index in range(9)]
    assert all(len(name) == 253 for name in names)  # the longest a name can be
    event = harness.event(
        "create.json",
        properties={
            "DomainName": domain,
            "SubjectAlternativeNames": names,
            "ManageDnsRecords": "false",
        },
        **LONGEST_IDS,
    )
    bodies = bodies_to_encode(monkeypatch)

    answer = harness.run(event)

    assert answer.status == "SUCCESS", answer.reason
    (unfitted,) = bodies
    assert len(json.dumps(unfitted).encode()) > 2 * 4096  # too large as the handler made it
    assert len(answer.raw) <= 4096  # as CloudFormation received it
    assert answer.problems == []
    full, kept = unfitted["Data"], answer.data
    assert kept["Arn"] == answer.physical_id
    assert set(kept) < set(full)  # attributes were dropped...
    assert all(full[key] == value for key, value in kept.items())  # ...none was altered


def test_answer_when_reason_is_huge_fits_in_4096_bytes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reason of 512 characters (the longest the handler writes) that JSON makes 12 bytes a
    character: with the longest ids and no attribute left to drop, only cutting the reason
    makes the body fit."""
    properties = {"DomainName": "example.com", "\U0001f642" * 5000: "typo"}
    bodies = bodies_to_encode(monkeypatch)

    answer = harness.run(harness.event("create.json", properties=properties, **LONGEST_IDS))

    assert answer.status == "FAILED"
    (unfitted,) = bodies
    assert unfitted["Data"] in ({}, None)  # nothing to drop: the reason itself must shrink
    assert len(json.dumps(unfitted).encode()) > 4096
    assert len(answer.raw) <= 4096
    assert answer.problems == []  # a FAILED answer keeps a Reason
    assert len(answer.reason) < len(unfitted["Reason"])
