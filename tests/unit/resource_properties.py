"""ResourceProperties as CloudFormation sends them, and parsing them, for the tests of
properties.py and of its rule groups (tagging.py, regions.py, validation_options.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dns_certificate.errors import InvalidPropertyError
from dns_certificate.properties import CertificateProperties, parse_properties

SERVICE_TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:dns-certificate"
PCA_ARN = (
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)
ROLE_ARN = "arn:aws:iam::210987654321:role/dns-validation"


def raw(**properties: Any) -> dict[str, Any]:
    """ResourceProperties as CloudFormation sends them: ServiceToken always, DomainName unless
    overridden (pass DomainName=None to leave it out)."""
    result: dict[str, Any] = {"ServiceToken": SERVICE_TOKEN, "DomainName": "example.com"}
    result.update(properties)
    return {key: value for key, value in result.items() if value is not None}


def parse(**properties: Any) -> CertificateProperties:
    return parse_properties(raw(**properties))


def refusal(properties: dict[str, Any]) -> str:
    with pytest.raises(InvalidPropertyError) as caught:
        parse_properties(properties)
    return caught.value.reason


def sans(count: int) -> list[str]:
    return [f"host{index}.example.com" for index in range(count)]


def tags(count: int) -> list[dict[str, str]]:
    return [{"Key": f"key{index}", "Value": f"value{index}"} for index in range(count)]


def dvo(**option: Any) -> dict[str, Any]:
    """Properties with a SAN and one DomainValidationOptions entry."""
    return raw(SubjectAlternativeNames=["www.example.com"], DomainValidationOptions=[option])
