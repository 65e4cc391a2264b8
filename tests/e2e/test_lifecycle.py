"""The demo's lifecycle (create -> tag update -> replacement -> delete), end to end."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from local import demo
from local.driver import LocalCloudFormation
from local.emulator import Emulator, validation_record


def json_lines(text: str) -> list[str]:
    """Lines of `text` that are JSON objects or arrays, or carry one (a log or metric line)."""
    found = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict | list) or '{"' in line:
            found.append(line)
    return found


def test_json_lines_finds_log_and_metric_lines() -> None:
    text = '[1/7] Create\n  0.1s  answered SUCCESS\n{"_aws": {"Timestamp": 1}}\nx {"level": "INFO"}'
    assert json_lines(text) == ['{"_aws": {"Timestamp": 1}}', 'x {"level": "INFO"}']


def test_demo_command_passes_every_step(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`python -m local.demo`, with short delays and a function timeout that forces
    continuations: every check passes, the output tells the story, no ResponseURL leaks."""
    log_file = tmp_path / "handler.log"
    code = demo.main(
        [
            "--issue-delay",
            "0.8",
            "--records-delay",
            "0.3",
            "--function-timeout",
            "31",
            "--log-file",
            str(log_file),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "All 7 steps passed" in out
    # Every step numbered out of all of them, in order, once each.
    numbers = re.findall(r"^\[(\d+)/(\d+)\] ", out, re.MULTILINE)
    assert numbers == [(str(i), str(len(demo.STEPS))) for i in range(1, 8)]
    # The stuck validation: the misdelegated zone is named in the FAILED reason.
    assert "[5/7] Stuck validation: www.example.net" in out
    # The clean-up: the shared record stays for the second certificate, then goes.
    assert "[6/7] Record clean-up" in out
    # The renewal guard: the CNAME deleted by hand is back after ACM's event.
    assert "[7/7] Renewal guard" in out
    assert "ok    www.example.org's CNAME is back in example.org" in out
    assert "ok    A deleted: example.com's CNAME kept (B needs it)" in out
    assert "ok    B deleted: no validation CNAME left in either zone" in out
    assert "records deleted from example.org" in out
    assert "reason: www.example.net: example.net is delegated to ns1.registrar-dns.net" in out
    for progress in ("requested arn:aws:acm:", "records written in example.com", "waiting:"):
        assert progress in out
    assert "records written in example.org" in out
    assert "ISSUED arn:aws:acm:" in out
    assert "answered SUCCESS" in out
    assert "continuation #1 invoked" in out  # the 31-second function had to hand off
    assert "    FAIL  " not in out and "check(s) FAILED" not in out  # (the stuck step's
    # create answers FAILED, as it should)
    assert "X-Amz-Signature" not in out and "/responses/" not in out
    logs = log_file.read_text()
    assert '"Certificate issued"' in logs  # the handler's JSON logs went to the file...
    assert '"_aws"' in logs  # so did its EMF metric lines (Powertools prints them)...
    assert json_lines(out) == []  # ...and no line of either reached the demo's output
    assert "X-Amz-Signature" not in logs


def test_lifecycle_records_and_certificates(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    report = demo.run_lifecycle(emulator, cfn, hosted_zones)

    assert report.ok, report.failures
    created, replacement = report.arns["created"], report.arns["replacement"]
    assert created != replacement
    assert emulator.certificate_arns() == []  # both deleted: the old one by the clean-up
    # The records the certificates asked for are where ACM looks for them, with exact values.
    com = emulator.cname_records(hosted_zones["example.com"])
    org = emulator.cname_records(hosted_zones["example.org"])
    for name, records in (
        ("example.com", com),
        ("*.example.com", com),
        ("www.example.org", org),
        ("api.example.org", org),
    ):
        record_name, value = validation_record(name)
        assert records[record_name] == value
    assert len(com) == 1  # the apex and its wildcard share one CNAME, written once
    assert emulator.cname_records(hosted_zones["example.com (private)"]) == {}
    # What CloudFormation saw: one answer per request, timed, in order.
    operations = [step.operation for step in report.steps]
    assert [op.status for op in operations if op] == [
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_COMPLETE",
        "DELETE_COMPLETE",
    ]
    for operation in operations:
        assert operation is not None
        for step in operation.steps:
            assert step.answers == 1
            assert step.seconds > 0


def test_the_demo_checks_can_fail(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    """When ACM refuses a name, the lifecycle report says so instead of passing."""
    emulator.rules.fail_validation("www.example.org", reason="CAA_ERROR")

    report = demo.run_lifecycle(
        emulator, cfn, hosted_zones, demo.Progress(io.StringIO(), emulator, emulator.rules.settings)
    )

    assert not report.ok
    assert any("ROLLBACK_COMPLETE" in failure for failure in report.failures)
    assert emulator.certificate_arns() == []  # the rollback removed the failed certificate
