"""DnsValidatedCertificate: the properties it synthesizes are what the function accepts, read by
the function's own parser (handler/dns_certificate), and what it refuses fails `cdk synth`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk.assertions import Template

from dns_certificate import properties as function_properties
from dns_certificate.errors import InvalidPropertyError as FunctionInvalidPropertyError
from dns_certificate_cdk import (
    CertificateUsage,
    DnsCertificateProvider,
    DnsValidatedCertificate,
    DomainValidationOption,
    InvalidPropertyError,
    KeyAlgorithm,
    RootHierarchyType,
    ValidationMethod,
)
from tests.cdk.support import logical_id

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
SERVICE_TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:dns-certificate"
ROLE = "arn:aws:iam::210987654321:role/dns-validation"
CA = (
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)

pytestmark = pytest.mark.xdist_group("cdk-certificate")  # tests/support/xdist_groups.py


def _every_public_property(stack: cdk.Stack) -> DnsValidatedCertificate:
    return DnsValidatedCertificate(
        stack,
        "Everything",
        service_token=DnsCertificateProvider.from_service_token(SERVICE_TOKEN).service_token,
        domain_name="Example.com.",
        subject_alternative_names=["*.example.com", "www.example.org"],
        region="us-east-1",
        hosted_zone="Z0123456789ABCDEFGHIJ",
        route53_role=iam.Role.from_role_arn(stack, "Role", ROLE),
        route53_role_external_id="external-id-1",
        validation_options=[
            DomainValidationOption(
                domain_name="www.example.org",
                hosted_zone="Z9876543210ABCDEFGHIJ",
                route53_role="arn:aws:iam::111122223333:role/org-dns",
                route53_role_external_id="org-external-id",
            )
        ],
        validation_method=ValidationMethod.DNS,
        manage_dns_records=False,
        key_algorithm=KeyAlgorithm.EC_PRIME256V1,
        exportable=True,
        transparency_logging=True,
        cleanup_validation_records=True,
        wait_for_issuance=False,
        service_timeout=cdk.Duration.minutes(15),
        tags={"team": "web", "cost-centre": "42"},
    )


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict[str, DnsValidatedCertificate], Template, cdk.Stack]:
    """One app for the module: a certificate for each group of properties."""
    app = cdk.App()
    stack = cdk.Stack(app, "Certificates", env=ENV)
    certificates = {
        "everything": _every_public_property(stack),
        "n2": DnsValidatedCertificate(
            stack,
            "N2",
            service_token=SERVICE_TOKEN,
            domain_name="client.example.com",
            root_hierarchy_type=RootHierarchyType.N2_AMAZON_MANAGED,
            certificate_usage=CertificateUsage.CLIENT_AUTH_ONLY,
            key_algorithm=KeyAlgorithm.EC_SECP384R1,
        ),
        "private": DnsValidatedCertificate(
            stack,
            "Private",
            service_token=SERVICE_TOKEN,
            domain_name="internal.example.com",
            certificate_authority=CA,
        ),
        "email": DnsValidatedCertificate(
            stack,
            "Email",
            service_token=SERVICE_TOKEN,
            domain_name="mail.example.net",
            validation_method=ValidationMethod.EMAIL,
            validation_options=[
                DomainValidationOption(
                    domain_name="mail.example.net", validation_domain="example.net"
                )
            ],
            transparency_logging=False,
            exportable=False,
        ),
        "minimal": DnsValidatedCertificate(
            stack, "Minimal", service_token=SERVICE_TOKEN, domain_name="example.com"
        ),
    }
    return certificates, Template.from_stack(stack), stack


def _properties(
    synthesized: tuple[dict[str, DnsValidatedCertificate], Template, cdk.Stack], name: str
) -> dict[str, Any]:
    certificates, template, _ = synthesized
    resource = template.to_json()["Resources"][logical_id(certificates[name])]
    assert resource["Type"] == "Custom::DnsValidatedCertificate"
    return dict(resource["Properties"])


def _strings_only(value: object) -> bool:
    """CloudFormation's delivery: every scalar a string, lists and objects kept."""
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _strings_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_strings_only(item) for item in value)
    return isinstance(value, str)


@pytest.mark.parametrize("name", ["everything", "n2", "private", "email", "minimal"])
def test_synthesized_properties_when_read_by_the_function_are_accepted_strings(
    synthesized, name: str
) -> None:
    props = _properties(synthesized, name)
    assert set(props) <= set(function_properties.ACCEPTED_PROPERTIES)
    assert _strings_only(props), props
    function_properties.parse_properties(props)  # the function's own parser: no error


