"""Issue 13: CloudWatch metrics as embedded-metric-format lines on stdout, read back here.

One namespace; every line carries the dimensions Provider and RequestType; one line per
invocation that recorded anything, flushed whether it answered, handed off or its timer
answered.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import app
from dns_certificate import metrics
from dns_certificate.context import Runtime
from tests.integration.harness import REGION, Harness
from tests.integration.test_exactly_once import dead
from tests.integration.test_throttling import Throttler
from tests.integration.test_timeout import HANG, about_to_time_out, run_what_was_handed_on

ROOT = Path(__file__).resolve().parents[2]


def emf_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = []
    for line in capsys.readouterr().out.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "_aws" in parsed:
            lines.append(parsed)
    return lines


def metric_names(line: dict[str, Any]) -> set[str]:
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    return {metric["Name"] for metric in directive["Metrics"]}


def only(lines: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(lines) == 1, lines
    return lines[0]


def test_metrics_when_create_succeeds_reports_success_and_timings(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS"
    line = only(emf_lines(capsys))
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == metrics.DEFAULT_NAMESPACE
    assert directive["Dimensions"] == [["Provider", "RequestType"]]
    assert line["Provider"] == metrics.DEFAULT_PROVIDER
    assert line["RequestType"] == "Create"
    assert line["Succeeded"] == [1.0]
    assert line["ContinuationsUsed"] == [0.0]
    assert line["SecondsToRecordsWritten"][0] >= 0
    assert line["SecondsToIssued"][0] >= line["SecondsToRecordsWritten"][0]
    assert "Failed" not in line


def test_metrics_when_properties_are_bad_reports_failed(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = harness.run(harness.event("create-bad-input.json"))

    assert answer.status == "FAILED"
    line = only(emf_lines(capsys))
    assert line["Failed"] == [1.0]
    assert line["RequestType"] == "Create"
    assert metric_names(line) == {"Failed", "ContinuationsUsed"}


def test_metrics_when_delete_succeeds_reports_the_delete(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create()
    capsys.readouterr()

    harness.run(harness.event("delete.json", physical_id=arn))

    line = only(emf_lines(capsys))
    assert (line["RequestType"], line["Succeeded"]) == ("Delete", [1.0])
    assert "RecordsDeleted" not in line  # no clean-up asked for


def test_metrics_when_delete_cleans_up_records_counts_them(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["*.example.com", "www.example.org"],
        "CleanupValidationRecords": "true",
    }
    arn = harness.create(properties)
    capsys.readouterr()

    harness.run(harness.event("delete.json", properties=properties, physical_id=arn))

    line = only(emf_lines(capsys))
    assert line["RecordsDeleted"] == [2.0]  # example.com (shared with its wildcard), www


def test_metrics_when_the_wait_is_handed_off_flushes_every_invocation(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.faults.pending_describes = 3
    event = harness.event("create-two-zones.json")
    assert harness.invoke(event, harness.context(timeout_seconds=25)) is None
    ((_, payload),) = harness.self_invokes.payloads
    answer = harness.invoke(payload)

    assert answer is not None and answer.status == "SUCCESS"
    handed_off, answered = emf_lines(capsys)
    assert "SecondsToRecordsWritten" in handed_off
    assert not {"Succeeded", "Failed", "SecondsToIssued"} & metric_names(handed_off)
    assert answered["Succeeded"] == [1.0]
    assert answered["ContinuationsUsed"] == [1.0]
    assert answered["SecondsToIssued"][0] > 0


def test_metrics_when_the_timer_answers_reports_failed_once(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.faults.stalls = {"DescribeCertificate": [HANG]}
    event = harness.event("create-two-zones.json")

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None and answer.status == "FAILED"
    lines = emf_lines(capsys)
    assert sum(line.get("Failed", [0])[0] for line in lines) == 1
    assert not [line for line in lines if "Succeeded" in line]


def test_metrics_when_calls_stay_throttled_counts_them(
    harness: Harness, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    throttler = Throttler()
    runtime.clients.route53().meta.events.register("before-call.route53", throttler)
    throttler.throttle("ChangeResourceRecordSets", 12)

    answer = harness.run(harness.event("create-two-zones.json"))

    assert answer.status == "SUCCESS"
    throttled = sum(sum(line.get("ThrottledCalls", [])) for line in emf_lines(capsys))
    assert throttled >= 1
    assert runtime.clients.acm(REGION) is not None


def test_metrics_when_nothing_is_recorded_prints_no_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with metrics.recording("Create", 0):
        pass

    assert emf_lines(capsys) == []


def test_metrics_when_flushed_twice_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with metrics.recording("Update", 2) as recorded:
        recorded.answered("SUCCESS")
        recorded.flush()
        recorded.throttled()  # after the flush: dropped, not a second line

    line = only(emf_lines(capsys))
    assert line["ContinuationsUsed"] == [2.0]
    assert "ThrottledCalls" not in line


def test_metrics_outside_an_invocation_records_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.current().answered("FAILED")
    metrics.current().flush()

    assert emf_lines(capsys) == []


def test_metrics_when_a_metric_is_recorded_a_hundred_times_prints_one_line_with_dimensions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Powertools publishes by itself when a metric reaches 100 values: without our dimensions
    (they are added at the flush), so that line lands in a series no alarm watches, and the
    invocation prints two lines. A long throttled wait records ThrottledCalls that often."""
    with metrics.recording("Create", 0) as recorded:
        for _ in range(150):
            recorded.throttled()
        recorded.answered("SUCCESS")

    line = only(emf_lines(capsys))
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["Provider", "RequestType"]]
    assert sum(line["ThrottledCalls"]) == 150
    assert len(line["ThrottledCalls"]) == 1
    assert line["Succeeded"] == [1.0]


