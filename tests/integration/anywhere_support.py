"""Helpers for the issue-5 tests (tests/integration/test_anywhere.py): other regions, other
accounts, and ACM behaviour moto lacks for them. Kept apart from harness.py, which is shared.

Several accounts in moto (docs: "Multi-account support"; source: moto/core/responses.py
`get_current_account`, moto/iam/models.py `get_account_id_from`, moto/sts/models.py
`assume_role`): every backend is keyed by account. A request's account is `MOTO_ACCOUNT_ID` when
that variable is set, else the account whose IAM backend issued the request's access key, else
123456789012. `sts:AssumeRole` creates a temporary key in the IAM backend of the role ARN's
account, so a client built from the returned credentials works in that account. moto does not
check that the role exists, nor its trust policy or ExternalId: the tests create the role (the
set-up a user would do) and check the AssumeRole parameters themselves.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse

from dns_certificate.validation_options import Route53Access
from local.answers import Answer
from tests.integration.harness import (
    ACCOUNT_ID,
    API_CALL_SECONDS,
    REGION,
    AcmFaults,
    Call,
    CallLog,
    Harness,
    InstrumentedClients,
    acm_like_record,
)
from tests.support.clock import FakeClock

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_route53 import Route53Client

#: The DNS accounts of the tests; the function's own account is harness.ACCOUNT_ID.
DNS_ACCOUNT = "222222222222"
OTHER_DNS_ACCOUNT = "333333333333"
_ACCOUNT_LOCK = threading.Lock()


# ---- accounts -------------------------------------------------------------------------------


@contextmanager
def in_account(account_id: str) -> Iterator[None]:
    """Every moto request made inside is served by `account_id` (test set-up and inspection)."""
    with _ACCOUNT_LOCK:
        previous = os.environ.get("MOTO_ACCOUNT_ID")
        os.environ["MOTO_ACCOUNT_ID"] = account_id
        try:
            yield
        finally:
            if previous is None:
                del os.environ["MOTO_ACCOUNT_ID"]
            else:
                os.environ["MOTO_ACCOUNT_ID"] = previous


def create_dns_role(account_id: str, name: str = "dns-certificate-records") -> str:
    """The role a DNS account would create for the function (trust + Route 53 permissions)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    with in_account(account_id):
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(
            RoleName=name,
            PolicyName="validation-records",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "route53:ChangeResourceRecordSets",
                                "route53:ListHostedZonesByName",
                                "route53:GetChange",
                            ],
                            "Resource": "*",
                        }
                    ],
                }
            ),
        )
        return str(role["Role"]["Arn"])


def _route53() -> Route53Client:
    return boto3.client("route53", region_name=REGION)


def create_zone_in(account_id: str, name: str) -> str:
    """A public hosted zone in `account_id`; its id without the /hostedzone/ prefix."""
    with in_account(account_id):
        zone = _route53().create_hosted_zone(Name=name, CallerReference=str(uuid.uuid4()))
    return str(zone["HostedZone"]["Id"]).removeprefix("/hostedzone/")


def zones_in(account_id: str) -> dict[str, str]:
    """Every hosted zone of `account_id`: id -> name."""
    with in_account(account_id):
        zones = _route53().list_hosted_zones()["HostedZones"]
    return {str(z["Id"]).removeprefix("/hostedzone/"): str(z["Name"]) for z in zones}


def cnames_in(account_id: str, zone_id: str) -> dict[str, str]:
    """The CNAME records of one zone of `account_id`: name -> value."""
    with in_account(account_id):
        records = _route53().list_resource_record_sets(HostedZoneId=zone_id)
    return {
        str(r["Name"]).lower(): str(r["ResourceRecords"][0]["Value"])
        for r in records["ResourceRecordSets"]
        if r["Type"] == "CNAME"
    }


def all_cnames_in(account_id: str) -> dict[str, dict[str, str]]:
    """zone id -> {record name -> value}, for every zone of the account that has a CNAME."""
    found = {zone_id: cnames_in(account_id, zone_id) for zone_id in zones_in(account_id)}
    return {zone_id: records for zone_id, records in found.items() if records}


def account_of_access_key(access_key: str) -> str:
    """The account moto serves a request signed with this key from (as moto decides it)."""
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


# ---- the handler's clients, with STS and every Route 53 session recorded --------------------


@dataclass(frozen=True)
class Route53Call:
    """A Route 53 call and the account that served it (decided by its credentials, as moto)."""

    account: str
    role_arn: str | None
    call: Call
    #: The call's index in the CallLog (comparable with `Run.spans`).
    position: int