def test_synthesized_properties_when_combined_cover_every_property_the_function_accepts(
    synthesized,
) -> None:
    """Every property has a typed parameter; `Options` is the other spelling of two of them."""
    emitted: set[str] = set()
    for name in ("everything", "n2", "private", "email", "minimal"):
        emitted |= set(_properties(synthesized, name))
    assert emitted == set(function_properties.ACCEPTED_PROPERTIES) - {"Options"}


def test_every_property_when_parsed_by_the_function_means_what_was_typed(synthesized) -> None:
    parsed = function_properties.parse_properties(_properties(synthesized, "everything"))

    assert parsed.domain_name == "example.com"
    assert parsed.subject_alternative_names == ("*.example.com", "www.example.org")
    assert parsed.region == "us-east-1"
    assert parsed.hosted_zone_id == "Z0123456789ABCDEFGHIJ"
    assert parsed.route53.role_arn == ROLE
    assert parsed.route53.external_id == "external-id-1"
    option = parsed.option_for("www.example.org")
    assert option is not None and option.hosted_zone_id == "Z9876543210ABCDEFGHIJ"
    assert option.route53 is not None
    assert option.route53.role_arn == "arn:aws:iam::111122223333:role/org-dns"
    assert option.route53.external_id == "org-external-id"
    assert parsed.validation_method == "DNS"
    assert parsed.manage_dns_records is False
    assert parsed.key_algorithm == "EC_prime256v1"
    assert parsed.export == "ENABLED"
    assert parsed.transparency_logging == "ENABLED"
    assert parsed.cleanup_validation_records is True
    assert parsed.wait_for_issuance is False
    assert parsed.service_timeout == 900
    assert {(tag.key, tag.value) for tag in parsed.tags} == {
        ("team", "web"),
        ("cost-centre", "42"),
    }


def test_n2_private_and_email_when_parsed_by_the_function_mean_what_was_typed(
    synthesized,
) -> None:
    n2 = function_properties.parse_properties(_properties(synthesized, "n2"))
    assert (n2.root_hierarchy_type, n2.certificate_usage) == (
        "N2_AMAZON_MANAGED",
        "CLIENT_AUTH_ONLY",
    )
    assert n2.key_algorithm == "EC_secp384r1"
    private = function_properties.parse_properties(_properties(synthesized, "private"))
    assert private.certificate_authority_arn == CA
    email = function_properties.parse_properties(_properties(synthesized, "email"))
    assert email.validation_method == "EMAIL"
    assert email.validation_options[0].validation_domain == "example.net"
    assert (email.transparency_logging, email.export) == ("DISABLED", "DISABLED")


def test_unset_parameters_when_synthesized_leave_the_function_its_defaults(synthesized) -> None:
    props = _properties(synthesized, "minimal")
    assert props == {"ServiceToken": SERVICE_TOKEN, "DomainName": "example.com"}


@pytest.mark.parametrize(
    ("enum", "function_values"),
    [
        (ValidationMethod, function_properties.VALIDATION_METHODS),
        (KeyAlgorithm, function_properties.KEY_ALGORITHMS),
        (RootHierarchyType, function_properties.ROOT_HIERARCHY_TYPES),
        (CertificateUsage, function_properties.CERTIFICATE_USAGES),
    ],
)
def test_enum_values_when_listed_are_the_functions(enum: Any, function_values: tuple) -> None:
    assert [member.value for member in enum] == list(function_values)


# ---- refused at synth time, with the function's reason ------------------------------------

