"""ResourceProperties parsed into the types the code means, validated before any AWS call.

CloudFormation delivers every scalar as a string ("true", "300"), keeps lists as lists, and
passes through whatever the user typed, typos included. Parsing refuses unknown properties
(listing the accepted ones), converts strings back to booleans and integers, and applies ACM's
RequestCertificate rules so that a bad template fails in seconds with a reason naming the
property, instead of minutes later with ACM's or Route 53's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import InvalidPropertyError, UnknownPropertyError, quote_list
from .fields import as_list, parse_bool, parse_optional_enum, required, whole_number
from .names import MAX_COMMON_NAME_LENGTH, MAX_NAME_LENGTH, parse_name
from .regions import parse_region
from .tagging import Tag, parse_tags
from .validation_options import (
    LOCAL_ROUTE53,
    Route53Access,
    ValidationOption,
    parse_route53_access,
    parse_validation_options,
    parse_zone_id,
)

MAX_NAMES = 100
MAX_SERVICE_TIMEOUT = 3600
DEFAULT_KEY_ALGORITHM = "RSA_2048"

VALIDATION_METHODS = ("DNS", "EMAIL")
#: Every ValidationMethod ACM's API knows; HTTP is CloudFront's own (ManagedBy CLOUDFRONT).
_API_VALIDATION_METHODS = ("DNS", "EMAIL", "HTTP")
KEY_ALGORITHMS = (
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)
TRANSPARENCY_PREFERENCES = ("ENABLED", "DISABLED")
EXPORT_OPTIONS = ("ENABLED", "DISABLED")
#: Amazon N2 certificates (RequestCertificate `RootHierarchyType`).
ROOT_HIERARCHY_TYPES = ("N2_AMAZON_MANAGED", "N2_SFG2_AMAZON_MANAGED")
#: Extended key usage of an N2 certificate (RequestCertificate `CertificateUsage`).
CERTIFICATE_USAGES = ("CLIENT_AND_SERVER_AUTH", "CLIENT_AUTH_ONLY")
DEFAULT_CERTIFICATE_USAGE = "CLIENT_AND_SERVER_AUTH"
#: The key algorithms ACM issues N2 certificates with.
N2_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
_CLOUDFRONT_REFUSAL = (
    "CloudFront-managed (HTTP-validated) certificates are requested through CloudFront; this "
    "resource validates with DNS or EMAIL"
)

_PCA_ARN = re.compile(r"^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*$")

ACCEPTED_PROPERTIES = (
    "ServiceToken",
    "ServiceTimeout",
    "DomainName",
    "SubjectAlternativeNames",
    "ValidationMethod",
    "DomainValidationOptions",
    "HostedZoneId",
    "Options",
    "CertificateAuthorityArn",
    "Tags",
    "KeyAlgorithm",
    "CertificateTransparencyLoggingPreference",
    "CertificateExport",
    "RootHierarchyType",
    "CertificateUsage",
    "Region",
    "WaitForIssuance",
    "ManageDnsRecords",
    "CleanupValidationRecords",
    "Route53RoleArn",
    "Route53RoleExternalId",
)
OPTION_KEYS = ("CertificateTransparencyLoggingPreference", "Export")


@dataclass(frozen=True)
class CertificateIdentity:
    """What ACM fixes at request time: a change to any of it needs a new certificate."""

    domain_name: str
    names: frozenset[str]
    validation_method: str
    certificate_authority_arn: str | None
    key_algorithm: str
    region: str | None
    validation_domains: frozenset[tuple[str, str]]
    # Added with exportable and N2 certificates. None where the certificate has neither, and
    # then left out of the identity fingerprint (planning.identity_fingerprint), so that
    # certificates tagged before these existed keep their fingerprint.
    export: str | None = None
    root_hierarchy_type: str | None = None
    certificate_usage: str | None = None


@dataclass(frozen=True)
class CertificateProperties:
    domain_name: str
    subject_alternative_names: tuple[str, ...] = ()
    validation_method: str = "DNS"
    validation_options: tuple[ValidationOption, ...] = ()
    hosted_zone_id: str | None = None
    transparency_logging: str | None = None
    certificate_authority_arn: str | None = None
    tags: tuple[Tag, ...] = ()
    key_algorithm: str | None = None
    #: Options.Export / CertificateExport: ENABLED makes the certificate exportable.
    export: str | None = None
    root_hierarchy_type: str | None = None
    certificate_usage: str | None = None
    region: str | None = None
    service_timeout: int = MAX_SERVICE_TIMEOUT
    wait_for_issuance: bool = True
    manage_dns_records: bool = True
    #: On Delete, remove the validation records no other certificate needs (records.py).
    cleanup_validation_records: bool = False
    route53: Route53Access = LOCAL_ROUTE53

    @property
    def all_names(self) -> tuple[str, ...]:
        """The certificate's names, common name first, each once."""
        return (self.domain_name, *self.subject_alternative_names)

    @property
    def is_private(self) -> bool:
        return self.certificate_authority_arn is not None

    @property
    def is_n2(self) -> bool:
        return self.root_hierarchy_type is not None

    @property
    def uses_dns_validation(self) -> bool:
        return self.validation_method == "DNS" and not self.is_private

    @property
    def writes_dns_records(self) -> bool:
        return self.uses_dns_validation and self.manage_dns_records

    def route53_for(self, name: str) -> Route53Access:
        """A name's own role wins over the resource-wide one."""
        option = self.option_for(name)
        if option and option.route53:
            return option.route53
        return self.route53

    def option_for(self, name: str) -> ValidationOption | None:
        for option in self.validation_options:
            if option.domain_name == name:
                return option
        return None

    def identity(self) -> CertificateIdentity:
        return CertificateIdentity(
            domain_name=self.domain_name,
            names=frozenset(self.all_names),
            validation_method=self.validation_method,
            certificate_authority_arn=self.certificate_authority_arn,
            key_algorithm=self.key_algorithm or DEFAULT_KEY_ALGORITHM,
            region=self.region,
            validation_domains=frozenset(
                (option.domain_name, option.validation_domain)
                for option in self.validation_options
                if option.validation_domain and self.validation_method == "EMAIL"
            ),
            # DISABLED is ACM's default: spelling it out changes nothing.
            export="ENABLED" if self.export == "ENABLED" else None,
            root_hierarchy_type=self.root_hierarchy_type,
            certificate_usage=(
                (self.certificate_usage or DEFAULT_CERTIFICATE_USAGE) if self.is_n2 else None
            ),
        )


