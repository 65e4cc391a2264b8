"""A static site behind CloudFront, its certificate in us-east-1, the stack in any region.

    cdk deploy -c domain=www.example.com -c zone=example.com   # in eu-west-1, say

One stack: the certificate provider (installed from the Serverless Application Repository, or
`-c serviceToken=<ARN>` for one already deployed), the hosted zone looked up by name, a
certificate requested in us-east-1 with its validation record written in that zone, and the
distribution that uses it. No second stack in us-east-1, no cross-region references.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dns_certificate_cdk import DnsCertificateProvider, DnsValidatedCertificate


class SiteStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain_name: str,
        zone_name: str,
        service_token: str | None = None,
        env: cdk.Environment | None = None,
    ) -> None:
        super().__init__(scope, id, env=env)
        provider = (
            DnsCertificateProvider.from_service_token(service_token)
            if service_token
            else DnsCertificateProvider(self, "CertificateProvider")
        )
        zone = route53.HostedZone.from_lookup(self, "Zone", domain_name=zone_name)
        certificate = DnsValidatedCertificate(
            self,
            "Certificate",
            service_token=provider.service_token,
            domain_name=domain_name,
            region="us-east-1",  # where CloudFront reads certificates
            hosted_zone=zone,
        )
        bucket = s3.Bucket(self, "Content", enforce_ssl=True)
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            ),
            domain_names=[domain_name],
            certificate=certificate,
            default_root_object="index.html",
        )
        route53.ARecord(
            self,
            "Alias",
            zone=zone,
            record_name=domain_name,
            target=route53.RecordTarget.from_alias(targets.CloudFrontTarget(distribution)),
        )
        cdk.CfnOutput(self, "CertificateArn", value=certificate.certificate_arn)
        cdk.CfnOutput(self, "DistributionDomainName", value=distribution.distribution_domain_name)


def build(app: cdk.App) -> SiteStack:
    """The stack, from the app's context (`-c domain=... -c zone=...`)."""
    return SiteStack(
        app,
        "Site",
        domain_name=app.node.try_get_context("domain") or "www.example.com",
        zone_name=app.node.try_get_context("zone") or "example.com",
        service_token=app.node.try_get_context("serviceToken"),
        # The zone lookup needs a concrete account and region: the CLI's.
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