#: (construct arguments, the properties the function would get for them)
BAD_VALUES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"domain_name": "www..example.com"}, {"DomainName": "www..example.com"}),
    (
        {"domain_name": "example.com", "subject_alternative_names": ["a" * 64 + ".example.com"]},
        {"DomainName": "example.com", "SubjectAlternativeNames": ["a" * 64 + ".example.com"]},
    ),
    (
        {"domain_name": "example.com", "tags": {"aws:owner": "me"}},
        {"DomainName": "example.com", "Tags": [{"Key": "aws:owner", "Value": "me"}]},
    ),
    (
        {"domain_name": "example.com", "route53_role_external_id": "abc"},
        {"DomainName": "example.com", "Route53RoleExternalId": "abc"},
    ),
    (
        {"domain_name": "example.com", "route53_role": "arn:aws:iam::12:user/me"},
        {"DomainName": "example.com", "Route53RoleArn": "arn:aws:iam::12:user/me"},
    ),
    (
        {"domain_name": "example.com", "service_timeout": cdk.Duration.hours(2)},
        {"DomainName": "example.com", "ServiceTimeout": "7200"},
    ),
    (
        {"domain_name": "example.com", "region": "mars-1"},
        {"DomainName": "example.com", "Region": "mars-1"},
    ),
    (
        {"domain_name": "example.com", "hosted_zone": "not-a-zone"},
        {"DomainName": "example.com", "HostedZoneId": "not-a-zone"},
    ),
    (
        {"domain_name": "example.com", "certificate_usage": CertificateUsage.CLIENT_AUTH_ONLY},
        {"DomainName": "example.com", "CertificateUsage": "CLIENT_AUTH_ONLY"},
    ),
    (
        {
            "domain_name": "example.com",
            "root_hierarchy_type": RootHierarchyType.N2_SFG2_AMAZON_MANAGED,
            "key_algorithm": KeyAlgorithm.RSA_4096,
        },
        {
            "DomainName": "example.com",
            "RootHierarchyType": "N2_SFG2_AMAZON_MANAGED",
            "KeyAlgorithm": "RSA_4096",
        },
    ),
    (
        {
            "domain_name": "example.com",
            "validation_options": [DomainValidationOption(domain_name="www.example.com")],
        },
        {
            "DomainName": "example.com",
            "DomainValidationOptions": [{"DomainName": "www.example.com"}],
        },
    ),
    (
        {"domain_name": "example.com", "certificate_authority": "arn:aws:acm:eu-west-1:1:x"},
        {"DomainName": "example.com", "CertificateAuthorityArn": "arn:aws:acm:eu-west-1:1:x"},
    ),
    (
        {"domain_name": "example.com", "key_algorithm": "RSA_9999"},
        {"DomainName": "example.com", "KeyAlgorithm": "RSA_9999"},
    ),
]


def _function_reason(raw: Mapping[str, Any]) -> str:
    with pytest.raises(FunctionInvalidPropertyError) as refused:
        function_properties.parse_properties({"ServiceToken": SERVICE_TOKEN, **raw})
    return refused.value.reason


@pytest.mark.parametrize(("arguments", "raw"), BAD_VALUES)
def test_bad_value_when_constructed_fails_with_the_functions_reason(
    arguments: dict[str, Any], raw: dict[str, Any]
) -> None:
    stack = cdk.Stack(env=ENV)
    with pytest.raises(InvalidPropertyError) as refused:
        DnsValidatedCertificate(stack, "Certificate", service_token=SERVICE_TOKEN, **arguments)
    assert str(refused.value) == _function_reason(raw)


# ---- values known only at deploy time ------------------------------------------------------


@pytest.fixture(scope="module")
def deploy_time_values() -> Iterator[cdk.Stack]:
    yield cdk.Stack(cdk.App(), "Tokens", env=ENV)


def test_deploy_time_values_when_constructed_are_left_to_the_function(
    deploy_time_values: cdk.Stack,
) -> None:
    stack = deploy_time_values
    zone = route53.PublicHostedZone(stack, "Zone", zone_name="example.com")
    role = iam.Role(stack, "DnsRole", assumed_by=iam.AccountRootPrincipal())
    name = cdk.CfnParameter(stack, "Name", default="www.example.com").value_as_string
    certificate = DnsValidatedCertificate(
        stack,
        "FromTokens",
        service_token=SERVICE_TOKEN,
        domain_name=name,
        subject_alternative_names=[cdk.Fn.join(".", ["api", name]), "example.org"],
        hosted_zone=zone,
        route53_role=role,
        validation_options=[DomainValidationOption(domain_name=name, hosted_zone=zone)],
        tags={"zone": zone.hosted_zone_id},
    )
    resolved = Template.from_stack(stack).to_json()["Resources"][logical_id(certificate)][
        "Properties"
    ]
    assert resolved["HostedZoneId"] == {"Ref": logical_id(zone)}
    assert resolved["Route53RoleArn"] == {"Fn::GetAtt": [logical_id(role), "Arn"]}
    assert resolved["DomainName"] == {"Ref": "Name"}
    assert resolved["SubjectAlternativeNames"][1] == "example.org"


def test_names_when_a_whole_parameter_list_are_left_to_the_function(
    deploy_time_values: cdk.Stack,
) -> None:
    stack = deploy_time_values
    names = cdk.CfnParameter(stack, "Names", type="CommaDelimitedList").value_as_list
    certificate = DnsValidatedCertificate(
        stack,
        "FromList",
        service_token=SERVICE_TOKEN,
        domain_name="example.com",
        subject_alternative_names=names,
        validation_options=[DomainValidationOption(domain_name="www.example.com")],
    )
    resolved = stack.resolve(certificate.resource_properties)
    assert resolved["SubjectAlternativeNames"] == {"Ref": "Names"}


