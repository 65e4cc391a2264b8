"""The `Region` property: a region where ACM is available, in any partition."""

from __future__ import annotations

import functools

from .errors import InvalidPropertyError


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
