"""One way to wait: within the request's deadline and this invocation's time, then hand off.

Every wait of the resource (for ACM's records and its issuance, for a migration, for a
certificate still in use, for AWS to stop throttling) goes through a `Waiter`:

* past the request's deadline it raises the reason it is given (`DeadlineExceededError`, or
  `CertificateInUseError` for a Delete that waited for the certificate's users);
* when less than the hand-off margin is left of the invocation, it calls `hand_off` (which
  starts a new invocation with the state and raises `HandedOff`: this one must not answer);
* otherwise it sleeps what the `Budget` allows of what the caller wanted, never past either.

What to do (which call, which step) stays with the caller; how long and until when is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from .clients import error_code, is_throttling, is_transient
from .continuation import Continuation
from .deadline import THROTTLED_BACKOFF, Backoff, Budget, Clock, Moment, Seconds
from .errors import CertificateInUseError, DeadlineExceededError
from .metrics import current as current_metrics
from .pacing import SUCCEEDED, THROTTLED

logger = Logger(child=True)

#: A call that got no answer (read timeout, connection refused or dropped): botocore's own
#: retries treat these as transient, and so does a poll.
NO_ANSWER = (BotoConnectionError, HTTPClientError)

#: A reason, or how to make it (only made when the deadline has come: it may cost calls).
Reason = str | Callable[[], str]


class HandedOff(Exception):  # noqa: N818 - it is an outcome, not an error
    """The wait continues in a new invocation, which will answer CloudFormation."""


@dataclass(frozen=True)
class Waiter:
    clock: Clock
    #: Seconds left of this invocation (Lambda's context).
    remaining_seconds: Callable[[], float]
    #: Starts a new invocation carrying the state, then raises HandedOff.
    hand_off: Callable[[Continuation], NoReturn]

    def budget(self, state: Continuation) -> Budget:
        return Budget(
            Moment(state.deadline), Moment(self.clock.now()), Seconds(self.remaining_seconds())
        )

    def wait(
        self,
        state: Continuation,
        delay: Backoff | float,
        attempt: int,
        deadline_reason: Reason,
        *,
        in_use: bool = False,
    ) -> None:
        """Sleep `delay` (a backoff's delay for `attempt`, or the seconds wanted), cut to the
        budget; raise the reason past the deadline; hand off when the invocation ends."""
        budget = self.budget(state)
        if budget.past_deadline:
            error = CertificateInUseError if in_use else DeadlineExceededError
            raise error(deadline_reason if isinstance(deadline_reason, str) else deadline_reason())
        if budget.must_hand_off:
            self.hand_off(state)
        wanted = delay.delay(attempt) if isinstance(delay, Backoff) else delay
        self.clock.sleep(budget.sleep_for(wanted))

    def wait_out_throttling(
        self, error: ClientError, state: Continuation, what: str, attempt: int
    ) -> None:
        """Re-raise anything but throttling; throttling is waited for like any other wait."""
        if not is_throttling(error):
            raise error
        current_metrics().throttled()
        logger.warning(
            "Throttled beyond the client's retries; waiting",
            extra={
                "step": what,
                "code": error_code(error),
                "operation": getattr(error, "operation_name", ""),
            },
        )
        self.wait(state, THROTTLED_BACKOFF, attempt, f"AWS throttled {what} until the deadline")

    def persevering(
        self, state: Continuation, what: str, step: Callable[[Continuation], Continuation]
    ) -> Continuation:
        """Run a step that changes nothing until its last call, again while AWS throttles it.

        A throttled step is retried from its start (every call in it is idempotent), waiting
        with backoff and handing off to a new invocation like any other wait.
        """
        attempt = 0
        while True:
            try:
                return step(state)
            except ClientError as error:
                self.wait_out_throttling(error, state, what, attempt)
            attempt += 1

    # ---- polls paced by what AWS says ------------------------------------------------------

    def poll[T](
        self, state: Continuation, call: Callable[[], T], what: str
    ) -> tuple[Continuation, T | None]:
        """One poll through a client that does not retry (`ClientFactory.acm_poller`).

        Its outcome joins the state's `PollHistory`, which travels across hand-offs: a
        throttle widens the interval (`pacing`), answers narrow it back. A throttled poll is
        waited out at the widened interval here and gives `None`; so does a poll that got no
        answer (`NO_ANSWER`) or a transient server error (5xx, request timeout: what botocore
        would have retried), at the current interval. Anything else is raised.
        """
        try:
            value = call()
        except NO_ANSWER as error:
            # No retry inside the call: a read timeout or a dropped connection is one poll
            # lost, polled again at the interval (and handed off like any other wait).
            logger.warning(
                "Poll got no answer; polling again",
                extra={"step": what, "error": f"{type(error).__name__}: {error}"[:300]},
            )
            self.wait(
                state,
                state.polls.next_interval(self.clock.now()),
                0,
                f"ACM did not answer {what} until the deadline",
            )
            return state, None
        except ClientError as error:
            if is_transient(error) and not is_throttling(error):
                # A 5xx or a request timeout: botocore would have retried it within the call;
                # the poller does not, so it is one poll lost, like no answer at all.
                logger.warning(
                    "Poll failed on AWS's side; polling again",
                    extra={"step": what, "code": error_code(error)},
                )
                self.wait(
                    state,
                    state.polls.next_interval(self.clock.now()),
                    0,
                    f"ACM did not answer {what} until the deadline",
                )
                return state, None
            if not is_throttling(error):
                raise
            now = self.clock.now()
            state = state.advanced(polls=state.polls.observed(THROTTLED, now))
            current_metrics().throttled()
            seconds = state.polls.next_interval(now)
            logger.info(
                "Poll throttled; polling less often",
                extra={"step": what, "code": error_code(error), "next_poll_seconds": seconds},
            )
            self.wait(state, seconds, 0, f"AWS throttled {what} until the deadline")
            return state, None
        return state.advanced(polls=state.polls.observed(SUCCEEDED, self.clock.now())), value

    def pace(self, state: Continuation, deadline_reason: Reason) -> None:
        """Wait the interval the state's polls have learned (jittered: many certificates
        waiting at once do not poll in step), within the budget."""
        self.wait(state, state.polls.next_interval(self.clock.now()), 0, deadline_reason)
