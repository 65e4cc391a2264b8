"""The provider's own records of the certificates it requested: the only source of authority.

Whoever may invoke the function can send it any event, with any stack id, logical id, physical
id or tags; anyone allowed to tag certificates can copy this resource's tags. So no event field,
tag or stack resource says that a certificate is this provider's. What does is an item the
provider itself wrote in the requests table (`REQUESTS_TABLE`, key `id`), which callers cannot
write:

* an **intent** (`registry#intent#<token>`), written right before `RequestCertificate`: this
  resource (stack id, logical id) is about to request a certificate with this idempotency
  token in this region. It lets the rollback of a Create that died between the request and its
  record find the certificate (its ARN never came back) without trusting tags alone;
* a **certificate** record (`registry#certificate#<arn>`), written right after
  `RequestCertificate` returns and before any validation record is written: the ARN, the
  resource that owns it, the request's token, its region, and the zones (and roles) its
  validation records go to. It does not expire while the certificate lives; once the
  certificate is deleted it is marked so and expires a day later (DynamoDB's TTL).

Deleting, re-tagging, changing options, writing or repairing records, migrating and cleaning
up act only on certificates whose record names the resource asking. Certificates requested
before these records existed are not adopted by the provider itself (a caller could steer
that); `tools/adopt_certificates.py`, run by an operator with their own credentials, records
them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from .clients import THROTTLING_CODES, TRANSIENT_CODES, error_code
from .errors import RegistryError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(child=True)

INTENT_PREFIX = "registry#intent#"
CERTIFICATE_PREFIX = "registry#certificate#"
#: An intent is needed only until its request's rollback is over: CloudFormation's hour and
#: Lambda's six-hour event age, kept a day like the requests' own records.
INTENT_SECONDS = 24 * 3600
#: A deleted certificate's record is kept this long (for the logs' sake), then expires.
FORGOTTEN_SECONDS = 24 * 3600
#: The table's client makes one short attempt (so the answer path never waits on it); the
#: records are on the lifecycle's path, where a call may take a client call's worst
#: (deadline.CALL_WORST_SECONDS, 15 s): three attempts of 3 s and these pauses fit in it.
RECORD_PAUSES = (0.2, 0.6)
_LOST_ANSWERS = (
    ReadTimeoutError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)


@dataclass(frozen=True)
class Owner:
    """A CloudFormation resource: the stack and the logical id the event names."""

    stack_id: str
    logical_id: str


@dataclass(frozen=True)
class Intent:
    """A resource was about to request a certificate with this token."""

    token: str
    owner: Owner
    region: str
    at: float


@dataclass(frozen=True)
class CertificateRecord:
    """A certificate the provider requested, and for whom."""

    arn: str
    owner: Owner
    token: str
    region: str
    #: The zones (and roles) its validation records go to, as `zonetag.py` encodes them.
    zones: str | None = None
    requested_at: float = 0.0
    deleted: bool = False

    def belongs_to(self, owner: Owner) -> bool:
        return not self.deleted and self.owner == owner

    def made_by(self, owner: Owner, token: str) -> bool:
        """Requested by exactly this request of this resource."""
        return self.belongs_to(owner) and self.token == token


class Registry(Protocol):
    """What the lifecycle, the renewal guard and the clean-up ask of the provider's records."""

    def intend(self, intent: Intent) -> None: ...

    def intent(self, token: str) -> Intent | None: ...

    def record(self, record: CertificateRecord) -> None:
        """Raises RegistryError when the ARN is recorded for another resource."""
        ...

    def certificate(self, arn: str) -> CertificateRecord | None: ...

    def set_zones(self, arn: str, zones: str | None) -> None: ...

    def forget(self, arn: str) -> None:
        """The certificate was deleted: its record no longer grants anything."""
        ...

    def live(self) -> list[CertificateRecord]:
        """Every certificate recorded and not deleted, in every region."""
        ...


