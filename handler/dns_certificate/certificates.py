"""ACM, one call per method. The service takes its client; it never builds one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .clients import error_code, error_message, is_throttling
from .errors import CertificateFailedError, CertificateRequestError
from .names import normalize_name
from .planning import ValidationRecord
from .properties import CertificateProperties
from .tagging import RESERVED_TAG_PREFIX, Tag

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient

logger = Logger(child=True)

STACK_TAG = RESERVED_TAG_PREFIX + "stack-id"
LOGICAL_ID_TAG = RESERVED_TAG_PREFIX + "logical-id"
IDENTITY_TAG = RESERVED_TAG_PREFIX + "identity"
#: The token of the request that asked for the certificate: ties it to that request alone.
REQUEST_TAG = RESERVED_TAG_PREFIX + "request"

#: Logged whenever the resource asks ACM for DISABLED; ACM decides what to do with it.
TRANSPARENCY_OPT_OUT_WARNING = (
    "CertificateTransparencyLoggingPreference DISABLED: ACM deprecated the opt-out from "
    "certificate transparency logging (June 2026); passed to ACM as given, which decides"
)

ISSUED = "ISSUED"
PENDING_VALIDATION = "PENDING_VALIDATION"
TERMINAL_FAILURES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")
#: A certificate in one of these can never serve again: an Update replaces it.
REPLACEABLE_STATUSES = frozenset({"EXPIRED", "REVOKED", "INACTIVE"})


@dataclass(frozen=True)
class CertificateView:
    """What the lifecycle needs from DescribeCertificate."""

    arn: str
    status: str
    failure_reason: str | None
    domain_name: str
    records: Mapping[str, ValidationRecord]
    in_use_by: tuple[str, ...] = ()
    created_at: float | None = None
    #: Names ACM reports as validated (ValidationStatus SUCCESS).
    validated: frozenset[str] = frozenset()
    transparency_logging: str | None = None
    #: DescribeCertificate's UpdateSummary when it reports a validation method migration.
    method_update: MethodUpdate | None = None


@dataclass(frozen=True)
class MethodUpdate:
    """A validation method migration as DescribeCertificate's UpdateSummary reports it."""

    status: str  # PENDING_DOMAIN_VALIDATION | SUCCESS | FAILED
    from_method: str | None
    to_method: str | None
    requested_at: float | None = None
    #: UpdatedAt: when the status last changed.
    changed_at: float | None = None


@dataclass(frozen=True)
class DomainValidation:
    """One name of ListCertificateDomainValidations: its active validation configuration and,
    while a migration runs, the requested one."""

    domain_name: str
    active_method: str | None
    active_status: str | None = None
    requested_method: str | None = None
    requested_status: str | None = None
    #: The requested configuration's DNS record, or the active one's once that is DNS.
    record: ValidationRecord | None = None


@dataclass(frozen=True)
class DeleteOutcome:
    deleted: bool
    already_gone: bool = False
    in_use_by: tuple[str, ...] = ()


def ownership_tags(
    stack_id: str, logical_id: str, identity_fingerprint: str, request_token: str | None = None
) -> list[Tag]:
    """Tags that prove the resource owns a certificate, and let a later Delete find one whose
    ARN never reached CloudFormation (by the request's token)."""
    tags = [
        Tag(STACK_TAG, stack_id),
        Tag(LOGICAL_ID_TAG, logical_id),
        Tag(IDENTITY_TAG, identity_fingerprint),
    ]
    if request_token:
        tags.append(Tag(REQUEST_TAG, request_token))
    return tags


def owned_by(tags: Mapping[str, str], stack_id: str, logical_id: str) -> bool:
    """The certificate's ownership tags name this stack's resource."""
    return tags.get(STACK_TAG) == stack_id and tags.get(LOGICAL_ID_TAG) == logical_id


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def is_certificate_arn(value: str | None) -> bool:
    if not value:
        return False
    parts = value.split(":")
    return (
        len(parts) == 6
        and parts[0] == "arn"
        and parts[2] == "acm"
        and bool(parts[3])
        and parts[5].startswith("certificate/")
    )


def _timestamp(value: object) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    return None


