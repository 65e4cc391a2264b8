"""regions.py: Region is a region where ACM is available, read from botocore's endpoint data
only when a template sets it."""

from __future__ import annotations

import pytest

from dns_certificate.regions import acm_regions

from .resource_properties import parse, raw, refusal, tags


def test_parse_properties_when_region_valid_keeps_it() -> None:
    assert parse(Region="us-east-1").region == "us-east-1"


def test_parse_properties_when_region_unknown_to_botocore_for_acm_refuses_naming_it() -> None:
    reason = refusal(raw(Region="xx-fake-1"))

    assert reason == "Region 'xx-fake-1' is not a region where ACM is available (e.g. us-east-1)"


@pytest.mark.parametrize(
    "region",
    ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"],
)
def test_parse_properties_when_region_is_an_acm_region_of_any_partition_keeps_it(
    region: str,
) -> None:
    assert parse(Region=region).region == region


def test_acm_regions_when_computed_is_cached_and_reads_no_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A profile that does not exist breaks a boto3 Session; the endpoint data needs none.
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    acm_regions.cache_clear()

    regions = acm_regions()

    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert "xx-fake-1" not in regions
    assert acm_regions() is regions  # computed once per container


def test_parse_properties_when_no_region_given_never_loads_endpoint_data() -> None:
    acm_regions.cache_clear()

    parse(DomainName="example.com", Tags=tags(3), ServiceTimeout="300")

    assert acm_regions.cache_info().currsize == 0
