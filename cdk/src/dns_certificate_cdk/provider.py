"""`DnsCertificateProvider`: where a certificate's `service_token` comes from.

Either the provider is installed in the stack, as a nested application from the Serverless
Application Repository (what `examples/nested-application.yaml` does in plain CloudFormation),
or it is installed elsewhere (`make deploy`, a StackSet) and only its token is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import aws_sam as sam
from constructs import Construct

from ._version import __version__

#: The published application (the same default as examples/nested-application.yaml; a
#: placeholder until the first `sam publish`, as the template's HomePageUrl is).
DEFAULT_APPLICATION_ID = (
    "arn:aws:serverlessrepo:us-east-1:123456789012:applications/dns-certificate"
)
#: The provider version this construct release was made with.
DEFAULT_SEMANTIC_VERSION = __version__


@dataclass(frozen=True)
class ImportedDnsCertificateProvider:
    """A provider installed elsewhere, known by its ServiceToken (the function's ARN)."""

    service_token: str


class DnsCertificateProvider(Construct):
    """Installs the provider in this stack from the Serverless Application Repository.

    `allowed_domains` and `allow_exportable_certificates` are the provider's
    `AllowedDomains` and `AllowExportableCertificates` parameters (which names, and whether
    exportable certificates, its users may request); `parameters` passes any other template
    parameter of the provider as is (e.g. `{"AlarmTopicArn": topic.topic_arn}`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        application_id: str = DEFAULT_APPLICATION_ID,
        semantic_version: str = DEFAULT_SEMANTIC_VERSION,
        allowed_domains: Sequence[str] | None = None,
        allow_exportable_certificates: bool | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        values = dict(parameters or {})
        if allowed_domains is not None:
            if isinstance(allowed_domains, str):
                raise TypeError("allowed_domains is a list of domain names, not one string")
            values["AllowedDomains"] = ",".join(allowed_domains)
        if allow_exportable_certificates is not None:
            values["AllowExportableCertificates"] = (
                "true" if allow_exportable_certificates else "false"
            )
        self.application = sam.CfnApplication(
            self,
            "Application",
            location=sam.CfnApplication.ApplicationLocationProperty(
                application_id=application_id, semantic_version=semantic_version
            ),
            parameters=values or None,
        )
        #: The ServiceToken for `DnsValidatedCertificate(service_token=...)`.
        self.service_token: str = self.application.get_att("Outputs.ServiceToken").to_string()

    @staticmethod
    def from_service_token(service_token: str) -> ImportedDnsCertificateProvider:
        """A provider installed elsewhere: e.g. `Fn.import_value("dns-certificate-ServiceToken")`
        (the export of `make deploy`'s stack) or the function's ARN."""
        return ImportedDnsCertificateProvider(service_token=service_token)
