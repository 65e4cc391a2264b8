"""Fixtures for the unit tests (the shared ones, `answer_server` and `fake_clock`, are in
../conftest.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from .fakes import SilentServer


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
