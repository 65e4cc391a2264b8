"""The one place boto3 clients are made.

Every client gets timeouts and botocore's standard retry mode (which retries Throttling,
ThrottlingException and Route 53's PriorRequestNotComplete with backoff), so a throttled or
hanging call can never eat the margin the function keeps to hand off or answer.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .deadline import CLIENT_TIMING, POLLER_TIMING, TABLE_TIMING, CallTiming
from .errors import DnsChangeError
from .validation_options import Route53Access

if TYPE_CHECKING:
    from mypy_boto3_acm import ACMClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_route53 import Route53Client


def config_of(timing: CallTiming) -> Config:
    """A client's Config from its timing (deadline.py): the one source of both numbers."""
    return Config(
        connect_timeout=timing.connect,
        read_timeout=timing.read,
        # total_max_attempts: botocore reads "max_attempts" as retries, so 1 there is 2 calls.
        retries={"mode": "standard", "total_max_attempts": timing.attempts},
        user_agent_extra="dns-certificate",
    )


#: Few attempts on purpose: a call must end between the hand-off margin and the timer
#: (deadline.CALL_WORST_SECONDS). Throttling that outlasts these retries is retried by the
#: lifecycle, which can wait across invocations.
CLIENT_CONFIG = config_of(CLIENT_TIMING)

#: The client the waits poll ACM with (DescribeCertificate, ListCertificateDomainValidations):
#: one attempt, no retry. A poll is repeated anyway, and the wait between polls adapts to
#: throttling (pacing.py): botocore's own retries would hide every throttle from it, block the
#: invocation for seconds each, and multiply the calls that the account's quota is short of.
POLLER_CONFIG = config_of(POLLER_TIMING)

#: The requests table is consulted on every invocation and right before the answer: a table
#: that does not respond must not eat the time the answer needs (the timer's claim included).
TABLE_CLIENT_CONFIG = config_of(TABLE_TIMING)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "PriorRequestNotComplete",
        "SlowDown",
    }
)


#: What botocore's standard mode retries as transient besides throttling (retries/standard.py):
#: a poll through the poller, which makes one attempt, must treat these as one lost poll.
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def is_throttling(error: BaseException) -> bool:
    """AWS said "not so fast": the same call will work later, so it is worth waiting for."""
    if not isinstance(error, ClientError):
        return False
    return error_code(error) in THROTTLING_CODES


def is_transient(error: BaseException) -> bool:
    """AWS failed the call on its side (5xx, a request timeout): the same call may work next."""
    if not isinstance(error, ClientError):
        return False
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(error) in TRANSIENT_CODES or status in TRANSIENT_STATUSES


class ClientFactory(Protocol):
    default_region: str

    def acm(self, region: str | None = None) -> ACMClient: ...

    def acm_poller(self, region: str | None = None) -> ACMClient: ...

    def route53(self) -> Route53Client: ...

    def cloudformation(self, region: str) -> Any: ...

    def route53_as(self, access: Route53Access, session_name: str) -> Route53Client: ...

    def lambda_(self) -> LambdaClient: ...

    def dynamodb(self) -> DynamoDBClient: ...


class AwsClients:
    """Clients built on first use and kept for the container's lifetime (warm starts reuse them)."""

    def __init__(self, default_region: str, session: boto3.Session | None = None) -> None:
        self.default_region = default_region
        self._session = session or boto3.Session()
        self._acm: dict[str, ACMClient] = {}
        self._cloudformation: dict[str, Any] = {}
        self._acm_pollers: dict[str, ACMClient] = {}
        self._route53: Route53Client | None = None
        self._lambda: LambdaClient | None = None
        self._dynamodb: DynamoDBClient | None = None
        # boto3 sessions are not thread-safe when creating clients; Lambda runs one request at a
        # time, but the local driver runs several stacks in threads of one process.
        self._lock = threading.Lock()

    def acm(self, region: str | None = None) -> ACMClient:
        region = region or self.default_region
        with self._lock:
            if region not in self._acm:
                self._acm[region] = self._session.client(
                    "acm", region_name=region, config=CLIENT_CONFIG
                )
            return self._acm[region]

    def cloudformation(self, region: str) -> Any:
        """CloudFormation of a stack's region: the renewal guard asks which certificate the
        stack's resource holds."""
        with self._lock:
            if region not in self._cloudformation:
                self._cloudformation[region] = self._session.client(
                    "cloudformation", region_name=region, config=CLIENT_CONFIG
                )
            return self._cloudformation[region]

    def acm_poller(self, region: str | None = None) -> ACMClient:
        """ACM for polling: no retry inside the call (POLLER_CONFIG)."""
        region = region or self.default_region
        with self._lock:
            if region not in self._acm_pollers:
                self._acm_pollers[region] = self._session.client(
                    "acm", region_name=region, config=POLLER_CONFIG
                )
            return self._acm_pollers[region]

    def route53(self) -> Route53Client:
        with self._lock:
            if self._route53 is None:
                self._route53 = self._session.client(
                    "route53", region_name=self.default_region, config=CLIENT_CONFIG
                )
            return self._route53

    def route53_as(self, access: Route53Access, session_name: str) -> Route53Client:
        """Route 53 of the account behind `access.role_arn`, with fresh credentials.

        Not cached here: the caller keeps one per role for the invocation, so credentials never
        outlive it and a role's trust policy change is seen by the next invocation.
        """
        if not access.role_arn:
            return self.route53()
        arguments: dict[str, Any] = {"RoleArn": access.role_arn, "RoleSessionName": session_name}
        if access.external_id:
            arguments["ExternalId"] = access.external_id
        with self._lock:
            sts = self._session.client("sts", region_name=self.default_region, config=CLIENT_CONFIG)
        try:
            credentials = sts.assume_role(**arguments)["Credentials"]
        except ClientError as error:
            if is_throttling(error):
                raise
            message = error_message(error) or str(error)
            raise DnsChangeError(
                f"Cannot assume Route53RoleArn '{access.role_arn}': {message}. Check the role's "
                "trust policy and the function's Route53RoleArns parameter"
            ) from error
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        ).client("route53", region_name=self.default_region, config=CLIENT_CONFIG)

    def lambda_(self) -> LambdaClient:
        with self._lock:
            if self._lambda is None:
                self._lambda = self._session.client(
                    "lambda", region_name=self.default_region, config=CLIENT_CONFIG
                )
            return self._lambda

    def dynamodb(self) -> DynamoDBClient:
        """The requests table's client: short timeouts, since an answer must not wait on it."""
        with self._lock:
            if self._dynamodb is None:
                self._dynamodb = self._session.client(
                    "dynamodb", region_name=self.default_region, config=TABLE_CLIENT_CONFIG
                )
            return self._dynamodb


def describe_error(error: BaseException) -> str:
    """An error as one short line for a warning."""
    if isinstance(error, ClientError):
        return f"{error_code(error)}: {error_message(error)}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


def number_attribute(value: float, digits: int = 3) -> Any:
    """A DynamoDB number attribute: floats rounded to `digits` decimals (epoch seconds to the
    millisecond by default), integers as they are."""
    return {"N": repr(round(value, digits)) if isinstance(value, float) else str(value)}
