"""registry.py: the provider's records of its certificates, the only source of authority
(issue 18). The same contract for the in-memory records and the requests table's (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError

from dns_certificate.errors import RegistryError
from dns_certificate.registry import (
    CertificateRecord,
    DynamoDBRegistry,
    Intent,
    MemoryRegistry,
    Owner,
    Registry,
)
from local.emulator import create_requests_table

ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
OTHER_ARN = ARN.replace("12345678-1234", "87654321-1234")
OURS = Owner("arn:aws:cloudformation:eu-west-1:123456789012:stack/web/1", "Cert")
THEIRS = Owner("arn:aws:cloudformation:eu-west-1:123456789012:stack/other/2", "Cert")


def record(arn: str = ARN, owner: Owner = OURS, token: str = "t1") -> CertificateRecord:
    return CertificateRecord(arn=arn, owner=owner, token=token, region="eu-west-1", zones="Z1")


@pytest.fixture(params=["memory", "dynamodb"])
def registry(request: pytest.FixtureRequest) -> Iterator[Registry]:
    if request.param == "memory":
        yield MemoryRegistry()
        return
    aws = request.getfixturevalue("aws")
    assert aws is None
    client = boto3.client("dynamodb", region_name="us-east-1")
    yield DynamoDBRegistry(create_requests_table(client), client)


def test_record_when_read_back_is_equal_and_belongs_only_to_its_owner(registry: Registry) -> None:
    registry.record(record())

    found = registry.certificate(ARN)

    assert found is not None and found == record()
    assert found.belongs_to(OURS) and not found.belongs_to(THEIRS)
    assert found.made_by(OURS, "t1") and not found.made_by(OURS, "t2")
    assert registry.certificate(OTHER_ARN) is None


def test_record_when_the_arn_is_recorded_for_another_resource_is_refused_and_kept(
    registry: Registry,
) -> None:
    registry.record(record(owner=THEIRS))

    with pytest.raises(RegistryError, match="another resource"):
        registry.record(record(owner=OURS))

    found = registry.certificate(ARN)
    assert found is not None and found.owner == THEIRS


def test_record_when_written_again_by_its_owner_is_accepted(registry: Registry) -> None:
    registry.record(record())
    registry.record(record())  # a retry of the same request

    assert registry.certificate(ARN) == record()


def test_forget_when_the_certificate_is_deleted_grants_nothing_and_leaves_live(
    registry: Registry,
) -> None:
    registry.record(record())
    registry.record(record(OTHER_ARN, token="t2"))

    registry.forget(ARN)

    found = registry.certificate(ARN)
    assert found is not None and found.deleted
    assert not found.belongs_to(OURS) and not found.made_by(OURS, "t1")
    assert [live.arn for live in registry.live()] == [OTHER_ARN]


def test_forget_and_set_zones_when_nothing_is_recorded_change_nothing(
    registry: Registry,
) -> None:
    registry.forget(ARN)
    registry.set_zones(ARN, "Z9")

    assert registry.certificate(ARN) is None
    assert registry.live() == []


def test_set_zones_when_recorded_changes_only_the_zones(registry: Registry) -> None:
    registry.record(record())

    registry.set_zones(ARN, "Z2 Z3")
    assert registry.certificate(ARN) == CertificateRecord(ARN, OURS, "t1", "eu-west-1", "Z2 Z3")
    registry.set_zones(ARN, None)
    found = registry.certificate(ARN)
    assert found is not None and found.zones is None and found.owner == OURS


def test_intent_when_written_twice_keeps_the_first(registry: Registry) -> None:
    registry.intend(Intent("t1", OURS, "eu-west-1", 10.0))
    registry.intend(Intent("t1", THEIRS, "us-east-1", 20.0))

    assert registry.intent("t1") == Intent("t1", OURS, "eu-west-1", 10.0)
    assert registry.intent("t2") is None


def test_live_when_many_records_reads_every_page(aws: None) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    registry = DynamoDBRegistry(create_requests_table(client), client)
    arns = [ARN.replace("12345678-1234", f"{n:08d}-1234") for n in range(30)]
    for arn in arns:
        registry.record(record(arn))
    pages: list[int] = []

    def small_pages(params: dict[str, object], **_: object) -> None:
        params["Limit"] = 7  # as a large table's Scan pages at 1 MB
        pages.append(1)

    client.meta.events.register("provide-client-params.dynamodb.Scan", small_pages)

    assert sorted(live.arn for live in registry.live()) == sorted(arns)
    assert len(pages) > 1


def test_dynamodb_registry_when_the_table_cannot_be_read_raises_registry_error(
    aws: None,
) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    registry = DynamoDBRegistry("no-such-table", client)

    with pytest.raises(RegistryError, match="requests table"):
        registry.certificate(ARN)
    with pytest.raises(RegistryError, match="requests table"):
        registry.live()
    with pytest.raises(RegistryError, match="requests table"):
        registry.record(record())
    with pytest.raises(RegistryError, match="requests table"):
        registry.intend(Intent("t1", OURS, "eu-west-1", 1.0))


def test_dynamodb_registry_when_an_item_is_unreadable_ignores_it(aws: None) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = create_requests_table(client)
    registry = DynamoDBRegistry(table, client)
    registry.record(record())
    client.put_item(
        TableName=table, Item={"id": {"S": "registry#certificate#" + OTHER_ARN}, "arn": {"N": "1"}}
    )

    assert [live.arn for live in registry.live()] == [ARN]
    assert registry.certificate(OTHER_ARN) is None


class LateResponses:
    """The table's client whose first `late` calls of each kind land but answer too late."""

    def __init__(self, client: object, late: int, lands: bool = True) -> None:
        self._client = client
        self._lands = lands
        self._late: dict[str, int] = {}
        self._limit = late

    def __getattr__(self, name: str) -> object:
        call = getattr(self._client, name)
        if name not in {"put_item", "update_item", "get_item", "scan"}:
            return call

        def late_call(**kwargs: object) -> object:
            if self._late.get(name, 0) < self._limit:
                if self._lands:
                    call(**kwargs)  # the write lands...
                self._late[name] = self._late.get(name, 0) + 1
                raise ReadTimeoutError(endpoint_url="http://table")  # ...its answer does not
            return call(**kwargs)

        return late_call


