"""The one fake clock of the test suite."""

from __future__ import annotations

import threading
import time


class FakeClock:
    """A clock that moves only when the code under test sleeps (or a test advances it).

    It fits the handler's `Clock` (`now()`, `sleep()`), and `now`/`sleep` can be handed to the
    sender as its `monotonic`/`sleep`. It starts at the real time by default, because times from
    the emulator are compared with it (the integration harness reports a certificate's CreatedAt
    on this clock: a redelivered event re-anchors its deadline on it). Thread-safe: crhelper's
    timer thread reads it too.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    @property
    def slept(self) -> float:
        return sum(self.sleeps)
