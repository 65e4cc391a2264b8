"""tools/plain_template.py: template.yaml translated offline into plain CloudFormation, as a
service-managed StackSet needs it, and cfn-lint clean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.plain_template import translate_file

ROOT = Path(__file__).resolve().parents[2]
#: A region that does not exist: whatever the translator is told must not reach the output.
FAKE_REGION = "zz-nowhere-7"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    # Offline: no credentials, no configuration, no endpoint; a network call would fail.
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    try:
        template = translate_file(ROOT / "template.yaml", FAKE_REGION)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    path = tmp_path_factory.mktemp("plain") / "template.json"
    path.write_text(json.dumps(template, indent=2), encoding="utf-8")
    return template, path


def _cfn_lint() -> str:
    beside = Path(sys.executable).parent / "cfn-lint"
    found = str(beside) if beside.exists() else shutil.which("cfn-lint")
    assert found, "cfn-lint is not installed"
    return found


def test_plain_template_when_translated_has_no_transform(plain: tuple[dict, Path]) -> None:
    template, _ = plain
    assert "Transform" not in template
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert not [kind for kind in types if kind.startswith("AWS::Serverless::")]
    assert "AWS::Lambda::Function" in types


def test_plain_template_when_translated_takes_code_from_s3_parameters(
    plain: tuple[dict, Path],
) -> None:
    template, _ = plain
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 2
    for function in functions:
        code = function["Properties"]["Code"]
        assert code["S3Key"] == {"Ref": "CodeS3Key"}
        assert code["S3Bucket"]["Fn::If"][0] == "CodeS3BucketPerRegion"
        assert code["S3Bucket"]["Fn::If"][2] == {"Ref": "CodeS3Bucket"}
    assert {"CodeS3Bucket", "CodeS3Key", "CodeS3BucketPerRegion"} <= set(template["Parameters"])


def test_plain_template_when_translated_keeps_every_resource_and_output(
    plain: tuple[dict, Path],
) -> None:
    from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-untyped]

    template, _ = plain
    sam = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    assert set(sam["Resources"]) <= set(template["Resources"])
    assert set(sam["Outputs"]) == set(template["Outputs"])
    assert set(sam["Parameters"]) <= set(template["Parameters"])


def test_plain_template_when_translated_bakes_in_no_region(plain: tuple[dict, Path]) -> None:
    template, _ = plain
    assert FAKE_REGION not in json.dumps(template)
    assert "AWS::ServerlessRepo::Application" not in template.get("Metadata", {})


def test_plain_template_when_linted_is_clean(plain: tuple[dict, Path]) -> None:
    _, path = plain
    result = subprocess.run(
        [_cfn_lint(), "--", str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_plain_template_when_translated_is_named_by_parameter(plain: tuple[dict, Path]) -> None:
    """StackSet instances are named StackSet-<set>-<uuid>: nothing may derive from that."""
    template, _ = plain
    assert "AWS::StackName" not in json.dumps(template)
    assert template["Outputs"]["ServiceToken"]["Export"]["Name"] == {
        "Fn::Sub": "${ProviderName}-ServiceToken"
    }
    longest = "x" * 45 + "-certificate-failed"
    assert len(longest) <= 64
    assert template["Parameters"]["ProviderName"]["AllowedPattern"].endswith("{0,44}$")


def test_stackset_example_when_read_passes_every_parameter_the_plain_template_needs(
    plain: tuple[dict, Path],
) -> None:
    from cfnlint.decode import decode  # type: ignore[import-untyped]

    template, _ = plain
    example, matches = decode(str(ROOT / "examples" / "organization-stackset.yaml"))
    assert not matches
    stack_set = example["Resources"]["ProviderStackSet"]["Properties"]
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    passed = {parameter["ParameterKey"] for parameter in stack_set["Parameters"]}
    required = {name for name, spec in template["Parameters"].items() if "Default" not in spec}
    assert required <= passed
    assert passed <= set(template["Parameters"])


def _stack_set_example() -> tuple[dict[str, Any], dict[str, Any]]:
    from cfnlint.decode import decode

    example, matches = decode(str(ROOT / "examples" / "organization-stackset.yaml"))
    assert not matches
    return example, example["Resources"]["ProviderStackSet"]["Properties"]


def test_stackset_example_when_read_passes_every_parameter_of_the_plain_template(
    plain: tuple[dict, Path],
) -> None:
    """A parameter the StackSet does not pass stays at its default in every account, with no
    way for the platform team to set it (DnsResolvers; whatever is added next)."""
    template, _ = plain
    _, stack_set = _stack_set_example()
    passed = {parameter["ParameterKey"] for parameter in stack_set["Parameters"]}
    assert set(template["Parameters"]) - passed == set()


def test_stackset_example_when_read_constrains_each_value_as_the_plain_template_does(
    plain: tuple[dict, Path],
) -> None:
    """A value the plain template refuses fails in every stack instance, after the rollout has
    started; the StackSet's own parameter must refuse it first."""
    template, _ = plain
    example, stack_set = _stack_set_example()
    for passed in stack_set["Parameters"]:
        value = passed["ParameterValue"]
        if not (isinstance(value, dict) and set(value) == {"Ref"}):
            continue
        own = example["Parameters"][value["Ref"]]
        target = template["Parameters"][passed["ParameterKey"]]
        if "AllowedValues" in target:
            assert [str(v) for v in own.get("AllowedValues", [])] == [
                str(v) for v in target["AllowedValues"]
            ], f"{value['Ref']}: AllowedValues differ from the plain template's"
        if "AllowedPattern" in target:
            assert own.get("AllowedPattern") == target["AllowedPattern"], (
                f"{value['Ref']}: AllowedPattern differs from the plain template's"
            )


def test_plain_template_when_translated_keeps_each_resource_as_written(
    plain: tuple[dict, Path],
) -> None:
    """Not only the logical ids: the requests table, the log groups, the alarms and the role with
    its IAM conditions are the template's own (the stack's name read from ProviderName), and each
    function keeps its retries and its on-failure destination."""
    from samtranslator.yaml_helper import yaml_parse

    from tools.plain_template import _named_by_parameter

    template, _ = plain
    sam = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    for name, resource in sam["Resources"].items():
        if resource["Type"].startswith("AWS::Serverless::"):
            continue
        assert template["Resources"][name] == _named_by_parameter(resource), name
    for name, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        wanted = resource["Properties"]["EventInvokeConfig"]
        config = template["Resources"][f"{name}EventInvokeConfig"]["Properties"]
        assert config["FunctionName"] == {"Ref": name}
        assert config["MaximumRetryAttempts"] == wanted["MaximumRetryAttempts"]
        assert config["MaximumEventAgeInSeconds"] == wanted["MaximumEventAgeInSeconds"]
        if "DestinationConfig" in wanted:
            assert (
                config["DestinationConfig"]["OnFailure"]["Destination"]
                == (wanted["DestinationConfig"]["OnFailure"]["Destination"])
            )
        function = template["Resources"][name]["Properties"]
        assert function["Role"] == resource["Properties"]["Role"]
        assert function["Environment"] == _named_by_parameter(resource["Properties"]["Environment"])
