"""API calls per lifecycle step, and the latency from issuance to CloudFormation's answer.

Runs the real handler in-process against moto, the answers going to a local HTTP server. moto
issues a certificate `ACM_VALIDATION_WAIT` seconds after the request (it does not look at DNS),
which gives a known issuance instant to measure the answer's latency against.

    .venv/bin/python -m benchmarks.lifecycle_calls
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "handler"), str(ROOT)]
os.environ.update(
    AWS_REGION="us-east-1",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    POWERTOOLS_LOG_LEVEL="WARNING",
)

import boto3  # noqa: E402
import moto.settings  # noqa: E402
from moto import mock_aws  # noqa: E402

ISSUE_AFTER_SECONDS = 3
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/bench/" + str(uuid.uuid4())


def main() -> None:
    moto.settings.ACM_VALIDATION_WAIT = ISSUE_AFTER_SECONDS
    with mock_aws():
        import app
        from dns_certificate.clients import AwsClients
        from dns_certificate.context import Runtime
        from dns_certificate.deadline import SystemClock
        from local.answers import AnswerServer
        from local.context import LambdaContext

        session = boto3.Session()
        calls: Counter[str] = Counter()
        session.events.register(
            "before-call",
            lambda model, **_: calls.update([f"{model.service_model.service_name}:{model.name}"]),
        )
        route53 = session.client("route53")
        for name in ("example.com", "example.org"):
            route53.create_hosted_zone(Name=name, CallerReference=name)
        app.use_runtime(
            Runtime(
                clients=AwsClients("us-east-1", session=session),
                invoke_self=lambda arn, payload: None,
                clock=SystemClock(),
            )
        )
        properties: dict[str, Any] = {
            "DomainName": "example.com",
            "SubjectAlternativeNames": ["*.example.com", "www.example.org"],
            "Tags": [{"Key": "team", "Value": "platform"}],
        }
        results: list[dict[str, Any]] = []
        with AnswerServer() as server:

            def run(
                kind: str, props: dict[str, Any], old: dict[str, Any] | None, physical: str | None
            ) -> dict[str, Any]:
                calls.clear()
                event: dict[str, Any] = {
                    "RequestType": kind,
                    "ResponseURL": server.new_url(),
                    "StackId": STACK_ID,
                    "RequestId": str(uuid.uuid4()),
                    "LogicalResourceId": "Certificate",
                    "ResourceType": "Custom::DnsValidatedCertificate",
                    "ResourceProperties": props,
                }
                if old is not None:
                    event["OldResourceProperties"] = old
                if physical:
                    event["PhysicalResourceId"] = physical
                started = time.monotonic()
                app.lambda_handler(event, LambdaContext())
                answer = server.wait_for(event["ResponseURL"])
                elapsed = time.monotonic() - started
                assert answer.status == "SUCCESS", answer.reason
                row = {
                    "step": kind,
                    "seconds": round(elapsed, 2),
                    "calls": sum(calls.values()),
                    "by_api": dict(sorted(calls.items())),
                    "physical_id": answer.physical_id,
                }
                results.append(row)
                return row

            created = run("Create", properties, None, None)
            latency = created["seconds"] - ISSUE_AFTER_SECONDS
            tagged = dict(properties, Tags=[{"Key": "team", "Value": "web"}])
            run("Update", tagged, properties, created["physical_id"])
            replaced_props = dict(
                tagged,
                SubjectAlternativeNames=["*.example.com", "www.example.org", "api.example.org"],
            )
            replaced = run("Update", replaced_props, tagged, created["physical_id"])
            run("Delete", tagged, None, created["physical_id"])
            run("Delete", replaced_props, None, replaced["physical_id"])
        for row in results:
            print(json.dumps({k: v for k, v in row.items() if k != "physical_id"}))
        print(json.dumps({"issuance_to_answer_seconds_upper_bound": round(latency, 2)}))


if __name__ == "__main__":
    main()
