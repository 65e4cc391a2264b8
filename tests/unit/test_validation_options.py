"""validation_options.py: DomainValidationOptions, hosted zone ids and Route 53 roles."""

from __future__ import annotations

import pytest

from dns_certificate.properties import parse_properties

from .resource_properties import ROLE_ARN, dvo, parse, raw, refusal


@pytest.mark.parametrize("zone", ["Z0123456789ABCDEFGHIJ", "/hostedzone/Z0123456789ABCDEFGHIJ"])
def test_parse_properties_when_hosted_zone_with_or_without_prefix_keeps_bare_id(zone: str) -> None:
    assert parse(HostedZoneId=zone).hosted_zone_id == "Z0123456789ABCDEFGHIJ"


def test_parse_properties_when_validation_option_names_a_zone_uses_it_for_that_name() -> None:
    properties = parse_properties(
        dvo(DomainName="WWW.example.com.", HostedZoneId="/hostedzone/Z111")
    )

    option = properties.option_for("www.example.com")
    assert option is not None
    assert option.hosted_zone_id == "Z111"


def test_parse_properties_when_validation_option_repeats_a_name_refuses() -> None:
    properties = raw(
        SubjectAlternativeNames=["www.example.com"],
        DomainValidationOptions=[
            {"DomainName": "www.example.com", "HostedZoneId": "Z111"},
            {"DomainName": "WWW.example.com.", "HostedZoneId": "Z222"},
        ],
    )

    assert "listed twice" in refusal(properties)


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("www.example.com", "www.example.com"),
        ("www.example.com", "example.com"),
        ("*.example.com", "example.com"),
    ],
)
def test_parse_properties_when_email_validation_domain_equal_or_superdomain_accepts(
    name: str, domain: str
) -> None:
    properties = parse(
        ValidationMethod="EMAIL",
        SubjectAlternativeNames=[name],
        DomainValidationOptions=[{"DomainName": name, "ValidationDomain": domain}],
    )

    option = properties.option_for(name)
    assert option is not None
    assert option.validation_domain == domain


def test_parse_properties_when_route53_role_given_applies_to_every_name() -> None:
    properties = parse(
        SubjectAlternativeNames=["www.example.com"],
        Route53RoleArn=ROLE_ARN,
        Route53RoleExternalId="external-42",
    )

    access = properties.route53_for("www.example.com")
    assert (access.role_arn, access.external_id) == (ROLE_ARN, "external-42")


def test_parse_properties_when_validation_domain_with_dns_accepts_it_like_the_native_one() -> None:
    properties = parse_properties(
        dvo(DomainName="www.example.com", ValidationDomain="example.com", HostedZoneId="Z123")
    )

    assert properties.validation_method == "DNS"
    assert properties.identity().validation_domains == frozenset()
