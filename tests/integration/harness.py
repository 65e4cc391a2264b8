"""What the integration tests drive the handler with, and what moto cannot do by itself.

Everything here runs in-process against moto (`mock_aws`): the handler gets real boto3 clients,
instrumented with botocore event hooks that

* record every API call the handler makes (service, operation, region and parameters), so a
  test can count `ChangeResourceRecordSets` calls per zone or prove that no call was made;
* inject what moto never does (see ../shared/README.md): validation records that appear late
  or for some names only, a certificate that stays PENDING_VALIDATION, FAILED or
  VALIDATION_TIMED_OUT with a FailureReason, ResourceInUseException on delete, and
  UpdateCertificateOptions (not implemented by moto);
* make the validation records look like ACM's: one distinct CNAME per base name, the same one
  for `example.com` and `*.example.com` (moto returns one constant value for every name);
* migrate email-validated certificates to DNS validation (`AcmMigrations`: UpdateCertificateOptions
  with `ValidationMethod`, ListCertificateDomainValidations, DescribeCertificate's UpdateSummary),
  completing only once every name's CNAME is in a public zone of moto's Route 53;
* give certificates the key algorithm, root hierarchy (Amazon N2) and certificate usage they
  were requested with (moto ignores all three and makes RSA_2048 keys), and hide them from
  ListCertificates as ACM does by default: only RSA_1024/RSA_2048 unless `Includes.keyTypes`
  names others, no N2 certificate unless `RootHierarchyTypes` names its hierarchy, and then
  N2 certificates only.

The answer is captured by `local.answers.AnswerServer`, a real HTTP server on 127.0.0.1 that
plays the presigned ResponseURL; the handler's own sender delivers it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders

import app
from dns_certificate.clients import AwsClients
from dns_certificate.continuation import Continuation, binding_of, load_state, original_event
from local.answers import Answer, AnswerServer, answer_stack_resources
from local.context import LambdaContext
from tests.support.aws_errors import error_response
from tests.support.clock import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_route53 import Route53Client

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:dns-certificate"
#: What one AWS API call costs on the fake clock: real calls are never instantaneous, and a
#: zero-time call would let an invocation's remaining time sit exactly on a threshold.
API_CALL_SECONDS = 0.02
EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


# ---- recording API calls --------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    service: str  # acm | route53 | lambda | sts
    operation: str  # e.g. ChangeResourceRecordSets
    region: str
    params: Mapping[str, Any]


class RunawayError(Exception):
    """The handler made far more calls than any scenario needs (a wait that never ends)."""


class CallLog:
    """Every API call the handler's clients made, in order (injected failures included)."""

    def __init__(self, limit: int = 3000) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._limit = limit
        self.runaway = False

    def add(self, call: Call) -> None:
        with self._lock:
            if len(self._calls) >= self._limit:
                self.runaway = True
                raise RunawayError(f"more than {self._limit} API calls")
            self._calls.append(call)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def of(self, service: str, operation: str | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.service == service and (operation is None or call.operation == operation)
        ]

    def count(self, service: str, operation: str | None = None) -> int:
        return len(self.of(service, operation))

    def mark(self) -> int:
        """A position to count from: `since(mark)` lists the calls made after it."""
        return len(self.calls)

    def since(self, mark: int, service: str, operation: str | None = None) -> list[Call]:
        return [
            call
            for call in self.calls[mark:]
            if call.service == service and (operation is None or call.operation == operation)
        ]


# ---- what moto cannot do --------------------------------------------------------------------


def acm_like_record(domain_name: str) -> dict[str, str]:
    """The CNAME real ACM asks for: per base name (a wildcard shares its base's), per account."""
    base = domain_name.lower().removeprefix("*.")
    name_digest = hashlib.md5(f"{ACCOUNT_ID}:name:{base}".encode()).hexdigest()
    value_digest = hashlib.md5(f"{ACCOUNT_ID}:value:{base}".encode()).hexdigest()
    return {
        "Name": f"_{name_digest}.{base}.",
        "Type": "CNAME",
        "Value": f"_{value_digest}.{value_digest[:10]}.acm-validations.aws.",
    }


