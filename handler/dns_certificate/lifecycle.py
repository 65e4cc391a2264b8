"""Create, Update and Delete as CloudFormation means them, and `abandon` for an invocation
that died: the entry the protocol layer calls. The order of each request type's steps is in
create.py, update.py and delete.py; the wait for issuance in converge.py; what they share
(the request, the clients, the one Waiter) in context.py.

Each entry point ends in one of three ways: it returns the physical id (answer SUCCESS), raises
a `CertificateResourceError` (answer FAILED with its reason), or raises `HandedOff` (a new
invocation carries on and will answer; this one must not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .certificates import is_certificate_arn
from .context import UNDECIDED, RequestContext, Responder, Runtime, placeholder_physical_id
from .continuation import Continuation
from .create import Creator
from .delete import Deleter
from .errors import ContinuationError, InvalidPropertyError
from .properties import parse_properties
from .update import Updater


class Lifecycle:
    """One request's entry: builds what its steps share, then runs the steps of its type."""

    def __init__(
        self,
        runtime: Runtime,
        event: Mapping[str, Any],
        *,
        function_arn: str,
        remaining_seconds: Callable[[], float],
        responder: Responder,
        state: Continuation | None = None,
    ) -> None:
        ctx = RequestContext(
            runtime,
            event,
            function_arn=function_arn,
            remaining_seconds=remaining_seconds,
            responder=responder,
            state=state,
        )
        self._ctx = ctx
        self._deleter = Deleter(ctx)

    def create(self) -> str:
        return Creator(self._ctx).create()

    def update(self) -> str:
        return Updater(self._ctx).update()

    def delete(self) -> str:
        return self._deleter.delete()

    def abandon(self) -> None:
        """Before a FAILED answer for an invocation that died (Lambda's on-failure record):
        discard the certificate the request made (a Create's, which the rollback would delete
        anyway; a replacement's, which no Delete will ever name) and leave CloudFormation an id
        its rollback can clean up after. Touches nothing else; never raises."""
        try:
            state: Continuation | None = self._ctx.stored_state()
        except ContinuationError:
            state = None
        request_type = self._ctx.event.get("RequestType")
        if request_type == "Create":
            arn = state.certificate_arn if state and state.action == "create" else None
            arn = arn if is_certificate_arn(arn) else None
            self._ctx.responder.set_physical_id(arn or placeholder_physical_id(self._ctx.event))
            # The answer is FAILED whatever happens, and its rollback would delete what this
            # Create made: do it now, so that an answer that never arrives (a ResponseURL that
            # refuses, a Delete naming an id CloudFormation made up) cannot leave it behind.
            try:
                properties = parse_properties(self._ctx.request.properties)
            except InvalidPropertyError:
                return  # invalid properties never reach RequestCertificate
            self._deleter.discard_requested(properties, arn, self._ctx.discard_budget())
        elif request_type == "Update" and (state is None or state.action in (UNDECIDED, "replace")):
            try:
                properties = parse_properties(self._ctx.request.properties)
            except InvalidPropertyError:
                return  # invalid properties never reach RequestCertificate
            arn = state.certificate_arn if state and state.action == "replace" else None
            if arn is not None and not is_certificate_arn(arn):
                arn = None
            self._deleter.discard_requested(properties, arn, self._ctx.discard_budget())
