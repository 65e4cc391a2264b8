"""A strict AWS for local runs: moto's server, with the behaviour moto leaves out put back in.

moto issues a certificate after a fixed wait without looking at DNS, gives every name the same
validation CNAME, accepts two changes for one record in a Route 53 batch, deletes records that
are not there and certificates that are in use (see `../shared/README.md`). A handler tested
against that can be wrong and still pass. The server started here runs in this process, in a
thread, so moto's model classes are patched in place while it runs (and restored when it
stops) to behave like the real services in the ways that matter to this resource:

ACM
  * every name gets its own validation CNAME, derived from the account and the name (an apex
    and its wildcard share one, as they do in ACM; so do two certificates for one name);
  * `DescribeCertificate` shows the records only after `records_delay` seconds, some names
    before others;
  * a certificate is ISSUED only once every one of its CNAMEs is in a *public* hosted zone
    with the exact value, and `issue_delay` seconds after the last of them was written; a
    zone marked `misdelegate`d (the registrar points its domain elsewhere) is never seen;
  * FAILED / VALIDATION_TIMED_OUT can be forced (`force_status`, `fail_validation`,
    `validation_timeout`);
  * `DeleteCertificate` of a certificate in use answers `ResourceInUseException`
    (`mark_in_use`), until released or after a number of refused attempts;
  * `IdempotencyToken` must match `\\w{1,32}`; a token seen in the last hour returns the
    certificate it made;
  * `KeyAlgorithm`, `RootHierarchyType` (Amazon N2) and `CertificateUsage` are kept and shown
    by DescribeCertificate as requested (moto makes every key RSA_2048 and ignores the rest),
    with ACM's rules checked first (`ValidationException`): requested certificates use
    RSA_2048, EC_prime256v1 or EC_secp384r1; N2 needs DNS validation and no
    CertificateAuthorityArn; CertificateUsage needs RootHierarchyType, and CLIENT_AUTH_ONLY
    N2_AMAZON_MANAGED; `Options.Export` is kept (moto does that already);
  * EMAIL certificates are ISSUED only once their approval mail is "clicked":
    `email_approval_delay` seconds after the request (None: never), or `approve_email(arn)`;
    DescribeCertificate shows them with ValidationMethod EMAIL and no ResourceRecord;
  * Email → DNS migration: `UpdateCertificateOptions(Options={"ValidationMethod": "DNS"})` on an
    ISSUED EMAIL certificate with no migration running (anything else: InvalidStateException or
    ValidationException, as ACM); `ListCertificateDomainValidations` shows each name's active
    configuration and, while the migration runs, the requested one with its CNAME;
    `DescribeCertificate.UpdateSummary` reports it. It completes only once every name's CNAME
    is in a *public* zone with the exact value (and `issue_delay` after the last one was
    written); `fail_migration(arn)` or `migration_timeout` ends it FAILED, the certificate
    still email-validated;
  * `ListCertificates` hides what ACM hides by default: key types other than RSA_1024 and
    RSA_2048 unless `Includes.keyTypes` names them, N2 certificates unless
    `RootHierarchyTypes` names their hierarchy (and then only N2 certificates are listed).

Route 53
  * `ChangeResourceRecordSets` is checked as a whole before anything is applied: two changes
    for one record in a batch, DELETE of an absent record or with other values, CREATE of an
    existing record, a CNAME at the apex or next to other types, and a name outside the zone
    are all refused with `InvalidChangeBatch`;
  * `ListHostedZonesByName` lists zones in order *starting at* the name, like the real API.

Both
  * optional throttling: at most N requests per second per API, or a rate of its own for
    each API (`ThrottlingException` for ACM, `Throttling` for Route 53);
  * injected faults: the next calls to an API answer an error, optionally after the call
    took effect (a response lost on the way back); or answer only after a delay (a call that
    hangs: it takes effect at once, its response comes `seconds` later). Helpers name the
    usual ones: `throttle_first`, `refuse` (AccessDenied on every call), `hang`.
  * fault scopes: a fault may apply only to calls whose `x-local-scope` header starts with its
    scope (the local CloudFormation driver sets the header to the stack's name on every call an
    invocation makes), so faults of stacks run at the same time do not meet.

Usage::

    with Emulator(settings=StrictSettings(issue_delay=1.0)) as aws:
        zone_id = aws.create_zone("example.com")
        ...  # boto3 clients made now talk to the emulator

Only one emulator can run in a process at a time (the patches are process-wide).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import re
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from moto.acm.models import AWSCertificateManagerBackend, CertBundle, acm_backends
from moto.acm.responses import AWSCertificateManagerResponse
from moto.core import errors as moto_errors
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import camelcase_to_underscores, utcnow
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.route53.exceptions import Route53ClientError
from moto.route53.models import FakeZone, Route53Backend, route53_backends
from moto.route53.responses import Route53
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
#: Variables that could send a boto3 client somewhere other than the emulator.
_UNSET_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ENDPOINT_URL_ACM",
    "AWS_ENDPOINT_URL_ROUTE_53",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_DYNAMODB",
)
_TOKEN_PATTERN = re.compile(r"^\w{1,32}$")
_MAX_COMMON_NAME = 64
#: Key algorithms ACM issues requested certificates (N2 included) with; the API's other four
#: are for imported certificates.
REQUESTED_KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
N2_HIERARCHIES = ("N2_AMAZON_MANAGED", "N2_SFG2_AMAZON_MANAGED")
#: What ListCertificates lists without `Includes.keyTypes`.
DEFAULT_LISTED_KEY_TYPES = ("RSA_1024", "RSA_2048")


# ---- validation records ---------------------------------------------------------------------


def _base(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    return name[2:] if name.startswith("*.") else name


def _fqdn(name: str) -> str:
    """Lower case, no trailing dot: how names are compared (DNS names are case-insensitive)."""
    return name.strip().lower().rstrip(".")


def validation_record(domain_name: str, account_id: str = ACCOUNT_ID) -> tuple[str, str]:
    """The CNAME (name, value) ACM asks for to validate `domain_name` in `account_id`.

    Stable per account and name like ACM's: `example.com` and `*.example.com` share it, and a
    second certificate for the same name asks for the same record again.
    """
    base = _base(domain_name)
    name_digest = hashlib.sha256(f"name\n{account_id}\n{base}".encode()).hexdigest()
    value_digest = hashlib.sha256(f"value\n{account_id}\n{base}".encode()).hexdigest()
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in value_digest[32:42])
    return (
        f"_{name_digest[:32]}.{base}.",
        f"_{value_digest[:32]}.{letters}.acm-validations.aws.",
    )


# ---- settings, events and rules -------------------------------------------------------------


@dataclass
class StrictSettings:
    #: Seconds from the moment the last validation CNAME is in place (or the request, if the
    #: records were there already) to ISSUED.
    issue_delay: float = 1.0
    #: Each certificate waits `issue_delay` plus its own share of this spread (uniform, drawn
    #: from `issue_seed` and its ARN, so a run can be repeated): ACM issues some certificates
    #: in one minute and others in ten. 0: every certificate waits exactly `issue_delay`.
    issue_spread: float = 0.0
    issue_seed: int = 0
    #: Names per certificate that ACM accepts (its default quota is 10; it can be raised to 100).
    #: moto refuses more than 10 SubjectAlternativeNames; above 10 the emulator takes over.
    names_quota: int = 10
    #: Seconds after the request before DescribeCertificate shows every name's record (names
    #: appear one after another within this time, like ACM's "a few seconds").
    records_delay: float = 0.0
    #: A certificate still pending this long after its request becomes VALIDATION_TIMED_OUT
    #: (ACM: 72 hours). None: never.
    validation_timeout: float | None = None
    #: Seconds after the request at which an EMAIL certificate's approval mail is clicked.
    #: None: never (`StrictRules.approve_email` approves one).
    email_approval_delay: float | None = None
    #: A migration to DNS validation still pending this long after it was asked for becomes
    #: FAILED (ACM: 72 hours). None: never.
    migration_timeout: float | None = None


@dataclass(frozen=True)
class AwsEvent:
    """Something the emulated AWS did, for progress lines and assertions."""

    kind: str  # certificate_requested | records_changed | certificate_issued |
    # certificate_failed | certificate_deleted | delete_refused | throttled | fault
    at: float  # time.monotonic()
    detail: Mapping[str, Any]


Listener = Callable[[AwsEvent], None]


@dataclass
class _TokenBucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class _InUse:
    users: list[str]
    refuse_deletes: int | None  # None: until released
    refused: int = 0


#: The request header that names a call's scope (see `StrictRules.inject_fault`).
SCOPE_HEADER = "x-local-scope"
#: Error codes for a refused call, as each service spells AccessDenied.
ACCESS_DENIED = {"acm": "AccessDeniedException", "route53": "AccessDenied"}
THROTTLED = {"acm": "ThrottlingException", "route53": "Throttling"}


@dataclass
class _Fault:
    api: str  # "acm:RequestCertificate"
    code: str
    message: str
    remaining: int
    after_effect: bool
    status: int
    scope: str | None = None  # None: every call; else calls whose scope starts with it
    hang: float = 0.0  # > 0: not an error, the response comes this many seconds late

    def applies(self, api: str, scope: str) -> bool:
        if self.api != api or self.remaining <= 0:
            return False
        return self.scope is None or scope.startswith(self.scope)


@dataclass
class _Migration:
    """An email → DNS migration of one certificate."""

    status: str  # PENDING_DOMAIN_VALIDATION | SUCCESS | FAILED
    requested_at: float
    updated_at: float
    fail: bool = False


@dataclass
class _CertificateState:
    failure: tuple[str, str | None] | None = None  # forced (status, reason)
    failure_reason: str | None = None
    issued_at: float | None = None
    #: KeyAlgorithm, RootHierarchyType, CertificateUsage as requested (moto ignores them).
    shape: dict[str, str] | None = None
    #: The ValidationMethod it was requested with (DNS when omitted).
    validation_method: str = "DNS"
    email_approved: bool = False
    migration: _Migration | None = None

    def active_method(self) -> str:
        migrated = self.migration is not None and self.migration.status == "SUCCESS"
        return "DNS" if migrated else self.validation_method


@dataclass(frozen=True)
class CertificateRequestShape:
    """The RequestCertificate parameters moto ignores, checked as ACM checks them."""

    key_algorithm: str | None = None
    root_hierarchy_type: str | None = None
    certificate_usage: str | None = None
    validation_method: str | None = None
    certificate_authority_arn: str | None = None

    def problem(self) -> str | None:
        """ACM's ValidationException message for this request, or None."""
        root, usage = self.root_hierarchy_type, self.certificate_usage
        if self.key_algorithm and self.key_algorithm not in REQUESTED_KEY_ALGORITHMS:
            return (
                f"Key algorithm {self.key_algorithm} is not supported for requested certificates."
            )
        if root is not None and root not in N2_HIERARCHIES:
            return f"Value '{root}' at 'rootHierarchyType' failed to satisfy enum constraint."
        if usage is not None and root is None:
            return "CertificateUsage can only be specified with RootHierarchyType."
        if root is None:
            return None
        if self.certificate_authority_arn:
            return "RootHierarchyType cannot be specified with CertificateAuthorityArn."
        if (self.validation_method or "EMAIL") != "DNS":
            return "Amazon N2 certificates must use DNS validation."
        if usage == "CLIENT_AUTH_ONLY" and root != "N2_AMAZON_MANAGED":
            return "CLIENT_AUTH_ONLY is only valid with RootHierarchyType N2_AMAZON_MANAGED."
        return None

    def shown(self) -> dict[str, str]:
        """What DescribeCertificate and ListCertificates show for it."""
        shape = {"KeyAlgorithm": self.key_algorithm or "RSA_2048"}
        if self.root_hierarchy_type:
            shape["RootHierarchyType"] = self.root_hierarchy_type
            shape["CertificateUsage"] = self.certificate_usage or "CLIENT_AND_SERVER_AUTH"
        return shape