def test_bad_known_value_when_others_are_tokens_still_fails_with_the_functions_reason(
    deploy_time_values: cdk.Stack,
) -> None:
    stack = deploy_time_values
    name = cdk.CfnParameter(stack, "OtherName", default="www.example.com").value_as_string
    with pytest.raises(InvalidPropertyError) as refused:
        DnsValidatedCertificate(
            stack,
            "BadTag",
            service_token=SERVICE_TOKEN,
            domain_name=name,
            route53_role=iam.Role(stack, "Role2", assumed_by=iam.AccountRootPrincipal()),
            route53_role_external_id="x",  # too short: 2 to 1224 characters
        )
    assert str(refused.value) == _function_reason(
        {"DomainName": "example.com", "Route53RoleArn": ROLE, "Route53RoleExternalId": "x"}
    )


# ---- attributes and the resource --------------------------------------------------------


def test_validation_records_when_dns_is_not_managed_are_the_functions_attributes(
    synthesized,
) -> None:
    certificates, _, stack = synthesized
    certificate = certificates["everything"]
    resource_id = logical_id(certificate)
    records = certificate.validation_records
    assert len(records) == 3  # example.com, *.example.com, www.example.org
    assert [stack.resolve(record.name) for record in records] == [
        {"Fn::GetAtt": [resource_id, f"ValidationRecord{index}Name"]} for index in range(3)
    ]
    assert stack.resolve(records[2].value) == {
        "Fn::GetAtt": [resource_id, "ValidationRecord2Value"]
    }
    assert stack.resolve(certificate.validation_records_json) == {
        "Fn::GetAtt": [resource_id, "ValidationRecords"]
    }


def test_validation_records_when_dns_is_managed_are_refused(synthesized) -> None:
    certificates, _, _ = synthesized
    with pytest.raises(ValueError, match="manage_dns_records=False"):
        _ = certificates["minimal"].validation_records


def test_certificate_region_when_given_is_its_env_region(synthesized) -> None:
    certificates, _, _ = synthesized
    assert certificates["everything"].env.region == "us-east-1"
    assert certificates["minimal"].env.region == "eu-west-1"  # the provider's, from its ARN


def test_certificate_region_when_unset_is_the_region_of_a_provider_given_by_arn() -> None:
    stack = cdk.Stack(env=ENV)
    certificate = DnsValidatedCertificate(
        stack,
        "Certificate",
        service_token="arn:aws:lambda:us-east-1:123456789012:function:dns-certificate",
        domain_name="example.com",
    )
    assert certificate.env.region == "us-east-1"
    assert "Region" not in certificate.resource_properties


def test_removal_policy_when_applied_reaches_the_custom_resource() -> None:
    stack = cdk.Stack(env=ENV)
    certificate = DnsValidatedCertificate(
        stack, "Certificate", service_token=SERVICE_TOKEN, domain_name="example.com"
    )
    certificate.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    (resource,) = Template.from_stack(stack).to_json()["Resources"].values()
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


@pytest.mark.parametrize("token", ["arn:aws:lambda", "not-an-arn", "arn:aws:lambda::1:function:f"])
def test_certificate_region_when_the_token_is_no_arn_with_a_region_is_the_stacks(
    token: str,
) -> None:
    stack = cdk.Stack(env=ENV)
    certificate = DnsValidatedCertificate(
        stack, "Certificate", service_token=token, domain_name="example.com"
    )
    assert certificate.env.region == "eu-west-1"


@pytest.mark.parametrize(
    "arguments",
    [
        {"validation_method": ValidationMethod.EMAIL},
        {"certificate_authority": CA},
    ],
    ids=["email", "private"],
)
def test_validation_records_when_the_certificate_has_none_are_refused(
    arguments: dict[str, Any],
) -> None:
    """EMAIL and private certificates have no DNS records: the function answers no such
    attribute, and a GetAtt on it would fail the deploy."""
    certificate = DnsValidatedCertificate(
        cdk.Stack(env=ENV),
        "Certificate",
        service_token=SERVICE_TOKEN,
        domain_name="example.com",
        manage_dns_records=False,
        **arguments,
    )
    with pytest.raises(ValueError, match="DNS-validated"):
        _ = certificate.validation_records
    with pytest.raises(ValueError, match="DNS-validated"):
        certificate.validation_record(0)