class MemoryRegistry:
    """The records kept in this process only: for tests and runs without a requests table.

    Without `REQUESTS_TABLE` nothing survives an invocation, so a Delete in a later one finds
    no record and leaves the certificate alone (the README says a table is required).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._intents: dict[str, Intent] = {}
        self._certificates: dict[str, CertificateRecord] = {}

    def intend(self, intent: Intent) -> None:
        with self._lock:
            self._intents.setdefault(intent.token, intent)

    def intent(self, token: str) -> Intent | None:
        with self._lock:
            return self._intents.get(token)

    def record(self, record: CertificateRecord) -> None:
        with self._lock:
            known = self._certificates.get(record.arn)
            if known is not None and known.owner != record.owner:
                raise RegistryError(_recorded_for_another(record.arn))
            self._certificates[record.arn] = replace(record, deleted=False)

    def certificate(self, arn: str) -> CertificateRecord | None:
        with self._lock:
            return self._certificates.get(arn)

    def set_zones(self, arn: str, zones: str | None) -> None:
        with self._lock:
            known = self._certificates.get(arn)
            if known is not None:
                self._certificates[arn] = replace(known, zones=zones)

    def forget(self, arn: str) -> None:
        with self._lock:
            known = self._certificates.get(arn)
            if known is not None:
                self._certificates[arn] = replace(known, deleted=True)

    def live(self) -> list[CertificateRecord]:
        with self._lock:
            return [record for record in self._certificates.values() if not record.deleted]


class DynamoDBRegistry:
    """The records as items of the requests table (partition key `id`)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def intend(self, intent: Intent) -> None:
        item = {
            "id": _s(INTENT_PREFIX + intent.token),
            "stack_id": _s(intent.owner.stack_id),
            "logical_id": _s(intent.owner.logical_id),
            "region": _s(intent.region),
            "at": _n(intent.at),
            "expiration": _n(int(time.time()) + INTENT_SECONDS),
        }
        try:  # the first intent stands: a retry of the request writes the same one
            self._call(
                self._client.put_item,
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(id)",
            )
        except ClientError as error:
            if _condition_failed(error):
                return
            raise RegistryError(_unusable("record the certificate request", error)) from error

    def intent(self, token: str) -> Intent | None:
        item = self._get(INTENT_PREFIX + token)
        if item is None:
            return None
        return Intent(
            token=token,
            owner=Owner(_str(item, "stack_id"), _str(item, "logical_id")),
            region=_str(item, "region"),
            at=_num(item, "at"),
        )

    def record(self, record: CertificateRecord) -> None:
        item: dict[str, Any] = {
            "id": _s(CERTIFICATE_PREFIX + record.arn),
            "kind": _s("certificate"),
            "arn": _s(record.arn),
            "stack_id": _s(record.owner.stack_id),
            "logical_id": _s(record.owner.logical_id),
            "token": _s(record.token),
            "region": _s(record.region),
            "requested_at": _n(record.requested_at),
        }
        if record.zones is not None:
            item["zones"] = _s(record.zones)
        try:  # a record never moves to another resource; a retry writes the same one again
            self._call(
                self._client.put_item,
                TableName=self._table,
                Item=item,
                ConditionExpression=(
                    "attribute_not_exists(id) OR (stack_id = :stack AND logical_id = :logical)"
                ),
                ExpressionAttributeValues={
                    ":stack": _s(record.owner.stack_id),
                    ":logical": _s(record.owner.logical_id),
                },
            )
        except ClientError as error:
            if _condition_failed(error):
                raise RegistryError(_recorded_for_another(record.arn)) from error
            raise RegistryError(_unusable("record the certificate", error)) from error

    def certificate(self, arn: str) -> CertificateRecord | None:
        item = self._get(CERTIFICATE_PREFIX + arn)
        return None if item is None else _certificate_record(item)

    def set_zones(self, arn: str, zones: str | None) -> None:
        try:
            if zones is None:
                self._call(
                    self._client.update_item,
                    TableName=self._table,
                    Key={"id": _s(CERTIFICATE_PREFIX + arn)},
                    UpdateExpression="REMOVE zones",
                    ConditionExpression="attribute_exists(id)",
                )
            else:
                self._call(
                    self._client.update_item,
                    TableName=self._table,
                    Key={"id": _s(CERTIFICATE_PREFIX + arn)},
                    UpdateExpression="SET zones = :zones",
                    ConditionExpression="attribute_exists(id)",
                    ExpressionAttributeValues={":zones": _s(zones)},
                )
        except ClientError as error:
            if _condition_failed(error):
                return
            raise RegistryError(_unusable("record the certificate's zones", error)) from error

    def forget(self, arn: str) -> None:
        try:
            self._call(
                self._client.update_item,
                TableName=self._table,
                Key={"id": _s(CERTIFICATE_PREFIX + arn)},
                UpdateExpression="SET deleted = :yes, expiration = :expiration",
                ConditionExpression="attribute_exists(id)",
                ExpressionAttributeValues={
                    ":yes": {"BOOL": True},
                    ":expiration": _n(int(time.time()) + FORGOTTEN_SECONDS),
                },
            )
        except (ClientError, RegistryError) as error:
            if isinstance(error, ClientError) and _condition_failed(error):
                return
            # The certificate is gone; a record left says so the next time it is read.
            logger.warning(
                "Could not mark the deleted certificate in the provider's records",
                extra={"certificate_arn": arn, "error": str(error)[:300]},
            )

    def live(self) -> list[CertificateRecord]:
        return [record for record in self._scan() if not record.deleted]

    def _scan(self) -> Iterator[CertificateRecord]:
        """Every certificate record (a Scan: the table is small, and this runs once a day)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "FilterExpression": "begins_with(id, :prefix)",
            "ExpressionAttributeValues": {":prefix": _s(CERTIFICATE_PREFIX)},
        }
        try:
            while True:
                page = self._call(self._client.scan, **kwargs)
                for item in page.get("Items", []):
                    record = _certificate_record(item)
                    if record is not None:
                        yield record
                if "LastEvaluatedKey" not in page:
                    return
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as error:
            raise RegistryError(_unusable("read the certificate records", error)) from error

    def _call(self, operation: Any, **kwargs: Any) -> Any:
        """One table call, tried again when its answer is lost or throttled.

        Every write here is idempotent for its writer (an intent is kept once written, a
        record may be written again by its owner), so a retry of a write that landed but
        answered too late meets it as its own. An answer still lost after the last attempt is a
        RegistryError; a refusal (AccessDenied, a failed condition) is the caller's to read.
        """
        for pause in (*RECORD_PAUSES, None):
            try:
                return operation(**kwargs)
            except _LOST_ANSWERS as error:
                if pause is None:
                    raise RegistryError(_unusable("reach the provider's records", error)) from error
            except ClientError as error:
                if pause is None or error_code(error) not in THROTTLING_CODES | TRANSIENT_CODES:
                    raise
            time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, key: str) -> Mapping[str, Any] | None:
        try:
            item = self._call(
                self._client.get_item,
                TableName=self._table,
                Key={"id": _s(key)},
                ConsistentRead=True,
            ).get("Item")
        except ClientError as error:
            raise RegistryError(_unusable("read the certificate records", error)) from error
        return item or None


def _certificate_record(item: Mapping[str, Any]) -> CertificateRecord | None:
    try:
        return CertificateRecord(
            arn=_str(item, "arn"),
            owner=Owner(_str(item, "stack_id"), _str(item, "logical_id")),
            token=_str(item, "token"),
            region=_str(item, "region"),
            zones=item["zones"]["S"] if "zones" in item else None,
            requested_at=_num(item, "requested_at"),
            deleted=bool(item.get("deleted", {}).get("BOOL", False)),
        )
    except (KeyError, TypeError, ValueError):
        logger.warning("A certificate record of the provider is unreadable; it is ignored")
        return None


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _str(item: Mapping[str, Any], name: str) -> str:
    return str(item[name]["S"])


def _num(item: Mapping[str, Any], name: str) -> float:
    return float(item[name]["N"]) if name in item else 0.0


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _recorded_for_another(arn: str) -> str:
    return f"Certificate {arn} is recorded for another resource; it is left alone"


def _unusable(what: str, error: ClientError | BotoCoreError) -> str:
    code = (
        error.response.get("Error", {}).get("Code", "Error")
        if isinstance(error, ClientError)
        else type(error).__name__
    )
    return (
        f"Could not {what} in the requests table ({code}); the provider acts only on "
        "certificates its records name. Check the table and the function's role"
    )