class StrictRules:
    """The state behind the patched moto methods, and the knobs tests turn."""

    def __init__(self, settings: StrictSettings | None = None) -> None:
        self.settings = settings or StrictSettings()
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._written_at: dict[tuple[str, str], float] = {}  # (record name, value) -> epoch
        self._certificates: dict[str, _CertificateState] = {}
        self._failing_names: dict[str, tuple[str, str | None]] = {}
        self._misdelegated: set[str] = set()
        self._in_use: dict[str, _InUse] = {}
        self._throttle_rate: float | None = None
        self._throttle_apis: frozenset[str] | None = None
        self._throttle_rates: dict[str, float] = {}  # API or "service:*" -> requests/s
        self._bursts: dict[str, float] = {}  # bucket key -> size (default: one second's worth)
        self._buckets: dict[str, _TokenBucket] = {}
        self._faults: list[_Fault] = []
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        #: Calls per (scope, API); the scope is "" for calls without the scope header.
        self.scoped_calls: Counter[tuple[str, str]] = Counter()
        #: DynamoDB calls (the requests table and the status board), counted apart: not part
        #: of any API's figures, never throttled or faulted.
        self.table_calls: Counter[str] = Counter()
        #: Set when the emulator stops: hanging calls end at once.
        self.stopping = threading.Event()

    # ---- listeners ----------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, kind: str, **detail: Any) -> None:
        event = AwsEvent(kind=kind, at=time.monotonic(), detail=detail)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener(event)

    # ---- knobs --------------------------------------------------------------------------

    def force_status(self, arn: str, status: str, reason: str | None = None) -> None:
        """The next look at `arn` finds it `status` (FAILED, VALIDATION_TIMED_OUT, REVOKED...)."""
        with self._lock:
            self._state(arn).failure = (status, reason)

    def fail_validation(
        self, domain_name: str, status: str = "FAILED", reason: str | None = "CAA_ERROR"
    ) -> None:
        """Every certificate naming `domain_name` ends `status` once validation is attempted
        (`issue_delay` after the request), as ACM does when a CAA record forbids it."""
        with self._lock:
            self._failing_names[_fqdn(domain_name)] = (status, reason)

    def approve_email(self, arn: str) -> None:
        """Someone clicked the approval link of the EMAIL certificate `arn`."""
        with self._lock:
            self._state(arn).email_approved = True

    def fail_migration(self, arn: str) -> None:
        """The next look at `arn` finds its migration to DNS validation FAILED."""
        with self._lock:
            migration = self._state(arn).migration
            if migration is not None:
                migration.fail = True

    def misdelegate(self, zone_name: str) -> None:
        """Public DNS never asks the hosted zones named `zone_name` (the registrar delegates the
        domain to other name servers): ACM does not see the records written there."""
        with self._lock:
            self._misdelegated.add(_fqdn(zone_name))

    def mark_in_use(
        self, arn: str, by: str | Sequence[str], *, refuse_deletes: int | None = None
    ) -> None:
        """DeleteCertificate answers ResourceInUseException until `release(arn)`, or for the
        first `refuse_deletes` attempts; DescribeCertificate lists the users in `InUseBy`."""
        users = [by] if isinstance(by, str) else list(by)
        bundle = self._bundle(arn)
        with self._lock:
            self._in_use[arn] = _InUse(users=users, refuse_deletes=refuse_deletes)
            if bundle is not None:
                bundle.in_use_by[:] = users

    def release(self, arn: str) -> None:
        with self._lock:
            self._in_use.pop(arn, None)
        bundle = self._bundle(arn)
        if bundle is not None:
            bundle.in_use_by[:] = []

    def delete_refusals(self, arn: str) -> int:
        with self._lock:
            rule = self._in_use.get(arn)
            return rule.refused if rule else 0

    def throttle(
        self,
        rate: float | Mapping[str, float] | None,
        apis: Sequence[str] | None = None,
        *,
        bursts: Mapping[str, float] | None = None,
    ) -> None:
        """At most `rate` requests per second per API ("acm:DescribeCertificate", ...; all ACM
        and Route 53 APIs when `apis` is None). None switches throttling off.

        `rate` may instead give each API its own rate, as AWS's quotas do:
        `{"acm:RequestCertificate": 5, "acm:DescribeCertificate": 10, "route53:*": 5}`. An API
        named there has its own bucket; `service:*` is one bucket shared by every other API of
        the service (Route 53's quota is per account, not per API); other APIs are not
        throttled. `apis` must then be None.

        Each bucket holds one second's worth of requests unless `bursts` gives its size by the
        same key (Route 53's account bucket holds 50: `{"route53:*": 50}`).
        """
        with self._lock:
            self._bursts = {str(key): float(size) for key, size in (bursts or {}).items()}
            if isinstance(rate, Mapping):
                if apis is not None:
                    raise ValueError("give per-API rates or `apis`, not both")
                self._throttle_rate, self._throttle_apis = None, None
                self._throttle_rates = {str(api): float(r) for api, r in rate.items()}
            else:
                self._throttle_rate = rate
                self._throttle_apis = frozenset(apis) if apis is not None else None
                self._throttle_rates = {}
            self._buckets.clear()

    def _throttle_bucket(self, api: str) -> tuple[str, float] | None:
        """(bucket key, rate) limiting `api`, or None. Call with the lock held."""
        if self._throttle_rates:
            if api in self._throttle_rates:
                return api, self._throttle_rates[api]
            shared = api.split(":", 1)[0] + ":*"
            if shared in self._throttle_rates:
                return shared, self._throttle_rates[shared]
            return None
        rate = self._throttle_rate
        if rate is not None and (self._throttle_apis is None or api in self._throttle_apis):
            return api, rate
        return None

    def inject_fault(
        self,
        api: str,
        code: str,
        *,
        message: str = "Injected fault",
        count: int = 1,
        after_effect: bool = False,
        status: int = 400,
        scope: str | None = None,
    ) -> None:
        """The next `count` calls to `api` ("acm:RequestCertificate") answer error `code`.

        With `after_effect` the call is carried out first and only its response is replaced:
        the caller sees an error for something that happened. With `scope`, only calls whose
        scope header starts with it count (and are hit).
        """
        with self._lock:
            self._faults.append(
                _Fault(api, code, message, count, after_effect, status, scope=scope)
            )

    def throttle_first(self, api: str, count: int, *, scope: str | None = None) -> None:
        """The first `count` calls to `api` are throttled (the service's own error code)."""
        code = THROTTLED[api.split(":", 1)[0]]
        self.inject_fault(api, code, message="Rate exceeded", count=count, scope=scope)

    def refuse(self, api: str, *, scope: str | None = None, count: int = 10**9) -> None:
        """Every call to `api` (or the next `count`) is refused, as IAM or an organisation's
        policy refuses it: AccessDenied, HTTP 403."""
        service, action = api.split(":", 1)
        self.inject_fault(
            api,
            ACCESS_DENIED[service],
            message=f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/dns-certificate/local is "
            f"not authorized to perform: {service}:{action} (injected)",
            count=count,
            status=403,
            scope=scope,
        )

    def hang(self, api: str, seconds: float, *, count: int = 1, scope: str | None = None) -> None:
        """The next `count` calls to `api` take effect, and their responses come `seconds`
        later (a client with a shorter read timeout gives up first and may retry)."""
        with self._lock:
            self._faults.append(
                _Fault(api, "Hang", "", count, True, 200, scope=scope, hang=seconds)
            )

    def table_fault(self, api: str, scope: str = "") -> _Fault | None:
        """A hang injected for this DynamoDB call (`hang("dynamodb:PutItem", ...)`), counted;
        the table's calls are not ACM's or Route 53's (`calls` leaves them out)."""
        with self._lock:
            for fault in self._faults:
                if fault.hang > 0 and fault.applies(api, scope):
                    fault.remaining -= 1
                    return fault
        return None

    def pending_faults(self, scope: str | None = None) -> int:
        """How many injected faults (of `scope`, exactly) have calls left to hit."""
        with self._lock:
            return sum(
                1
                for fault in self._faults
                if fault.remaining > 0 and (scope is None or fault.scope == scope)
            )

    def clear_faults(self, scope: str | None = None) -> None:
        """Lift the injected faults (those of `scope` exactly, or all)."""
        with self._lock:
            self._faults = [
                fault for fault in self._faults if scope is not None and fault.scope != scope
            ]

    # ---- ACM ----------------------------------------------------------------------------

    def _state(self, arn: str) -> _CertificateState:
        return self._certificates.setdefault(arn, _CertificateState())

    @staticmethod
    def _bundle(arn: str) -> CertBundle | None:
        parts = arn.split(":")
        if len(parts) < 6:
            return None
        backend = acm_backends[parts[4]][parts[3]]
        certificates: dict[str, CertBundle] = backend._certificates
        return certificates.get(arn)

    def update_status(self, bundle: CertBundle) -> None:
        """What ACM would have done with the certificate by now."""
        arn = bundle.arn
        names = _bundle_names(bundle)
        age = _age(bundle)
        with self._lock:
            state = self._state(arn)
            forced, state.failure = state.failure, None
            if forced is None and bundle.status == "PENDING_VALIDATION":
                for name in names:
                    rule = self._failing_names.get(_fqdn(name))
                    if rule is not None and age >= self.settings.issue_delay:
                        forced = rule
                        break
        if forced is not None:
            status, reason = forced
            bundle.status = status
            with self._lock:
                state.failure_reason = reason
            self._emit("certificate_failed", arn=arn, status=status, reason=reason)
            return
        if bundle.status == "ISSUED":
            self._advance_migration(bundle, state)
        if bundle.status != "PENDING_VALIDATION":
            return
        timeout = self.settings.validation_timeout
        if timeout is not None and age >= timeout:
            bundle.status = "VALIDATION_TIMED_OUT"
            self._emit("certificate_failed", arn=arn, status=bundle.status, reason=None)
            return
        if state.validation_method == "EMAIL":
            delay = self.settings.email_approval_delay
            if state.email_approved or (delay is not None and age >= delay):
                bundle.status = "ISSUED"
                with self._lock:
                    state.issued_at = time.time()
                self._emit("certificate_issued", arn=arn, names=names)
            return
        written = self._cnames_written_at(names, arn.split(":")[4])
        if written is None:
            return
        if time.time() >= max(written, _epoch(bundle.created_at)) + self.issue_delay_of(arn):
            bundle.status = "ISSUED"
            with self._lock:
                state.issued_at = time.time()
            self._emit("certificate_issued", arn=arn, names=names)

    def issue_delay_of(self, arn: str) -> float:
        """Seconds from the last validation record to ISSUED for this certificate."""
        spread = self.settings.issue_spread
        if spread <= 0:
            return self.settings.issue_delay
        share = random.Random(f"{self.settings.issue_seed}:{arn}").random()
        return self.settings.issue_delay + spread * share

    def issuance_due(self, arn: str) -> float | None:
        """The moment (epoch seconds) ACM issues this DNS-validated certificate, whether or not
        anyone has looked since; None while a validation record is missing."""
        bundle = self._bundle(arn)
        if bundle is None:
            return None
        written = self._cnames_written_at(_bundle_names(bundle), arn.split(":")[4])
        if written is None:
            return None
        return max(written, _epoch(bundle.created_at)) + self.issue_delay_of(arn)

    def _cnames_written_at(self, names: Sequence[str], account: str) -> float | None:
        """When the last of the names' CNAMEs went into a public zone; None if one is missing."""
        written: list[float] = [0.0]
        for name in names:
            record_name, value = validation_record(name, account)
            at = self.cname_written_at(record_name, value, account)
            if at is None:
                return None
            written.append(at)
        return max(written)

    def _advance_migration(self, bundle: CertBundle, state: _CertificateState) -> None:
        with self._lock:
            migration = state.migration
            if migration is None or migration.status != "PENDING_DOMAIN_VALIDATION":
                return
        now = time.time()
        timeout = self.settings.migration_timeout
        if migration.fail or (timeout is not None and now - migration.requested_at >= timeout):
            migration.status, migration.updated_at = "FAILED", now
            self._emit("migration_failed", arn=bundle.arn)
            return
        written = self._cnames_written_at(_bundle_names(bundle), bundle.arn.split(":")[4])
        if written is None:
            return
        if now >= max(written, migration.requested_at) + self.settings.issue_delay:
            migration.status, migration.updated_at = "SUCCESS", now
            self._emit("migration_completed", arn=bundle.arn, names=_bundle_names(bundle))

    def start_migration(self, bundle: CertBundle, method: str) -> None:
        """UpdateCertificateOptions with ValidationMethod, refused where ACM refuses it."""
        arn = bundle.arn
        with self._lock:
            state = self._state(arn)
            migration = state.migration
            if method != "DNS":
                raise AWSError(
                    f"Migrating the validation method to {method} is not supported.",
                    exception_type="ValidationException",
                )
            if bundle.type != "AMAZON_ISSUED" or state.active_method() != "EMAIL":
                raise AWSError(
                    f"Certificate {arn} is not validated by email.",
                    exception_type="InvalidStateException",
                )
            if bundle.status != "ISSUED":
                raise AWSError(
                    f"Certificate {arn} is {bundle.status}; only issued certificates can be "
                    "migrated.",
                    exception_type="InvalidStateException",
                )
            if migration is not None and migration.status == "PENDING_DOMAIN_VALIDATION":
                raise AWSError(
                    f"A validation method update of {arn} is already in progress.",
                    exception_type="InvalidStateException",
                )
            now = time.time()
            state.migration = _Migration("PENDING_DOMAIN_VALIDATION", now, now)
        self._emit("migration_started", arn=arn)

    def domain_validations(self, bundle: CertBundle) -> list[dict[str, Any]]:
        """ListCertificateDomainValidations' summaries for the certificate."""
        account = bundle.arn.split(":")[4]
        with self._lock:
            state = self._certificates.get(bundle.arn) or _CertificateState()
            method = state.active_method()
            migration = state.migration
        status = _validation_status(bundle.status)
        summaries: list[dict[str, Any]] = []
        for name in _bundle_names(bundle):
            record_name, value = validation_record(name, account)
            dns = {
                "DnsValidationChallenge": {
                    "ResourceRecord": {"Name": record_name, "Type": "CNAME", "Value": value}
                }
            }
            email = {
                "EmailValidationChallenge": {
                    "ValidationDomain": _base(name),
                    "ValidationEmails": [f"admin@{_base(name)}"],
                }
            }
            summary: dict[str, Any] = {
                "DomainName": name,
                "ActiveValidationConfiguration": {
                    "ValidationMethod": method,
                    "ValidationStatus": status,
                    "ValidationChallenge": dns if method == "DNS" else email,
                },
            }
            if migration is not None and migration.status == "PENDING_DOMAIN_VALIDATION":
                summary["RequestedValidationConfiguration"] = {
                    "ValidationMethod": "DNS",
                    "ValidationStatus": "PENDING_VALIDATION",
                    "ValidationChallenge": dns,
                }
            summaries.append(summary)
        return summaries

    def describe(self, bundle: CertBundle, result: dict[str, Any]) -> dict[str, Any]:
        certificate = result["Certificate"]
        if bundle.type != "AMAZON_ISSUED":
            return result
        account = bundle.arn.split(":")[4]
        names = _bundle_names(bundle)
        age = _age(bundle)
        validation_status = _validation_status(bundle.status)
        with self._lock:
            state = self._certificates.get(bundle.arn) or _CertificateState()
            method = state.active_method()
            migration = state.migration
        options: list[dict[str, Any]] = []
        for index, name in enumerate(names):
            option: dict[str, Any] = {
                "DomainName": name,
                "ValidationDomain": name,
                "ValidationStatus": validation_status,
                "ValidationMethod": method,
            }
            if method == "EMAIL":
                option["ValidationDomain"] = _base(name)
                option["ValidationEmails"] = [f"admin@{_base(name)}"]
            elif age >= self.settings.records_delay * (index + 1) / len(names):
                record_name, value = validation_record(name, account)
                option["ResourceRecord"] = {"Name": record_name, "Type": "CNAME", "Value": value}
            options.append(option)
        certificate["DomainValidationOptions"] = options
        if migration is not None:
            certificate["UpdateSummary"] = {
                "Status": migration.status,
                "Type": "DOMAIN_VALIDATION_METHOD",
                "DomainValidationMethodUpdateSummary": {"From": "EMAIL", "To": "DNS"},
                "RequestedAt": migration.requested_at,
                "UpdatedAt": migration.updated_at,
            }
        with self._lock:
            in_use = self._in_use.get(bundle.arn)
        certificate["InUseBy"] = list(in_use.users) if in_use else list(bundle.in_use_by)
        if bundle.status == "ISSUED" and state.issued_at is not None:
            certificate["IssuedAt"] = state.issued_at
        elif bundle.status != "ISSUED":
            for key in ("IssuedAt", "NotBefore", "NotAfter", "Serial"):
                certificate.pop(key, None)
        if state.failure_reason:
            certificate["FailureReason"] = state.failure_reason
        if state.shape:
            certificate.update(state.shape)
        return result

    def check_shape(self, shape: CertificateRequestShape) -> None:
        problem = shape.problem()
        if problem:
            raise AWSError(problem, exception_type="ValidationException")

    def remember_shape(self, arn: str, shape: CertificateRequestShape) -> None:
        with self._lock:
            state = self._state(arn)
            if state.shape is None:  # a token's second request returns the first certificate
                state.shape = shape.shown()
                if not shape.certificate_authority_arn:
                    # Omitted: DNS, as this emulator has always treated it (the handler
                    # always names the method).
                    state.validation_method = shape.validation_method or "DNS"

    @staticmethod
    def listed(
        summary: Mapping[str, Any],
        key_types: Sequence[str] | None,
        root_hierarchy_types: Sequence[str] | None,
    ) -> bool:
        """Whether ListCertificates with these filters shows the certificate, as ACM does."""
        if summary.get("KeyAlgorithm") not in (key_types or DEFAULT_LISTED_KEY_TYPES):
            return False
        root = summary.get("RootHierarchyType")
        return root in root_hierarchy_types if root_hierarchy_types else root is None

    def before_delete(self, arn: str) -> None:
        with self._lock:
            rule = self._in_use.get(arn)
            if rule is not None:
                if rule.refuse_deletes is not None and rule.refused >= rule.refuse_deletes:
                    del self._in_use[arn]
                    rule = None
                else:
                    rule.refused += 1
        if rule is not None:
            self._emit("delete_refused", arn=arn, in_use_by=list(rule.users))
            raise AWSError(
                f"Certificate {arn} in account {ACCOUNT_ID} is in use.",
                exception_type="ResourceInUseException",
            )
        bundle = self._bundle(arn)
        if bundle is not None:
            bundle.in_use_by[:] = []

    def check_request(self, domain_name: str, token: str | None) -> None:
        if token is not None and not _TOKEN_PATTERN.match(token):
            raise AWSError(
                f"1 validation error detected: Value '{token}' at 'idempotencyToken' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: \\w+ "
                "(and have length 1 to 32)",
                exception_type="ValidationException",
            )
        if len(domain_name) > _MAX_COMMON_NAME:
            raise AWSError(
                f"1 validation error detected: Value '{domain_name}' at 'domainName' failed to "
                f"satisfy constraint: Member must have length less than or equal to "
                f"{_MAX_COMMON_NAME}",
                exception_type="ValidationException",
            )

    # ---- Route 53 -----------------------------------------------------------------------

    def cname_written_at(self, record_name: str, value: str, account: str) -> float | None:
        """When the CNAME went into the public zone that answers for it; None if it is not
        there with exactly this value."""
        wanted_name, wanted_value = _fqdn(record_name), _fqdn(value)
        backend = route53_backends[account]["aws"]
        zones = [zone for zone in list(backend.zones.values()) if not zone.private_zone]
        matching = [z for z in zones if _within(wanted_name, _fqdn(z.name))]
        if not matching:
            return None
        deepest = max(len(_fqdn(z.name)) for z in matching)
        with self._lock:
            if any(_fqdn(z.name) in self._misdelegated for z in matching):
                return None
        for zone in matching:
            if len(_fqdn(zone.name)) != deepest:
                continue
            for rrset in list(zone.rrsets):
                if _fqdn(rrset.name) != wanted_name or rrset.type != "CNAME":
                    continue
                values = [_fqdn(v) for v in _record_values(rrset.records)]
                if values == [wanted_value]:
                    with self._lock:
                        return self._written_at.get((wanted_name, wanted_value), 0.0)
        return None

    def check_change_batch(self, zone: FakeZone, changes: Sequence[Mapping[str, Any]]) -> None:
        """Refuse the whole batch the way Route 53 does, before moto applies any of it."""
        zone_name = _fqdn(zone.name)
        current: dict[tuple[str, str, str | None], tuple[int | None, list[str]]] = {}
        for rrset in list(zone.rrsets):
            key = (_fqdn(rrset.name), str(rrset.type), rrset.set_identifier)
            current[key] = (_ttl(rrset.ttl), _record_values(rrset.records))
        actions: dict[tuple[str, str, str | None], list[str]] = {}
        for change in changes:
            action = str(change.get("Action"))
            record = change.get("ResourceRecordSet") or {}
            name, rtype = _fqdn(str(record.get("Name", ""))), str(record.get("Type"))
            key = (name, rtype, record.get("SetIdentifier"))
            shown = f"[name='{name}.', type='{rtype}']"
            previous = actions.setdefault(key, [])
            if previous and not (previous == ["DELETE"] and action == "CREATE"):
                raise _invalid_change_batch(
                    "The request contains an invalid set of changes for a resource record set "
                    f"'{rtype} {name}.'"
                )
            previous.append(action)
            if not _within(name, zone_name):
                raise _invalid_change_batch(
                    f"RRSet with DNS name {name}. is not permitted in zone {zone_name}."
                )
            values = _record_values(record.get("ResourceRecords") or [])
            if action == "DELETE":
                existing = current.get(key)
                if existing is None:
                    raise _invalid_change_batch(
                        f"Tried to delete resource record set {shown} but it was not found"
                    )
                if "AliasTarget" not in record and existing != (_ttl(record.get("TTL")), values):
                    raise _invalid_change_batch(
                        f"Tried to delete resource record set {shown} but the values provided "
                        "do not match the current values"
                    )
                del current[key]
                continue
            if action == "CREATE" and key in current:
                raise _invalid_change_batch(
                    f"Tried to create resource record set {shown} but it already exists"
                )
            if rtype == "CNAME" and name == zone_name:
                raise _invalid_change_batch(
                    f"RRSet of type CNAME with DNS name {name}. is not permitted at apex in "
                    f"zone {zone_name}."
                )
            others = {t for (n, t, _), _v in current.items() if n == name and t != rtype}
            if others and (rtype == "CNAME" or "CNAME" in others):
                other = sorted(others)[0]
                raise _invalid_change_batch(
                    f"RRSet of type {rtype} with DNS name {name}. is not permitted because a "
                    f"conflicting RRSet of type {other} with the same DNS name already exists "
                    f"in zone {zone_name}."
                )
            if rtype == "CNAME" and len(values) > 1:
                raise _invalid_change_batch(
                    f"RRSet of type CNAME with DNS name {name}. has more than one value"
                )
            current[key] = (_ttl(record.get("TTL")), values)

    def note_changes(self, zone: FakeZone, changes: Sequence[Mapping[str, Any]]) -> None:
        now = time.time()
        summary: list[dict[str, str]] = []
        with self._lock:
            for change in changes:
                record = change["ResourceRecordSet"]
                name = _fqdn(str(record["Name"]))
                values = _record_values(record.get("ResourceRecords") or [])
                if change["Action"] == "DELETE":
                    for value in values:
                        self._written_at.pop((name, _fqdn(value)), None)
                else:
                    for value in values:
                        self._written_at.setdefault((name, _fqdn(value)), now)
                summary.append(
                    {
                        "action": str(change["Action"]),
                        "name": name + ".",
                        "type": str(record.get("Type")),
                        "value": ", ".join(values),
                    }
                )
        self._emit(
            "records_changed",
            zone_id=zone.id.removeprefix("/hostedzone/"),
            zone_name=_fqdn(zone.name),
            private=bool(zone.private_zone),
            changes=summary,
        )

    # ---- every API ----------------------------------------------------------------------

    def intercept(self, api: str, scope: str = "") -> tuple[_Fault | None, bool]:
        """(a fault to answer, whether it comes after the call) for this call, counted."""
        now = time.monotonic()
        chosen: _Fault | None = None
        throttled = False
        with self._lock:
            self.calls[api] += 1
            self.scoped_calls[(scope, api)] += 1
            limit = self._throttle_bucket(api)
            if limit is not None:
                key, rate = limit
                bucket = self._buckets.get(key)
                if bucket is None:
                    burst = self._bursts.get(key, max(1.0, rate))
                    bucket = self._buckets[key] = _TokenBucket(rate, burst, burst, now)
                throttled = not bucket.take(now)
            if throttled:
                self.throttled[api] += 1
                code = "ThrottlingException" if api.startswith("acm:") else "Throttling"
                chosen = _Fault(api, code, "Rate exceeded", 1, False, 400)
            else:
                for fault in self._faults:
                    if fault.applies(api, scope):
                        fault.remaining -= 1
                        chosen = fault
                        break
        if chosen is None:
            return None, False
        if throttled:
            self._emit("throttled", api=api)
        else:
            self._emit(
                "fault", api=api, code=chosen.code, after_effect=chosen.after_effect, scope=scope
            )
        return chosen, chosen.after_effect


