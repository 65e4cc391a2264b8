"""Lambda entry point: wiring only. The behaviour lives in the `dns_certificate` package."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from dns_certificate.clients import AwsClients
from dns_certificate.continuation import lambda_self_invoke
from dns_certificate.deadline import SystemClock
from dns_certificate.lifecycle import Lifecycle, Runtime
from dns_certificate.protocol import CertificateResource

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "dns-certificate"))
resource = CertificateResource()
copy_config_to_registered_loggers(source_logger=logger, include={"crhelper"}, log_level="INFO")

_runtime: Runtime | None = None


def default_runtime() -> Runtime:
    clients = AwsClients(
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    )
    return Runtime(
        clients=clients, invoke_self=lambda_self_invoke(clients.lambda_()), clock=SystemClock()
    )


def use_runtime(runtime: Runtime | None) -> None:
    """Tests and the local driver inject their clients, self-invoke and clock here."""
    global _runtime
    _runtime = runtime


def _lifecycle(event: dict[str, Any], context: Any) -> Lifecycle:
    global _runtime
    if _runtime is None:
        _runtime = default_runtime()
    return Lifecycle(
        _runtime,
        event,
        function_arn=context.invoked_function_arn,
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000.0,
        responder=resource,
    )


@resource.create  # type: ignore[untyped-decorator]
def create(event: dict[str, Any], context: Any) -> str:
    return _lifecycle(event, context).create()


@resource.update  # type: ignore[untyped-decorator]
def update(event: dict[str, Any], context: Any) -> str:
    return _lifecycle(event, context).update()


@resource.delete  # type: ignore[untyped-decorator]
def delete(event: dict[str, Any], context: Any) -> str:
    return _lifecycle(event, context).delete()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    logger.append_keys(
        stack_id=event.get("StackId"),
        logical_resource_id=event.get("LogicalResourceId"),
        request_id=event.get("RequestId"),
        request_type=event.get("RequestType"),
        hop=(event.get("Continuation") or {}).get("hop", 0),
    )
    resource(event, context)