class AccountClients(InstrumentedClients):
    """The production factory (also `route53_as`, the real sts:AssumeRole path), recorded.

    On top of `InstrumentedClients`: STS calls land in the CallLog as service "sts", and every
    Route 53 call (local or through a role) lands in the CallLog and in `route53_calls` with the
    account moto attributes its access key to.
    """

    def __init__(
        self, default_region: str, calls: CallLog, faults: AcmFaults, clock: FakeClock
    ) -> None:
        super().__init__(default_region, calls, faults, clock)
        self.route53_calls: list[Route53Call] = []
        self._route53_lock = threading.Lock()
        # Clients copy the session's event hooks when made: this one covers the STS client that
        # `route53_as` builds from the session for each AssumeRole.
        self._session.events.register("before-parameter-build.sts", self._record_sts)

    def _record_sts(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.add(Call("sts", model.name, self.default_region, dict(params)))
        self.clock.advance(API_CALL_SECONDS)

    def route53(self) -> Route53Client:
        first = self._route53 is None
        client = super().route53()
        if first:
            self._account_of_calls(client, None)
        return client

    def route53_as(self, access: Route53Access, session_name: str) -> Route53Client:
        client = super().route53_as(access, session_name)
        if access.role_arn:
            self._record(client, "route53")
            self._account_of_calls(client, access.role_arn)
        return client

    def _account_of_calls(self, client: Any, role_arn: str | None) -> None:
        # botocore has no public accessor for a client's credentials; moto reads the same key
        # from the signed request to pick the account.
        access_key = client._request_signer._credentials.get_frozen_credentials().access_key
        account = account_of_access_key(access_key)
        region = client.meta.region_name

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            # Registered after the CallLog's own hook: this call is the log's last entry.
            call = Call("route53", model.name, region, dict(params))
            position = self.calls.mark() - 1
            with self._route53_lock:
                self.route53_calls.append(Route53Call(account, role_arn, call, position))

        client.meta.events.register("before-parameter-build.route53", record)

    def changes_by_account_and_zone(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for entry in self.route53_calls:
            if entry.call.operation == "ChangeResourceRecordSets":
                key = (entry.account, str(entry.call.params["HostedZoneId"]))
                counts[key] = counts.get(key, 0) + 1
        return counts


# ---- following a request across invocations, with each invocation's calls ------------------


@dataclass(frozen=True)
class Run:
    answer: Answer
    #: [start, end) positions in the CallLog, one per invocation.
    spans: tuple[tuple[int, int], ...]

    def calls_of(self, calls: CallLog, invocation: int) -> list[Call]:
        start, end = self.spans[invocation]
        return calls.calls[start:end]


def run_request(
    harness: Harness,
    event: dict[str, Any],
    *,
    function_arn: str,
    timeout_seconds: float = 900.0,
    max_invocations: int = 20,
) -> Run:
    """Like `Harness.run`, for a function of any ARN and invocation length, keeping what each
    invocation called."""
    spans: list[tuple[int, int]] = []
    payload = event
    while True:
        assert len(spans) < max_invocations, "the continuation chain does not end"
        handed_off = len(harness.self_invokes)
        start = harness.calls.mark()
        context = harness.context(timeout_seconds)
        context.invoked_function_arn = function_arn
        answer = harness.invoke(payload, context)
        spans.append((start, harness.calls.mark()))
        if answer is not None:
            break
        assert len(harness.self_invokes) == handed_off + 1, "no answer and no hand-off"
        target, payload = harness.self_invokes.payloads[-1]
        assert target == function_arn
    assert len(harness.answers_for(event)) == 1, "expected exactly one answer"
    assert not answer.problems, answer.problems
    return Run(answer=answer, spans=tuple(spans))


# ---- ACM above moto's SAN limit ------------------------------------------------------------


class BeyondMotoSanLimit:
    """Lets a certificate have up to ACM's 100 names although moto refuses more than 10.

    moto's RequestCertificate raises LimitExceededException above 10 SubjectAlternativeNames
    (ACM's *default* quota; accounts can raise it to 100). The hooks sit on the handler's own ACM
    client, after its call was recorded with every name: the request that reaches moto carries
    only the DomainName, and DescribeCertificate answers with all the names and a record for
    each, as ACM would.
    """

    def __init__(self) -> None:
        self.names_by_arn: dict[str, list[str]] = {}
        self._requested: list[str] | None = None

    def install(self, client: ACMClient) -> None:
        events = client.meta.events
        events.register("before-call.acm.RequestCertificate", self._before_request)
        events.register("after-call.acm.RequestCertificate", self._after_request)
        events.register_first("after-call.acm.DescribeCertificate", self._after_describe)

    def _before_request(self, params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["body"])
        self._requested = body.pop("SubjectAlternativeNames", None)
        params["body"] = json.dumps(body).encode()

    def _after_request(self, http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code < 300 and self._requested is not None:
            self.names_by_arn[parsed["CertificateArn"]] = self._requested
        self._requested = None

    def _after_describe(self, http_response: AWSResponse, parsed: dict[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        certificate = parsed["Certificate"]
        names = self.names_by_arn.get(certificate["CertificateArn"])
        if names is None:
            return
        certificate["SubjectAlternativeNames"] = list(names)
        status = "SUCCESS" if certificate["Status"] == "ISSUED" else certificate["Status"]
        certificate["DomainValidationOptions"] = [
            {
                "DomainName": name,
                "ValidationDomain": name,
                "ValidationStatus": status,
                "ValidationMethod": "DNS",
                "ResourceRecord": acm_like_record(name),
            }
            for name in names
        ]
