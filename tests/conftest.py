"""Shared fixtures: a fake AWS account (moto, in-process), the ResponseURL server, the fake clock.

The environment is set before anything imports `app`: importing it builds crhelper's resource,
which makes boto3 clients from AWS_REGION (without a region every invocation answers FAILED).
Credentials are fake so that no test can ever reach a real account.
"""

from __future__ import annotations

import io
import logging
import os

for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)

from collections.abc import Iterator  # noqa: E402

import boto3  # noqa: E402
import moto.settings  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support.botocore_models import share_botocore_models  # noqa: E402

share_botocore_models()  # before `import app` makes the first clients

import app  # noqa: E402
from dns_certificate.context import Runtime  # noqa: E402
from dns_certificate.requests import DynamoDBRequests  # noqa: E402
from local.answers import AnswerServer  # noqa: E402
from local.dns_server import DnsServer  # noqa: E402
from local.emulator import create_requests_table  # noqa: E402
from tests.integration.harness import (  # noqa: E402
    REGION,
    AcmFaults,
    CallLog,
    Harness,
    InstrumentedClients,
    SelfInvokes,
)
from tests.reliability.figures import (  # noqa: E402, F401 - the figures fixture and table hooks
    figures,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)
from tests.support.clock import FakeClock  # noqa: E402
from tests.support.xdist_groups import (  # noqa: E402, F401 - loadgroup's groups kept together
    pytest_collection_modifyitems,
    pytest_xdist_make_scheduler,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call; certificates issue at once unless `AcmFaults` says otherwise."""
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)
    with mock_aws():
        yield


@pytest.fixture
def zones(aws: None) -> dict[str, str]:
    """Public hosted zones for example.com and example.org: zone name -> id (no prefix)."""
    import boto3

    route53 = boto3.client("route53", region_name=REGION)
    ids: dict[str, str] = {}
    for name in ("example.com", "example.org"):
        zone = route53.create_hosted_zone(Name=name, CallerReference=f"zones-{name}")
        ids[name] = zone["HostedZone"]["Id"].removeprefix("/hostedzone/")
    return ids


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def _answer_server() -> Iterator[AnswerServer]:
    with AnswerServer() as server:  # one for the session: stopping one takes half a second
        yield server


@pytest.fixture
def answer_server(_answer_server: AnswerServer) -> Iterator[AnswerServer]:
    """The presigned ResponseURL's stand-in, for every kind of test (unit, integration, e2e):
    each request gets its own URL from `new_url()`; the status it answers with is reset after."""
    yield _answer_server
    _answer_server.set_status_code(200)


@pytest.fixture(scope="session")
def _dns_server() -> Iterator[DnsServer]:
    with DnsServer() as server:
        yield server


@pytest.fixture
def dns_server(_dns_server: DnsServer) -> Iterator[DnsServer]:
    """The local DNS server the diagnosis asks (unit and integration); empty for each test."""
    _dns_server.clear()
    yield _dns_server
    _dns_server.clear()


@pytest.fixture
def calls() -> CallLog:
    return CallLog()


@pytest.fixture
def acm_faults() -> AcmFaults:
    return AcmFaults()


@pytest.fixture
def self_invokes() -> SelfInvokes:
    return SelfInvokes()


@pytest.fixture
def requests_table(aws: None) -> str:
    """The requests table, as template.yaml creates it (partition key `id`, TTL)."""
    return create_requests_table(boto3.client("dynamodb", region_name=REGION))


@pytest.fixture
def runtime(
    aws: None,
    calls: CallLog,
    acm_faults: AcmFaults,
    self_invokes: SelfInvokes,
    fake_clock: FakeClock,
    requests_table: str,
    answer_server: AnswerServer,
) -> Iterator[Runtime]:
    """The handler's clients, self-invoke, clock and table, injected; the default restored after."""
    clients = InstrumentedClients(REGION, calls, acm_faults, fake_clock)
    clients.answers = answer_server
    runtime = Runtime(
        clients=clients,
        invoke_self=self_invokes,
        clock=fake_clock,
        requests=DynamoDBRequests(requests_table, clients.dynamodb(), clock=fake_clock),
    )
    app.use_runtime(runtime)
    yield runtime
    app.use_runtime(None)


@pytest.fixture
def harness(
    runtime: Runtime,
    zones: dict[str, str],
    answer_server: AnswerServer,
    fake_clock: FakeClock,
    calls: CallLog,
    acm_faults: AcmFaults,
    self_invokes: SelfInvokes,
) -> Harness:
    return Harness(
        answers=answer_server,
        clock=fake_clock,
        calls=calls,
        faults=acm_faults,
        self_invokes=self_invokes,
        zones=zones,
    )


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the handler's Powertools logger writes (crhelper's lines share its handler)."""
    buffer = io.StringIO()
    handlers = [h for h in app.logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the handler's logger has no stream handler"
    previous = [handler.setStream(buffer) for handler in handlers]
    yield buffer
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)
