"""Failures a user can act on.

Each exception carries one reason, written for the person reading the stack events: what failed,
naming the property, domain or ARN, and what to do. Reasons stay well under 256 characters so
CloudFormation shows them whole.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_REASON_LENGTH = 255
#: The longest reason any error may carry (one that must list every accepted property).
MAX_LONG_REASON_LENGTH = 512


def shorten(text: str, limit: int = MAX_REASON_LENGTH) -> str:
    """Keep the head of a reason: it names what failed, the tail is detail."""
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def quote_list(values: Iterable[str], limit: int = 5) -> str:
    items = list(values)
    shown = ", ".join(f"'{value}'" for value in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


class CertificateResourceError(Exception):
    """Base class: the message is the CloudFormation reason."""

    #: Reasons are kept short; a subclass that must list choices may allow more.
    max_length = MAX_REASON_LENGTH

    def __init__(self, reason: str) -> None:
        super().__init__(shorten(reason, self.max_length))

    @property
    def reason(self) -> str:
        return str(self)


class InvalidPropertyError(CertificateResourceError):
    """A resource property is missing, malformed or out of ACM's limits."""


class UnknownPropertyError(InvalidPropertyError):
    """A property the resource does not know, usually a typo; the reason lists the right names."""

    max_length = MAX_LONG_REASON_LENGTH


class HostedZoneNotFoundError(CertificateResourceError):
    """No public hosted zone in the account can hold a name's validation record."""


class AmbiguousHostedZoneError(CertificateResourceError):
    """Two public hosted zones have the same name; only the user knows which one is delegated."""


class CertificateRequestError(CertificateResourceError):
    """ACM refused the request (quota, key algorithm, CA...)."""


class CertificateFailedError(CertificateResourceError):
    """ACM put the certificate in a terminal state other than ISSUED."""


class DeadlineExceededError(CertificateResourceError):
    """The certificate was not issued (or not deleted) before the resource's deadline."""


class CertificateInUseError(CertificateResourceError):
    """ACM refuses to delete a certificate still associated with other resources."""


class DnsChangeError(CertificateResourceError):
    """Route 53 refused to write the validation records."""


class HostedZoneGoneError(DnsChangeError):
    """The zone a write went to no longer exists (NoSuchHostedZone): its name may have a new
    zone, so the zones are looked up again once before this becomes the answer."""


class ContinuationError(CertificateResourceError):
    """The function could not hand the wait over to its next invocation."""


class InvocationDiedError(CertificateResourceError):
    """Lambda ended an invocation (timeout, crash) before it answered, and gave up retrying."""


class DecidedFailure(CertificateResourceError):  # noqa: N818 - an answer, not a fault
    """A FAILED answer an earlier invocation decided (and may have sent): sent again as is."""

    max_length = MAX_LONG_REASON_LENGTH


class PolicyRefusedError(CertificateResourceError):
    """The request asks for something the provider's installation does not allow (policy.py:
    the template parameters AllowedDomains and AllowExportableCertificates)."""


class RegistryError(CertificateResourceError):
    """The provider's records of its certificates (registry.py) cannot be read or written:
    nothing is touched without them."""


class StateUnavailableError(ContinuationError):
    """The state a continuation names could not be read (the table): not a refusal. The
    invocation fails, so that Lambda retries it."""


class StoredStateUnreadableError(ContinuationError):
    """The state stored for a genuine continuation (its reference and binding match) cannot be
    parsed: answered FAILED, since the event is bound to CloudFormation's own request."""
