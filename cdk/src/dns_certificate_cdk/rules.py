"""Synth-time checks with the function's own rules (`_rules`: handler/dns_certificate).

The construct builds the resource's properties as CloudFormation will deliver them (strings,
lists, objects) and hands them to the function's `parse_properties`: a value the function would
refuse fails `cdk synth` with the reason the stack would otherwise show minutes into a deploy.

Some values are not known at synth time (tokens: a hosted zone or role made in the same stack, a
CfnParameter). The function checks those at deploy time; here each is replaced by a value its
rule accepts, so that everything else is still checked: a token name by a distinct placeholder
name (then `DomainValidationOptions`, which must name the certificate's names, is not checked),
a token zone id, role ARN, external id or CA ARN by a well-formed one, a token tag value by an
empty one; any other token property, tag or validation option is left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_cdk import Token

if TYPE_CHECKING:
    # The same modules as `._rules` (see its docstring); mypy reads them from handler/.
    from dns_certificate import errors, properties
else:
    from ._rules import errors, properties

__all__ = [
    "ACCEPTED_PROPERTIES",
    "CertificateProperties",
    "InvalidPropertyError",
    "check_properties",
    "errors",
    "properties",
]

ACCEPTED_PROPERTIES = properties.ACCEPTED_PROPERTIES
CertificateProperties = properties.CertificateProperties
InvalidPropertyError = errors.InvalidPropertyError

#: Well-formed stand-ins for deploy-time values, per property (also inside
#: DomainValidationOptions). Anything else that is a token is left out of the check.
_STAND_INS: Mapping[str, str] = {
    "HostedZoneId": "ZTOKENPLACEHOLDER",
    "Route53RoleArn": "arn:aws:iam::000000000000:role/token-placeholder",
    "Route53RoleExternalId": "token-placeholder",
    "CertificateAuthorityArn": (
        "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/token-placeholder"
    ),
}
_NAME_STAND_IN = "token-{index}.placeholder.invalid"


def has_token(value: object) -> bool:
    """True when any part of `value` is only known at deploy time."""
    if isinstance(value, Mapping):
        return any(has_token(key) or has_token(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return Token.is_unresolved(value) or any(has_token(item) for item in value)
    return Token.is_unresolved(value)


def check_properties(raw: Mapping[str, Any]) -> CertificateProperties:
    """The function's verdict on `raw` (as synthesized), deploy-time values stood in for.

    Raises the function's InvalidPropertyError with its reason.
    """
    return properties.parse_properties(known_at_synth(raw))


def known_at_synth(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`raw` with each deploy-time value replaced by a stand-in, or left out."""
    known: dict[str, Any] = {}
    counter = itertools.count()
    names_known = True
    for key, value in raw.items():
        if key == "DomainName" and has_token(value):
            known[key] = _NAME_STAND_IN.format(index=next(counter))
            names_known = False
        elif key == "SubjectAlternativeNames" and has_token(value):
            if Token.is_unresolved(value) or not isinstance(value, (list, tuple)):
                names_known = False  # a whole list from a parameter: its names are unknown
                continue
            names_known = False
            known[key] = [
                _NAME_STAND_IN.format(index=next(counter)) if has_token(item) else item
                for item in value
            ]
        elif key == "DomainValidationOptions":
            known[key] = value
        elif key == "Tags" and has_token(value) and isinstance(value, (list, tuple)):
            known[key] = [
                {**tag, "Value": "" if has_token(tag.get("Value")) else tag.get("Value")}
                for tag in value
                if isinstance(tag, Mapping) and not has_token(tag.get("Key"))
            ]
        elif has_token(value):
            if key in _STAND_INS and not isinstance(value, (list, tuple, Mapping)):
                known[key] = _STAND_INS[key]
        else:
            known[key] = value
    options = known.get("DomainValidationOptions")
    if options is not None:
        if not names_known or Token.is_unresolved(options):
            del known["DomainValidationOptions"]  # they must name names only known at deploy
        elif isinstance(options, (list, tuple)):
            known["DomainValidationOptions"] = [
                _option_known(item)
                for item in options
                if not (isinstance(item, Mapping) and has_token(item.get("DomainName")))
            ]
    return known


def _option_known(option: object) -> object:
    if not isinstance(option, Mapping):
        return option
    return {
        key: (_STAND_INS.get(key, "") if has_token(value) else value)
        for key, value in option.items()
    }
