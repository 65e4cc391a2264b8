"""Regions and partitions, from the endpoint data botocore ships (no network, no credentials).

* The `Region` property: a region where ACM is available, in any partition.
* `global_certificate_region`: the region of a partition whose ACM certificates CloudFront
  takes, searched besides the function's own region by default (the clean-up's
  CLEANUP_CHECK_REGIONS default, the renewal guard). It is never written here: it is the
  credential scope of CloudFront's global endpoint in botocore's data (`us-east-1` in `aws`,
  `cn-northwest-1` in `aws-cn`); a partition without CloudFront (`aws-us-gov`, the ISO
  partitions) has none. CloudFront in the China regions takes no ACM certificate at all
  (docs.amazonaws.cn, "Amazon CloudFront in Amazon Web Services in China"): there the region
  only widens the clean-up's search, which is always safe.
"""

from __future__ import annotations

import functools
from typing import Any

from .errors import InvalidPropertyError

#: The global (partition-wide) service whose endpoint's signing region is the one above.
CLOUDFRONT = "cloudfront"


@functools.cache
def _endpoint_data() -> dict[str, Any]:
    """botocore's endpoints.json, read once per container (tens of milliseconds)."""
    from botocore.loaders import create_loader

    data: dict[str, Any] = create_loader().load_data("endpoints")
    return data


@functools.cache
def acm_regions() -> frozenset[str]:
    """Every region, in every partition, where botocore's endpoint data lists ACM.

    Read from the endpoint data botocore ships (no network, no credentials, no profile), once
    per container and only when a template sets Region: loading it costs tens of milliseconds.
    """
    from botocore.regions import EndpointResolver

    resolver = EndpointResolver(_endpoint_data())
    return frozenset(
        region
        for partition in resolver.get_available_partitions()
        for region in resolver.get_available_endpoints("acm", partition_name=partition)
    )


def partition_of(region: str) -> str | None:
    """The partition (`aws`, `aws-cn`, `aws-us-gov`, ...) of `region`: botocore's own rule
    (the partition listing the region, else the one whose region pattern matches it); None
    for a name no partition claims."""
    from botocore.exceptions import UnknownRegionError
    from botocore.regions import EndpointResolver

    try:
        return str(EndpointResolver(_endpoint_data()).get_partition_for_region(region))
    except UnknownRegionError:
        return None


def global_certificate_region(region: str) -> str | None:
    """The region whose ACM certificates CloudFront takes, in `region`'s partition (see the
    module's docstring); None when the partition has no CloudFront or `region` no partition."""
    partition = partition_of(region)
    for data in _endpoint_data()["partitions"]:
        if data["partition"] != partition:
            continue
        service = data["services"].get(CLOUDFRONT) or {}
        endpoint = service.get("endpoints", {}).get(service.get("partitionEndpoint"), {})
        scope = endpoint.get("credentialScope", {}).get("region")
        return str(scope) if scope else None
    return None


def parse_region(value: object) -> str | None:
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