def _invalid_change_batch(message: str) -> Route53ClientError:
    return Route53ClientError("InvalidChangeBatch", f"[{message}]")


def _within(name: str, zone_name: str) -> bool:
    return name == zone_name or name.endswith("." + zone_name)


def _ttl(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _record_values(records: Sequence[Any]) -> list[str]:
    values: list[str] = []
    for record in records:
        values.append(str(record["Value"]) if isinstance(record, Mapping) else str(record))
    return values


def _validation_status(certificate_status: str) -> str:
    return {
        "ISSUED": "SUCCESS",
        "FAILED": "FAILED",
        "VALIDATION_TIMED_OUT": "FAILED",
    }.get(certificate_status, "PENDING_VALIDATION")


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=UTC).timestamp() if moment.tzinfo is None else moment.timestamp()


def _age(bundle: CertBundle) -> float:
    created: datetime = bundle.created_at
    return float((utcnow() - created).total_seconds())


def _bundle_names(bundle: CertBundle) -> list[str]:
    """The certificate's names, its common name first (ACM lists it first)."""
    common = str(bundle.common_name)
    sans: list[str] = list(bundle.sans)
    return [common, *(name for name in sans if name != common)]


# ---- the patches ----------------------------------------------------------------------------

_active_lock = threading.Lock()
_INHERITED = object()
_active: StrictRules | None = None


