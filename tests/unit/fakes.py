"""A ResponseURL that never answers (the recording one is `local.answers.AnswerServer`)."""

from __future__ import annotations

import socket


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
