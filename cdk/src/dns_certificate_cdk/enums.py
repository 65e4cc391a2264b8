"""The enumerated properties, typed. Each enum's values are exactly the function's list for that
property (`tests/cdk/test_certificate.py` compares them with handler/dns_certificate)."""

from __future__ import annotations

from enum import StrEnum


class ValidationMethod(StrEnum):
    """How ACM validates the names. HTTP (CloudFront's own certificates) is not offered."""

    DNS = "DNS"
    EMAIL = "EMAIL"


class KeyAlgorithm(StrEnum):
    """ACM's seven key algorithms; ACM issues requested public certificates with RSA_2048,
    EC_prime256v1 and EC_secp384r1 only, and refuses the others when the stack deploys."""

    RSA_1024 = "RSA_1024"
    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    EC_PRIME256V1 = "EC_prime256v1"
    EC_SECP384R1 = "EC_secp384r1"
    EC_SECP521R1 = "EC_secp521r1"


class RootHierarchyType(StrEnum):
    """An Amazon N2 certificate (README: Amazon N2 certificates)."""

    N2_AMAZON_MANAGED = "N2_AMAZON_MANAGED"
    N2_SFG2_AMAZON_MANAGED = "N2_SFG2_AMAZON_MANAGED"


class CertificateUsage(StrEnum):
    """Extended key usage of an N2 certificate; only with `root_hierarchy_type`."""

    CLIENT_AND_SERVER_AUTH = "CLIENT_AND_SERVER_AUTH"
    CLIENT_AUTH_ONLY = "CLIENT_AUTH_ONLY"
