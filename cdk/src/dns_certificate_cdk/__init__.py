"""AWS CDK constructs for the dns-certificate custom resource.

`DnsValidatedCertificate` is the certificate (an `ICertificate`, in any region, with hosted
zones in any account); `DnsCertificateProvider` installs the provider or names one installed
elsewhere. Values are checked at synth time with the function's own rules
(`InvalidPropertyError`, the function's reason).
"""

from ._version import __version__
from .certificate import (
    RESOURCE_TYPE,
    DnsValidatedCertificate,
    DomainValidationOption,
    ValidationRecord,
)
from .enums import CertificateUsage, KeyAlgorithm, RootHierarchyType, ValidationMethod
from .provider import (
    DEFAULT_APPLICATION_ID,
    DEFAULT_SEMANTIC_VERSION,
    DnsCertificateProvider,
    ImportedDnsCertificateProvider,
)
from .rules import InvalidPropertyError

__all__ = [
    "DEFAULT_APPLICATION_ID",
    "DEFAULT_SEMANTIC_VERSION",
    "RESOURCE_TYPE",
    "CertificateUsage",
    "DnsCertificateProvider",
    "DnsValidatedCertificate",
    "DomainValidationOption",
    "ImportedDnsCertificateProvider",
    "InvalidPropertyError",
    "KeyAlgorithm",
    "RootHierarchyType",
    "ValidationMethod",
    "ValidationRecord",
    "__version__",
]
