"""tools/adopt_certificates.py: the only way a certificate requested before the registry
existed becomes the provider's (issue 18 point 1), run by an operator with their own
credentials. It adopts a certificate only when the tagged stack resource holds exactly that ARN
and is a custom resource; a certificate with copied tags, or held by a native resource, stays
foreign. Against moto; CloudFormation's DescribeStackResource is answered from `HELD`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

import app
from dns_certificate.certificates import LOGICAL_ID_TAG, REQUEST_TAG, STACK_TAG
from dns_certificate.zonetag import ZONES_TAG
from tests.integration.harness import REGION, Harness, load_event
from tools import adopt_certificates

#: The stack of the sample events (events/*.json).
STACK = load_event("delete.json")["StackId"]


class Stacks:
    """What CloudFormation says each (stack, logical id) holds: (physical id, resource type)."""

    def __init__(self) -> None:
        self.held: dict[tuple[str, str], tuple[str, str]] = {}

    def __call__(self, params: dict[str, Any], **_: Any) -> Any:
        body = params.get("body") or {}
        key = (str(body.get("StackName")), str(body.get("LogicalResourceId")))
        if key not in self.held:
            raise ClientError(
                {"Error": {"Code": "ValidationError", "Message": "does not exist"}},
                "DescribeStackResource",
            )
        physical_id, resource_type = self.held[key]
        detail = {
            "StackId": key[0],
            "LogicalResourceId": key[1],
            "PhysicalResourceId": physical_id,
            "ResourceType": resource_type,
            "ResourceStatus": "CREATE_COMPLETE",
        }
        response = AWSResponse("https://cloudformation.amazonaws.com/", 200, {}, None)  # type: ignore[arg-type]
        return response, {
            "StackResourceDetail": detail,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }


@pytest.fixture
def stacks(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stacks]:
    answered = Stacks()
    session = boto3.Session(region_name=REGION)
    session.events.register("before-call.cloudformation.DescribeStackResource", answered)
    monkeypatch.setattr("tools.adopt_certificates.boto3.Session", lambda: session)
    yield answered


def old_certificate(domain_name: str, logical_id: str = "Certificate") -> str:
    """A certificate as releases before the registry made it: tags only."""
    tags: list[Any] = [
        {"Key": STACK_TAG, "Value": STACK},
        {"Key": LOGICAL_ID_TAG, "Value": logical_id},
        {"Key": REQUEST_TAG, "Value": "oldtoken"},
        {"Key": ZONES_TAG, "Value": "Z1"},
    ]
    return str(
        boto3.client("acm", region_name=REGION).request_certificate(
            DomainName=domain_name, ValidationMethod="DNS", Tags=tags
        )["CertificateArn"]
    )


def adopt(table: str, *, write: bool) -> int:
    return adopt_certificates.main(
        ["--table", table, "--regions", REGION, *(["--write"] if write else [])]
    )


def test_adoption_when_the_stacks_custom_resource_holds_it_records_it_and_delete_then_works(
    harness: Harness, stacks: Stacks, requests_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = old_certificate("www.example.com")
    stacks.held[(STACK, "Certificate")] = (arn, "Custom::DnsValidatedCertificate")
    delete = harness.event("delete.json", physical_id=arn)
    assert delete["StackId"] == STACK
    assert harness.run(delete).status == "SUCCESS"
    assert harness.certificates() == [arn]  # not the provider's yet: left alone

    assert adopt(requests_table, write=True) == 0

    assert "1 recorded" in capsys.readouterr().out
    record = app._current_runtime().registry.certificate(arn)
    assert record is not None and record.owner.logical_id == "Certificate"
    answer = harness.run(harness.event("delete.json", physical_id=arn))
    assert answer.status == "SUCCESS", answer.reason
    assert harness.certificates() == []


@pytest.mark.parametrize(
    "held",
    [None, ("arn:aws:acm:us-east-1:123456789012:certificate/other", "Custom::X"), "native"],
    ids=["no-stack-resource", "holds-another-certificate", "held-by-a-native-resource"],
)
def test_adoption_when_the_stack_resource_does_not_vouch_for_it_records_nothing(
    harness: Harness,
    stacks: Stacks,
    requests_table: str,
    capsys: pytest.CaptureFixture[str],
    held: Any,
) -> None:
    arn = old_certificate("bank.example.com")
    if held == "native":
        stacks.held[(STACK, "Certificate")] = (arn, "AWS::CertificateManager::Certificate")
    elif held is not None:
        stacks.held[(STACK, "Certificate")] = held

    assert adopt(requests_table, write=True) == 0

    output = capsys.readouterr().out
    assert "skip" in output and "0 recorded" in output
    assert app._current_runtime().registry.certificate(arn) is None


def test_adoption_without_write_lists_and_records_nothing(
    harness: Harness, stacks: Stacks, requests_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = old_certificate("www.example.com")
    stacks.held[(STACK, "Certificate")] = (arn, "Custom::DnsValidatedCertificate")

    assert adopt(requests_table, write=False) == 0

    output = capsys.readouterr().out
    assert "adopt" in output and arn in output and "nothing written" in output
    assert app._current_runtime().registry.certificate(arn) is None


def test_adoption_when_already_recorded_for_another_resource_leaves_the_record(
    harness: Harness, stacks: Stacks, requests_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The provider's certificate of another resource, whose tags were rewritten to name this
    one (and a stack resource made to hold it): its record is not moved."""
    arn = harness.create({"DomainName": "www.example.com"})
    owner_before = app._current_runtime().registry.certificate(arn)
    acm = boto3.client("acm", region_name=REGION)
    acm.add_tags_to_certificate(
        CertificateArn=arn, Tags=[{"Key": LOGICAL_ID_TAG, "Value": "Stolen"}]
    )
    stacks.held[(STACK, "Stolen")] = (arn, "Custom::DnsValidatedCertificate")

    assert adopt(requests_table, write=True) == 0

    assert "already recorded" in capsys.readouterr().out
    assert app._current_runtime().registry.certificate(arn) == owner_before
