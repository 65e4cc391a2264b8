"""ResourceProperties: every property, every rule, and reasons a user can act on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.errors import MAX_LONG_REASON_LENGTH, MAX_REASON_LENGTH, InvalidPropertyError
from dns_certificate.properties import (
    ACCEPTED_PROPERTIES,
    DEFAULT_KEY_ALGORITHM,
    KEY_ALGORITHMS,
    MAX_NAMES,
    MAX_SERVICE_TIMEOUT,
    parse_properties,
)
from dns_certificate.tagging import MAX_TAGS, OWNERSHIP_TAG_COUNT, RESERVED_TAG_PREFIX

from .resource_properties import PCA_ARN, ROLE_ARN, dvo, parse, raw, refusal, sans, tags
from .strategies import QUICK

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


# ---- CertificateAuthorityArn ---------------------------------------------------------------


def test_parse_properties_when_private_ca_arn_valid_makes_certificate_private() -> None:
    properties = parse(CertificateAuthorityArn=PCA_ARN)

    assert properties.certificate_authority_arn == PCA_ARN
    assert properties.is_private
    assert not properties.writes_dns_records


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
