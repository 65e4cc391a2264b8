"""ResourceProperties: every property, every rule, and reasons a user can act on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.certificates import ownership_tags
from dns_certificate.errors import MAX_LONG_REASON_LENGTH, MAX_REASON_LENGTH, InvalidPropertyError
from dns_certificate.properties import (
    ACCEPTED_PROPERTIES,
    DEFAULT_KEY_ALGORITHM,
    KEY_ALGORITHMS,
    MAX_NAMES,
    MAX_SERVICE_TIMEOUT,
    CertificateProperties,
    parse_properties,
)
from dns_certificate.regions import acm_regions
from dns_certificate.tagging import MAX_TAGS, OWNERSHIP_TAG_COUNT, RESERVED_TAG_PREFIX, Tag
from dns_certificate.zonetag import ZONES_TAG

from .strategies import QUICK

SERVICE_TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:dns-certificate"
PCA_ARN = (
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)
ROLE_ARN = "arn:aws:iam::210987654321:role/dns-validation"


def raw(**properties: Any) -> dict[str, Any]:
    """ResourceProperties as CloudFormation sends them: ServiceToken always, DomainName unless
    overridden (pass DomainName=None to leave it out)."""
    result: dict[str, Any] = {"ServiceToken": SERVICE_TOKEN, "DomainName": "example.com"}
    result.update(properties)
    return {key: value for key, value in result.items() if value is not None}


def parse(**properties: Any) -> CertificateProperties:
    return parse_properties(raw(**properties))


def refusal(properties: dict[str, Any]) -> str:
    with pytest.raises(InvalidPropertyError) as caught:
        parse_properties(properties)
    return caught.value.reason


def sans(count: int) -> list[str]:
    return [f"host{index}.example.com" for index in range(count)]


def tags(count: int) -> list[dict[str, str]]:
    return [{"Key": f"key{index}", "Value": f"value{index}"} for index in range(count)]


def dvo(**option: Any) -> dict[str, Any]:
    """Properties with a SAN and one DomainValidationOptions entry."""
    return raw(SubjectAlternativeNames=["www.example.com"], DomainValidationOptions=[option])


# ---- every refusal names the property and fits CloudFormation's reason --------------------

REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("domain-name-missing", raw(DomainName=None), "DomainName"),
    ("domain-name-empty", raw(DomainName=""), "DomainName"),
    ("domain-name-not-a-string", raw(DomainName=["example.com"]), "DomainName"),
    ("domain-name-65", raw(DomainName="a" * 61 + ".com"), "DomainName"),
    ("domain-name-invalid", raw(DomainName="exa_mple.com"), "DomainName"),
    ("sans-not-a-list", raw(SubjectAlternativeNames="www.example.com"), "SubjectAlternativeNames"),
    ("sans-invalid-item", raw(SubjectAlternativeNames=["ok.example.com", "a*.example.com"]),
     "SubjectAlternativeNames[1]"),
    ("sans-101-names", raw(SubjectAlternativeNames=sans(MAX_NAMES)), "SubjectAlternativeNames"),
    ("validation-method-lowercase", raw(ValidationMethod="dns"), "ValidationMethod"),
    ("validation-method-http", raw(ValidationMethod="HTTP"), "ValidationMethod"),
    ("managed-by", raw(ManagedBy="CLOUDFRONT"), "ManagedBy"),
    ("ct-top-level-lowercase", raw(CertificateTransparencyLoggingPreference="disabled"),
     "CertificateTransparencyLoggingPreference"),
    ("ct-both-differ", raw(CertificateTransparencyLoggingPreference="DISABLED",
     Options={"CertificateTransparencyLoggingPreference": "ENABLED"}),
     "Options.CertificateTransparencyLoggingPreference"),
    ("export-unknown", raw(CertificateExport="YES"), "CertificateExport"),
    ("options-export-unknown", raw(Options={"Export": "true"}), "Options.Export"),
    ("export-both-differ", raw(CertificateExport="ENABLED", Options={"Export": "DISABLED"}),
     "Options.Export"),
    ("root-hierarchy-unknown", raw(RootHierarchyType="N2"), "RootHierarchyType"),
    ("usage-unknown", raw(RootHierarchyType="N2_AMAZON_MANAGED", CertificateUsage="SERVER"),
     "CertificateUsage"),
    ("usage-without-root", raw(CertificateUsage="CLIENT_AND_SERVER_AUTH"), "CertificateUsage"),
    ("n2-with-email", raw(RootHierarchyType="N2_AMAZON_MANAGED", ValidationMethod="EMAIL"),
     "RootHierarchyType"),
    ("n2-with-ca", raw(RootHierarchyType="N2_AMAZON_MANAGED", CertificateAuthorityArn=PCA_ARN),
     "CertificateAuthorityArn"),
    ("n2-sfg2-client-only", raw(RootHierarchyType="N2_SFG2_AMAZON_MANAGED",
     CertificateUsage="CLIENT_AUTH_ONLY"), "CLIENT_AUTH_ONLY"),
    ("n2-rsa-4096", raw(RootHierarchyType="N2_AMAZON_MANAGED", KeyAlgorithm="RSA_4096"),
     "KeyAlgorithm"),
    ("key-algorithm-unknown", raw(KeyAlgorithm="RSA_8192"), "KeyAlgorithm"),
    ("key-algorithm-lowercase", raw(KeyAlgorithm="rsa_2048"), "KeyAlgorithm"),
    ("options-not-an-object", raw(Options="ENABLED"), "Options"),
    ("options-unknown-key", raw(Options={"CertificateTransparency": "ENABLED"}),
     "CertificateTransparency"),
    ("options-ct-lowercase", raw(Options={"CertificateTransparencyLoggingPreference": "enabled"}),
     "Options.CertificateTransparencyLoggingPreference"),
    ("ca-arn-of-acm", raw(CertificateAuthorityArn=
     "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"),
     "CertificateAuthorityArn"),
    ("ca-arn-garbage", raw(CertificateAuthorityArn="my-ca"), "CertificateAuthorityArn"),
    ("ca-arn-trailing-newline", raw(CertificateAuthorityArn=PCA_ARN + "\n"),
     "CertificateAuthorityArn"),
    ("hosted-zone-lowercase", raw(HostedZoneId="z123abc"), "HostedZoneId"),
    ("hosted-zone-wrong-prefix", raw(HostedZoneId="/zone/Z123ABC"), "HostedZoneId"),
    ("hosted-zone-33-characters", raw(HostedZoneId="Z" * 33), "HostedZoneId"),
    ("dvo-not-a-list", raw(DomainValidationOptions={"DomainName": "example.com"}),
     "DomainValidationOptions"),
    ("dvo-item-not-an-object", raw(DomainValidationOptions=["example.com"]),
     "DomainValidationOptions[0]"),
    ("dvo-name-not-on-certificate", dvo(DomainName="other.example.com"),
     "DomainValidationOptions[0].DomainName"),
    ("dvo-name-missing", dvo(HostedZoneId="Z123"), "DomainValidationOptions[0].DomainName"),
    ("dvo-unknown-key", dvo(DomainName="example.com", ValidationZone="Z123"), "ValidationZone"),
    ("dvo-bad-zone", dvo(DomainName="example.com", HostedZoneId="nope"),
     "DomainValidationOptions[0].HostedZoneId"),
    ("dvo-validation-domain-unrelated", {**dvo(DomainName="www.example.com",
     ValidationDomain="example.org"), "ValidationMethod": "EMAIL"},
     "DomainValidationOptions[0].ValidationDomain"),
    ("dvo-validation-domain-subdomain", {**dvo(DomainName="example.com",
     ValidationDomain="www.example.com"), "ValidationMethod": "EMAIL"},
     "DomainValidationOptions[0].ValidationDomain"),
    ("dvo-validation-domain-wildcard", {**dvo(DomainName="www.example.com",
     ValidationDomain="*.example.com"), "ValidationMethod": "EMAIL"},
     "DomainValidationOptions[0].ValidationDomain"),
    ("tags-not-a-list", raw(Tags={"Key": "a", "Value": "b"}), "Tags"),
    ("tags-48", raw(Tags=tags(MAX_TAGS - OWNERSHIP_TAG_COUNT + 1)), "Tags"),
    ("tag-not-an-object", raw(Tags=["team=web"]), "Tags[0]"),
    ("tag-extra-field", raw(Tags=[{"Key": "a", "Value": "b", "PropagateAtLaunch": "true"}]),
     "Tags[0]"),
    ("tag-key-missing", raw(Tags=[{"Value": "b"}]), "Tags[0].Key"),
    ("tag-key-empty", raw(Tags=[{"Key": "", "Value": "b"}]), "Tags[0].Key"),
    ("tag-key-129", raw(Tags=[{"Key": "k" * 129, "Value": "b"}]), "Tags[0].Key"),
    ("tag-value-257", raw(Tags=[{"Key": "team", "Value": "v" * 257}]), "Tags[0].Value"),
    ("tag-value-not-a-string", raw(Tags=[{"Key": "team", "Value": ["web"]}]), "Tags[0].Value"),
    ("tag-key-aws-prefix", raw(Tags=[{"Key": "aws:cloudformation:x", "Value": "b"}]),
     "Tags[0].Key"),
    ("tag-key-aws-prefix-uppercase", raw(Tags=[{"Key": "AWS:x", "Value": "b"}]), "Tags[0].Key"),
    ("tag-key-reserved-prefix", raw(Tags=[{"Key": RESERVED_TAG_PREFIX + "stack-id",
     "Value": "b"}]), "Tags[0].Key"),
    ("tag-key-duplicate", raw(Tags=[{"Key": "team", "Value": "a"}, {"Key": "team",
     "Value": "b"}]), "Tags[1].Key"),
    ("tag-key-bad-character", raw(Tags=[{"Key": "cost#center", "Value": "b"}]), "Tags[0].Key"),
    ("tag-value-bad-character", raw(Tags=[{"Key": "team", "Value": "a;b"}]), "Tags[0].Value"),
    ("service-timeout-0", raw(ServiceTimeout="0"), "ServiceTimeout"),
    ("service-timeout-3601", raw(ServiceTimeout="3601"), "ServiceTimeout"),
    ("service-timeout-negative", raw(ServiceTimeout="-5"), "ServiceTimeout"),
    ("service-timeout-fraction", raw(ServiceTimeout="1.5"), "ServiceTimeout"),
    ("service-timeout-words", raw(ServiceTimeout="five minutes"), "ServiceTimeout"),
    ("wait-for-issuance-yes", raw(WaitForIssuance="yes"), "WaitForIssuance"),
    ("manage-dns-records-1", raw(ManageDnsRecords="1"), "ManageDnsRecords"),
    ("region-garbage", raw(Region="Europe"), "Region"),
    ("region-unknown", raw(Region="xx-fake-1"), "Region"),
    ("region-not-a-string", raw(Region=["us-east-1"]), "Region"),
    ("route53-role-not-an-arn", raw(Route53RoleArn="dns-validation"), "Route53RoleArn"),
    ("route53-external-id-without-role", raw(Route53RoleExternalId="abc123"),
     "Route53RoleExternalId"),
    ("route53-external-id-too-short", raw(Route53RoleArn=ROLE_ARN, Route53RoleExternalId="x"),
     "Route53RoleExternalId"),
    ("route53-external-id-trailing-newline", raw(Route53RoleArn=ROLE_ARN,
     Route53RoleExternalId="abc123\n"), "Route53RoleExternalId"),
    ("unknown-property", raw(SubjectAlternativeName=["www.example.com"]),
     "SubjectAlternativeName"),
    ("idempotency-token", raw(IdempotencyToken="abc"), "IdempotencyToken"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("properties", "named"),
    [pytest.param(properties, named, id=case) for case, properties, named in REFUSALS],
)
def test_parse_properties_when_invalid_refuses_with_short_reason_naming_property(
    properties: dict[str, Any], named: str
) -> None:
    reason = refusal(properties)

    assert named in reason
    # Only an unknown property may be longer: its reason lists every accepted property.
    limit = MAX_LONG_REASON_LENGTH if "Unknown propert" in reason else MAX_REASON_LENGTH
    assert len(reason) <= limit


def test_parse_properties_when_not_an_object_refuses() -> None:
    with pytest.raises(InvalidPropertyError, match="ResourceProperties"):
        parse_properties(["DomainName", "example.com"])  # type: ignore[arg-type]


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=30), children, max_size=4)
    ),
    max_leaves=12,
)


@QUICK
@given(st.dictionaries(st.sampled_from(ACCEPTED_PROPERTIES), values, max_size=6))
def test_parse_properties_when_values_are_arbitrary_raises_only_short_invalid_property_errors(
    properties: dict[str, Any],
) -> None:
    try:
        parse_properties({"DomainName": "example.com", **properties})
    except InvalidPropertyError as error:
        assert len(error.reason) <= MAX_REASON_LENGTH


# ---- DomainName --------------------------------------------------------------------------------


def test_parse_properties_when_domain_name_has_case_and_trailing_dot_normalises_it() -> None:
    assert parse(DomainName="WWW.Example.COM.").domain_name == "www.example.com"


def test_parse_properties_when_domain_name_is_64_characters_accepts() -> None:
    name = "a" * 60 + ".com"

    assert parse(DomainName=name).domain_name == name


def test_parse_properties_when_wildcard_domain_name_accepts() -> None:
    assert parse(DomainName="*.example.com").domain_name == "*.example.com"


# ---- SubjectAlternativeNames ------------------------------------------------------------------


def test_parse_properties_when_sans_given_keeps_their_order() -> None:
    names = ["b.example.com", "a.example.com", "*.example.org"]

    assert parse(SubjectAlternativeNames=names).subject_alternative_names == tuple(names)


def test_parse_properties_when_sans_repeat_in_other_case_or_with_dot_keeps_one() -> None:
    properties = parse(
        SubjectAlternativeNames=["www.example.com", "WWW.example.com.", "www.example.com"]
    )

    assert properties.subject_alternative_names == ("www.example.com",)


def test_parse_properties_when_sans_repeat_domain_name_drops_the_duplicate() -> None:
    properties = parse(DomainName="example.com", SubjectAlternativeNames=["Example.com.", "a.b.co"])

    assert properties.all_names == ("example.com", "a.b.co")


def test_parse_properties_when_sans_absent_or_empty_has_only_domain_name() -> None:
    assert parse().all_names == ("example.com",)
    assert parse(SubjectAlternativeNames=[]).all_names == ("example.com",)
    assert parse(SubjectAlternativeNames="").all_names == ("example.com",)


def test_parse_properties_when_exactly_100_distinct_names_accepts() -> None:
    properties = parse(SubjectAlternativeNames=sans(MAX_NAMES - 1))

    assert len(properties.all_names) == MAX_NAMES


def test_parse_properties_when_101_distinct_names_refuses_with_count() -> None:
    reason = refusal(raw(SubjectAlternativeNames=sans(MAX_NAMES)))

    assert f"{MAX_NAMES + 1} distinct names" in reason


def test_parse_properties_when_many_sans_dedupe_to_100_accepts() -> None:
    repeated = sans(MAX_NAMES - 1) + [name.upper() + "." for name in sans(MAX_NAMES - 1)]

    assert len(parse(SubjectAlternativeNames=["example.com", *repeated]).all_names) == MAX_NAMES


# ---- ValidationMethod, KeyAlgorithm, Options ---------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "expected"), [(None, "DNS"), ("DNS", "DNS"), ("EMAIL", "EMAIL")]
)
def test_parse_properties_when_validation_method_valid_or_absent_uses_it_or_dns(
    given_: str | None, expected: str
) -> None:
    assert parse(ValidationMethod=given_).validation_method == expected


def test_parse_properties_when_validation_method_invalid_lists_allowed_values() -> None:
    assert "DNS, EMAIL" in refusal(raw(ValidationMethod="dns"))


@pytest.mark.parametrize("method", ["HTTP", "http", "CLOUDFRONT", "dns"])
def test_parse_properties_when_validation_method_not_offered_points_to_cloudfront(
    method: str,
) -> None:
    reason = refusal(raw(ValidationMethod=method))

    assert reason.startswith(f"ValidationMethod '{method}'")
    assert "CloudFront-managed (HTTP-validated) certificates are requested through CloudFront" in (
        reason
    )
    assert "DNS or EMAIL" in reason
    assert len(reason) < 256


def test_parse_properties_when_managed_by_given_points_to_cloudfront() -> None:
    reason = refusal(raw(ManagedBy="CLOUDFRONT", ValidationMethod="HTTP"))

    assert reason.startswith("ManagedBy cannot be set")
    assert "requested through CloudFront" in reason and "DNS or EMAIL" in reason


def test_key_algorithms_when_listed_has_the_seven_api_values() -> None:
    assert set(KEY_ALGORITHMS) == {
        "RSA_1024",
        "RSA_2048",
        "RSA_3072",
        "RSA_4096",
        "EC_prime256v1",
        "EC_secp384r1",
        "EC_secp521r1",
    }


@pytest.mark.parametrize("algorithm", KEY_ALGORITHMS)
def test_parse_properties_when_key_algorithm_is_an_api_value_accepts(algorithm: str) -> None:
    assert parse(KeyAlgorithm=algorithm).key_algorithm == algorithm


def test_parse_properties_when_key_algorithm_absent_leaves_acm_default() -> None:
    properties = parse()

    assert properties.key_algorithm is None
    assert properties.identity().key_algorithm == DEFAULT_KEY_ALGORITHM


def test_parse_properties_when_key_algorithm_invalid_lists_allowed_values() -> None:
    reason = refusal(raw(KeyAlgorithm="RSA_8192"))

    assert all(algorithm in reason for algorithm in KEY_ALGORITHMS)


@pytest.mark.parametrize("preference", ["ENABLED", "DISABLED"])
def test_parse_properties_when_transparency_preference_valid_accepts(preference: str) -> None:
    properties = parse(Options={"CertificateTransparencyLoggingPreference": preference})

    assert properties.transparency_logging == preference


def test_parse_properties_when_options_empty_leaves_transparency_unset() -> None:
    assert parse(Options={}).transparency_logging is None


# ---- CertificateAuthorityArn, HostedZoneId, Region ---------------------------------------------


def test_parse_properties_when_private_ca_arn_valid_makes_certificate_private() -> None:
    properties = parse(CertificateAuthorityArn=PCA_ARN)

    assert properties.certificate_authority_arn == PCA_ARN
    assert properties.is_private
    assert not properties.writes_dns_records


@pytest.mark.parametrize("zone", ["Z0123456789ABCDEFGHIJ", "/hostedzone/Z0123456789ABCDEFGHIJ"])
def test_parse_properties_when_hosted_zone_with_or_without_prefix_keeps_bare_id(zone: str) -> None:
    assert parse(HostedZoneId=zone).hosted_zone_id == "Z0123456789ABCDEFGHIJ"


def test_parse_properties_when_region_valid_keeps_it() -> None:
    assert parse(Region="us-east-1").region == "us-east-1"


# ---- DomainValidationOptions ------------------------------------------------------------------


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


# ---- Tags --------------------------------------------------------------------------------------


def test_tag_limit_when_resource_adds_its_own_tags_leaves_45_for_the_user() -> None:
    own = ownership_tags(
        "arn:aws:cloudformation:eu-west-1:1:stack/s/1", "Certificate", "f" * 40, "a" * 32
    )

    # The four ownership tags and the zones tag the renewal guard reads.
    assert len([*own, Tag(ZONES_TAG, "Z1")]) == OWNERSHIP_TAG_COUNT
    assert MAX_TAGS - OWNERSHIP_TAG_COUNT == 45
    assert all(tag.key.startswith(RESERVED_TAG_PREFIX) for tag in own)
    assert ZONES_TAG.startswith(RESERVED_TAG_PREFIX)


def test_parse_properties_when_45_tags_accepts() -> None:
    assert len(parse(Tags=tags(45)).tags) == 45


def test_parse_properties_when_46_tags_refuses_and_explains_the_reserved_five() -> None:
    reason = refusal(raw(Tags=tags(46)))

    assert "at most 45" in reason
    assert str(OWNERSHIP_TAG_COUNT) in reason


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("k" * 128, "v" * 256),
        ("a", ""),
        ("Team Name_.:/=+-@", "Web + API: /prod @eu"),
        ("café", "naïve"),
        ("awsome", "not reserved"),
        ("dns-certificates", "not the reserved prefix"),
    ],
    ids=["max-lengths", "empty-value", "all-punctuation", "unicode-letters", "aws-no-colon",
         "reserved-prefix-without-colon"],
)  # fmt: skip
def test_parse_properties_when_tag_within_acm_rules_accepts(key: str, value: str) -> None:
    assert parse(Tags=[{"Key": key, "Value": value}]).tags == (Tag(key, value),)


def test_parse_properties_when_tag_value_absent_uses_empty_string() -> None:
    assert parse(Tags=[{"Key": "team"}]).tags == (Tag("team", ""),)


# ---- CloudFormation's strings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "seconds"),
    [(None, MAX_SERVICE_TIMEOUT), ("", MAX_SERVICE_TIMEOUT), ("300", 300),
     ("1", 1), ("3600", 3600), ("0120", 120), (900, 900)],
)  # fmt: skip
def test_parse_properties_when_service_timeout_is_whole_seconds_converts_it(
    given_: object, seconds: int
) -> None:
    assert parse(ServiceTimeout=given_).service_timeout == seconds


@pytest.mark.parametrize(
    ("given_", "expected"),
    [(None, True), ("true", True), ("false", False), ("TRUE", True), ("False", False),
     (True, True), (False, False)],
)  # fmt: skip
def test_parse_properties_when_wait_for_issuance_is_a_boolean_string_converts_it(
    given_: object, expected: bool
) -> None:
    assert parse(WaitForIssuance=given_).wait_for_issuance is expected


def test_parse_properties_when_manage_dns_records_false_writes_no_records() -> None:
    properties = parse(ManageDnsRecords="false")

    assert properties.manage_dns_records is False
    assert not properties.writes_dns_records


def test_parse_properties_when_route53_role_given_applies_to_every_name() -> None:
    properties = parse(
        SubjectAlternativeNames=["www.example.com"],
        Route53RoleArn=ROLE_ARN,
        Route53RoleExternalId="external-42",
    )

    access = properties.route53_for("www.example.com")
    assert (access.role_arn, access.external_id) == (ROLE_ARN, "external-42")


# ---- unknown properties and the idempotency token ---------------------------------------------


def test_parse_properties_when_property_name_has_a_typo_lists_every_accepted_name() -> None:
    reason = refusal(raw(SubjectAlternativeName=["www.example.com"]))

    assert "Unknown property 'SubjectAlternativeName'" in reason
    missing = [name for name in ACCEPTED_PROPERTIES[1:] if name not in reason]
    assert not missing, f"not listed: {missing}"


def test_parse_properties_when_property_name_has_a_typo_names_it_and_the_right_spelling() -> None:
    reason = refusal(raw(SubjectAlternativeName=["www.example.com"]))

    assert "Unknown property 'SubjectAlternativeName'" in reason
    assert "SubjectAlternativeNames" in reason


def test_parse_properties_when_several_unknown_properties_names_them_all() -> None:
    reason = refusal(raw(Foo="1", Bar="2"))

    assert "Unknown properties 'Bar', 'Foo'" in reason


def test_parse_properties_when_idempotency_token_given_explains_it_is_derived() -> None:
    reason = refusal(raw(IdempotencyToken="my-token"))

    assert reason.startswith("IdempotencyToken")
    assert "derives it from the CloudFormation request" in reason


# ---- issue 8: the smaller points ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [42, 4.5, True, None, ["web"], {"team": "web"}],
    ids=["int", "float", "bool", "null", "list", "object"],
)
def test_parse_properties_when_tag_value_not_a_string_says_it_must_be_a_string(
    value: object,
) -> None:
    reason = refusal(raw(Tags=[{"Key": "team", "Value": value}]))

    assert reason.startswith("Tags[0].Value for 'team' must be a string")
    assert "256" not in reason


@pytest.mark.parametrize(
    "key",
    [42, True, None, ["team"], {"k": "v"}],
    ids=["int", "bool", "null", "list", "object"],
)
def test_parse_properties_when_tag_key_not_a_string_says_it_must_be_a_string(key: object) -> None:
    reason = refusal(raw(Tags=[{"Key": key, "Value": "web"}]))

    assert reason.startswith("Tags[0].Key must be a string")
    assert "128" not in reason


@pytest.mark.parametrize(
    "key",
    ["dns-certificate:x", "DNS-CERTIFICATE:x", "Dns-Certificate:stack-id", "dNs-CeRtIfIcAtE:"],
)
def test_parse_properties_when_tag_key_has_reserved_prefix_in_any_case_refuses(key: str) -> None:
    reason = refusal(raw(Tags=[{"Key": key, "Value": "b"}]))

    assert "Tags[0].Key" in reason
    assert RESERVED_TAG_PREFIX in reason


@pytest.mark.parametrize("key", ["aws:x", "AWS:x", "Aws:cloudformation:stack-name", "aWs:"])
def test_parse_properties_when_tag_key_has_aws_prefix_in_any_case_refuses(key: str) -> None:
    reason = refusal(raw(Tags=[{"Key": key, "Value": "b"}]))

    assert "Tags[0].Key" in reason
    assert "'aws:'" in reason


@pytest.mark.parametrize(
    "value",
    ["\uff11\uff12\uff10", "1_0_0", " 120", "120 ", "+120", "-0", "1e3", "0x78", "120.0",
     "\u0661\u0662\u0660", 12.0, True, ["120"], "9" * 5000],
    ids=["full-width", "underscores", "leading-space", "trailing-space", "plus", "minus-zero",
         "exponent", "hex", "decimal-point", "arabic-indic", "float",
         "bool", "list", "huge"],
)  # fmt: skip
def test_parse_properties_when_service_timeout_not_ascii_digits_refuses(value: object) -> None:
    reason = refusal(raw(ServiceTimeout=value))

    assert reason.startswith("ServiceTimeout ")
    assert "1 to 3600" in reason
    assert len(reason) <= MAX_REASON_LENGTH


def test_parse_properties_when_region_unknown_to_botocore_for_acm_refuses_naming_it() -> None:
    reason = refusal(raw(Region="xx-fake-1"))

    assert reason == "Region 'xx-fake-1' is not a region where ACM is available (e.g. us-east-1)"


@pytest.mark.parametrize(
    "region",
    ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"],
)
def test_parse_properties_when_region_is_an_acm_region_of_any_partition_keeps_it(
    region: str,
) -> None:
    assert parse(Region=region).region == region


def test_acm_regions_when_computed_is_cached_and_reads_no_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A profile that does not exist breaks a boto3 Session; the endpoint data needs none.
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    acm_regions.cache_clear()

    regions = acm_regions()

    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert "xx-fake-1" not in regions
    assert acm_regions() is regions  # computed once per container


def test_parse_properties_when_no_region_given_never_loads_endpoint_data() -> None:
    acm_regions.cache_clear()

    parse(DomainName="example.com", Tags=tags(3), ServiceTimeout="300")

    assert acm_regions.cache_info().currsize == 0


@pytest.mark.parametrize("value", [False, 0, [], {}], ids=["false", "zero", "list", "object"])
def test_parse_properties_when_validation_method_is_a_falsy_non_string_refuses(
    value: object,
) -> None:
    reason = refusal(raw(ValidationMethod=value))

    assert reason.startswith("ValidationMethod ")


# ---- the native AWS::CertificateManager::Certificate spellings ------------------------------


@pytest.mark.parametrize(
    "given_",
    [
        {"CertificateTransparencyLoggingPreference": "DISABLED"},
        {"Options": {"CertificateTransparencyLoggingPreference": "DISABLED"}},
        {
            "CertificateTransparencyLoggingPreference": "DISABLED",
            "Options": {"CertificateTransparencyLoggingPreference": "DISABLED"},
        },
    ],
)
def test_parse_properties_when_transparency_given_either_way_or_both_agreeing_accepts(
    given_: dict[str, Any],
) -> None:
    assert parse(**given_).transparency_logging == "DISABLED"


def test_parse_properties_when_transparency_spellings_differ_names_both() -> None:
    reason = refusal(
        raw(
            CertificateTransparencyLoggingPreference="ENABLED",
            Options={"CertificateTransparencyLoggingPreference": "DISABLED"},
        )
    )

    assert "CertificateTransparencyLoggingPreference 'ENABLED'" in reason
    assert "Options.CertificateTransparencyLoggingPreference 'DISABLED'" in reason


@pytest.mark.parametrize(
    "given_",
    [
        {"CertificateExport": "ENABLED"},
        {"Options": {"Export": "ENABLED"}},
        {"CertificateExport": "ENABLED", "Options": {"Export": "ENABLED"}},
    ],
)
def test_parse_properties_when_export_given_either_way_accepts(given_: dict[str, Any]) -> None:
    assert parse(**given_).export == "ENABLED"


def test_parse_properties_when_export_spellings_differ_names_both() -> None:
    reason = refusal(raw(CertificateExport="DISABLED", Options={"Export": "ENABLED"}))

    assert "CertificateExport 'DISABLED'" in reason and "Options.Export 'ENABLED'" in reason


def test_parse_properties_when_validation_domain_with_dns_accepts_it_like_the_native_one() -> None:
    properties = parse_properties(
        dvo(DomainName="www.example.com", ValidationDomain="example.com", HostedZoneId="Z123")
    )

    assert properties.validation_method == "DNS"
    assert properties.identity().validation_domains == frozenset()


@pytest.mark.parametrize("root", ["N2_AMAZON_MANAGED", "N2_SFG2_AMAZON_MANAGED"])
@pytest.mark.parametrize("algorithm", [None, "RSA_2048", "EC_prime256v1", "EC_secp384r1"])
def test_parse_properties_when_n2_with_an_n2_key_accepts(root: str, algorithm: str | None) -> None:
    properties = parse(RootHierarchyType=root, KeyAlgorithm=algorithm, ValidationMethod="DNS")

    assert (properties.root_hierarchy_type, properties.key_algorithm) == (root, algorithm)
    assert properties.certificate_usage is None
    assert properties.identity().certificate_usage == "CLIENT_AND_SERVER_AUTH"


@pytest.mark.parametrize(
    ("root", "usage"),
    [
        ("N2_AMAZON_MANAGED", "CLIENT_AND_SERVER_AUTH"),
        ("N2_AMAZON_MANAGED", "CLIENT_AUTH_ONLY"),
        ("N2_SFG2_AMAZON_MANAGED", "CLIENT_AND_SERVER_AUTH"),
    ],
)
def test_parse_properties_when_usage_allowed_for_the_hierarchy_accepts(
    root: str, usage: str
) -> None:
    assert parse(RootHierarchyType=root, CertificateUsage=usage).certificate_usage == usage


def test_parse_properties_when_n2_with_email_explains_dns_only() -> None:
    reason = refusal(raw(RootHierarchyType="N2_SFG2_AMAZON_MANAGED", ValidationMethod="EMAIL"))

    assert "needs ValidationMethod DNS" in reason


def test_parse_properties_when_not_n2_leaves_new_identity_fields_unset() -> None:
    identity = parse(CertificateExport="DISABLED").identity()

    assert (identity.export, identity.root_hierarchy_type, identity.certificate_usage) == (
        None,
        None,
        None,
    )
