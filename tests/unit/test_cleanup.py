"""cleanup.py's decisions without AWS: which regions are searched, which record a name uses,
and which record names other certificates still need."""

from __future__ import annotations

from typing import Any, cast

import pytest

from dns_certificate.certificates import CertificateService
from dns_certificate.cleanup import (
    SharedRecordCheck,
    certificate_names,
    check_regions,
    record_key,
)


def test_check_regions_when_unset_are_the_certificates_the_functions_and_us_east_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLEANUP_CHECK_REGIONS", raising=False)

    assert check_regions("ap-south-1", "eu-west-1") == ["ap-south-1", "eu-west-1", "us-east-1"]


def test_check_regions_when_set_adds_them_after_the_certificates_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLEANUP_CHECK_REGIONS", " eu-west-1, us-east-1,,eu-west-1 ")

    assert check_regions("us-east-1", "eu-central-1") == ["us-east-1", "eu-west-1"]


def test_check_regions_when_blank_falls_back_to_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLEANUP_CHECK_REGIONS", "  ")

    assert check_regions("eu-west-1", "eu-west-1") == ["eu-west-1", "us-east-1"]


@pytest.mark.parametrize("configured", [None, "us-east-1"], ids=["unset", "set"])
def test_check_regions_adds_every_region_the_providers_records_name_once_each(
    monkeypatch: pytest.MonkeyPatch, configured: str | None
) -> None:
    if configured is None:
        monkeypatch.delenv("CLEANUP_CHECK_REGIONS", raising=False)
    else:
        monkeypatch.setenv("CLEANUP_CHECK_REGIONS", configured)

    regions = check_regions("us-east-1", "us-east-1", {"sa-east-1", "eu-west-1", "us-east-1"})

    assert regions == ["us-east-1", "eu-west-1", "sa-east-1"]


@pytest.mark.parametrize(
    ("certificate_region", "function_region", "regions"),
    [
        # GovCloud has no CloudFront (botocore's endpoint data): nothing outside the partition.
        ("us-gov-east-1", "us-gov-west-1", ["us-gov-east-1", "us-gov-west-1"]),
        ("us-gov-west-1", "us-gov-west-1", ["us-gov-west-1"]),
        # China: CloudFront's global endpoint signs in cn-northwest-1 (botocore's data).
        ("cn-north-1", "cn-north-1", ["cn-north-1", "cn-northwest-1"]),
        ("cn-northwest-1", "cn-northwest-1", ["cn-northwest-1"]),
        ("eu-west-1", "eu-west-1", ["eu-west-1", "us-east-1"]),
    ],
)
def test_check_regions_when_unset_stay_in_the_functions_partition(
    monkeypatch: pytest.MonkeyPatch,
    certificate_region: str,
    function_region: str,
    regions: list[str],
) -> None:
    """Listing a region of another partition fails (unknown to the credentials): before,
    every clean-up in GovCloud or China kept every record."""
    monkeypatch.delenv("CLEANUP_CHECK_REGIONS", raising=False)

    assert check_regions(certificate_region, function_region) == regions


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("example.com", "example.com"),
        ("*.example.com", "example.com"),
        ("WWW.Example.com.", "www.example.com"),
    ],
)
def test_record_key_when_apex_or_wildcard_is_the_same(name: str, key: str) -> None:
    assert record_key(name) == key


def test_certificate_names_when_summary_has_either_san_field_reads_both() -> None:
    summary = {
        "DomainName": "example.com",
        "SubjectAlternativeNameSummaries": ["*.example.com"],
        "SubjectAlternativeNames": ["www.example.com"],
    }

    assert certificate_names(summary) == ["example.com", "*.example.com", "www.example.com"]


class FakeAcm:
    def __init__(self, summaries: list[dict[str, Any]], names: dict[str, tuple[str, ...]]):
        self.summaries = summaries
        self._names = names
        self.described: list[str] = []

    def list_certificates(self, filters: Any) -> list[dict[str, Any]]:
        return self.summaries

    def names(self, arn: str) -> tuple[str, ...]:
        self.described.append(arn)
        return self._names[arn]


def _summary(arn: str, name: str, status: str = "ISSUED", **extra: Any) -> dict[str, Any]:
    return {"CertificateArn": arn, "DomainName": name, "Status": status, **extra}


def test_shared_record_check_when_certificates_in_two_regions_needs_both() -> None:
    regions = {
        "us-east-1": FakeAcm([_summary("a", "*.example.com")], {}),
        "eu-west-1": FakeAcm([_summary("b", "www.example.org", "PENDING_VALIDATION")], {}),
    }
    check = SharedRecordCheck(lambda region: cast(CertificateService, regions[region]))

    assert check.needed(["us-east-1", "eu-west-1"], excluding="x") == {
        "example.com",
        "www.example.org",
    }


@pytest.mark.parametrize("status", ["EXPIRED", "REVOKED", "FAILED", "VALIDATION_TIMED_OUT"])
def test_shared_record_check_when_certificate_can_never_renew_ignores_it(status: str) -> None:
    acm = FakeAcm([_summary("a", "example.com", status)], {})
    check = SharedRecordCheck(lambda region: cast(CertificateService, acm))

    assert check.needed(["us-east-1"], excluding="x") == set()


@pytest.mark.parametrize("status", ["ISSUED", "PENDING_VALIDATION", "INACTIVE", "SOMETHING_NEW"])
def test_shared_record_check_when_certificate_may_still_validate_or_renew_keeps_it(
    status: str,
) -> None:
    acm = FakeAcm([_summary("a", "example.com", status)], {})
    check = SharedRecordCheck(lambda region: cast(CertificateService, acm))

    assert check.needed(["us-east-1"], excluding="x") == {"example.com"}


def test_shared_record_check_ignores_the_certificate_being_deleted() -> None:
    acm = FakeAcm([_summary("gone", "example.com")], {})
    check = SharedRecordCheck(lambda region: cast(CertificateService, acm))

    assert check.needed(["us-east-1"], excluding="gone") == set()


def test_shared_record_check_when_summary_shortens_the_sans_describes_the_certificate() -> None:
    acm = FakeAcm(
        [_summary("a", "example.com", HasAdditionalSubjectAlternativeNames=True)],
        {"a": ("example.com", "late.example.net")},
    )
    check = SharedRecordCheck(lambda region: cast(CertificateService, acm))

    assert check.needed(["us-east-1"], excluding="x") == {"example.com", "late.example.net"}
    assert acm.described == ["a"]
