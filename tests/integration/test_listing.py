"""listing.py against the emulated ACM: every certificate of a region is found, although
ListCertificates hides EC and N2 certificates unless asked for them (issue 9)."""

from __future__ import annotations

from typing import Any

from dns_certificate.certificates import CertificateService
from dns_certificate.context import Runtime
from dns_certificate.listing import list_all_certificates
from tests.integration.harness import Harness


def test_list_all_certificates_finds_every_key_type_and_both_n2_hierarchies(
    harness: Harness, runtime: Runtime
) -> None:
    acm = runtime.clients.acm()
    shapes: list[dict[str, Any]] = [
        {},
        {"KeyAlgorithm": "EC_prime256v1"},
        {"KeyAlgorithm": "EC_secp384r1"},
        {"RootHierarchyType": "N2_AMAZON_MANAGED"},
        {"RootHierarchyType": "N2_SFG2_AMAZON_MANAGED", "KeyAlgorithm": "EC_secp384r1"},
    ]
    requested = {
        acm.request_certificate(DomainName=f"{index}.example.com", **extra)["CertificateArn"]
        for index, extra in enumerate(shapes)
    }
    default_listing = acm.list_certificates()["CertificateSummaryList"]
    assert len(default_listing) == 1  # what ACM shows when not asked: the RSA, non-N2 one

    listed = list_all_certificates(CertificateService(acm))

    assert {summary["CertificateArn"] for summary in listed} == requested
    assert len(listed) == len(requested)  # each once
    lists = harness.calls.of("acm", "ListCertificates")
    assert any("RootHierarchyTypes" not in call.params for call in lists)
    assert any(
        set(call.params.get("RootHierarchyTypes", []))
        == {"N2_AMAZON_MANAGED", "N2_SFG2_AMAZON_MANAGED"}
        for call in lists
    )


def test_list_all_certificates_when_both_passes_span_pages_finds_each_once(
    harness: Harness, runtime: Runtime
) -> None:
    acm = runtime.clients.acm()
    shapes: list[dict[str, Any]] = [
        *({"KeyAlgorithm": key} for key in ("RSA_2048", "EC_prime256v1", "EC_secp384r1") * 2),
        *({"RootHierarchyType": root} for root in ("N2_AMAZON_MANAGED",) * 3),
        *({"RootHierarchyType": "N2_SFG2_AMAZON_MANAGED", "KeyAlgorithm": "EC_secp384r1"},) * 2,
    ]
    requested = {
        acm.request_certificate(DomainName=f"{index}.example.com", **extra)["CertificateArn"]
        for index, extra in enumerate(shapes)
    }
    runtime.clients.shapes.page_size = 2  # type: ignore[attr-defined]
    mark = harness.calls.mark()

    listed = list_all_certificates(CertificateService(acm))

    assert sorted(summary["CertificateArn"] for summary in listed) == sorted(requested)
    lists = harness.calls.since(mark, "acm", "ListCertificates")
    assert len(lists) == 3 + 3  # six of each kind, two a page
    # Every page of a pass asks with that pass's filters.
    assert sum("RootHierarchyTypes" in call.params for call in lists) == 3
    assert all(len(call.params["Includes"]["keyTypes"]) == 7 for call in lists)
