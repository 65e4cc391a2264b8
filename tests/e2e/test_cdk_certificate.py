"""A certificate written with the CDK construct, deployed by the local CloudFormation.

The CloudFront case of issue 22: the stack, and the provider, live in eu-west-1; the certificate
is requested in us-east-1. The custom resource's properties are taken from the synthesized
template as they are (no hand-written property in between), sent to the handler by the local
CloudFormation over the strict emulator, and come back as an ISSUED certificate in us-east-1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # tests/cdk

import aws_cdk as cdk
from aws_cdk import aws_route53 as route53
from aws_cdk.assertions import Template

from dns_certificate_cdk import (
    DnsCertificateProvider,
    DnsValidatedCertificate,
    DomainValidationOption,
    KeyAlgorithm,
)
from local.answers import AnswerServer
from local.demo import create_zones
from local.driver import LocalCloudFormation, cfn_strings
from local.emulator import Emulator, StrictSettings, moto_is_patched, validation_record
from tests.cdk.support import logical_id
from tests.e2e.conftest import FUNCTION_TIMEOUT, ISSUE_DELAY, RECORDS_DELAY

STACK_REGION = "eu-west-1"


@pytest.fixture
def emulator_eu() -> Iterator[Emulator]:
    """The strict emulator with the provider's region eu-west-1."""
    settings = StrictSettings(issue_delay=ISSUE_DELAY, records_delay=RECORDS_DELAY)
    with Emulator(region=STACK_REGION, settings=settings) as aws:
        yield aws
    assert not moto_is_patched(), "the emulator left moto patched"


@pytest.fixture
def cfn_eu(emulator_eu: Emulator, answer_server: AnswerServer) -> Iterator[LocalCloudFormation]:
    """The local CloudFormation, its function deployed in eu-west-1."""
    with LocalCloudFormation(
        region=STACK_REGION,
        function_timeout=FUNCTION_TIMEOUT,
        answer_timeout=60.0,
        grace=0.3,
        retry_delay=0.2,
        answers=answer_server,
    ) as driver:
        yield driver


def _synthesized_certificate(service_token: str, zones: dict[str, str]) -> dict[str, Any]:
    """The custom resource's properties, as `cdk synth` writes them."""
    stack = cdk.Stack(
        cdk.App(), "Site", env=cdk.Environment(account="123456789012", region=STACK_REGION)
    )
    certificate = DnsValidatedCertificate(
        stack,
        "Certificate",
        service_token=DnsCertificateProvider.from_service_token(service_token).service_token,
        domain_name="www.example.com",
        subject_alternative_names=["example.com", "www.example.org"],
        region="us-east-1",
        # example.com's zone is discovered; example.org's is given, as a CDK zone.
        validation_options=[
            DomainValidationOption(
                domain_name="www.example.org",
                hosted_zone=route53.HostedZone.from_hosted_zone_id(
                    stack, "OrgZone", zones["example.org"]
                ),
            )
        ],
        key_algorithm=KeyAlgorithm.EC_PRIME256V1,
        service_timeout=cdk.Duration.minutes(5),
        tags={"site": "www"},
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    resource = resources[logical_id(certificate)]
    assert resource["Type"] == "Custom::DnsValidatedCertificate"
    return dict(resource["Properties"])


def test_synthesized_certificate_when_deployed_is_issued_in_us_east_1(
    emulator_eu: Emulator, cfn_eu: LocalCloudFormation
) -> None:
    zones = create_zones(emulator_eu)
    synthesized = _synthesized_certificate(cfn_eu.function_arn, zones)
    # Exactly what CloudFormation would deliver: the driver adds nothing and converts nothing.
    assert synthesized.pop("ServiceToken") == cfn_eu.function_arn
    assert cfn_strings(synthesized) == synthesized
    stack = cfn_eu.stack("site")

    created = stack.create({"Certificate": synthesized})

    assert created.status == "CREATE_COMPLETE", [step.describe() for step in created.steps]
    assert created.problems == []
    arn = stack.physical_id("Certificate")
    assert arn.startswith("arn:aws:acm:us-east-1:")
    certificate = emulator_eu.describe(arn)
    assert certificate is not None
    assert certificate["Status"] == "ISSUED"
    assert set(certificate["SubjectAlternativeNames"]) == {
        "www.example.com",
        "example.com",
        "www.example.org",
    }
    assert certificate["KeyAlgorithm"] == "EC_prime256v1"
    assert emulator_eu.certificate_arns(STACK_REGION) == []  # none in the stack's region
    assert emulator_eu.cname_records(zones["example.com"]) == dict(
        [validation_record("www.example.com"), validation_record("example.com")]
    )
    assert emulator_eu.cname_records(zones["example.org"]) == dict(
        [validation_record("www.example.org")]
    )

    deleted = stack.delete()

    assert deleted.status == "DELETE_COMPLETE"
    assert emulator_eu.certificate_arns("us-east-1") == []