@contextlib.contextmanager
def strict_moto(rules: StrictRules) -> Iterator[StrictRules]:
    """Patch moto's ACM and Route 53 models with `rules`; everything is restored on exit."""
    global _active
    with _active_lock:
        if _active is not None:
            raise RuntimeError("a strict emulator is already running in this process")
        _active = rules
    originals: list[tuple[type, str, Any]] = []  # (class, name, own attribute or _INHERITED)

    def patch(owner: type, name: str, make: Callable[[Any], Any]) -> None:
        originals.append((owner, name, owner.__dict__.get(name, _INHERITED)))
        setattr(owner, name, make(getattr(owner, name)))

    def add(owner: type, name: str, function: Callable[[Any], Any]) -> None:
        """A method moto does not have (restored by removing it)."""
        originals.append((owner, name, owner.__dict__.get(name, _INHERITED)))
        setattr(owner, name, function)

    def describe(original: Callable[[CertBundle], dict[str, Any]]) -> Any:
        def strict_describe(bundle: CertBundle) -> dict[str, Any]:
            return rules.describe(bundle, original(bundle))

        return strict_describe

    def check(original: Callable[[CertBundle], None]) -> Any:
        def strict_check(bundle: CertBundle) -> None:
            if bundle.type != "AMAZON_ISSUED":
                original(bundle)
                return
            rules.update_status(bundle)

        return strict_check

    def delete_certificate(original: Callable[..., None]) -> Any:
        def strict_delete(backend: AWSCertificateManagerBackend, arn: str) -> None:
            if arn in backend._certificates:
                rules.before_delete(arn)
            original(backend, arn)
            rules._emit("certificate_deleted", arn=arn)

        return strict_delete

    def request_certificate(original: Callable[..., str]) -> Any:
        def strict_request(
            backend: AWSCertificateManagerBackend,
            domain_name: str,
            idempotency_token: str | None,
            subject_alt_names: list[str] | None,
            tags: list[dict[str, str]] | None,
            cert_authority_arn: str | None = None,
            cert_options: dict[str, Any] | None = None,
        ) -> str:
            rules.check_request(domain_name, idempotency_token)
            if idempotency_token is not None:
                known = backend._get_arn_from_idempotency_token(idempotency_token)
                if known and known in backend._certificates:
                    rules._emit("certificate_requested", arn=known, reused=True, names=[])
                    return str(known)
            arn = original(
                backend,
                domain_name,
                idempotency_token,
                subject_alt_names,
                tags,
                cert_authority_arn,
                cert_options,
            )
            names = _bundle_names(backend._certificates[arn])
            rules._emit("certificate_requested", arn=arn, reused=False, names=names)
            return str(arn)

        return strict_request

    def request_response(original: Callable[[Any], Any]) -> Any:
        def strict_request_response(response: Any) -> Any:
            shape = CertificateRequestShape(
                key_algorithm=response._get_param("KeyAlgorithm"),
                root_hierarchy_type=response._get_param("RootHierarchyType"),
                certificate_usage=response._get_param("CertificateUsage"),
                validation_method=response._get_param("ValidationMethod"),
                certificate_authority_arn=response._get_param("CertificateAuthorityArn"),
            )
            rules.check_shape(shape)
            names = response._get_param("SubjectAlternativeNames") or []
            every_name = {response._get_param("DomainName"), *names}
            result: Any
            if len(names) > 10 and len(every_name) <= rules.settings.names_quota:
                # moto refuses more than 10; this account's quota was raised.
                arn = response.acm_backend.request_certificate(
                    response._get_param("DomainName"),
                    response._get_param("IdempotencyToken"),
                    names,
                    response._get_param("Tags"),
                    response._get_param("CertificateAuthorityArn"),
                    response._get_param("Options"),
                )
                result = ActionResult(result={"CertificateArn": arn})
            else:
                result = original(response)
            rules.remember_shape(str(result.result["CertificateArn"]), shape)
            return result

        return strict_request_response

    def list_response(original: Callable[[Any], Any]) -> Any:
        def strict_list_response(response: Any) -> Any:
            statuses = response._get_param("CertificateStatuses")
            includes = response._get_param("Includes") or {}
            roots = response._get_param("RootHierarchyTypes")
            summaries: list[dict[str, Any]] = []
            # No `includes` for moto: it would filter on its own (always RSA_2048) keys.
            # A snapshot: moto's own listing iterates the live dict, which a request made at
            # the same time changes ("dictionary changed size during iteration").
            for arn in list(response.acm_backend._certificates):
                try:
                    bundle = response.acm_backend.get_certificate(arn)  # its status brought on
                except AWSError:
                    continue  # deleted meanwhile
                if statuses and bundle.status not in statuses:
                    continue
                summary = bundle.describe()["Certificate"]
                if not rules.listed(summary, includes.get("keyTypes"), roots):
                    continue
                export = bundle.cert_options.get("Export", "DISABLED")
                if includes.get("exportOption") not in (None, export):
                    continue
                summary["InUse"] = bool(summary.pop("InUseBy", []))
                summary["Exported"] = False
                summary["ExportOption"] = export
                summaries.append(summary)
            return ActionResult(result={"CertificateSummaryList": summaries})

        return strict_list_response

    def update_certificate_options(response: Any) -> Any:
        """moto has no UpdateCertificateOptions: the options, and the migration to DNS."""
        arn = response._get_param("CertificateArn")
        options = dict(response._get_param("Options") or {})
        bundle = response.acm_backend.get_certificate(arn)
        method = options.pop("ValidationMethod", None)
        if "Export" in options and options["Export"] != bundle.cert_options.get("Export"):
            raise AWSError(
                "Export cannot be changed after the certificate is requested.",
                exception_type="ValidationException",
            )
        if method is not None:
            rules.start_migration(bundle, method)
        bundle.cert_options.update(options)
        return EmptyResult()

    def list_domain_validations(response: Any) -> Any:
        arn = response._get_param("CertificateArn")
        bundle = response.acm_backend.get_certificate(arn)
        return ActionResult(
            result={"DomainValidationSummaryList": rules.domain_validations(bundle)}
        )

    def change_record_sets(original: Callable[..., None]) -> Any:
        def strict_change(
            backend: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]
        ) -> None:
            zone = backend.get_hosted_zone(zoneid)
            rules.check_change_batch(zone, change_list)
            snapshot = [
                {
                    "Action": change["Action"],
                    "ResourceRecordSet": dict(change["ResourceRecordSet"]),
                }
                for change in change_list
            ]
            original(backend, zoneid, change_list)
            rules.note_changes(zone, snapshot)

        return strict_change

    def list_by_name(original: Callable[..., Any]) -> Any:
        def strict_list(
            backend: Route53Backend, dnsname: str | None
        ) -> tuple[str | None, list[FakeZone]]:
            if not dnsname:
                return original(backend, dnsname)  # type: ignore[no-any-return]
            name = dnsname if dnsname.endswith(".") else dnsname + "."
            start = _reversed_labels(name)
            zones = sorted(
                list(backend.zones.values()), key=lambda z: (_reversed_labels(z.name), z.id)
            )
            return name, [zone for zone in zones if _reversed_labels(zone.name) >= start]

        return strict_list

    # Codes this emulator answers that a service model does not list (Route 53's `Throttling`,
    # injected faults) would make moto's serializer warn on every such response.
    common_codes: list[str] = moto_errors.COMMON_ERROR_CODES
    saved_common_codes = list(common_codes)

    def counted(original: Callable[[Any], Any]) -> Any:
        def counted_call_action(response: Any) -> Any:
            api = f"dynamodb:{response._get_action()}"
            with rules._lock:
                rules.table_calls[api] += 1
            scope = str((response.headers or {}).get(SCOPE_HEADER) or "")
            fault = rules.table_fault(api, scope)
            if fault is not None:  # `hang("dynamodb:PutItem", ...)`: it lands, answered late
                result = original(response)
                rules.stopping.wait(fault.hang)
                return result
            return original(response)

        return counted_call_action

    def call_action(service: str) -> Callable[[Any], Any]:
        def make(original: Callable[[Any], Any]) -> Any:
            def strict_call_action(response: Any) -> Any:
                action = response._get_action()
                scope = str((response.headers or {}).get(SCOPE_HEADER) or "")
                fault, after_effect = rules.intercept(f"{service}:{action}", scope)
                if fault is not None and fault.hang > 0:
                    result = original(response)  # it happened; the answer is late
                    rules.stopping.wait(fault.hang)
                    return result
                if fault is not None:
                    if fault.code not in common_codes:
                        common_codes.append(fault.code)
                    method_name = camelcase_to_underscores(action)
                    method = getattr(response, method_name, None)
                    error = _service_error(service, fault)

                    def fail() -> Any:
                        if after_effect and method is not None:
                            method()
                        raise error

                    # An instance attribute: the response object serves this one request.
                    setattr(response, method_name, fail)
                return original(response)

            return strict_call_action

        return make

    try:
        patch(CertBundle, "describe", describe)
        patch(CertBundle, "check", check)
        patch(AWSCertificateManagerBackend, "delete_certificate", delete_certificate)
        patch(AWSCertificateManagerBackend, "request_certificate", request_certificate)
        patch(Route53Backend, "change_resource_record_sets", change_record_sets)
        patch(Route53Backend, "list_hosted_zones_by_name", list_by_name)
        patch(AWSCertificateManagerResponse, "request_certificate", request_response)
        patch(AWSCertificateManagerResponse, "list_certificates", list_response)
        add(AWSCertificateManagerResponse, "update_certificate_options", update_certificate_options)
        add(
            AWSCertificateManagerResponse,
            "list_certificate_domain_validations",
            list_domain_validations,
        )
        patch(AWSCertificateManagerResponse, "call_action", call_action("acm"))
        patch(Route53, "call_action", call_action("route53"))
        patch(DynamoHandler, "call_action", counted)
        yield rules
    finally:
        common_codes[:] = saved_common_codes
        for owner, name, original in reversed(originals):
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        with _active_lock:
            _active = None


