"""Forged and foreign inputs (issue 18): every one is refused, with no AWS call beyond the table.

What a caller who may invoke the function (or tag certificates in the account) can send, each
through the real `app.lambda_handler` against moto in-process:

* continuations: random references for each request type, states written into the event,
  references presented with another ResponseURL, PhysicalResourceId, RequestType, StackId,
  LogicalResourceId or properties, references replayed after a later hand-off superseded them;
  refused = nothing answered, no AWS call, the table read only (DynamoDB GetItem);
* Deletes naming a certificate requested outside the provider with copied tags, or another
  stack's certificate; refused = SUCCESS answered, the certificate kept, no AWS call;
* renewal-guard events (ACM's) for a certificate with copied ownership and zones tags; refused
  = no CNAME written and no AWS call;
* Creates outside the policy (AllowedDomains, AllowExportableCertificates); refused = FAILED
  answered naming the parameter and the name, no AWS call.

AWS calls are counted by a hook on every botocore client in the process, around the handler's
invocation only; DynamoDB (the provider's own table) is counted apart.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.client
import pytest

import app
from dns_certificate.certificates import LOGICAL_ID_TAG, REQUEST_TAG, STACK_TAG
from dns_certificate.context import request_token
from dns_certificate.zonetag import ZONES_TAG
from local.driver import acm_event
from tests.integration.harness import REGION, Harness, acm_like_record

from .conftest import Figures

SECTION = "forged and foreign inputs"
MIN_TRIED = 25
OTHER_STACK = "arn:aws:cloudformation:eu-west-1:123456789012:stack/other/0f1e2d3c"


@dataclass
class Calls:
    aws: list[str]
    table: list[str]


@pytest.fixture
def every_call(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Every API call a botocore client of this process makes: the table's apart."""
    made = Calls([], [])
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        service = self.meta.service_model.service_name
        (made.table if service == "dynamodb" else made.aws).append(f"{service}.{operation_name}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    yield made


@dataclass
class Outcome:
    answers: list[Any]
    aws: list[str]
    table: list[str]
    raised: str | None = None


def run_once(harness: Harness, calls: Calls, event: dict[str, Any]) -> Outcome:
    """One invocation of the handler with `event`; what it answered and called."""
    url = event.get("ResponseURL")
    before = len(harness.answers.answers_for(url)) if url else 0
    aws, table = len(calls.aws), len(calls.table)
    raised = None
    try:
        app.lambda_handler(json.loads(json.dumps(event)), harness.context())
    except Exception as error:  # the handler must never crash on these: counted as a miss
        raised = f"{type(error).__name__}: {error}"
    answers = harness.answers.answers_for(url)[before:] if url else []
    return Outcome(answers, calls.aws[aws:], calls.table[table:], raised)


def foreign_certificate(event: dict[str, Any], domain_name: str, zone_id: str) -> str:
    tags: list[Any] = [
        {"Key": STACK_TAG, "Value": event["StackId"]},
        {"Key": LOGICAL_ID_TAG, "Value": event["LogicalResourceId"]},
        {"Key": REQUEST_TAG, "Value": request_token(event)},
        {"Key": ZONES_TAG, "Value": zone_id},
    ]
    return str(
        boto3.client("acm", region_name=REGION).request_certificate(
            DomainName=domain_name, ValidationMethod="DNS", Tags=tags
        )["CertificateArn"]
    )


Check = Callable[[Outcome], list[str]]


def refused_continuation(outcome: Outcome) -> list[str]:
    problems = []
    if outcome.answers:
        problems.append(f"answered {outcome.answers[0].status}")
    if outcome.table not in ([], ["dynamodb.GetItem"]):
        problems.append(f"table calls {outcome.table}")
    return problems


def kept(harness: Harness, arn: str) -> Check:
    def check(outcome: Outcome) -> list[str]:
        problems = []
        if [answer.status for answer in outcome.answers] != ["SUCCESS"]:
            problems.append(f"answers {[a.status for a in outcome.answers]}")
        if arn not in harness.certificates():
            problems.append("the certificate was deleted")
        return problems

    return check


def no_cname(harness: Harness, domain_name: str) -> Check:
    def check(outcome: Outcome) -> list[str]:
        name = acm_like_record(domain_name)["Name"].lower()
        written = name in harness.records(harness.zones["example.com"])
        return ["its CNAME was written"] if written else []

    return check


def policy_refused(parameter: str, offending: str) -> Check:
    """Answered FAILED (the caller must learn why), naming the parameter and the name."""

    def check(outcome: Outcome) -> list[str]:
        answers = [(answer.status, answer.reason) for answer in outcome.answers]
        if len(answers) != 1 or answers[0][0] != "FAILED":
            return [f"answers {answers}"]
        reason = answers[0][1]
        return [] if parameter in reason and offending in reason else [f"reason {reason!r}"]

    return check


POLICY_TRIES: list[tuple[str, dict[str, Any], Check]] = [
    ("policy: a name outside AllowedDomains", {"DomainName": "bank.example.com"},
     policy_refused("AllowedDomains", "'bank.example.com'")),
    ("policy: one SAN outside", {"DomainName": "www.example.org",
                                 "SubjectAlternativeNames": ["evil.example.com"]},
     policy_refused("AllowedDomains", "'evil.example.com'")),
    ("policy: an allowed domain as a suffix without a dot", {"DomainName": "badexample.org"},
     policy_refused("AllowedDomains", "'badexample.org'")),
    ("policy: an exportable certificate",
     {"DomainName": "www.example.org", "CertificateExport": "ENABLED"},
     policy_refused("AllowExportableCertificates", "refused")),
]  # fmt: skip


def test_forged_and_foreign_inputs_are_refused_with_no_aws_call_beyond_the_table(
    harness: Harness, every_call: Calls, figures: Figures, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries: list[tuple[str, dict[str, Any], Check]] = []

    # A genuine request that handed off: the references an attacker may have seen in logs.
    genuine = harness.event("create-two-zones.json")
    assert harness.invoke(genuine, harness.context(timeout_seconds=25)) is None
    ((_, handed),) = harness.self_invokes.payloads
    ours = harness.create({"DomainName": "www.example.com"})
    theirs = harness.run(
        harness.event(
            "create.json", properties={"DomainName": "api.example.com"}, StackId=OTHER_STACK
        )
    ).physical_id

    for name in ("create.json", "update-tags.json", "update-replace.json", "delete.json"):
        for n in range(3):
            event = harness.event(name, physical_id=ours)
            forged = {**event, "Continuation": {"reference": secrets.token_urlsafe(32), "hop": 1}}
            tries.append((f"random reference {n}, {name}", forged, refused_continuation))
    now = harness.clock.now()
    state = {"action": "create", "started_at": now, "deadline": now + 600, "hop": 1}
    in_the_event: list[tuple[str, Any]] = [
        ("certificate_arn", theirs),
        ("certificate_arn", ours),
        ("phase", "records_written"),
        ("phase", "migration_records_written"),
        ("zones", [["www.example.com", harness.zones["example.org"], "example.org"]]),
    ]
    for field, value in in_the_event:
        event = {**harness.event("create.json"), "Continuation": {**state, field: value}}
        tries.append((f"state in the event: {field}", event, refused_continuation))
    rebound: list[tuple[str, Any]] = [
        ("ResponseURL", harness.answers.new_url()),
        ("PhysicalResourceId", theirs),
        ("RequestType", "Delete"),
        ("StackId", OTHER_STACK),
        ("LogicalResourceId", "Other"),
        ("ResourceProperties", {"DomainName": "bank.example.com"}),
        ("RequestId", "5a3c4e2b-1111-2222-3333-444455556666"),
    ]
    for field, value in rebound:
        tries.append(
            (f"reference with another {field}", {**handed, field: value}, refused_continuation)
        )
    hop = {**handed, "Continuation": {**handed["Continuation"], "hop": 2}}
    tries.append(("reference with another hop", hop, refused_continuation))

    delete = harness.event("delete.json")
    foreign = foreign_certificate(delete, "bank.example.com", harness.zones["example.com"])
    tries.append(
        (
            "Delete of a foreign certificate with copied tags",
            {**delete, "PhysicalResourceId": foreign},
            kept(harness, foreign),
        )
    )
    tries.append(
        (
            "Delete of another stack's certificate",
            harness.event("delete.json", physical_id=theirs),
            kept(harness, theirs),
        )
    )
    tries.append(
        (
            "guard event for a foreign certificate with copied tags",
            acm_event(foreign),
            no_cname(harness, "bank.example.com"),
        )
    )
    other = foreign_certificate(
        harness.event("create.json"), "shop.example.com", harness.zones["example.com"]
    )
    tries.append(
        ("guard event for a second one", acm_event(other), no_cname(harness, "shop.example.com"))
    )

    refused: list[str] = []
    beyond_table: list[str] = []
    problems: list[str] = []
    for label, event, check in tries:
        outcome = run_once(harness, every_call, event)
        found = check(outcome)
        if outcome.raised:
            found.append(f"raised {outcome.raised}")
        if outcome.aws:
            beyond_table += outcome.aws
            found.append(f"AWS calls {sorted(set(outcome.aws))}")
        if found:
            problems.append(f"{label}: {'; '.join(found)}")
        else:
            refused.append(label)

    # The policy: answered FAILED (a caller must learn why), before any AWS call.
    monkeypatch.setenv("ALLOWED_DOMAINS", "example.org")
    monkeypatch.delenv("ALLOW_EXPORT", raising=False)
    for label, properties, check in POLICY_TRIES:
        outcome = run_once(harness, every_call, harness.event("create.json", properties=properties))
        found = check(outcome) + ([f"AWS calls {outcome.aws}"] if outcome.aws else [])
        beyond_table += outcome.aws
        if found:
            problems.append(f"{label}: {'; '.join(found)}")
        else:
            refused.append(label)
    monkeypatch.delenv("ALLOWED_DOMAINS")

    # The superseded reference: the genuine request goes on (a second hand-off), and its
    # first reference, replayed, is refused.
    assert harness.invoke(handed, harness.context(timeout_seconds=25)) is None
    outcome = run_once(harness, every_call, handed)
    found = refused_continuation(outcome) + ([f"AWS calls {outcome.aws}"] if outcome.aws else [])
    beyond_table += outcome.aws
    if found:
        problems.append(f"replayed superseded reference: {found}")
    else:
        refused.append("replayed superseded reference")
    tried = len(tries) + len(POLICY_TRIES) + 1

    figures.record(
        SECTION, "forged and foreign inputs tried", tried, f">= {MIN_TRIED}", tried >= MIN_TRIED
    )
    figures.record(
        SECTION,
        "refused (nothing touched)",
        len(refused),
        f"= {tried}",
        len(refused) == tried,
    )
    figures.record(
        SECTION, "AWS calls made beyond the table", len(beyond_table), "= 0", not beyond_table
    )
    assert tried >= MIN_TRIED
    assert not problems, "\n".join(problems)
    assert beyond_table == []
    # And the genuine request still completes, once.
    (_, last) = harness.self_invokes.payloads[-1]
    answer = harness.invoke(last)
    assert answer is not None and answer.status == "SUCCESS", answer and answer.reason
    assert len(harness.answers_for(genuine)) == 1
