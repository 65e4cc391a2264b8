"""The reason for the construct: a CloudFront distribution in a stack of eu-west-1 with its
certificate in us-east-1, in one stack, without cross-region references (aws-cdk #9274); and
the same certificate type where CDK takes an ICertificate (listeners, API Gateway domains)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53

from dns_certificate_cdk import DnsCertificateProvider, DnsValidatedCertificate
from tests.cdk.support import logical_id

pytestmark = pytest.mark.xdist_group("cdk-cloudfront")  # tests/support/xdist_groups.py

ENV = cdk.Environment(account="123456789012", region="eu-west-1")


class Site:
    """The app the README shows: provider, zone lookup, certificate in us-east-1, distribution."""

    def __init__(self) -> None:
        self.app = cdk.App(
            context={
                # What `cdk synth` caches from the zone lookup (cdk.context.json).
                "hosted-zone:account=123456789012:domainName=example.com:region=eu-west-1": {
                    "Id": "/hostedzone/Z0123456789ABCDEFGHIJ",
                    "Name": "example.com.",
                }
            }
        )
        self.stack = cdk.Stack(self.app, "Site", env=ENV)
        provider = DnsCertificateProvider(self.stack, "Provider")
        zone = route53.HostedZone.from_lookup(self.stack, "Zone", domain_name="example.com")
        self.certificate = DnsValidatedCertificate(
            self.stack,
            "Certificate",
            service_token=provider.service_token,
            domain_name="www.example.com",
            region="us-east-1",
            hosted_zone=zone,
        )
        self.distribution = cloudfront.Distribution(
            self.stack,
            "Distribution",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin("origin.example.com")
            ),
            domain_names=["www.example.com"],
            certificate=self.certificate,
        )
        self.assembly = self.app.synth()
        self.template: dict[str, Any] = self.assembly.get_stack_by_name("Site").template

    def certificate_logical_id(self) -> str:
        return logical_id(self.certificate)


@pytest.fixture(scope="module")
def site() -> Site:
    return Site()


def test_cloudfront_site_when_synthesized_is_one_stack(site: Site) -> None:
    assert [stack.stack_name for stack in site.assembly.stacks] == ["Site"]


def test_cloudfront_site_when_synthesized_has_no_cross_region_reference(site: Site) -> None:
    text = json.dumps(site.template)
    assert "Fn::ImportValue" not in text
    assert "CrossRegion" not in text  # CDK's crossRegionReferences writer/reader resources
    assert "AWS::SSM::Parameter" not in {r["Type"] for r in site.template["Resources"].values()}


def test_distribution_when_synthesized_uses_the_certificate_of_us_east_1(site: Site) -> None:
    resources = site.template["Resources"]
    config = resources[logical_id(site.distribution)]["Properties"]["DistributionConfig"]
    certificate_id = site.certificate_logical_id()
    assert config["ViewerCertificate"]["AcmCertificateArn"] == {"Ref": certificate_id}
    properties = resources[certificate_id]["Properties"]
    assert properties["Region"] == "us-east-1"
    assert properties["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"  # the lookup's id, no prefix


def test_certificate_when_asked_says_it_lives_in_us_east_1(site: Site) -> None:
    assert site.certificate.env.region == "us-east-1"
    assert site.certificate.stack.region == "eu-west-1"


def test_days_to_expiry_metric_when_made_is_read_in_the_certificates_region(site: Site) -> None:
    metric = site.certificate.metric_days_to_expiry()
    config = metric.to_metric_config().metric_stat
    assert config is not None
    assert (config.namespace, config.metric_name, config.statistic) == (
        "AWS/CertificateManager",
        "DaysToExpiry",
        "Minimum",
    )
    assert config.region == "us-east-1"
    assert config.period.to_days() == 1
    assert config.dimensions is not None
    assert site.stack.resolve(config.dimensions[0].value) == {"Ref": site.certificate_logical_id()}
    # As with CDK's own certificates, an alarm must live in the metric's region.
    with pytest.raises(RuntimeError, match="region"):
        cloudwatch.Alarm(
            site.stack, "ExpiryAlarm", metric=metric, threshold=30, evaluation_periods=1
        )


@pytest.fixture(scope="module")
def regional() -> tuple[cdk.Stack, DnsValidatedCertificate, dict[str, Any]]:
    """A certificate in the stack's own region, used by a listener and an API domain name."""
    stack = cdk.Stack(cdk.App(), "Regional", env=ENV)
    certificate = DnsValidatedCertificate(
        stack,
        "Certificate",
        service_token=DnsCertificateProvider.from_service_token(
            cdk.Fn.import_value("dns-certificate-ServiceToken")
        ).service_token,
        domain_name="api.example.com",
    )
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    balancer = elbv2.ApplicationLoadBalancer(stack, "Balancer", vpc=vpc, internet_facing=True)
    balancer.add_listener(
        "Https",
        port=443,
        certificates=[certificate],
        default_action=elbv2.ListenerAction.fixed_response(200),
    )
    apigateway.DomainName(stack, "Domain", domain_name="api.example.com", certificate=certificate)
    return stack, certificate, dict(cdk.assertions.Template.from_stack(stack).to_json())


def test_listener_and_api_domain_when_synthesized_use_the_certificate(regional) -> None:
    _, certificate, template = regional
    reference = {"Ref": logical_id(certificate)}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in template["Resources"].values():
        by_type.setdefault(resource["Type"], []).append(resource["Properties"])
    (listener,) = by_type["AWS::ElasticLoadBalancingV2::Listener"]
    assert listener["Certificates"] == [{"CertificateArn": reference}]
    (domain,) = by_type["AWS::ApiGateway::DomainName"]
    assert reference in (domain.get("RegionalCertificateArn"), domain.get("CertificateArn"))
    assert certificate.env.region == "eu-west-1"