def _ok_response() -> tuple[AWSResponse, dict[str, Any]]:
    http = AWSResponse("https://acm.amazonaws.com/", 200, HTTPHeaders(), None)
    return http, {"ResponseMetadata": {"HTTPStatusCode": 200}}


@dataclass
class _Migration:
    names: list[str]
    status: str  # PENDING_DOMAIN_VALIDATION | SUCCESS | FAILED
    requested_at: float
    updated_at: float
    looks: int = 0
    #: Looks at which every CNAME was in a public zone.
    complete_looks: int = 0


def _cname_in_public_zone(record: Mapping[str, str]) -> bool:
    from moto.route53.models import route53_backends

    wanted = (record["Name"].lower().rstrip("."), record["Value"].lower().rstrip("."))
    for zone in list(route53_backends[ACCOUNT_ID]["aws"].zones.values()):
        if zone.private_zone:
            continue
        for rrset in list(zone.rrsets):
            values = [str(r["Value"] if isinstance(r, Mapping) else r) for r in rrset.records]
            found = [(rrset.name.lower().rstrip("."), v.lower().rstrip(".")) for v in values]
            if rrset.type == "CNAME" and found == [wanted]:
                return True
    return False


@dataclass
class AcmMigrations:
    """Email → DNS migrations as ACM runs them (moto knows none of it). Counters are per ARN.

    A migration starts with UpdateCertificateOptions(ValidationMethod DNS) on an issued
    EMAIL certificate with no migration running; each look at the certificate
    (DescribeCertificate, ListCertificateDomainValidations) moves it on: SUCCESS on the
    `looks_to_complete`-th look at which every name's CNAME is in a public zone, FAILED from
    look `fail_after_looks` on.
    """

    now: Callable[[], float] = time.time
    looks_to_complete: int = 1
    fail_after_looks: int | None = None
    #: ListCertificateDomainValidations shows no requested record for the first N looks.
    hidden_record_looks: int = 0
    #: The next N starts (UpdateCertificateOptions, ValidationMethod DNS) lose a race: another
    #: caller (a concurrent delivery, the console) started the migration just before them, so
    #: it runs and the call is refused as ACM refuses a second start.
    start_races: int = 0
    #: arn -> ValidationMethod it was requested with (ACM's default: EMAIL; a private
    #: certificate has none).
    methods: dict[str, str | None] = field(default_factory=dict)
    runs: dict[str, _Migration] = field(default_factory=dict)

    def before_request(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        private = "CertificateAuthorityArn" in params
        context["validation_method"] = None if private else params.get("ValidationMethod", "EMAIL")

    def after_request(
        self, http_response: AWSResponse, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if http_response.status_code < 300:
            method = context.get("validation_method", "EMAIL")
            self.methods.setdefault(parsed["CertificateArn"], method)

    def before_update_options(self, params: dict[str, Any], **_: Any) -> Any:
        body = json.loads(params["body"])
        method = body["Options"].get("ValidationMethod")
        if method is None:
            return None  # the other options: AcmFaults.before_update_options
        arn = body["CertificateArn"]
        bundle = _moto_certificate(arn)
        run = self.runs.get(arn)
        if method != "DNS":
            return error_response("ValidationException", f"Cannot migrate to {method}")
        if self.methods.get(arn) != "EMAIL" or (run and run.status == "SUCCESS"):
            return error_response("InvalidStateException", f"{arn} is not email-validated")
        if bundle.status != "ISSUED" or (run and run.status == "PENDING_DOMAIN_VALIDATION"):
            return error_response("InvalidStateException", f"{arn} cannot migrate now")
        now = self.now()
        names = [bundle.common_name, *(n for n in bundle.sans if n != bundle.common_name)]
        self.runs[arn] = _Migration(names, "PENDING_DOMAIN_VALIDATION", now, now)
        if self.start_races > 0:
            self.start_races -= 1
            return error_response("InvalidStateException", f"{arn} is already migrating")
        return _ok_response()

    def _look(self, arn: str) -> _Migration | None:
        run = self.runs.get(arn)
        if run is None or run.status != "PENDING_DOMAIN_VALIDATION":
            return run
        run.looks += 1
        if self.fail_after_looks is not None and run.looks >= self.fail_after_looks:
            run.status, run.updated_at = "FAILED", self.now()
        elif all(_cname_in_public_zone(acm_like_record(name)) for name in run.names):
            run.complete_looks += 1
            if run.complete_looks >= self.looks_to_complete:
                run.status, run.updated_at = "SUCCESS", self.now()
        return run

    def active_method(self, arn: str) -> str | None:
        """None: a private certificate, which is not validated."""
        run = self.runs.get(arn)
        return "DNS" if run and run.status == "SUCCESS" else self.methods.get(arn, "DNS")

    def after_describe(self, http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        certificate = parsed["Certificate"]
        arn = certificate["CertificateArn"]
        run = self._look(arn)
        method = self.active_method(arn)
        for option in certificate.get("DomainValidationOptions", []):
            if method is not None:
                option["ValidationMethod"] = method
        if run is not None:
            certificate["UpdateSummary"] = {
                "Status": run.status,
                "Type": "DOMAIN_VALIDATION_METHOD",
                "DomainValidationMethodUpdateSummary": {"From": "EMAIL", "To": "DNS"},
                "RequestedAt": run.requested_at,
                "UpdatedAt": run.updated_at,
            }

    def before_list_validations(self, params: dict[str, Any], **_: Any) -> Any:
        """moto does not implement ListCertificateDomainValidations: answered here."""
        arn = json.loads(params["body"])["CertificateArn"]
        bundle = _moto_certificate(arn)
        run = self._look(arn)
        method = self.active_method(arn)
        names = [bundle.common_name, *(n for n in bundle.sans if n != bundle.common_name)]
        summaries = []
        for name in names:
            if method == "DNS":
                challenge: dict[str, Any] = {
                    "DnsValidationChallenge": {"ResourceRecord": acm_like_record(name)}
                }
            else:
                challenge = {"EmailValidationChallenge": {"ValidationDomain": name}}
            status = "SUCCESS" if bundle.status == "ISSUED" else "PENDING_VALIDATION"
            summary: dict[str, Any] = {
                "DomainName": name,
                "ActiveValidationConfiguration": {
                    "ValidationMethod": method,
                    "ValidationStatus": status,
                    "ValidationChallenge": challenge,
                },
            }
            if run is not None and run.status == "PENDING_DOMAIN_VALIDATION":
                requested: dict[str, Any] = {
                    "ValidationMethod": "DNS",
                    "ValidationStatus": "PENDING_VALIDATION",
                }
                if run.looks > self.hidden_record_looks:
                    requested["ValidationChallenge"] = {
                        "DnsValidationChallenge": {"ResourceRecord": acm_like_record(name)}
                    }
                summary["RequestedValidationConfiguration"] = requested
            summaries.append(summary)
        http, parsed = _ok_response()
        parsed["DomainValidationSummaryList"] = summaries
        return http, parsed


def _moto_certificate(arn: str) -> Any:
    from moto.acm.models import acm_backends

    return acm_backends[ACCOUNT_ID][arn.split(":")[3]].get_certificate(arn)


@dataclass
class AcmFaults:
    """ACM behaviour moto lacks, applied to the handler's ACM clients. Counters are per ARN."""

    #: DescribeCertificate says PENDING_VALIDATION for each certificate's first N calls
    #: (moto issues at once: ACM_VALIDATION_WAIT is patched to 0).
    pending_describes: int = 2
    #: domain name -> for how many DescribeCertificate calls its ResourceRecord is missing.
    hidden_records: dict[str, int] = field(default_factory=dict)
    #: Certificates requested from now on end in this (status, FailureReason)...
    failure: tuple[str, str] | None = None
    #: ...from their Nth DescribeCertificate call on (0: the first one already shows it).
    failure_after_describes: int = 0
    #: DeleteCertificate raises ResourceInUseException this many times (None: forever).
    in_use_times: int | None = 0
    in_use_by: tuple[str, ...] = ()
    #: RequestCertificate reaches ACM, then the connection dies before the answer arrives.
    lose_request_response: bool = False
    #: operation -> real seconds each of its next calls hangs (for crhelper's real-time timer).
    stalls: dict[str, list[float]] = field(default_factory=dict)

    #: Email → DNS migrations (moto has none).
    migrations: AcmMigrations = field(default_factory=AcmMigrations)

    describes: dict[str, int] = field(default_factory=dict)
    failing: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    delete_refusals: int = 0
    #: The test's clock: DescribeCertificate's CreatedAt is when it said the certificate was
    #: requested (moto's is the real time, which a fake clock moved hours ahead would read as
    #: a certificate hours old, whose deadline is long past).
    now: Callable[[], float] = time.time
    requested_at: dict[str, float] = field(default_factory=dict)

    def in_use(self, by: tuple[str, ...], times: int | None) -> None:
        self.in_use_by = by
        self.in_use_times = times

    def _still_in_use(self) -> bool:
        return self.in_use_times is None or self.delete_refusals < self.in_use_times

    # -- hooks --

    def before_any(self, model: Any, **_: Any) -> None:
        stalls = self.stalls.get(model.name)
        if stalls:
            time.sleep(stalls.pop(0))

    def after_request(self, http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        self.requested_at.setdefault(parsed["CertificateArn"], self.now())
        if self.failure is not None:
            status, reason = self.failure
            self.failing[parsed["CertificateArn"]] = (status, reason, self.failure_after_describes)
        if self.lose_request_response:
            raise ConnectionResetError("connection reset by peer (injected)")

    def after_describe(self, http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        certificate = parsed["Certificate"]
        arn = certificate["CertificateArn"]
        if arn in self.requested_at and "CreatedAt" in certificate:
            certificate["CreatedAt"] = datetime.fromtimestamp(self.requested_at[arn], tz=UTC)
        self.describes[arn] = calls = self.describes.get(arn, 0) + 1
        hiding = False
        for option in certificate.get("DomainValidationOptions", []):
            if calls <= self.hidden_records.get(option["DomainName"], 0):
                option.pop("ResourceRecord", None)
                hiding = True
        if (hiding or calls <= self.pending_describes) and certificate["Status"] == "ISSUED":
            certificate["Status"] = "PENDING_VALIDATION"
            for option in certificate.get("DomainValidationOptions", []):
                option["ValidationStatus"] = "PENDING_VALIDATION"
        if arn in self.failing:
            status, reason, after = self.failing[arn]
            if calls > after:
                certificate["Status"] = status
                certificate["FailureReason"] = reason
        if self.in_use_by and self._still_in_use():
            certificate["InUseBy"] = list(self.in_use_by)

    def before_delete(self, params: dict[str, Any], **_: Any) -> Any:
        if not self._still_in_use():
            return None
        self.delete_refusals += 1
        arn = json.loads(params["body"])["CertificateArn"]
        return error_response(
            "ResourceInUseException", f"Certificate {arn} is in use by {len(self.in_use_by)}"
        )

    def before_update_options(self, params: dict[str, Any], region: str, **_: Any) -> Any:
        """moto raises NotImplementedError; apply the option to moto's certificate instead."""
        from moto.acm.models import acm_backends

        body = json.loads(params["body"])
        certificate = acm_backends[ACCOUNT_ID][region].get_certificate(body["CertificateArn"])
        certificate.cert_options.update(body["Options"])
        return _ok_response()


#: What moto ignores in RequestCertificate and ACM shows in DescribeCertificate/ListCertificates.
_SHAPE_KEYS = ("KeyAlgorithm", "RootHierarchyType", "CertificateUsage")
_DEFAULT_KEY_TYPES = ("RSA_1024", "RSA_2048")


class RequestedShapes:
    """Each certificate's key algorithm, root hierarchy and usage as requested, shown back."""

    def __init__(self) -> None:
        self.by_arn: dict[str, dict[str, str]] = {}
        #: ListCertificates answers at most this many summaries a page (None: all at once, as
        #: moto does), with a NextToken valid for the same filters only, as ACM's is.
        self.page_size: int | None = None

    def shape(self, arn: str, moto_key_algorithm: str | None) -> dict[str, str]:
        shape = dict(self.by_arn.get(arn, {}))
        shape.setdefault("KeyAlgorithm", moto_key_algorithm or "RSA_2048")
        if "RootHierarchyType" in shape:
            shape.setdefault("CertificateUsage", "CLIENT_AND_SERVER_AUTH")
        return shape

    def before_request(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["requested_shape"] = {key: params[key] for key in _SHAPE_KEYS if key in params}

    def after_request(
        self, http_response: AWSResponse, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if http_response.status_code < 300:
            self.by_arn.setdefault(parsed["CertificateArn"], context.get("requested_shape", {}))

    def after_describe(self, http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        certificate = parsed["Certificate"]
        arn = certificate["CertificateArn"]
        certificate.update(self.shape(arn, certificate.get("KeyAlgorithm")))

    def before_list(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """Keep the filters for `after_list`; moto would filter on its own RSA_2048 keys."""
        body = json.loads(params["body"] or b"{}")
        includes = body.get("Includes") or {}
        context["list_filters"] = (includes.pop("keyTypes", None), body.get("RootHierarchyTypes"))
        context["list_page"] = (body.pop("NextToken", None), self._filters_digest(body, includes))
        params["body"] = json.dumps(body).encode()

    def _filters_digest(self, body: Mapping[str, Any], includes: Mapping[str, Any]) -> str:
        filters = {**body, "Includes": {**includes, "keyTypes": None}}
        filters.pop("MaxItems", None)
        return hashlib.md5(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:8]

    def after_list(
        self, http_response: AWSResponse, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if http_response.status_code >= 300:
            return
        key_types, roots = context.get("list_filters", (None, None))
        listed = []
        for summary in parsed.get("CertificateSummaryList", []):
            shape = self.shape(summary["CertificateArn"], summary.get("KeyAlgorithm"))
            if shape["KeyAlgorithm"] not in (key_types or _DEFAULT_KEY_TYPES):
                continue
            root = shape.get("RootHierarchyType")
            if (root not in roots) if roots else (root is not None):
                continue
            listed.append({**summary, **shape})
        parsed["CertificateSummaryList"] = listed
        if self.page_size is None:
            return
        token, digest = context.get("list_page", (None, ""))
        start = 0
        if token is not None:
            token_digest, _colon, offset = str(token).partition(":")
            if token_digest != digest:
                raise AssertionError("NextToken used with other filters than its first page's")
            start = int(offset)
        listed.sort(key=lambda summary: summary["CertificateArn"])
        parsed["CertificateSummaryList"] = listed[start : start + self.page_size]
        if start + self.page_size < len(listed):
            parsed["NextToken"] = f"{digest}:{start + self.page_size}"


def _rewrite_records(http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
    if http_response.status_code >= 300:
        return
    for option in parsed["Certificate"].get("DomainValidationOptions", []):
        if "ResourceRecord" in option:
            option["ResourceRecord"] = acm_like_record(option["DomainName"])


def acm_looking_like_aws(client: ACMClient) -> ACMClient:
    """Records as ACM would give them (also for the tests' own inspection client)."""
    client.meta.events.register_first("after-call.acm.DescribeCertificate", _rewrite_records)
    return client


def _mirror_hooks(source: ACMClient, target: ACMClient) -> None:
    """Every later (un)registration of a hook on `source` is done on `target` too."""
    events = source.meta.events
    for name in ("register", "register_first", "register_last", "unregister"):
        original = getattr(events, name)

        def mirrored(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            getattr(target.meta.events, _name)(*args, **kw)
            return _original(*args, **kw)

        setattr(events, name, mirrored)


class InstrumentedClients(AwsClients):
    """The production client factory, with every client it makes recorded and fault-injected."""

    def __init__(
        self, default_region: str, calls: CallLog, faults: AcmFaults, clock: FakeClock
    ) -> None:
        super().__init__(default_region, session=boto3.Session())
        self.calls = calls
        self.faults = faults
        self.clock = clock
        self._instrumented: set[int] = set()
        self.shapes = RequestedShapes()
        faults.migrations.now = clock.now
        faults.now = clock.now
        #: The stacks' answers: what DescribeStackResource says (set by the fixtures).
        self.answers: AnswerServer | None = None

    def acm(self, region: str | None = None) -> ACMClient:
        client = super().acm(region)
        if id(client) not in self._instrumented:
            self._instrumented_acm(client)
            poller = self._instrumented_acm(super().acm_poller(region))
            _mirror_hooks(client, poller)
        return client

    def acm_poller(self, region: str | None = None) -> ACMClient:
        """The production poller (no retries), instrumented like `acm`; a hook a test puts on
        `acm(region)` is put on it too (the same API, polled through a second client)."""
        self.acm(region)
        return super().acm_poller(region)

    def _instrumented_acm(self, client: ACMClient) -> ACMClient:
        if self._first_time(client):
            self._record(client, "acm")
            acm_looking_like_aws(client)
            events = client.meta.events
            shapes = self.shapes
            events.register("before-parameter-build.acm.RequestCertificate", shapes.before_request)
            # First: `faults.after_request` may raise (a lost response) after ACM made it.
            events.register_first("after-call.acm.RequestCertificate", shapes.after_request)
            events.register("after-call.acm.DescribeCertificate", shapes.after_describe)
            events.register("before-call.acm.ListCertificates", shapes.before_list)
            events.register("after-call.acm.ListCertificates", shapes.after_list)
            events.register("before-call.acm", self.faults.before_any)
            events.register("after-call.acm.RequestCertificate", self.faults.after_request)
            events.register("after-call.acm.DescribeCertificate", self.faults.after_describe)
            events.register("before-call.acm.DeleteCertificate", self.faults.before_delete)
            update_options = functools.partial(
                self.faults.before_update_options, region=client.meta.region_name
            )
            events.register("before-call.acm.UpdateCertificateOptions", update_options)
            migrations = self.faults.migrations
            events.register(
                "before-parameter-build.acm.RequestCertificate", migrations.before_request
            )
            events.register_first("after-call.acm.RequestCertificate", migrations.after_request)
            events.register_first(
                "before-call.acm.UpdateCertificateOptions", migrations.before_update_options
            )
            events.register("after-call.acm.DescribeCertificate", migrations.after_describe)
            events.register(
                "before-call.acm.ListCertificateDomainValidations",
                migrations.before_list_validations,
            )
        return client

    def cloudformation(self, region: str) -> Any:
        client = super().cloudformation(region)
        if self._first_time(client):
            self._record(client, "cloudformation")
            if self.answers is not None:
                answer_stack_resources(client, self.answers)
        return client

    def route53(self) -> Route53Client:
        client = super().route53()
        if self._first_time(client):
            self._record(client, "route53")
            # Stalls only: a Route 53 call that hangs (a throttled zone lookup, retried).
            client.meta.events.register("before-call.route53", self.faults.before_any)
        return client

    def _first_time(self, client: Any) -> bool:
        if id(client) in self._instrumented:
            return False
        self._instrumented.add(id(client))
        return True

    def _record(self, client: Any, service: str) -> None:
        region = client.meta.region_name

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.calls.add(Call(service, model.name, region, copy.deepcopy(params)))
            self.clock.advance(API_CALL_SECONDS)

        client.meta.events.register("before-parameter-build", record)


class SelfInvokes:
    """Stands in for `lambda:InvokeFunction` (Event): keeps each payload, as JSON would carry it."""

    def __init__(self) -> None:
        self.payloads: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, function_arn: str, payload: Mapping[str, Any]) -> None:
        self.payloads.append((function_arn, json.loads(json.dumps(payload))))

    def __len__(self) -> int:
        return len(self.payloads)


# ---- continuations (issue 18: the state lives in the table, the event carries a reference) --


def carried_state(payload: Mapping[str, Any]) -> Continuation:
    """The state a hand-off stored for the next invocation, read as that invocation reads it
    (through the current runtime's store, checking the reference, the event and the hop)."""
    state = load_state(payload, app._current_runtime().continuations)
    assert state is not None, "the payload is not a continuation"
    return state


def stored_continuation(event: Mapping[str, Any], state: Continuation) -> dict[str, Any]:
    """`event` continued from `state` as if the provider had stored it (a genuinely stored state:
    for tests of what the next invocation does with the state it reads back)."""
    original = original_event(event)
    reference = app._current_runtime().continuations.save(binding_of(original), state)
    return {**original, "Continuation": {"reference": reference, "hop": state.hop}}


def with_stored_state(payload: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A hand-off's payload whose stored state is replaced by one with `changes` (what the
    provider would have had to write itself: callers cannot)."""
    return stored_continuation(payload, carried_state(payload).advanced(**changes))


def corrupt_stored_state(table: str, payload: Mapping[str, Any], **fields: Any) -> None:
    """Overwrite fields of the JSON state stored for `payload`'s reference, in the table itself
    (what no caller can do: for tests of a stored state this version cannot read)."""
    from dns_certificate.continuation import STATE_PREFIX

    reference = payload["Continuation"]["reference"]
    key = {"id": {"S": STATE_PREFIX + hashlib.sha256(reference.encode()).hexdigest()}}
    client = boto3.client("dynamodb", region_name=REGION)
    item = client.get_item(TableName=table, Key=key)["Item"]
    state = {**json.loads(item["state"]["S"]), **fields}
    client.put_item(TableName=table, Item={**item, "state": {"S": json.dumps(state)}})


# ---- the harness ----------------------------------------------------------------------------


def load_event(name: str) -> dict[str, Any]:
    with (EVENTS_DIR / name).open() as file:
        event: dict[str, Any] = json.load(file)
    return event


@dataclass(frozen=True)
class RecordSet:
    type: str
    ttl: int | None
    values: tuple[str, ...]


class Harness:
    """Builds events, invokes `app.lambda_handler` and reads back what it did to ACM/Route 53."""

    def __init__(
        self,
        *,
        answers: AnswerServer,
        clock: FakeClock,
        calls: CallLog,
        faults: AcmFaults,
        self_invokes: SelfInvokes,
        zones: dict[str, str],
    ) -> None:
        self.answers = answers
        self.clock = clock
        self.calls = calls
        self.faults = faults
        self.self_invokes = self_invokes
        self.zones = zones
        self._acm: dict[str, ACMClient] = {}
        self._route53: Route53Client = boto3.client("route53", region_name=REGION)

    # -- events and invocations --

    def event(
        self,
        name: str,
        *,
        properties: Mapping[str, Any] | None = None,
        old_properties: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
        **top_level: Any,
    ) -> dict[str, Any]:
        """A sample event from events/, with a fresh RequestId and a ResponseURL of ours."""
        event = load_event(name)
        event["RequestId"] = str(uuid.uuid4())
        event["ResponseURL"] = self.answers.new_url()
        service_token = event["ResourceProperties"]["ServiceToken"]
        if properties is not None:
            event["ResourceProperties"] = {"ServiceToken": service_token, **properties}
        if old_properties is not None:
            event["OldResourceProperties"] = {"ServiceToken": service_token, **old_properties}
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        event.update(top_level)
        return event

    def context(self, timeout_seconds: float = 900.0) -> LambdaContext:
        return LambdaContext(
            timeout_seconds=timeout_seconds, function_arn=FUNCTION_ARN, clock=self.clock.now
        )

    def invoke(self, event: dict[str, Any], context: LambdaContext | None = None) -> Answer | None:
        """One invocation; its answer, or None when it handed the wait to a next invocation."""
        before = len(self.answers_for(event))
        app.lambda_handler(copy.deepcopy(event), context or self.context())
        assert not self.calls.runaway, "the handler kept calling AWS: a wait that never ends"
        answers = self.answers_for(event)
        assert len(answers) - before <= 1, "one invocation answered more than once"
        return answers[-1] if len(answers) > before else None

    def run(self, event: dict[str, Any], max_invocations: int = 10) -> Answer:
        """Invoke, then follow every hand-off as Lambda would, until CloudFormation is answered."""
        handed_off = len(self.self_invokes)
        answer = self.invoke(event)
        invocations = 1
        while answer is None:
            assert len(self.self_invokes) == handed_off + 1, "no answer and no hand-off"
            assert invocations < max_invocations, "the continuation chain does not end"
            function_arn, payload = self.self_invokes.payloads[-1]
            assert function_arn == FUNCTION_ARN
            handed_off += 1
            answer = self.invoke(payload)
            invocations += 1
        answers = self.answers_for(event)
        assert len(answers) == 1, f"expected exactly one answer, got {len(answers)}"
        assert not answer.problems, answer.problems
        return answer

    def answers_for(self, event: Mapping[str, Any]) -> list[Answer]:
        return self.answers.answers_for(event["ResponseURL"])

    def create(self, properties: Mapping[str, Any] | None = None, name: str = "create.json") -> str:
        """A successful Create; the certificate ARN."""
        answer = self.run(self.event(name, properties=properties))
        assert answer.status == "SUCCESS", answer.reason
        return answer.physical_id

    # -- what ACM and Route 53 hold (read with clients the handler does not use) --

    def acm(self, region: str = REGION) -> ACMClient:
        if region not in self._acm:
            self._acm[region] = acm_looking_like_aws(boto3.client("acm", region_name=region))
        return self._acm[region]

    def certificates(self, region: str = REGION) -> list[str]:
        response = self.acm(region).list_certificates(
            Includes={"keyTypes": ["RSA_2048", "EC_prime256v1", "EC_secp384r1"]}
        )
        return sorted(summary["CertificateArn"] for summary in response["CertificateSummaryList"])

    def describe(self, arn: str, region: str = REGION) -> dict[str, Any]:
        return dict(self.acm(region).describe_certificate(CertificateArn=arn)["Certificate"])

    def tags(self, arn: str, region: str = REGION) -> dict[str, str]:
        tags = self.acm(region).list_tags_for_certificate(CertificateArn=arn).get("Tags", [])
        return {tag["Key"]: tag.get("Value", "") for tag in tags}

    def create_zone(self, name: str, *, private: bool = False) -> str:
        arguments: dict[str, Any] = {"Name": name, "CallerReference": str(uuid.uuid4())}
        if private:
            arguments["HostedZoneConfig"] = {"PrivateZone": True, "Comment": "internal"}
            arguments["VPC"] = {"VPCRegion": REGION, "VPCId": "vpc-0123456789abcdef0"}
        zone = self._route53.create_hosted_zone(**arguments)["HostedZone"]
        return zone["Id"].removeprefix("/hostedzone/")

    def records(self, zone_id: str) -> dict[str, RecordSet]:
        """The zone's CNAME records by name (lower case, with the trailing dot)."""
        response = self._route53.list_resource_record_sets(HostedZoneId=zone_id)
        return {
            record["Name"].lower(): RecordSet(
                type=record["Type"],
                ttl=record.get("TTL"),
                values=tuple(r["Value"] for r in record.get("ResourceRecords", [])),
            )
            for record in response["ResourceRecordSets"]
            if record["Type"] == "CNAME"
        }

    def change_batches(self, zone_id: str | None = None) -> list[Call]:
        calls = self.calls.of("route53", "ChangeResourceRecordSets")
        return [c for c in calls if zone_id is None or c.params["HostedZoneId"] == zone_id]


def expected_records(names: list[str]) -> dict[str, str]:
    """Record name -> value ACM asks for these names (apex and wildcard share one)."""
    return {(record := acm_like_record(name))["Name"]: record["Value"] for name in names}