def parse_properties(raw: Mapping[str, object]) -> CertificateProperties:
    """Validate every property; the first problem found is raised as InvalidPropertyError."""
    if not isinstance(raw, Mapping):
        raise InvalidPropertyError("ResourceProperties must be an object")
    _refuse_cloudfront(raw)
    _refuse_unknown(raw)
    domain_name = parse_name(
        required(raw, "DomainName"), field="DomainName", max_length=MAX_COMMON_NAME_LENGTH
    )
    sans = _parse_sans(raw.get("SubjectAlternativeNames"), domain_name)
    names = (domain_name, *sans)
    validation_method = (
        parse_optional_enum(raw.get("ValidationMethod"), "ValidationMethod", VALIDATION_METHODS)
        or "DNS"
    )
    certificate_authority_arn = _parse_pca_arn(raw.get("CertificateAuthorityArn"))
    validation_options = parse_validation_options(raw.get("DomainValidationOptions"), names)
    options = _parse_options(raw.get("Options"))
    key_algorithm = parse_optional_enum(raw.get("KeyAlgorithm"), "KeyAlgorithm", KEY_ALGORITHMS)
    root_hierarchy_type, certificate_usage = _parse_n2(
        raw, validation_method, certificate_authority_arn, key_algorithm
    )
    return CertificateProperties(
        domain_name=domain_name,
        subject_alternative_names=sans,
        validation_method=validation_method,
        validation_options=validation_options,
        hosted_zone_id=parse_zone_id(raw.get("HostedZoneId"), "HostedZoneId"),
        transparency_logging=_one_of_two(
            raw,
            "CertificateTransparencyLoggingPreference",
            options.get("CertificateTransparencyLoggingPreference"),
            "Options.CertificateTransparencyLoggingPreference",
            TRANSPARENCY_PREFERENCES,
        ),
        certificate_authority_arn=certificate_authority_arn,
        tags=parse_tags(raw.get("Tags")),
        key_algorithm=key_algorithm,
        export=_one_of_two(
            raw, "CertificateExport", options.get("Export"), "Options.Export", EXPORT_OPTIONS
        ),
        root_hierarchy_type=root_hierarchy_type,
        certificate_usage=certificate_usage,
        region=parse_region(raw.get("Region")),
        service_timeout=_parse_service_timeout(raw.get("ServiceTimeout")),
        wait_for_issuance=parse_bool(raw.get("WaitForIssuance"), "WaitForIssuance", True),
        manage_dns_records=parse_bool(raw.get("ManageDnsRecords"), "ManageDnsRecords", True),
        cleanup_validation_records=parse_bool(
            raw.get("CleanupValidationRecords"), "CleanupValidationRecords", False
        ),
        route53=parse_route53_access(raw, "") or LOCAL_ROUTE53,
    )