def test_dynamodb_registry_when_answers_come_too_late_retries_and_keeps_its_own_writes(
    aws: None,
) -> None:
    """Issue 24's late claims, for the records: a write that landed but answered too late is
    retried, and its retry meets the write as its own (the intent, the record), not as another
    resource's. Before, the Create answered FAILED 'An AWS call did not return in time'."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    registry = DynamoDBRegistry(create_requests_table(client), LateResponses(client, late=1))  # type: ignore[arg-type]

    registry.intend(Intent("t1", OURS, "eu-west-1", 1.0))
    registry.record(record())
    registry.set_zones(ARN, "Z2")

    assert registry.intent("t1") == Intent("t1", OURS, "eu-west-1", 1.0)
    found = registry.certificate(ARN)
    assert found is not None and found.belongs_to(OURS) and found.zones == "Z2"
    assert [live.arn for live in registry.live()] == [ARN]


def test_dynamodb_registry_when_the_table_never_answers_raises_registry_error(
    aws: None,
) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    registry = DynamoDBRegistry(
        create_requests_table(client),
        LateResponses(client, late=99, lands=False),  # type: ignore[arg-type]
    )

    with pytest.raises(RegistryError, match="requests table"):
        registry.intend(Intent("t1", OURS, "eu-west-1", 1.0))
    with pytest.raises(RegistryError, match="requests table"):
        registry.record(record())
    with pytest.raises(RegistryError, match="requests table"):
        registry.certificate(ARN)
