"""ResourceProperties parsed into the types the code means, validated before any AWS call.

CloudFormation delivers every scalar as a string ("true", "300"), keeps lists as lists, and
passes through whatever the user typed, typos included. Parsing refuses unknown properties
(listing the accepted ones), converts strings back to booleans and integers, and applies ACM's
RequestCertificate rules so that a bad template fails in seconds with a reason naming the
property, instead of minutes later with ACM's or Route 53's.
"""

from __future__ import annotations

import difflib
import functools
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import InvalidPropertyError, UnknownPropertyError, quote_list
from .names import (
    MAX_COMMON_NAME_LENGTH,
    MAX_NAME_LENGTH,
    base_name,
    is_subdomain_or_equal,
    is_wildcard,
    parse_name,
)

MAX_NAMES = 100
MAX_TAGS = 50
MAX_SERVICE_TIMEOUT = 3600
DEFAULT_KEY_ALGORITHM = "RSA_2048"
#: Tag keys this resource sets itself; users may not set keys with this prefix (in any case).
RESERVED_TAG_PREFIX = "dns-certificate:"
#: Tag keys AWS reserves for itself; ACM refuses them in any case.
AWS_TAG_PREFIX = "aws:"
#: How many tags the resource adds to every certificate: `certificates.ownership_tags` (stack,
#: logical id, identity, request) and the zones tag the renewal guard reads (`zonetag.py`).
OWNERSHIP_TAG_COUNT = 5

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

_HOSTED_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
_PCA_ARN = re.compile(r"^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_TAG_CHARACTERS = set("_.:/=+-@ ")

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
VALIDATION_OPTION_KEYS = (
    "DomainName",
    "HostedZoneId",
    "ValidationDomain",
    "Route53RoleArn",
    "Route53RoleExternalId",
)


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True)
class Route53Access:
    """Whose Route 53 holds a name's zone: this account (no role) or one reached by a role."""

    role_arn: str | None = None
    external_id: str | None = None


LOCAL_ROUTE53 = Route53Access()


