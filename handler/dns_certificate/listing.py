"""Finding certificates: every certificate of a region (ListCertificates hides some unless
asked), and those one stack's resource requested, found by their ownership tags.

Each search is several ACM calls (two paginated ListCertificates passes, then one
ListTagsForCertificate per candidate), made through a `CertificateService`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .certificates import REQUEST_TAG, CertificateService, owned_by
from .names import normalize_name
from .properties import KEY_ALGORITHMS, ROOT_HIERARCHY_TYPES


def list_all_certificates(
    service: CertificateService, statuses: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Every certificate of the region (of these `statuses` if any), as ListCertificates'
    summaries, each once.

    ListCertificates hides certificates unless asked: only RSA_1024 and RSA_2048 keys
    without `Includes.keyTypes`, and no Amazon N2 certificate without `RootHierarchyTypes`
    (which then lists N2 certificates *only*). So two paginated passes, every key type in
    both: one for the other certificates, one for both N2 hierarchies; merged by ARN, in
    the order ACM lists them. Certificates of every status are listed.
    """
    includes: Any = {"keyTypes": list(KEY_ALGORITHMS)}
    passes: list[dict[str, Any]] = [
        {"Includes": includes},
        {"Includes": includes, "RootHierarchyTypes": list(ROOT_HIERARCHY_TYPES)},
    ]
    summaries: dict[str, dict[str, Any]] = {}
    for filters in passes:
        if statuses:
            filters["CertificateStatuses"] = list(statuses)
        for summary in service.list_certificates(filters):
            summaries.setdefault(summary["CertificateArn"], dict(summary))
    return list(summaries.values())


def find_requested(
    service: CertificateService,
    stack_id: str,
    logical_id: str,
    request_token: str,
    domain_name: str | None,
) -> list[str]:
    """Certificates one request of this stack's resource asked for (its token's tag)."""
    return [
        arn
        for arn, tags in _owned_with_tags(service, stack_id, logical_id, domain_name)
        if tags.get(REQUEST_TAG) == request_token
    ]


def _owned_with_tags(
    service: CertificateService, stack_id: str, logical_id: str, domain_name: str | None
) -> list[tuple[str, dict[str, str]]]:
    """Certificates of this stack's resource, with their tags.

    Every certificate of the region is considered (`list_all_certificates`). Only those
    whose name matches are looked at closely, to keep ListTagsForCertificate calls few in
    accounts with many certificates.
    """
    found: list[tuple[str, dict[str, str]]] = []
    for summary in list_all_certificates(service):
        arn = summary["CertificateArn"]
        summary_name = normalize_name(summary.get("DomainName", ""))
        if domain_name and summary_name != domain_name:
            continue
        tags = service.tags_if_exists(arn) or {}
        if owned_by(tags, stack_id, logical_id):
            found.append((arn, tags))
    return found
