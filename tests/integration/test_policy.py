"""Issue 18 points 4 and 7: the platform team's policy (AllowedDomains, AllowExportableCertificates)
against callers asking for what it does not allow, through the real handler and moto. A request
outside the policy fails before any AWS call, naming the parameter and the offending name; what
the policy allows still works; Deletes are never refused. (tests/unit/test_policy.py: the
matching rules themselves.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.harness import Harness

ALLOWED = "example.org, Shop.Example.COM."


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("ALLOWED_DOMAINS", ALLOWED)
    monkeypatch.delenv("ALLOW_EXPORT", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("properties", "offending"),
    [
        ({"DomainName": "bank.example.com"}, "bank.example.com"),
        ({"DomainName": "www.example.org", "SubjectAlternativeNames": ["evil.example.com"]},
         "evil.example.com"),
        ({"DomainName": "badexample.org"}, "badexample.org"),
        ({"DomainName": "example.org.evil.com"}, "example.org.evil.com"),
        ({"DomainName": "example.com"}, "example.com"),
        ({"DomainName": "*.example.com"}, "*.example.com"),
    ],
    ids=["other-domain", "one-san-outside", "suffix-without-dot", "allowed-as-a-prefix",
         "parent-of-an-allowed-domain", "wildcard-of-the-parent"],
)  # fmt: skip
def test_create_when_a_name_is_outside_allowed_domains_fails_naming_it_with_zero_aws_calls(
    harness: Harness, policy: pytest.MonkeyPatch, properties: dict[str, Any], offending: str
) -> None:
    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "FAILED"
    assert "AllowedDomains" in answer.reason and f"'{offending}'" in answer.reason
    assert len(answer.reason) < 256
    assert harness.calls.calls == []
    assert len(harness.self_invokes) == 0


@pytest.mark.parametrize(
    "properties",
    [
        {"DomainName": "WWW.Example.ORG."},
        {"DomainName": "example.org", "SubjectAlternativeNames": ["*.example.org"]},
        {"DomainName": "*.shop.example.com"},
    ],
    ids=["case-and-trailing-dot", "apex-and-wildcard", "wildcard-under-an-allowed-subdomain"],
)
def test_create_when_every_name_is_allowed_succeeds(
    harness: Harness, policy: pytest.MonkeyPatch, properties: dict[str, Any]
) -> None:
    answer = harness.run(harness.event("create.json", properties=properties))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == [answer.physical_id]


@pytest.mark.parametrize(
    "properties",
    [
        {"DomainName": "www.example.org", "CertificateExport": "ENABLED"},
        {"DomainName": "www.example.org", "Options": {"Export": "ENABLED"}},
    ],
    ids=["native-spelling", "api-spelling"],
)
@pytest.mark.parametrize("allow_export", [None, "false", "yes", "TRUE "])
def test_create_of_an_exportable_certificate_unless_allowed_fails_with_zero_aws_calls(
    harness: Harness,
    policy: pytest.MonkeyPatch,
    properties: dict[str, Any],
    allow_export: str | None,
) -> None:
    if allow_export is not None:
        policy.setenv("ALLOW_EXPORT", allow_export)

    answer = harness.run(harness.event("create.json", properties=properties))

    if allow_export == "TRUE ":  # compared case-insensitively, spaces stripped
        assert answer.status == "SUCCESS", answer.reason
        return
    assert answer.status == "FAILED"
    assert "AllowExportableCertificates" in answer.reason
    assert harness.calls.calls == []


def test_update_that_adds_a_name_outside_the_policy_fails_and_keeps_the_certificate(
    harness: Harness, policy: pytest.MonkeyPatch
) -> None:
    old = {"DomainName": "www.example.org"}
    arn = harness.create(old)
    tags_before = harness.tags(arn)
    new = {**old, "SubjectAlternativeNames": ["admin.example.com"]}
    mark = harness.calls.mark()

    answer = harness.run(
        harness.event("update-replace.json", properties=new, old_properties=old, physical_id=arn)
    )

    assert answer.status == "FAILED"
    assert "'admin.example.com'" in answer.reason
    assert harness.calls.calls[mark:] == []
    assert harness.certificates() == [arn]
    assert harness.tags(arn) == tags_before


def test_update_asking_nothing_new_is_not_refused_after_the_policy_tightened(
    harness: Harness, policy: pytest.MonkeyPatch
) -> None:
    """A certificate made before its domain left the policy: a tags-only update (and a
    rollback to the old properties) asks for no new name, so it goes through in place."""
    policy.delenv("ALLOWED_DOMAINS")
    old = {"DomainName": "www.example.com"}
    arn = harness.create(old)
    policy.setenv("ALLOWED_DOMAINS", ALLOWED)
    new = {**old, "Tags": [{"Key": "team", "Value": "web"}]}

    answer = harness.run(
        harness.event("update-tags.json", properties=new, old_properties=old, physical_id=arn)
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.tags(arn)["team"] == "web"


def test_delete_is_never_refused_by_the_policy(
    harness: Harness, policy: pytest.MonkeyPatch
) -> None:
    policy.delenv("ALLOWED_DOMAINS")
    properties = {"DomainName": "www.example.com"}
    arn = harness.create(properties)
    policy.setenv("ALLOWED_DOMAINS", ALLOWED)

    answer = harness.run(harness.event("delete.json", properties=properties, physical_id=arn))

    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []


def test_policy_is_read_for_each_request(harness: Harness, policy: pytest.MonkeyPatch) -> None:
    """An update of the provider's stack changes the function's environment: the next request
    follows it, without a cold start."""
    properties = {"DomainName": "www.example.com"}
    refused = harness.run(harness.event("create.json", properties=properties))
    policy.setenv("ALLOWED_DOMAINS", "example.com")
    allowed = harness.run(harness.event("create.json", properties=properties))

    assert refused.status == "FAILED"
    assert allowed.status == "SUCCESS", allowed.reason