def _refuse_cloudfront(raw: Mapping[str, object]) -> None:
    """HTTP validation and ManagedBy belong to certificates CloudFront requests itself."""
    if "ManagedBy" in raw:
        raise InvalidPropertyError(f"ManagedBy cannot be set: {_CLOUDFRONT_REFUSAL}")
    method = raw.get("ValidationMethod")
    if isinstance(method, str) and method.strip() not in ("", *VALIDATION_METHODS):
        offered_elsewhere = method.strip() in _API_VALIDATION_METHODS
        what = "not offered here" if offered_elsewhere else "not one of DNS, EMAIL"
        raise InvalidPropertyError(
            f"ValidationMethod '{method.strip()[:20]}' is {what}: {_CLOUDFRONT_REFUSAL}"
        )


def _refuse_unknown(raw: Mapping[str, object]) -> None:
    if "IdempotencyToken" in raw:
        raise InvalidPropertyError(
            "IdempotencyToken cannot be set: the resource derives it from the CloudFormation "
            "request (stack, logical id, request id) so that retries never request a second "
            "certificate. Remove the property."
        )
    unknown = sorted(key for key in raw if key not in ACCEPTED_PROPERTIES)
    if unknown:
        guesses = difflib.get_close_matches(unknown[0], ACCEPTED_PROPERTIES, n=1, cutoff=0.75)
        hint = f" (did you mean '{guesses[0]}'?)" if guesses else ""
        raise UnknownPropertyError(
            f"Unknown propert{'y' if len(unknown) == 1 else 'ies'} {quote_list(unknown, 3)}"
            f"{hint}; accepted: {', '.join(ACCEPTED_PROPERTIES[1:])}"
        )


def _parse_sans(value: object, domain_name: str) -> tuple[str, ...]:
    sans: list[str] = []
    seen = {domain_name}
    items = as_list(value, "SubjectAlternativeNames")
    for index, item in enumerate(items):
        name = parse_name(
            item, field=f"SubjectAlternativeNames[{index}]", max_length=MAX_NAME_LENGTH
        )
        if name not in seen:
            seen.add(name)
            sans.append(name)
    if len(seen) > MAX_NAMES:
        raise InvalidPropertyError(
            f"The certificate has {len(seen)} distinct names (DomainName and "
            f"SubjectAlternativeNames); ACM allows at most {MAX_NAMES}"
        )
    return tuple(sans)


