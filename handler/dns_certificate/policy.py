"""What the platform team that installed the provider allows its callers to ask for (pure).

Anyone who may use the ServiceToken can ask the provider for a certificate, and the provider's
role can write validation records in every zone it reaches: without a policy, every such caller
could obtain a publicly trusted certificate for any name in any of those zones. Two template
parameters narrow that, passed to the function as environment variables and read for each
request (an update of the provider's stack applies to the next request):

* `AllowedDomains` (`ALLOWED_DOMAINS`): comma-separated domain names. A certificate name is
  allowed when it equals one of them or ends with "." + one, compared case-insensitively
  without trailing dots (a wildcard `*.shop.example.com` is allowed by `example.com`). Empty:
  any name.
* `AllowExportableCertificates` (`ALLOW_EXPORT`): "true" allows certificates whose private key
  can be exported (`CertificateExport` / `Options.Export` ENABLED: the key leaves AWS, and ACM
  charges for each issuance and renewal). Anything else refuses them.

The check runs before any AWS call of a Create, and of an Update whose names or export change;
any request that would obtain a new certificate (a replacement) is checked before it is made.
Deletes are never refused: removing a certificate is always allowed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import PolicyRefusedError, quote_list
from .names import normalize_name
from .properties import CertificateProperties

ALLOWED_DOMAINS_VARIABLE = "ALLOWED_DOMAINS"
ALLOW_EXPORT_VARIABLE = "ALLOW_EXPORT"
ALLOWED_DOMAINS_PARAMETER = "AllowedDomains"
ALLOW_EXPORT_PARAMETER = "AllowExportableCertificates"


@dataclass(frozen=True)
class Policy:
    #: Normalized; empty allows every name.
    allowed_domains: tuple[str, ...] = ()
    allow_export: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Policy:
        environ = os.environ if environ is None else environ
        domains = environ.get(ALLOWED_DOMAINS_VARIABLE, "")
        return cls(
            allowed_domains=tuple(
                dict.fromkeys(
                    normalize_name(domain) for domain in domains.split(",") if domain.strip()
                )
            ),
            allow_export=environ.get(ALLOW_EXPORT_VARIABLE, "").strip().lower() == "true",
        )

    def allows_name(self, name: str) -> bool:
        if not self.allowed_domains:
            return True
        name = normalize_name(name)
        return any(name == domain or name.endswith("." + domain) for domain in self.allowed_domains)

    def check(self, properties: CertificateProperties) -> None:
        """Raise PolicyRefusedError naming the parameter and the first offending value."""
        refused = self.refused_names(properties.all_names)
        if refused:
            raise PolicyRefusedError(
                "AllowedDomains of the certificate provider does not allow "
                f"'{refused[0][:80]}' (allowed: {quote_list(self.allowed_domains, 3)}); "
                "ask the provider's owners, or use a name under an allowed domain"
            )
        if properties.export == "ENABLED" and not self.allow_export:
            raise PolicyRefusedError(
                'AllowExportableCertificates of the certificate provider is not "true": '
                "exportable certificates (CertificateExport / Options.Export ENABLED) are "
                "refused; leave the export disabled or ask the provider's owners"
            )

    def refused_names(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if not self.allows_name(name)]


def asks_for_something_new(
    properties: CertificateProperties, old: CertificateProperties | None
) -> bool:
    """An Update whose names or export differ from the old properties (a rollback to the old
    properties, or a tags-only change, asks for nothing new)."""
    if old is None:
        return True
    names = {normalize_name(name) for name in properties.all_names}
    old_names = {normalize_name(name) for name in old.all_names}
    exports = properties.export == "ENABLED", old.export == "ENABLED"
    return names != old_names or exports[0] != exports[1]
