"""The provider's policy (AllowedDomains, AllowExportableCertificates): what callers may ask for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.errors import PolicyRefusedError
from dns_certificate.policy import Policy, asks_for_something_new
from dns_certificate.properties import CertificateProperties, parse_properties

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


def properties(*names: str, export: bool = False) -> CertificateProperties:
    raw: dict[str, object] = {"DomainName": names[0]}
    if names[1:]:
        raw["SubjectAlternativeNames"] = list(names[1:])
    if export:
        raw["CertificateExport"] = "ENABLED"
    return parse_properties(raw)


def test_policy_from_environment_when_unset_allows_any_name_and_refuses_export() -> None:
    policy = Policy.from_environment({})

    assert policy.allows_name("anything.example.org")
    with pytest.raises(PolicyRefusedError, match=r'^AllowExportableCertificates .* not "true"'):
        policy.check(properties("example.org", export=True))


def test_policy_from_environment_reads_names_case_insensitively_without_trailing_dots() -> None:
    policy = Policy.from_environment({"ALLOWED_DOMAINS": " Example.COM. , shop.example.net ,,"})

    assert policy.allowed_domains == ("example.com", "shop.example.net")
    assert policy.allows_name("WWW.example.com.")
    assert policy.allows_name("*.example.com")
    assert policy.allows_name("shop.example.net")
    assert not policy.allows_name("example.net")
    assert not policy.allows_name("badexample.com")
    assert not policy.allows_name("example.com.evil.org")


def test_policy_check_when_a_san_is_outside_names_the_parameter_and_the_name() -> None:
    policy = Policy.from_environment({"ALLOWED_DOMAINS": "example.com"})

    with pytest.raises(PolicyRefusedError) as refused:
        policy.check(properties("example.com", "www.example.com", "shop.other.org"))

    assert refused.value.reason.startswith("AllowedDomains of the certificate provider")
    assert "'shop.other.org'" in refused.value.reason
    assert len(refused.value.reason) < 256


def test_policy_check_when_export_allowed_passes() -> None:
    policy = Policy.from_environment({"ALLOW_EXPORT": "TRUE", "ALLOWED_DOMAINS": "example.com"})

    policy.check(properties("example.com", export=True))


@given(st.lists(LABEL, min_size=1, max_size=4), st.lists(LABEL, min_size=1, max_size=3))
def test_policy_allows_exactly_names_equal_to_or_under_an_allowed_domain(
    allowed_labels: list[str], prefix: list[str]
) -> None:
    allowed = ".".join(allowed_labels) + ".com"
    policy = Policy.from_environment({"ALLOWED_DOMAINS": allowed.upper()})

    assert policy.allows_name(allowed)
    assert policy.allows_name(".".join(prefix) + "." + allowed)
    assert policy.allows_name("*." + allowed)
    # Glued to the allowed name without a dot: another domain.
    assert not policy.allows_name(prefix[0] + allowed)
    assert not policy.allows_name(allowed + ".evil")


def test_asks_for_something_new_when_only_tags_change_is_false() -> None:
    old = parse_properties({"DomainName": "example.com", "Tags": [{"Key": "a", "Value": "1"}]})
    new = parse_properties({"DomainName": "EXAMPLE.com.", "Tags": [{"Key": "a", "Value": "2"}]})

    assert not asks_for_something_new(new, old)
    assert asks_for_something_new(new, None)
    assert asks_for_something_new(
        parse_properties(
            {"DomainName": "example.com", "SubjectAlternativeNames": ["a.example.com"]}
        ),
        old,
    )