def _reversed_labels(name: str) -> str:
    return ".".join(reversed(_fqdn(name).split(".")))


def _service_error(service: str, fault: _Fault) -> Exception:
    if service == "acm":
        return AWSError(fault.message, exception_type=fault.code, status=fault.status)
    return Route53ClientError(fault.code, fault.message)


def moto_is_patched() -> bool:
    """True while a strict emulator's patches are in place (tests check they are gone)."""
    return _active is not None


# ---- the emulator ---------------------------------------------------------------------------


class _MotoServer(ThreadedMotoServer):
    """moto's threaded server, polling for shutdown every 50 ms instead of every 500 ms (tests
    start and stop one per test)."""

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=0.05)


#: The requests table's name in the local world (template.yaml names its own).
REQUESTS_TABLE = "dns-certificate-requests"


def create_requests_table(dynamodb: Any, name: str = REQUESTS_TABLE) -> str:
    """The requests table as template.yaml declares it: partition key `id`, TTL `expiration`."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    return name


class Emulator:
    """moto's server on 127.0.0.1 (a free port), strict rules, and boto3 pointed at it.

    Entering sets AWS_ENDPOINT_URL, fake credentials and the region in `os.environ` (so every
    boto3 client made afterwards, including the handler's, talks to the emulator) and resets
    moto's state; leaving restores the environment, the moto classes and moto's state.
    """

    def __init__(
        self,
        *,
        region: str = DEFAULT_REGION,
        settings: StrictSettings | None = None,
        strict: bool = True,
    ) -> None:
        self.region = region
        self.rules = StrictRules(settings)
        self.strict = strict
        self._server: _MotoServer | None = None
        self._exit = contextlib.ExitStack()
        self.endpoint_url = ""
        self._clients: dict[tuple[str, str, int, str], Any] = {}
        self._clients_lock = threading.Lock()

    # ---- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Emulator:
        self.rules.stopping.clear()
        stack = self._exit
        try:
            if self.strict:
                stack.enter_context(strict_moto(self.rules))
            stack.enter_context(_quiet_logger("werkzeug", logging.ERROR))
            stack.enter_context(_quiet_logger("moto", logging.ERROR))
            server = _MotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            self._server = server
            stack.callback(server.stop)
            host, port = server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            stack.callback(self._reset)
            self._reset()
            stack.enter_context(_environment(self._variables()))
        except BaseException:
            stack.close()
            raise
        return self

    def stop(self) -> None:
        self.rules.stopping.set()  # calls hanging on an injected fault end now
        self._exit.close()
        self._server = None

    def _variables(self) -> dict[str, str | None]:
        variables: dict[str, str | None] = {name: None for name in _UNSET_VARIABLES}
        variables.update(FAKE_CREDENTIALS)
        variables.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "REQUESTS_TABLE": REQUESTS_TABLE,
            }
        )
        return variables

    def _reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        create_requests_table(self._new_client("dynamodb", self.region, 1))

    # ---- clients and helpers ------------------------------------------------------------

    def client(self, service: str, *, region: str | None = None, retries: int = 1) -> Any:
        """A boto3 client for the emulator; by default without retries, to see every error."""
        key = (service, region or self.region, retries, self.endpoint_url)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = self._new_client(service, key[1], retries)
            return self._clients[key]

    def _new_client(self, service: str, region: str, retries: int) -> Any:
        return boto3.Session().client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            config=Config(retries={"mode": "standard", "total_max_attempts": retries}),
        )

    def acm(self, region: str | None = None) -> Any:
        return self.client("acm", region=region)

    def route53(self) -> Any:
        return self.client("route53")

    def create_zone(self, name: str, *, private: bool = False) -> str:
        """A hosted zone; its id without the /hostedzone/ prefix."""
        arguments: dict[str, Any] = {"Name": name, "CallerReference": str(uuid.uuid4())}
        if private:
            arguments["HostedZoneConfig"] = {"PrivateZone": True, "Comment": "private"}
            arguments["VPC"] = {"VPCRegion": self.region, "VPCId": "vpc-0123456789abcdef0"}
        zone = self.route53().create_hosted_zone(**arguments)["HostedZone"]
        return str(zone["Id"]).removeprefix("/hostedzone/")

    def cname_records(self, zone_id: str) -> dict[str, str]:
        """The zone's CNAMEs: name (lower case, trailing dot) -> value."""
        records: dict[str, str] = {}
        paginator = self.route53().get_paginator("list_resource_record_sets")
        for page in paginator.paginate(HostedZoneId=zone_id):
            for rrset in page["ResourceRecordSets"]:
                if rrset["Type"] == "CNAME":
                    values = [r["Value"] for r in rrset.get("ResourceRecords", [])]
                    records[_fqdn(rrset["Name"]) + "."] = ", ".join(values)
        return records

    def delete_cname(self, zone_id: str, name: str, value: str) -> None:
        """Delete a CNAME as an operator tidying the zone would (Route 53 wants it exactly)."""
        record = {"Name": name, "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": value}]}
        self.route53().change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]},
        )

    def certificate_arns(self, region: str | None = None) -> list[str]:
        """Every certificate of the region: every requested key type, N2 ones too (two
        passes, as ListCertificates lists N2 certificates only when asked, and then only them)."""
        arns: list[str] = []
        paginator = self.acm(region).get_paginator("list_certificates")
        includes = {"keyTypes": list(REQUESTED_KEY_ALGORITHMS)}
        for extra in ({}, {"RootHierarchyTypes": list(N2_HIERARCHIES)}):
            for page in paginator.paginate(Includes=includes, **extra):
                for summary in page["CertificateSummaryList"]:
                    if summary["CertificateArn"] not in arns:
                        arns.append(summary["CertificateArn"])
        return arns

    def describe(self, arn: str) -> dict[str, Any] | None:
        """DescribeCertificate's Certificate, or None when the certificate does not exist."""
        acm = self.acm(arn.split(":")[3])
        try:
            return dict(acm.describe_certificate(CertificateArn=arn)["Certificate"])
        except acm.exceptions.ResourceNotFoundException:
            return None

    def validation_records(self, arn: str) -> dict[str, tuple[str, str]]:
        """Domain name -> (record name, value) as DescribeCertificate shows them."""
        certificate = self.describe(arn) or {}
        records: dict[str, tuple[str, str]] = {}
        for option in certificate.get("DomainValidationOptions", []):
            record = option.get("ResourceRecord")
            if record:
                records[option["DomainName"]] = (record["Name"], record["Value"])
        return records

    def tags(self, arn: str) -> dict[str, str]:
        acm = self.acm(arn.split(":")[3])
        tags = acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        return {tag["Key"]: tag.get("Value", "") for tag in tags}


@contextlib.contextmanager
def _environment(variables: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    try:
        for name, value in variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet_logger(name: str, level: int) -> Iterator[None]:
    target = logging.getLogger(name)
    saved = target.level
    target.setLevel(level)
    try:
        yield
    finally:
        target.setLevel(saved)
