"""Fixtures for the unit tests (the doubles themselves live in `fakes`)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from .fakes import FakeClock, RecordingServer, SilentServer


@pytest.fixture
def recording_server() -> Iterator[Callable[..., RecordingServer]]:
    """`recording_server(503, 200)` starts a server answering 503 first, then 200."""
    servers: list[RecordingServer] = []

    def start(*statuses: int) -> RecordingServer:
        server = RecordingServer(statuses or (200,))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def unused_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/responses/abc?X-Amz-Signature=topsecret"


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