def _parse_pca_arn(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and 20 <= len(value) <= 2048 and _PCA_ARN.fullmatch(value):
        return value
    raise InvalidPropertyError(
        f"CertificateAuthorityArn '{str(value)[:100]}' is not an ACM Private CA ARN "
        "(arn:aws:acm-pca:region:account:certificate-authority/id)"
    )


def _parse_service_timeout(value: object) -> int:
    if value is None or value == "":
        return MAX_SERVICE_TIMEOUT
    seconds = whole_number(value)
    if seconds is None or not 1 <= seconds <= MAX_SERVICE_TIMEOUT:
        raise InvalidPropertyError(
            f"ServiceTimeout '{str(value)[:20]}' must be a whole number of seconds from 1 to "
            f"{MAX_SERVICE_TIMEOUT}, in ASCII digits only"
        )
    return seconds


def _parse_options(value: object) -> dict[str, str | None]:
    """Options' keys, each None when absent; their values are checked by `_one_of_two`."""
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise InvalidPropertyError("Options must be an object")
    unknown = sorted(key for key in value if key not in OPTION_KEYS)
    if unknown:
        raise InvalidPropertyError(
            f"Unknown Options key {quote_list(unknown, 3)}; accepted: {', '.join(OPTION_KEYS)}"
        )
    return {key: value.get(key) for key in OPTION_KEYS}


def _one_of_two(
    raw: Mapping[str, object],
    top_level: str,
    nested: object,
    nested_name: str,
    allowed: Sequence[str],
) -> str | None:
    """A setting the native resource spells at the top level and ACM inside Options: either
    spelling, or both when they agree."""
    native = parse_optional_enum(raw.get(top_level), top_level, allowed)
    ours = parse_optional_enum(nested, nested_name, allowed)
    if native and ours and native != ours:
        raise InvalidPropertyError(
            f"{top_level} '{native}' and {nested_name} '{ours}' differ; they are the same "
            "setting: give one of them"
        )
    return native or ours


def _parse_n2(
    raw: Mapping[str, object],
    validation_method: str,
    certificate_authority_arn: str | None,
    key_algorithm: str | None,
) -> tuple[str | None, str | None]:
    """RootHierarchyType and CertificateUsage, with ACM's rules for Amazon N2 certificates."""
    root = parse_optional_enum(
        raw.get("RootHierarchyType"), "RootHierarchyType", ROOT_HIERARCHY_TYPES
    )
    usage = parse_optional_enum(raw.get("CertificateUsage"), "CertificateUsage", CERTIFICATE_USAGES)
    if usage and not root:
        raise InvalidPropertyError(
            "CertificateUsage is only for Amazon N2 certificates: set RootHierarchyType too"
        )
    if not root:
        return None, None
    if certificate_authority_arn:
        raise InvalidPropertyError(
            f"RootHierarchyType {root} cannot be combined with CertificateAuthorityArn: N2 "
            "certificates are public"
        )
    if validation_method != "DNS":
        raise InvalidPropertyError(
            f"RootHierarchyType {root} needs ValidationMethod DNS (ACM validates N2 "
            f"certificates only with DNS), not {validation_method}"
        )
    if usage == "CLIENT_AUTH_ONLY" and root != "N2_AMAZON_MANAGED":
        raise InvalidPropertyError(
            f"CertificateUsage CLIENT_AUTH_ONLY is only offered with RootHierarchyType "
            f"N2_AMAZON_MANAGED, not {root}"
        )
    if key_algorithm and key_algorithm not in N2_KEY_ALGORITHMS:
        raise InvalidPropertyError(
            f"KeyAlgorithm '{key_algorithm}' is not offered for N2 certificates; use one of: "
            f"{', '.join(N2_KEY_ALGORITHMS)}"
        )
    return root, usage