def test_metrics_when_the_timer_answers_and_the_call_never_returns_flushes_before_the_end(
    harness: Harness, runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    """The timer exists for a call that does not return: Lambda then ends the invocation, and
    the main thread's `finally` never runs. The timer's FAILED must be in the logs by then."""
    event = harness.event("create-two-zones.json")
    seen_at_the_end: list[str] = []

    def hang_until_lambda_would_end(**_: Any) -> None:
        if seen_at_the_end:
            return
        ends = time.monotonic() + 30
        while not harness.answers_for(event) and time.monotonic() < ends:
            time.sleep(0.05)
        for thread in threading.enumerate():
            if isinstance(thread, threading.Timer) and thread is not threading.current_thread():
                thread.join(max(0.0, ends - time.monotonic()))
        # Lambda ends the invocation here: what was printed so far is all CloudWatch gets.
        seen_at_the_end.append(capsys.readouterr().out)

    runtime.clients.acm(REGION).meta.events.register(
        "before-call.acm.DescribeCertificate", hang_until_lambda_would_end
    )

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None and answer.status == "FAILED"
    (printed,) = seen_at_the_end
    failed = [line for line in _emf(printed) if "Failed" in line]
    assert [line["Failed"] for line in failed] == [[1.0]]
    later = [line for line in emf_lines(capsys) if "Failed" in line or "Succeeded" in line]
    assert later == []


def _emf(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "_aws" in parsed:
            lines.append(parsed)
    return lines


def _template() -> dict[str, Any]:
    from cfnlint.decode import decode  # type: ignore[import-untyped]

    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return dict(template)


def _resolved(value: Any, stack_name: str) -> Any:
    return stack_name if value == {"Ref": "AWS::StackName"} else value


@pytest.mark.parametrize(
    "function, payload",
    [
        pytest.param(
            "CertificateFunction",
            lambda harness: harness.event("create.json", RequestType="Bogus"),
            id="main-function-malformed-request",
        ),
        pytest.param(
            "CertificateFailureFunction",
            lambda harness: dead(harness.event("create.json")),
            id="on-failure-function-dead-invocation",
        ),
    ],
)
def test_metrics_when_run_with_the_templates_environment_match_the_failed_alarm_exactly(
    harness: Harness,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    payload: Any,
) -> None:
    """What each function emits, with the environment the template gives it, is a series the
    FailedRequestsAlarm reads: same namespace, metric name, dimension names and values. And no
    line carries the ResponseURL."""
    stack_name = "my-provider"
    template = _template()
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    for name, value in variables.items():
        if name.startswith(("POWERTOOLS_SERVICE", "POWERTOOLS_METRICS", "METRICS_")):
            monkeypatch.setenv(name, str(_resolved(value, stack_name)))
    watched = set()
    alarm = template["Resources"]["FailedRequestsAlarm"]["Properties"]
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dimensions = frozenset(
                (d["Name"], _resolved(d["Value"], stack_name)) for d in metric["Dimensions"]
            )
            watched.add((metric["Namespace"], metric["MetricName"], dimensions))
    event = payload(harness)

    app.lambda_handler(event, harness.context())

    printed = capsys.readouterr().out
    lines = _emf(printed)
    assert lines
    for line in lines:
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        for dimension_names in directive["Dimensions"]:
            dimensions = frozenset((name, line[name]) for name in dimension_names)
            for metric in directive["Metrics"]:
                if metric["Name"] == "Failed":
                    assert (directive["Namespace"], "Failed", dimensions) in watched
    assert [line for line in lines if "Failed" in line]
    response_url = (event.get("requestPayload") or event)["ResponseURL"]
    assert response_url not in "\n".join(json.dumps(line) for line in lines)


def test_metrics_when_the_answer_is_not_delivered_count_only_the_retry_that_answers(
    harness: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invocation that raises AnswerNotDeliveredError answered nothing: it counts no
    Succeeded/Failed; Lambda's retry, which delivers, counts the one answer."""
    from dns_certificate.answer import AnswerNotDeliveredError
    from tests.integration.test_answer_and_logs import use_sender
    from tests.support.clock import FakeClock

    use_sender(monkeypatch, FakeClock())
    event = harness.event("create-bad-input.json")
    harness.answers.set_status_code(403)
    with pytest.raises(AnswerNotDeliveredError):
        harness.invoke(event)
    undelivered = emf_lines(capsys)
    harness.answers.set_status_code(200)

    answer = harness.invoke(event)

    assert answer is not None and answer.status == "FAILED"
    assert not [line for line in undelivered if {"Succeeded", "Failed"} & metric_names(line)]
    assert only(emf_lines(capsys))["Failed"] == [1.0]


def test_metrics_when_the_event_is_refused_print_no_line(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    event = harness.event("create.json")
    del event["ResponseURL"]

    app.lambda_handler(event, harness.context())

    assert emf_lines(capsys) == []
