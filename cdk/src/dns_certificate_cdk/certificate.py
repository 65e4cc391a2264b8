"""`DnsValidatedCertificate`: the custom resource as a typed construct and an `ICertificate`.

Every resource property the function accepts has a typed parameter; the construct writes them
as CloudFormation delivers them (strings: "true", "300"; lists; objects) and checks them with the
function's own rules before the stack is synthesized (`rules.py`). The certificate can live in
another region than its stack (`region`, e.g. us-east-1 for CloudFront): the construct's `env`
says so, as CDK's own cross-region certificate did, and the distribution, listener or domain
name that uses it refers to it within the one stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import (
    Arn,
    ArnFormat,
    CustomResource,
    Duration,
    RemovalPolicy,
    Resource,
    Token,
)
from aws_cdk import aws_acmpca as acmpca
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk.interfaces import aws_certificatemanager as acm_refs
from constructs import Construct

from .enums import CertificateUsage, KeyAlgorithm, RootHierarchyType, ValidationMethod
from .rules import CertificateProperties, check_properties, has_token

#: The resource type the README's templates use.
RESOURCE_TYPE = "Custom::DnsValidatedCertificate"


@dataclass(frozen=True)
class DomainValidationOption:
    """Settings for one of the certificate's names (`DomainValidationOptions`)."""

    domain_name: str
    #: The public zone of this name's validation record (instead of discovering it).
    hosted_zone: route53.IHostedZone | str | None = None
    #: EMAIL validation: the domain the approval e-mail goes to.
    validation_domain: str | None = None
    #: A role in the account that owns this name's zone.
    route53_role: iam.IRole | str | None = None
    route53_role_external_id: str | None = None


@dataclass(frozen=True)
class ValidationRecord:
    """One name's validation CNAME, as attributes of the resource (deploy-time values)."""

    name: str
    value: str