class CertificateService:
    def __init__(self, acm: ACMClient) -> None:
        self._acm = acm

    def request(self, properties: CertificateProperties, token: str, tags: Sequence[Tag]) -> str:
        arguments: dict[str, Any] = {
            "DomainName": properties.domain_name,
            "ValidationMethod": properties.validation_method,
            "IdempotencyToken": token,
            "Tags": [{"Key": tag.key, "Value": tag.value} for tag in tags],
        }
        if properties.subject_alternative_names:
            arguments["SubjectAlternativeNames"] = list(properties.all_names)
        if properties.certificate_authority_arn:
            arguments["CertificateAuthorityArn"] = properties.certificate_authority_arn
            arguments.pop("ValidationMethod")
        if properties.key_algorithm:
            arguments["KeyAlgorithm"] = properties.key_algorithm
        if properties.root_hierarchy_type:
            arguments["RootHierarchyType"] = properties.root_hierarchy_type
        if properties.certificate_usage:
            arguments["CertificateUsage"] = properties.certificate_usage
        options: dict[str, str] = {}
        if properties.transparency_logging:
            options["CertificateTransparencyLoggingPreference"] = properties.transparency_logging
        if properties.export:
            options["Export"] = properties.export
        if options:
            arguments["Options"] = options
        email_options = [
            {"DomainName": option.domain_name, "ValidationDomain": option.validation_domain}
            for option in properties.validation_options
            if option.validation_domain
        ]
        if email_options and properties.validation_method == "EMAIL":
            arguments["DomainValidationOptions"] = email_options
        try:
            response = self._acm.request_certificate(**arguments)
        except ClientError as error:
            if is_throttling(error):
                raise  # worth waiting for, not a refusal
            raise CertificateRequestError(_request_reason(error)) from error
        _warn_if_opting_out(properties.transparency_logging)  # once, for the request made
        return response["CertificateArn"]

    def describe(self, arn: str) -> CertificateView:
        certificate = self._acm.describe_certificate(CertificateArn=arn)["Certificate"]
        records: dict[str, ValidationRecord] = {}
        validated: set[str] = set()
        for option in certificate.get("DomainValidationOptions", []):
            if option.get("ValidationStatus") == "SUCCESS":
                validated.add(normalize_name(option["DomainName"]))
            record = option.get("ResourceRecord")
            if record and record.get("Name") and record.get("Value"):
                name = normalize_name(option["DomainName"])
                records[name] = ValidationRecord(
                    domain_name=name,
                    name=record["Name"],
                    type=record.get("Type", "CNAME"),
                    value=record["Value"],
                )
        return CertificateView(
            arn=arn,
            status=certificate.get("Status", "UNKNOWN"),
            failure_reason=certificate.get("FailureReason"),
            domain_name=normalize_name(certificate.get("DomainName", "")),
            records=records,
            in_use_by=tuple(certificate.get("InUseBy", [])),
            created_at=_timestamp(certificate.get("CreatedAt")),
            validated=frozenset(validated),
            transparency_logging=certificate.get("Options", {}).get(
                "CertificateTransparencyLoggingPreference"
            ),
            method_update=_method_update(certificate.get("UpdateSummary")),
        )

    def describe_if_exists(self, arn: str) -> CertificateView | None:
        try:
            return self.describe(arn)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise

    def tags(self, arn: str) -> dict[str, str]:
        response = self._acm.list_tags_for_certificate(CertificateArn=arn)
        return {tag["Key"]: tag.get("Value", "") for tag in response.get("Tags", [])}

    def tags_if_exists(self, arn: str) -> dict[str, str] | None:
        try:
            return self.tags(arn)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise

    def add_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        if tags:
            self._acm.add_tags_to_certificate(
                CertificateArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )

    def remove_tags(self, arn: str, current: Mapping[str, str], keys: Sequence[str]) -> None:
        if keys:
            # RemoveTags matches Value when one is given; pass the current value so the right
            # tag goes even where ACM would otherwise treat an empty value specially.
            self._acm.remove_tags_from_certificate(
                CertificateArn=arn, Tags=[{"Key": k, "Value": current[k]} for k in keys]
            )

    def set_transparency_logging(self, arn: str, preference: str) -> None:
        options: Any = {"CertificateTransparencyLoggingPreference": preference}
        self._acm.update_certificate_options(CertificateArn=arn, Options=options)
        _warn_if_opting_out(preference)

    def start_dns_migration(self, arn: str) -> None:
        """Ask ACM to migrate an issued, email-validated certificate to DNS validation."""
        options: Any = {"ValidationMethod": "DNS"}
        try:
            self._acm.update_certificate_options(CertificateArn=arn, Options=options)
        except ClientError as error:
            if is_throttling(error):
                raise
            raise CertificateFailedError(
                f"ACM refused to migrate {arn} to DNS validation ({error_code(error)}): "
                f"{error_message(error)}"
            ) from error

    def domain_validations(self, arn: str) -> list[DomainValidation]:
        """Each name's active and (during a migration) requested validation configuration."""
        validations: list[DomainValidation] = []
        paginator = self._acm.get_paginator("list_certificate_domain_validations")
        try:
            pages = list(paginator.paginate(CertificateArn=arn))
        except ClientError as error:
            if error_code(error) not in ("AccessDenied", "AccessDeniedException"):
                raise
            raise CertificateFailedError(
                f"Cannot read the DNS validation records of {arn}: the function's role needs "
                "acm:ListCertificateDomainValidations (update the resource's stack)"
            ) from error
        for page in pages:
            for summary in page.get("DomainValidationSummaryList", []):
                active: Any = summary.get("ActiveValidationConfiguration") or {}
                requested: Any = summary.get("RequestedValidationConfiguration") or {}
                name = normalize_name(summary["DomainName"])
                record = _dns_record(name, requested)
                if record is None and active.get("ValidationMethod") == "DNS":
                    record = _dns_record(name, active)
                validations.append(
                    DomainValidation(
                        domain_name=name,
                        active_method=active.get("ValidationMethod"),
                        active_status=active.get("ValidationStatus"),
                        requested_method=requested.get("ValidationMethod"),
                        requested_status=requested.get("ValidationStatus"),
                        record=record,
                    )
                )
        return validations

    def delete(self, arn: str) -> DeleteOutcome:
        try:
            self._acm.delete_certificate(CertificateArn=arn)
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                return DeleteOutcome(deleted=False, already_gone=True)
            if code == "ResourceInUseException":
                return DeleteOutcome(deleted=False, in_use_by=self._in_use_by(arn))
            raise
        return DeleteOutcome(deleted=True)

    def _in_use_by(self, arn: str) -> tuple[str, ...]:
        try:
            return self.describe(arn).in_use_by
        except ClientError:
            return ()

    def names(self, arn: str) -> tuple[str, ...]:
        """Every name of a certificate (ListCertificates may show only some of its SANs)."""
        certificate = self._acm.describe_certificate(CertificateArn=arn)["Certificate"]
        return (
            certificate.get("DomainName", ""),
            *certificate.get("SubjectAlternativeNames", []),
        )

    def list_certificates(self, filters: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """ListCertificates' summaries with these filters, page after page (`listing.py`
        makes the passes that find every certificate)."""
        paginator = self._acm.get_paginator("list_certificates")
        for page in paginator.paginate(**filters):
            yield from page.get("CertificateSummaryList", [])


def _method_update(summary: Any) -> MethodUpdate | None:
    if not summary or summary.get("Type", "DOMAIN_VALIDATION_METHOD") != "DOMAIN_VALIDATION_METHOD":
        return None
    methods = summary.get("DomainValidationMethodUpdateSummary") or {}
    return MethodUpdate(
        status=str(summary.get("Status", "")),
        from_method=methods.get("From"),
        to_method=methods.get("To"),
        requested_at=_timestamp(summary.get("RequestedAt")),
        changed_at=_timestamp(summary.get("UpdatedAt")),
    )


def _dns_record(name: str, configuration: Any) -> ValidationRecord | None:
    challenge = configuration.get("ValidationChallenge") or {}
    record = (challenge.get("DnsValidationChallenge") or {}).get("ResourceRecord") or {}
    if not record.get("Name") or not record.get("Value"):
        return None
    return ValidationRecord(
        domain_name=name,
        name=record["Name"],
        type=record.get("Type", "CNAME"),
        value=record["Value"],
    )


def _warn_if_opting_out(preference: str | None) -> None:
    if preference == "DISABLED":
        logger.warning(TRANSPARENCY_OPT_OUT_WARNING)


def _request_reason(error: ClientError) -> str:
    code, message = error_code(error), error_message(error)
    if code == "LimitExceededException":
        return (
            f"ACM RequestCertificate refused by a quota: {message}. Names per certificate "
            "default to 10 and certificates per year are limited; ask for more in Service Quotas"
        )
    return f"ACM RequestCertificate refused ({code}): {message}"
