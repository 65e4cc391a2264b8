"""The requests table: which CloudFormation requests are answered, which invocations run.

Lambda retries a timed-out invocation and may deliver any event more than once, also at the
same time. Two records per request make that harmless, both kept by Powertools idempotency's
DynamoDB persistence layer (one conditional write claims a key; the loser gets the winner's
item back without a second read):

* the **answer** record, claimed right before the answer is sent: a second claimant sends
  nothing, and every invocation looks it up first, so a request that was answered changes
  nothing any more;
* one **hop** record per invocation of the chain (the original event is hop 0, each
  continuation the next): a duplicate of a hop that is running or done does nothing, while a
  retry of a hop that timed out finds its record expired (its in-progress expiry is the
  invocation's own end) and runs.

Keys are digests of the stack, the logical id, the request id, a digest of the ResponseURL (and
the hop): never the URL itself, which is a credential. A delivery with another ResponseURL is
another request here: an event that copies a live request's ids but not its URL, arriving
first, gets its own records and cannot take the answer, or the hop, of CloudFormation's own
delivery. Records outlive CloudFormation's one-hour limit and
Lambda's six-hour event age (DynamoDB's TTL removes them a day later). If the table cannot be
reached, the resource still answers — a second answer is better than none — and says so in
the log.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (
    STATUS_CONSTANTS,
    DataRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger(child=True)

#: How long the records are kept: past CloudFormation's hour and Lambda's 6-hour event age.
RECORD_SECONDS = 24 * 3600
ANSWER_PREFIX = "answer"
HOP_PREFIX = "hop"


@dataclass(frozen=True)
class RequestKey:
    """One CloudFormation request, as every delivery of it names it."""

    stack_id: str
    logical_id: str
    request_id: str
    #: sha256 of the ResponseURL (hex): the answer goes to that URL, so it is part of the
    #: request's identity; the URL itself is a credential and is never stored.
    url_digest: str = ""

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> RequestKey:
        url = event.get("ResponseURL")
        return cls(
            event["StackId"],
            event["LogicalResourceId"],
            event["RequestId"],
            url_digest(url) if isinstance(url, str) else "",
        )

    def data(self, **extra: Any) -> dict[str, Any]:
        return {
            "stack_id": self.stack_id,
            "logical_id": self.logical_id,
            "request_id": self.request_id,
            "url": self.url_digest,
            **extra,
        }


def url_digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


class RequestsStore(Protocol):
    """What the protocol layer asks of the table."""

    def answered(self, key: RequestKey) -> bool:
        """True when an invocation claimed (and sent, or is sending) this request's answer."""
        ...

    def claim_answer(self, key: RequestKey, remaining_ms: int) -> bool:
        """True when this invocation may send the answer (or the table is unreachable)."""
        ...

    def answer_sent(self, key: RequestKey) -> None: ...

    def release_answer(self, key: RequestKey) -> None:
        """The answer could not be delivered: let another invocation try."""
        ...

    def start_hop(self, key: RequestKey, hop: int, remaining_ms: int) -> bool:
        """False when another delivery of this hop is running or has run."""
        ...

    def end_hop(self, key: RequestKey, hop: int, *, completed: bool) -> None:
        """`completed`: the hop answered or handed off; otherwise a retry may run it again."""
        ...


class NoRequestsTable:
    """No REQUESTS_TABLE configured: every invocation acts alone (the pre-table behaviour)."""

    def answered(self, key: RequestKey) -> bool:
        return False

    def claim_answer(self, key: RequestKey, remaining_ms: int) -> bool:
        return True

    def answer_sent(self, key: RequestKey) -> None:
        return None

    def release_answer(self, key: RequestKey) -> None:
        return None

    def start_hop(self, key: RequestKey, hop: int, remaining_ms: int) -> bool:
        return True

    def end_hop(self, key: RequestKey, hop: int, *, completed: bool) -> None:
        return None


