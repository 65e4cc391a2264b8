"""examples/cdk/app.py synthesizes: one stack, the distribution on the certificate of us-east-1."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest

pytestmark = pytest.mark.xdist_group("cdk-example")  # tests/support/xdist_groups.py

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cdk" / "app.py"
ZONE_LOOKUP = "hosted-zone:account=123456789012:domainName=example.com:region=ap-southeast-2"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cdk_example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synthesized() -> tuple[list[str], dict[str, Any]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
        patch.setenv("CDK_DEFAULT_REGION", "ap-southeast-2")
        app = cdk.App(
            context={
                "domain": "www.example.com",
                "zone": "example.com",
                ZONE_LOOKUP: {"Id": "/hostedzone/Z0123456789ABCDEFGHIJ", "Name": "example.com."},
            }
        )
        _example().build(app)
        assembly = app.synth()
    return [stack.stack_name for stack in assembly.stacks], assembly.get_stack_by_name(
        "Site"
    ).template


def test_example_app_when_synthesized_is_one_stack_without_imports(synthesized) -> None:
    stacks, template = synthesized
    assert stacks == ["Site"]
    assert "Fn::ImportValue" not in json.dumps(template)


def test_example_app_when_synthesized_serves_the_certificate_of_us_east_1(synthesized) -> None:
    _, template = synthesized
    resources = template["Resources"]
    (certificate_id,) = [
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "Custom::DnsValidatedCertificate"
    ]
    certificate = resources[certificate_id]["Properties"]
    assert certificate["Region"] == "us-east-1"
    assert certificate["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    assert certificate["DomainName"] == "www.example.com"
    (distribution,) = [
        resource["Properties"]["DistributionConfig"]
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudFront::Distribution"
    ]
    assert distribution["ViewerCertificate"]["AcmCertificateArn"] == {"Ref": certificate_id}
    types = {resource["Type"] for resource in resources.values()}
    assert "AWS::Serverless::Application" in types  # the provider, installed in the stack
