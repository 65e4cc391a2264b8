"""Lambda entry point: wiring only. The behaviour lives in the `dns_certificate` package."""

from __future__ import annotations

import os
import threading
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from dns_certificate.clients import AwsClients
from dns_certificate.continuation import lambda_self_invoke
from dns_certificate.deadline import SystemClock
from dns_certificate.lifecycle import Lifecycle, Runtime
from dns_certificate.protocol import CertificateResource

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "dns-certificate"))

_runtime: Runtime | None = None
_runtime_lock = threading.Lock()
# crhelper keeps the request being handled on the resource object. Lambda runs one invocation
# per container at a time, so one object is made and reused; the local driver runs several
# stacks' invocations in threads of one process, and each thread gets its own object.
_resources = threading.local()


def default_runtime() -> Runtime:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    clients = AwsClients(region)
    return Runtime(
        clients=clients, invoke_self=lambda_self_invoke(clients.lambda_()), clock=SystemClock()
    )


def use_runtime(runtime: Runtime | None) -> None:
    """Tests and the local driver inject their clients, self-invoke and clock here."""
    global _runtime
    with _runtime_lock:
        _runtime = runtime


def _current_runtime() -> Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = default_runtime()
        return _runtime


def _lifecycle(resource: CertificateResource, event: dict[str, Any], context: Any) -> Lifecycle:
    return Lifecycle(
        _current_runtime(),
        event,
        function_arn=context.invoked_function_arn,
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000.0,
        responder=resource,
    )


def _new_resource() -> CertificateResource:
    resource = CertificateResource()
    resource.create(lambda event, context: _lifecycle(resource, event, context).create())
    resource.update(lambda event, context: _lifecycle(resource, event, context).update())
    resource.delete(lambda event, context: _lifecycle(resource, event, context).delete())
    copy_config_to_registered_loggers(source_logger=logger, include={"crhelper"}, log_level="INFO")
    return resource


def _resource() -> CertificateResource:
    resource: CertificateResource | None = getattr(_resources, "resource", None)
    if resource is None:
        resource = _resources.resource = _new_resource()
    return resource


_resource()  # built at import: the cold start pays for it once, not the first request


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(
        stack_id=event.get("StackId"),
        logical_resource_id=event.get("LogicalResourceId"),
        request_id=event.get("RequestId"),
        request_type=event.get("RequestType"),
        lambda_request_id=getattr(context, "aws_request_id", None),
        hop=(event.get("Continuation") or {}).get("hop", 0),
    )
    _resource()(event, context)