@dataclass(frozen=True)
class ValidationOption:
    """Per-name settings: where its DNS record goes, or where its approval e-mail is sent."""

    domain_name: str
    hosted_zone_id: str | None = None
    validation_domain: str | None = None
    route53: Route53Access | None = None


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
        _required(raw, "DomainName"), field="DomainName", max_length=MAX_COMMON_NAME_LENGTH
    )
    sans = _parse_sans(raw.get("SubjectAlternativeNames"), domain_name)
    names = (domain_name, *sans)
    validation_method = (
        _parse_optional_enum(raw.get("ValidationMethod"), "ValidationMethod", VALIDATION_METHODS)
        or "DNS"
    )
    certificate_authority_arn = _parse_pca_arn(raw.get("CertificateAuthorityArn"))
    validation_options = _parse_validation_options(raw.get("DomainValidationOptions"), names)
    options = _parse_options(raw.get("Options"))
    key_algorithm = _parse_optional_enum(raw.get("KeyAlgorithm"), "KeyAlgorithm", KEY_ALGORITHMS)
    root_hierarchy_type, certificate_usage = _parse_n2(
        raw, validation_method, certificate_authority_arn, key_algorithm
    )
    return CertificateProperties(
        domain_name=domain_name,
        subject_alternative_names=sans,
        validation_method=validation_method,
        validation_options=validation_options,
        hosted_zone_id=_parse_zone_id(raw.get("HostedZoneId"), "HostedZoneId"),
        transparency_logging=_one_of_two(
            raw,
            "CertificateTransparencyLoggingPreference",
            options.get("CertificateTransparencyLoggingPreference"),
            "Options.CertificateTransparencyLoggingPreference",
            TRANSPARENCY_PREFERENCES,
        ),
        certificate_authority_arn=certificate_authority_arn,
        tags=_parse_tags(raw.get("Tags")),
        key_algorithm=key_algorithm,
        export=_one_of_two(
            raw, "CertificateExport", options.get("Export"), "Options.Export", EXPORT_OPTIONS
        ),
        root_hierarchy_type=root_hierarchy_type,
        certificate_usage=certificate_usage,
        region=_parse_region(raw.get("Region")),
        service_timeout=_parse_service_timeout(raw.get("ServiceTimeout")),
        wait_for_issuance=_parse_bool(raw.get("WaitForIssuance"), "WaitForIssuance", True),
        manage_dns_records=_parse_bool(raw.get("ManageDnsRecords"), "ManageDnsRecords", True),
        cleanup_validation_records=_parse_bool(
            raw.get("CleanupValidationRecords"), "CleanupValidationRecords", False
        ),
        route53=_parse_route53_access(raw, "") or LOCAL_ROUTE53,
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


def _required(raw: Mapping[str, object], name: str) -> object:
    value = raw.get(name)
    if value is None or value == "":
        raise InvalidPropertyError(f"{name} is required")
    return value


def _as_list(value: object, name: str) -> Sequence[object]:
    if value is None or value == "":
        return ()
    if isinstance(value, (list, tuple)):
        return value
    raise InvalidPropertyError(f"{name} must be a list, got {type(value).__name__}")


def _parse_sans(value: object, domain_name: str) -> tuple[str, ...]:
    sans: list[str] = []
    seen = {domain_name}
    items = _as_list(value, "SubjectAlternativeNames")
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


def _parse_enum(value: object, name: str, allowed: Sequence[str]) -> str:
    if isinstance(value, str):
        for candidate in allowed:
            if value.strip() == candidate:
                return candidate
    raise InvalidPropertyError(f"{name} '{value}' is not one of: {', '.join(allowed)}")


def _parse_optional_enum(value: object, name: str, allowed: Sequence[str]) -> str | None:
    if value is None or value == "":
        return None
    return _parse_enum(value, name, allowed)


def _parse_bool(value: object, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidPropertyError(f"{name} '{value}' must be true or false")


def is_hosted_zone_id(value: str) -> bool:
    """A Route 53 hosted zone id without its `/hostedzone/` prefix."""
    return bool(_HOSTED_ZONE_ID.fullmatch(value))


def _parse_zone_id(value: object, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        zone_id = value.strip().removeprefix("/hostedzone/")
        if is_hosted_zone_id(zone_id):
            return zone_id
    raise InvalidPropertyError(
        f"{name} '{value}' is not a Route 53 hosted zone id (e.g. Z0123456789ABCDEFGHIJ)"
    )


def _parse_pca_arn(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and 20 <= len(value) <= 2048 and _PCA_ARN.fullmatch(value):
        return value
    raise InvalidPropertyError(
        f"CertificateAuthorityArn '{str(value)[:100]}' is not an ACM Private CA ARN "
        "(arn:aws:acm-pca:region:account:certificate-authority/id)"
    )


@functools.cache
def acm_regions() -> frozenset[str]:
    """Every region, in every partition, where botocore's endpoint data lists ACM.

    Read from the endpoint data botocore ships (no network, no credentials, no profile), once
    per container and only when a template sets Region: loading it costs tens of milliseconds.
    """
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    resolver = EndpointResolver(create_loader().load_data("endpoints"))
    return frozenset(
        region
        for partition in resolver.get_available_partitions()
        for region in resolver.get_available_endpoints("acm", partition_name=partition)
    )


def _parse_region(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidPropertyError(f"Region must be a string, got {type(value).__name__}")
    region = value.strip()
    if region not in acm_regions():
        raise InvalidPropertyError(
            f"Region '{value[:40]}' is not a region where ACM is available (e.g. us-east-1)"
        )
    return region


def _parse_service_timeout(value: object) -> int:
    if value is None or value == "":
        return MAX_SERVICE_TIMEOUT
    seconds = _whole_number(value)
    if seconds is None or not 1 <= seconds <= MAX_SERVICE_TIMEOUT:
        raise InvalidPropertyError(
            f"ServiceTimeout '{str(value)[:20]}' must be a whole number of seconds from 1 to "
            f"{MAX_SERVICE_TIMEOUT}, in ASCII digits only"
        )
    return seconds


def _whole_number(value: object) -> int | None:
    """A non-negative integer written as CloudFormation sends it: ASCII digits and nothing else.

    `int()` alone would also accept full-width digits, '1_0_0', ' 120' and '+120'. An int (from
    a caller other than CloudFormation) is taken as is; a bool, a float or anything else is not.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        return int(value)
    return None


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
    native = _parse_optional_enum(raw.get(top_level), top_level, allowed)
    ours = _parse_optional_enum(nested, nested_name, allowed)
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
    root = _parse_optional_enum(
        raw.get("RootHierarchyType"), "RootHierarchyType", ROOT_HIERARCHY_TYPES
    )
    usage = _parse_optional_enum(
        raw.get("CertificateUsage"), "CertificateUsage", CERTIFICATE_USAGES
    )
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


def _parse_validation_options(value: object, names: Sequence[str]) -> tuple[ValidationOption, ...]:
    options: list[ValidationOption] = []
    seen: set[str] = set()
    for index, item in enumerate(_as_list(value, "DomainValidationOptions")):
        where = f"DomainValidationOptions[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidPropertyError(f"{where} must be an object")
        unknown = sorted(key for key in item if key not in VALIDATION_OPTION_KEYS)
        if unknown:
            raise InvalidPropertyError(
                f"Unknown {where} key {quote_list(unknown, 3)}; accepted: "
                f"{', '.join(VALIDATION_OPTION_KEYS)}"
            )
        name = parse_name(item.get("DomainName"), field=f"{where}.DomainName")
        if name not in names:
            raise InvalidPropertyError(
                f"{where}.DomainName '{name}' is not one of the certificate's names "
                "(DomainName and SubjectAlternativeNames)"
            )
        if name in seen:
            raise InvalidPropertyError(f"{where}.DomainName '{name}' is listed twice")
        seen.add(name)
        # Like the native resource, ValidationDomain is accepted with DNS too; only EMAIL
        # validation uses it (it is neither sent to ACM nor part of the identity otherwise).
        validation_domain = _parse_validation_domain(item.get("ValidationDomain"), name, where)
        options.append(
            ValidationOption(
                domain_name=name,
                hosted_zone_id=_parse_zone_id(item.get("HostedZoneId"), f"{where}.HostedZoneId"),
                validation_domain=validation_domain,
                route53=_parse_route53_access(item, f"{where}."),
            )
        )
    return tuple(options)


def _parse_validation_domain(value: object, name: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    domain = parse_name(value, field=f"{where}.ValidationDomain")
    if is_wildcard(domain) or not is_subdomain_or_equal(base_name(name), domain):
        raise InvalidPropertyError(
            f"{where}.ValidationDomain '{domain}' must be '{base_name(name)}' or a "
            "superdomain of it"
        )
    return domain


def _parse_tags(value: object) -> tuple[Tag, ...]:
    tags: list[Tag] = []
    keys: set[str] = set()
    items = _as_list(value, "Tags")
    limit = MAX_TAGS - OWNERSHIP_TAG_COUNT
    if len(items) > limit:
        raise InvalidPropertyError(
            f"Tags has {len(items)} tags; at most {limit} (ACM allows {MAX_TAGS} per "
            f"certificate and this resource sets {OWNERSHIP_TAG_COUNT} of its own)"
        )
    for index, item in enumerate(items):
        where = f"Tags[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"Key", "Value"}:
            raise InvalidPropertyError(f"{where} must be an object with Key and Value")
        key, tag_value = item.get("Key"), item.get("Value", "")
        if not isinstance(key, str):
            raise InvalidPropertyError(f"{where}.Key must be a string, got {_type_name(key)}")
        if not 1 <= len(key) <= 128:
            raise InvalidPropertyError(f"{where}.Key must be 1 to 128 characters")
        if not isinstance(tag_value, str):
            raise InvalidPropertyError(
                f"{where}.Value for '{key[:60]}' must be a string, got {_type_name(tag_value)}"
            )
        if len(tag_value) > 256:
            raise InvalidPropertyError(
                f"{where}.Value for '{key[:60]}' must be at most 256 characters"
            )
        folded = key.translate(_ASCII_LOWER)  # ACM: 'AWS:' is as reserved as 'aws:'
        if folded.startswith(AWS_TAG_PREFIX):
            raise InvalidPropertyError(
                f"{where}.Key '{key[:60]}': keys starting with '{AWS_TAG_PREFIX}' (in any case) "
                "are reserved"
            )
        if folded.startswith(RESERVED_TAG_PREFIX):
            raise InvalidPropertyError(
                f"{where}.Key '{key[:60]}': keys starting with '{RESERVED_TAG_PREFIX}' (in any "
                "case) are set by this resource"
            )
        for text, part in ((key, "Key"), (tag_value, "Value")):
            bad = sorted({c for c in text if not (c.isalnum() or c in _TAG_CHARACTERS)})
            if bad:
                raise InvalidPropertyError(
                    f"{where}.{part} for '{key[:60]}' has characters ACM does not allow: "
                    f"{''.join(bad)[:20]!r} (letters, digits, spaces and _.:/=+-@ are allowed)"
                )
        if key in keys:
            raise InvalidPropertyError(f"{where}.Key '{key}' is listed twice")
        keys.add(key)
        tags.append(Tag(key=key, value=tag_value))
    return tuple(tags)


def _type_name(value: object) -> str:
    """How a JSON value's type reads in a reason: null, a number, a list..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _parse_route53_access(raw: Mapping[str, object], prefix: str) -> Route53Access | None:
    role = raw.get("Route53RoleArn")
    external_id = raw.get("Route53RoleExternalId")
    if role is None or role == "":
        if external_id not in (None, ""):
            raise InvalidPropertyError(
                f"{prefix}Route53RoleExternalId is set without {prefix}Route53RoleArn"
            )
        return None
    if not isinstance(role, str) or not _ROLE_ARN.match(role.strip()):
        raise InvalidPropertyError(
            f"{prefix}Route53RoleArn '{str(role)[:100]}' is not an IAM role ARN "
            "(arn:aws:iam::123456789012:role/name)"
        )
    if external_id in (None, ""):
        return Route53Access(role_arn=role.strip())
    if not isinstance(external_id, str) or not _EXTERNAL_ID.fullmatch(external_id):
        raise InvalidPropertyError(
            f"{prefix}Route53RoleExternalId must be 2 to 1224 characters of letters, digits "
            "and +=,.@:/-"
        )
    return Route53Access(role_arn=role.strip(), external_id=external_id)