class DynamoDBRequests:
    """The requests table (partition key `id`), through Powertools' persistence layer."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client
        # A persistence layer keeps per-call state (its key prefix); the local driver runs
        # several invocations in threads of one process, so each thread gets its own pair.
        self._layers = threading.local()

    # ---- the answer ---------------------------------------------------------------------

    def answered(self, key: RequestKey) -> bool:
        try:
            record = self._layer(ANSWER_PREFIX).get_record(key.data())
        except IdempotencyItemNotFoundError:
            return False
        except Exception as error:
            self._unreachable("looking up the answer", error)
            return False
        if record is None or record.is_expired:
            return False
        return not _claim_abandoned(record)

    def claim_answer(self, key: RequestKey, remaining_ms: int) -> bool:
        try:
            self._layer(ANSWER_PREFIX).save_inprogress(key.data(), max(0, remaining_ms))
        except IdempotencyItemAlreadyExistsError:
            logger.warning("Not answering: another invocation has answered this request")
            return False
        except Exception as error:
            self._unreachable("claiming the answer", error)
        return True

    def answer_sent(self, key: RequestKey) -> None:
        try:
            self._layer(ANSWER_PREFIX).save_success(key.data(), {"answered": True})
        except Exception as error:
            self._unreachable("recording the answer", error)

    def release_answer(self, key: RequestKey) -> None:
        try:
            self._layer(ANSWER_PREFIX).delete_record(key.data(), RuntimeError("not delivered"))
        except Exception as error:
            self._unreachable("releasing the answer", error)

    # ---- hops ---------------------------------------------------------------------------

    def start_hop(self, key: RequestKey, hop: int, remaining_ms: int) -> bool:
        try:
            self._layer(HOP_PREFIX).save_inprogress(key.data(hop=hop), max(0, remaining_ms))
        except IdempotencyItemAlreadyExistsError:
            logger.warning(
                "Not running: another delivery of this invocation is running or has run",
                extra={"hop": hop},
            )
            return False
        except Exception as error:
            self._unreachable("claiming the invocation", error)
        return True

    def end_hop(self, key: RequestKey, hop: int, *, completed: bool) -> None:
        layer = self._layer(HOP_PREFIX)
        try:
            if completed:
                layer.save_success(key.data(hop=hop), {"completed": True})
            else:
                layer.delete_record(key.data(hop=hop), RuntimeError("hop did not complete"))
        except Exception as error:
            self._unreachable("recording the invocation's end", error)

    # ---- helpers ------------------------------------------------------------------------

    def _layer(self, prefix: str) -> DynamoDBPersistenceLayer:
        layers: dict[str, DynamoDBPersistenceLayer] | None = getattr(
            self._layers, "by_prefix", None
        )
        if layers is None:
            layers = self._layers.by_prefix = {}
        if prefix not in layers:
            layer = DynamoDBPersistenceLayer(table_name=self.table_name, boto3_client=self._client)
            layer.configure(
                IdempotencyConfig(expires_after_seconds=RECORD_SECONDS), key_prefix=prefix
            )
            layers[prefix] = layer
        return layers[prefix]

    def _unreachable(self, what: str, error: Exception) -> None:
        logger.error(
            "The requests table could not be used; carrying on without it (a duplicate "
            "delivery may answer twice)",
            extra={"step": what, "error": f"{type(error).__name__}: {error}"[:300]},
        )


def _claim_abandoned(record: DataRecord) -> bool:
    """A claim still in progress after its invocation's end: the claimant died while sending
    (Lambda stopped it), so the answer may never have left. A retry may claim and send it: a
    second answer is better than none, and CloudFormation keeps the first."""
    expiry_ms = record.in_progress_expiry_timestamp
    return (
        record.status == STATUS_CONSTANTS["INPROGRESS"]
        and expiry_ms is not None
        and expiry_ms < time.time() * 1000
    )
