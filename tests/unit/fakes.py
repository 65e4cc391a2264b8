"""Test doubles that use real sockets: a recording HTTP endpoint, a silent one, a fake clock.

The sender is tested against real sockets on 127.0.0.1 (not a mock of urllib), so the scheme,
the method, the headers and the timeouts are what actually goes over the wire.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class RecordingServer:
    """Answers each request with the next status of `statuses` (the last one repeats)."""

    def __init__(self, statuses: Sequence[int]) -> None:
        self.requests: list[Received] = []
        self._statuses = list(statuses) or [200]
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with server._lock:
                    server.requests.append(
                        Received(
                            method=self.command,
                            path=self.path,
                            headers={key.lower(): value for key, value in self.headers.items()},
                            body=body,
                        )
                    )
                    status = server._statuses[min(len(server.requests), len(server._statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                self.do_PUT()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        port = self._httpd.server_address[1]
        return f"http://127.0.0.1:{port}/responses/abc?X-Amz-Signature=topsecret"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class SilentServer:
    """Accepts TCP connections (the kernel completes them) and never answers."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}/responses/abc?X-Amz-Signature=topsecret"

    def close(self) -> None:
        self._socket.close()


class FakeClock:
    """A monotonic clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
