"""Issue 18 point 7 through the local CloudFormation and the strict emulator: a foreign
certificate, another stack's certificate, copied tags, and forged or replayed continuation
references. Each attack must fail: the certificate stays, nothing is answered on a forged
request's URL, and a refused continuation costs no AWS call but the table read.
(tests/integration/test_authority.py has the attacks moto's in-process harness plays.)"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from typing import Any

import pytest

from local.answers import AnswerServer
from local.driver import LocalCloudFormation, acm_event, scheduled_event
from local.emulator import Emulator, validation_record

#: The handler hands off when less than 30 s remain: with 31 s, after about one second.
SHORT_FUNCTION_TIMEOUT = 31.0


def _stack(cfn: LocalCloudFormation, name: str, domain_name: str = "example.com") -> Any:
    stack = cfn.stack(name)
    created = stack.create({"Cert": {"DomainName": domain_name}})
    assert created.succeeded, [step.describe() for step in created.steps]
    return stack


def _copied_tags_certificate(emulator: Emulator, genuine: str, domain_name: str) -> str:
    """Requested outside the provider, with every tag of a genuine certificate copied."""
    tags = emulator.acm().list_tags_for_certificate(CertificateArn=genuine)["Tags"]
    return str(
        emulator.acm().request_certificate(
            DomainName=domain_name, ValidationMethod="DNS", Tags=tags
        )["CertificateArn"]
    )


def _calls(emulator: Emulator) -> tuple[Counter[str], Counter[str]]:
    """(AWS calls but the table's, the table's calls) so far."""
    return Counter(emulator.rules.calls), Counter(emulator.rules.table_calls)


def _since(before: tuple[Counter[str], Counter[str]], emulator: Emulator) -> tuple[dict, dict]:
    calls, table = _calls(emulator)
    return dict(calls - before[0]), dict(table - before[1])


# ---- (a) a foreign certificate, (b) another stack's certificate ------------------------------


def test_delete_when_certificate_was_requested_outside_with_copied_tags_answers_and_keeps_it(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _stack(cfn, "site")
    foreign = _copied_tags_certificate(emulator, stack.physical_id("Cert"), "bank.example.com")
    properties = stack.request_properties({"DomainName": "bank.example.com"})

    step = cfn.send("attack", "Delete", stack.stack_id, "Cert", properties, physical_id=foreign)

    assert step.status == "SUCCESS" and step.answers == 1, step.describe()
    assert foreign in emulator.certificate_arns()
    assert emulator.rules.calls["acm:DeleteCertificate"] == 0


def test_delete_and_update_naming_another_stacks_certificate_leave_it_alone(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    theirs_stack = _stack(cfn, "theirs", "www.example.org")
    ours = _stack(cfn, "ours")
    theirs = theirs_stack.physical_id("Cert")
    tags_before = emulator.acm().list_tags_for_certificate(CertificateArn=theirs)["Tags"]
    old = ours.request_properties({"DomainName": "www.example.org"})
    new = ours.request_properties(
        {"DomainName": "www.example.org", "Tags": [{"Key": "team", "Value": "attacker"}]}
    )

    deleted = cfn.send("attack", "Delete", ours.stack_id, "Cert", old, physical_id=theirs)
    updated = cfn.send(
        "attack", "Update", ours.stack_id, "Cert", new, old_properties=old, physical_id=theirs
    )

    assert deleted.status == "SUCCESS", deleted.describe()
    assert updated.status == "SUCCESS", updated.describe()
    assert updated.physical_id != theirs  # ours gets its own certificate
    assert theirs in emulator.certificate_arns()
    assert emulator.acm().list_tags_for_certificate(CertificateArn=theirs)["Tags"] == tags_before
    # Their own stack still owns it: its Delete deletes it.
    assert theirs_stack.delete().succeeded
    assert theirs not in emulator.certificate_arns()


# ---- (c)/(d) the renewal guard and copied tags ------------------------------------------------


def test_guard_when_a_foreign_certificate_has_copied_tags_writes_no_cname_and_no_call(
    emulator: Emulator, cfn: LocalCloudFormation, hosted_zones: dict[str, str]
) -> None:
    stack = _stack(cfn, "site")
    foreign = _copied_tags_certificate(emulator, stack.physical_id("Cert"), "bank.example.com")
    name, _value = validation_record("bank.example.com")
    before = _calls(emulator)

    cfn.deliver_event(acm_event(foreign))
    cfn.deliver_event(scheduled_event())

    assert name not in emulator.cname_records(hosted_zones["example.com"])
    assert (emulator.describe(foreign) or {})["Status"] == "PENDING_VALIDATION"
    calls, _table = _since(before, emulator)
    assert "route53:ChangeResourceRecordSets" not in calls
    assert not any(api.startswith("cloudformation:") for api in calls)


# ---- (e) forged and replayed references ---------------------------------------------------------


def _request(cfn: LocalCloudFormation, answers: AnswerServer, stack: Any) -> dict[str, Any]:
    return {
        "RequestType": "Create",
        "ServiceToken": cfn.function_arn,
        "ResponseURL": answers.new_url("forged"),
        "StackId": stack.stack_id,
        "RequestId": "5a3c4e2b-1111-2222-3333-444455556666",
        "LogicalResourceId": "Forged",
        "ResourceType": "Custom::DnsValidatedCertificate",
        "ResourceProperties": stack.request_properties({"DomainName": "bank.example.com"}),
    }


@pytest.mark.parametrize(
    "entry",
    [
        {"reference": secrets.token_urlsafe(32), "hop": 1},
        {
            "action": "create",
            "started_at": 0.0,
            "deadline": 600.0,
            "hop": 1,
            "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
        },
    ],
    ids=["random-reference", "state-in-the-event"],
)
def test_forged_continuation_is_refused_unanswered_with_only_the_table_read(
    emulator: Emulator,
    cfn: LocalCloudFormation,
    answer_server: AnswerServer,
    hosted_zones: dict[str, str],
    entry: dict[str, Any],
) -> None:
    stack = _stack(cfn, "site")
    event = {**_request(cfn, answer_server, stack), "Continuation": entry}
    certificates = emulator.certificate_arns()
    before = _calls(emulator)

    cfn.deliver_event(event)

    calls, table = _since(before, emulator)
    assert calls == {}
    assert table == ({"dynamodb:GetItem": 1} if "reference" in entry else {})
    assert answer_server.answers_for(event["ResponseURL"]) == []
    assert emulator.certificate_arns() == certificates


def test_replayed_and_rebound_references_are_refused_with_only_the_table_read(
    emulator: Emulator,
    hosted_zones: dict[str, str],
    answer_server: AnswerServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Create that needed continuations; afterwards each of its hand-offs' payloads is sent
    again (replay: superseded or answered), and the first with another ResponseURL (an answer
    hijack) and another PhysicalResourceId."""
    emulator.rules.settings.issue_delay = 2.0
    emulator.rules.settings.records_delay = 0.5
    with LocalCloudFormation(
        function_timeout=SHORT_FUNCTION_TIMEOUT, grace=0.3, answers=answer_server
    ) as cfn:
        payloads: list[str] = []
        invoke = cfn._invoke

        def keep(event_text: str, request_id: str, *, hop: int, attempt: int) -> None:
            if hop > 0 and attempt == 0:
                payloads.append(event_text)
            invoke(event_text, request_id, hop=hop, attempt=attempt)

        monkeypatch.setattr(cfn, "_invoke", keep)
        stack = cfn.stack("continued")
        operation = stack.create({"Cert": {"DomainName": "www.example.org"}})
        assert operation.succeeded, operation.step("Cert").describe()
        step = operation.step("Cert")
        assert step.answers == 1 and step.hops >= 1 and len(payloads) == step.hops
        assert cfn.wait_idle(30.0)
        first = json.loads(payloads[0])
        hostile = [
            *(json.loads(text) for text in payloads[:-1]),  # superseded by a later hand-off
            {**first, "ResponseURL": answer_server.new_url("hijack")},
            {**first, "PhysicalResourceId": step.physical_id},
        ]
        certificates = emulator.certificate_arns()

        for event in hostile:
            before = _calls(emulator)
            cfn.deliver_event(event)
            calls, table = _since(before, emulator)
            assert (calls, table) == ({}, {"dynamodb:GetItem": 1}), event["Continuation"]

        assert len(answer_server.answers_for(first["ResponseURL"])) == 1
        assert answer_server.answers_for(hostile[-2]["ResponseURL"]) == []
        assert emulator.certificate_arns() == certificates


# ---- the policy (issue 18 point 4) -----------------------------------------------------------


def test_create_outside_allowed_domains_rolls_back_without_a_request_or_a_record(
    emulator: Emulator,
    cfn: LocalCloudFormation,
    hosted_zones: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOWED_DOMAINS", "example.org")
    before = _calls(emulator)

    created = cfn.stack("outside").create({"Cert": {"DomainName": "bank.example.com"}})

    assert not created.succeeded
    step = created.step("Cert", "create")
    assert step.status == "FAILED" and step.answers == 1
    assert "AllowedDomains" in step.reason and "'bank.example.com'" in step.reason
    calls, _table = _since(before, emulator)
    assert "acm:RequestCertificate" not in calls
    assert "route53:ChangeResourceRecordSets" not in calls
    assert emulator.certificate_arns() == []
