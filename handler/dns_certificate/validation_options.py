"""Where each name is validated: `DomainValidationOptions` (per name: hosted zone, Route 53
role, e-mail validation domain), and the hosted zone and Route 53 account (role) settings they
share with the resource-wide `HostedZoneId`, `Route53RoleArn` and `Route53RoleExternalId`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import InvalidPropertyError, quote_list
from .fields import as_list
from .names import base_name, is_subdomain_or_equal, is_wildcard, parse_name

VALIDATION_OPTION_KEYS = (
    "DomainName",
    "HostedZoneId",
    "ValidationDomain",
    "Route53RoleArn",
    "Route53RoleExternalId",
)

_HOSTED_ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")


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


def is_hosted_zone_id(value: str) -> bool:
    """A Route 53 hosted zone id without its `/hostedzone/` prefix."""
    return bool(_HOSTED_ZONE_ID.fullmatch(value))


def parse_zone_id(value: object, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        zone_id = value.strip().removeprefix("/hostedzone/")
        if is_hosted_zone_id(zone_id):
            return zone_id
    raise InvalidPropertyError(
        f"{name} '{value}' is not a Route 53 hosted zone id (e.g. Z0123456789ABCDEFGHIJ)"
    )


def parse_validation_options(value: object, names: Sequence[str]) -> tuple[ValidationOption, ...]:
    options: list[ValidationOption] = []
    seen: set[str] = set()
    for index, item in enumerate(as_list(value, "DomainValidationOptions")):
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
                hosted_zone_id=parse_zone_id(item.get("HostedZoneId"), f"{where}.HostedZoneId"),
                validation_domain=validation_domain,
                route53=parse_route53_access(item, f"{where}."),
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


def parse_route53_access(raw: Mapping[str, object], prefix: str) -> Route53Access | None:
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