@jsii.implements(acm.ICertificate)
class DnsValidatedCertificate(Resource):
    """A DNS-validated ACM certificate requested by the dns-certificate provider.

    Pass it wherever CDK takes an `ICertificate` (`cloudfront.Distribution(certificate=...)`,
    load balancer listeners, API Gateway domain names). Raises the function's
    `InvalidPropertyError` when a value known at synth time breaks one of its rules.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service_token: str,
        domain_name: str,
        subject_alternative_names: Sequence[str] | None = None,
        region: str | None = None,
        hosted_zone: route53.IHostedZone | str | None = None,
        route53_role: iam.IRole | str | None = None,
        route53_role_external_id: str | None = None,
        validation_options: Sequence[DomainValidationOption] | None = None,
        validation_method: ValidationMethod | None = None,
        manage_dns_records: bool | None = None,
        key_algorithm: KeyAlgorithm | None = None,
        exportable: bool | None = None,
        transparency_logging: bool | None = None,
        root_hierarchy_type: RootHierarchyType | None = None,
        certificate_usage: CertificateUsage | None = None,
        certificate_authority: acmpca.ICertificateAuthority | str | None = None,
        cleanup_validation_records: bool | None = None,
        wait_for_issuance: bool | None = None,
        service_timeout: Duration | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        certificate_region = region or _region_of(service_token)
        super().__init__(scope, id, region=certificate_region)
        #: The region the certificate is requested in when known at synth time (None: the
        #: stack's, or the provider's region when that is not known).
        self.certificate_region = region
        self._metric_region = certificate_region
        self._manage_dns_records = manage_dns_records
        self.resource_properties: dict[str, Any] = _without_unset(
            {
                "ServiceTimeout": _seconds(service_timeout),
                "DomainName": domain_name,
                "SubjectAlternativeNames": (
                    None if subject_alternative_names is None else list(subject_alternative_names)
                ),
                "ValidationMethod": _text(validation_method),
                "DomainValidationOptions": (
                    None
                    if validation_options is None
                    else [_option(option) for option in validation_options]
                ),
                "HostedZoneId": _zone_id(hosted_zone),
                "CertificateAuthorityArn": _ca_arn(certificate_authority),
                "Tags": (
                    None
                    if tags is None
                    else [{"Key": key, "Value": value} for key, value in tags.items()]
                ),
                "KeyAlgorithm": _text(key_algorithm),
                "CertificateTransparencyLoggingPreference": _enabled(transparency_logging),
                "CertificateExport": _enabled(exportable),
                "RootHierarchyType": _text(root_hierarchy_type),
                "CertificateUsage": _text(certificate_usage),
                "Region": region,
                "WaitForIssuance": _bool(wait_for_issuance),
                "ManageDnsRecords": _bool(manage_dns_records),
                "CleanupValidationRecords": _bool(cleanup_validation_records),
                "Route53RoleArn": _role_arn(route53_role),
                "Route53RoleExternalId": route53_role_external_id,
            }
        )
        #: What the function will make of the properties known at synth time.
        self.checked: CertificateProperties = check_properties(self.resource_properties)
        self._names_known = not has_token(
            [domain_name, *(subject_alternative_names or ())]
        ) and not Token.is_unresolved(subject_alternative_names)
        #: The custom resource (for dependencies, overrides): its `ref` is the certificate ARN.
        self.custom_resource = CustomResource(
            self,
            "Resource",
            service_token=service_token,
            resource_type=RESOURCE_TYPE,
            properties=self.resource_properties,
        )

    # ---- ICertificate -----------------------------------------------------------------------

    @property
    def certificate_arn(self) -> str:
        """The ARN of the certificate (the resource's physical id)."""
        return self.custom_resource.ref

    @property
    def certificate_ref(self) -> acm_refs.CertificateReference:
        return acm_refs.CertificateReference(certificate_arn=self.certificate_arn)

    def metric_days_to_expiry(
        self,
        *,
        account: str | None = None,
        color: str | None = None,
        dimensions_map: Mapping[str, str] | None = None,
        id: str | None = None,
        label: str | None = None,
        period: Duration | None = None,
        region: str | None = None,
        stack_account: str | None = None,
        stack_region: str | None = None,
        statistic: str | None = None,
        unit: cloudwatch.Unit | None = None,
        visible: bool | None = None,
    ) -> cloudwatch.Metric:
        """ACM's DaysToExpiry for this certificate, the minimum over a day, in the certificate's
        region (as CDK's own certificates; the dimensions, statistic and region are fixed)."""
        return cloudwatch.Metric(
            namespace="AWS/CertificateManager",
            metric_name="DaysToExpiry",
            dimensions_map={"CertificateArn": self.certificate_arn},
            statistic=cloudwatch.Stats.MINIMUM,
            region=self._metric_region,
            period=period or Duration.days(1),
            account=account,
            color=color,
            id=id,
            label=label,
            stack_account=stack_account,
            stack_region=stack_region,
            unit=unit,
            visible=visible,
        )

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """`Retain` keeps the certificate when the resource leaves the stack."""
        self.custom_resource.apply_removal_policy(policy)

    # ---- attributes -------------------------------------------------------------------------

    @property
    def validation_records(self) -> tuple[ValidationRecord, ...]:
        """Each name's CNAME (DomainName first, then the distinct SubjectAlternativeNames), for
        a certificate with `manage_dns_records=False` whose names are known at synth time.

        The function drops the largest of these attributes when its answer would exceed
        CloudFormation's 4096 bytes (README: Attributes): with many long names, reading a
        dropped one fails the deploy.
        """
        self._require_records()
        if not self._names_known:
            raise ValueError(
                "validation_records needs the certificate's names at synth time; with names "
                "from tokens use validation_record(index)"
            )
        return tuple(self.validation_record(i) for i in range(len(self.checked.all_names)))

    def validation_record(self, index: int) -> ValidationRecord:
        """The CNAME of the index-th name (0 is DomainName); `manage_dns_records=False` only."""
        self._require_records()
        return ValidationRecord(
            name=self.custom_resource.get_att_string(f"ValidationRecord{index}Name"),
            value=self.custom_resource.get_att_string(f"ValidationRecord{index}Value"),
        )

    @property
    def validation_records_json(self) -> str:
        """Every record as one JSON string (`ValidationRecords`); `manage_dns_records=False`."""
        self._require_records()
        return self.custom_resource.get_att_string("ValidationRecords")

    def _require_records(self) -> None:
        if self._manage_dns_records is not False:
            raise ValueError(
                "The validation records are attributes only with manage_dns_records=False; "
                "otherwise the function writes them itself"
            )
        if not self.checked.uses_dns_validation:
            raise ValueError(
                "Only a DNS-validated public certificate has validation records; an EMAIL or "
                "private (certificate_authority) one has none"
            )


# ---- property values, as CloudFormation delivers them -----------------------------------------


def _without_unset(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if value is not None}


def _text(value: str | None) -> str | None:
    return None if value is None else str(value)


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _enabled(value: bool | None) -> str | None:
    return None if value is None else ("ENABLED" if value else "DISABLED")


def _seconds(value: Duration | None) -> str | None:
    if value is None:
        return None
    seconds = value.to_seconds()
    return Token.as_string(seconds) if Token.is_unresolved(seconds) else str(int(seconds))


def _zone_id(zone: route53.IHostedZone | str | None) -> str | None:
    if zone is None or isinstance(zone, str):
        return zone
    return zone.hosted_zone_id


def _role_arn(role: iam.IRole | str | None) -> str | None:
    if role is None or isinstance(role, str):
        return role
    return role.role_arn


def _ca_arn(authority: acmpca.ICertificateAuthority | str | None) -> str | None:
    if authority is None or isinstance(authority, str):
        return authority
    return authority.certificate_authority_arn


def _option(option: DomainValidationOption) -> dict[str, str]:
    return _without_unset(
        {
            "DomainName": option.domain_name,
            "HostedZoneId": _zone_id(option.hosted_zone),
            "ValidationDomain": option.validation_domain,
            "Route53RoleArn": _role_arn(option.route53_role),
            "Route53RoleExternalId": option.route53_role_external_id,
        }
    )


def _region_of(service_token: str) -> str | None:
    """The region of a provider given by a concrete ARN: where a certificate without `region`
    is requested. None when the token is only known at deploy time (the stack's region)."""
    if Token.is_unresolved(service_token) or not service_token.startswith("arn:"):
        return None
    try:
        region = Arn.split(service_token, ArnFormat.COLON_RESOURCE_NAME).region
    except RuntimeError:  # not an ARN after all (jsii raises CDK's errors as RuntimeError)
        return None
    return region or None
