"""Issue 25: what an Organization rollout relies on and no linter sees.

* Every name the template builds fits its service's limit whatever the stack's name (up to 128
  characters; a nested application's stack is `<parent>-<logical id>-<random>`), with and without
  `ProviderName`, in template.yaml and in the plain template a StackSet deploys: the names are
  computed here from the template's own expressions (Fn::Sub, Fn::If, Fn::Select, Fn::Split,
  Ref), not restated.
* The functions' self-invoke permission names exactly the functions the template creates.
* Every role of the provider takes `RolePath` and `PermissionsBoundary`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
STACK_UUID = "5f0e3c40-1a2b-11f0-9c3d-0a1b2c3d4e5f"
#: CloudFormation's stack names: up to 128 characters.
LONGEST = "s" * 128
#: A nested application's stack: <parent>-<logical id>-<random 12-13>.
NESTED = (
    "p" * (128 - len("-CertificateProvider-1A2B3C4D5E6F7"))
) + "-CertificateProvider-1A2B3C4D5E6F7"

#: (resource type, property path) -> the service's limit, in characters.
LIMITS: dict[tuple[str, str], int] = {
    ("AWS::Serverless::Function", "FunctionName"): 64,
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::Serverless::Function", "Description"): 256,
    ("AWS::Lambda::Function", "Description"): 256,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::IAM::Role", "Path"): 512,
    ("AWS::IAM::Role", "Description"): 1000,
    ("AWS::Events::Rule", "Name"): 64,
    ("AWS::Events::Rule", "Description"): 512,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::CloudWatch::Alarm", "AlarmDescription"): 1024,
    ("AWS::DynamoDB::Table", "TableName"): 255,
}
#: Names CloudFormation must generate (it keeps generated names within each service's limit).
GENERATED = {
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::Events::Rule", "Name"),
    ("AWS::CloudWatch::Alarm", "AlarmName"),
    ("AWS::DynamoDB::Table", "TableName"),
}
EXPORT_NAME_LIMIT = 255
DIMENSION_VALUE_LIMIT = 1024
LAMBDA_NAME = re.compile(r"[a-zA-Z0-9-_]{1,64}")


class Evaluator:
    """CloudFormation's intrinsic functions, as far as names need them."""

    def __init__(self, template: dict[str, Any], stack_name: str, parameters: dict[str, str]):
        self.template = template
        self.values: dict[str, Any] = {
            name: spec.get("Default", "") for name, spec in template["Parameters"].items()
        }
        self.values.update(parameters)
        self.values.update(
            {
                "AWS::StackName": stack_name,
                "AWS::StackId": (
                    f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/{stack_name}/{STACK_UUID}"
                ),
                "AWS::Region": "eu-west-1",
                "AWS::AccountId": ACCOUNT,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            }
        )

    def condition(self, name: str) -> bool:
        return bool(self.eval(self.template["Conditions"][name]))

    def eval(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.eval(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: self.eval(value) for key, value in node.items()}
        ((key, arg),) = node.items()
        if key == "Ref":
            if arg in self.values:
                value = self.values[arg]
                if self.template["Parameters"].get(arg, {}).get("Type") == "CommaDelimitedList":
                    return [v for v in str(value).split(",")] if value != "" else [""]
                return value
            return f"<{arg}>"  # a resource: its physical id is not a name built here
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            scope = {**{k: self.eval(v) for k, v in variables.items()}}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in scope:
                    return str(scope[name])
                if name in self.values:
                    return str(self.values[name])
                return f"<{name}>"

            return re.sub(r"\$\{([^!}][^}]*)\}", substitute, text)
        if key == "Fn::If":
            condition, yes, no = arg
            return self.eval(yes if self.condition(condition) else no)
        if key == "Fn::Select":
            index, items = arg
            return self.eval(items)[int(self.eval(index))]
        if key == "Fn::Split":
            separator, text = arg
            return str(self.eval(text)).split(separator)
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(item) for item in self.eval(items))
        if key == "Fn::Equals":
            left, right = self.eval(arg)
            return left == right
        if key == "Fn::Not":
            return not self.eval(arg[0])
        if key in ("Fn::And", "Fn::Or"):
            results = [self.eval(item) for item in arg]
            return all(results) if key == "Fn::And" else any(results)
        if key == "Condition":
            return self.condition(arg)
        if key in ("Fn::GetAtt", "Fn::ImportValue"):
            return f"<{arg}>"
        return {key: self.eval(arg)}


def _sam() -> dict[str, Any]:
    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return dict(template)


@pytest.fixture(scope="module")
def plain() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-untyped]

    from tools.plain_template import translate

    return translate(yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8")))


def _cases() -> Iterator[tuple[str, str, dict[str, str]]]:
    for stack in ("short", LONGEST, NESTED):
        yield "template.yaml", stack, {}
        yield "template.yaml", stack, {"ProviderName": "x" * 45}
    yield "plain", LONGEST, {"ProviderName": "x" * 45}
    yield "plain", f"StackSet-{'n' * 80}-{STACK_UUID}", {"ProviderName": "dns-certificate-org"}


CASES = list(_cases())
IDS = [f"{kind}-{len(stack)}-{'named' if params else 'unnamed'}" for kind, stack, params in CASES]


def _template(kind: str, plain: dict[str, Any]) -> dict[str, Any]:
    return plain if kind == "plain" else _sam()


@pytest.mark.parametrize(("kind", "stack", "parameters"), CASES, ids=IDS)
def test_every_name_when_built_from_the_longest_stack_name_fits_its_limit(
    plain: dict[str, Any], kind: str, stack: str, parameters: dict[str, str]
) -> None:
    template = _template(kind, plain)
    evaluator = Evaluator(template, stack, parameters)
    checked = 0
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for (kind_, prop), limit in LIMITS.items():
            if resource["Type"] != kind_ or prop not in properties:
                continue
            assert (kind_, prop) not in GENERATED, (
                f"{logical_id}.{prop}: let CloudFormation name it"
            )
            value = str(evaluator.eval(properties[prop]))
            assert len(value) <= limit, f"{logical_id}.{prop} is {len(value)} > {limit}: {value}"
            if prop == "FunctionName":
                assert LAMBDA_NAME.fullmatch(value), value
            checked += 1
    for name, output in template["Outputs"].items():
        if "Export" in output:
            value = str(evaluator.eval(output["Export"]["Name"]))
            assert len(value) <= EXPORT_NAME_LIMIT, f"export of {name}: {value}"
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize(("kind", "stack", "parameters"), CASES, ids=IDS)
def test_metrics_dimension_when_built_from_the_longest_stack_name_fits(
    plain: dict[str, Any], kind: str, stack: str, parameters: dict[str, str]
) -> None:
    template = _template(kind, plain)
    evaluator = Evaluator(template, stack, parameters)
    for resource in template["Resources"].values():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            variables = resource["Properties"]["Environment"]["Variables"]
            assert len(str(evaluator.eval(variables["METRICS_PROVIDER"]))) <= DIMENSION_VALUE_LIMIT


def _functions(template: dict[str, Any], evaluator: Evaluator) -> dict[str, str]:
    return {
        logical_id: str(evaluator.eval(resource["Properties"]["FunctionName"]))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    }


@pytest.mark.parametrize(("kind", "stack", "parameters"), CASES, ids=IDS)
def test_self_invoke_and_log_groups_when_built_name_the_functions_the_template_creates(
    plain: dict[str, Any], kind: str, stack: str, parameters: dict[str, str]
) -> None:
    """The role's InvokeSelf statement is built from the name (not !GetAtt, a cycle): a name
    that differs from FunctionName would leave every hand-off AccessDenied."""
    template = _template(kind, plain)
    evaluator = Evaluator(template, stack, parameters)
    functions = _functions(template, evaluator)
    assert len(set(functions.values())) == 2
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:"
    invoke_self = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role"
        for policy in evaluator.eval(resource["Properties"].get("Policies", []))
        if isinstance(policy, dict) and "PolicyDocument" in policy
        for statement in policy["PolicyDocument"]["Statement"]
        if isinstance(statement, dict) and statement.get("Sid") == "InvokeSelf"
    ]
    (statement,) = invoke_self
    resources = set(evaluator.eval(statement["Resource"]))
    main, failure = functions["CertificateFunction"], functions["CertificateFailureFunction"]
    assert resources == {arn + main, arn + main + ":*", arn + failure}
    log_groups = {
        logical_id: str(evaluator.eval(resource["Properties"]["LogGroupName"]))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Logs::LogGroup"
    }
    assert set(log_groups.values()) == {f"/aws/lambda/{name}" for name in functions.values()}


def test_function_names_when_provider_name_is_set_are_the_console_friendly_ones() -> None:
    """What 0.1.0 called them (from the stack's name): an upgraded stack keeps its functions
    (and so its ServiceToken export) by setting ProviderName to its name."""
    template = _sam()
    names = _functions(template, Evaluator(template, "dns-certificate", {"ProviderName": "site"}))
    assert names == {
        "CertificateFunction": "site-certificate",
        "CertificateFailureFunction": "site-certificate-failed",
    }
    unnamed = _functions(template, Evaluator(template, "dns-certificate", {}))
    assert unnamed == {
        "CertificateFunction": f"dns-certificate-{STACK_UUID}",
        "CertificateFailureFunction": f"dns-certificate-{STACK_UUID}-failed",
    }


def test_every_role_when_read_takes_the_path_and_the_boundary() -> None:
    template = _sam()
    roles = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert roles
    for logical_id, role in roles.items():
        properties = role["Properties"]
        assert properties["Path"] == {"Ref": "RolePath"}, logical_id
        assert properties["PermissionsBoundary"] == {
            "Fn::If": [
                "HasPermissionsBoundary",
                {
                    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/"
                    "${PermissionsBoundary}"
                },
                {"Ref": "AWS::NoValue"},
            ]
        }, logical_id
        assert "RoleName" not in properties, logical_id
    assert template["Parameters"]["RolePath"]["Default"] == "/dns-certificate/"
    assert template["Parameters"]["PermissionsBoundary"]["Default"] == ""


@pytest.mark.parametrize(
    ("path", "valid"),
    [
        ("/", True),
        ("/dns-certificate/", True),
        ("/platform/dns-certificate/", True),
        ("", False),
        ("dns-certificate/", False),
        ("/dns-certificate", False),
        ("/with space/", False),
        ("//", False),
    ],
)
def test_role_path_parameter_when_checked_accepts_what_iam_accepts(path: str, valid: bool) -> None:
    """IAM's path pattern: "/" alone, or "/" + printable ASCII + "/"."""
    pattern = _sam()["Parameters"]["RolePath"]["AllowedPattern"]
    java_ish = pattern.replace(r"\x21", "\x21").replace(r"\x7E", "\x7e")
    assert bool(re.fullmatch(java_ish, path)) is valid


def test_template_when_read_decides_with_no_region_literal() -> None:
    """Issue 25 point 5: resources, conditions and outputs take regions from AWS::Region, the
    partition from AWS::Partition, or a parameter (descriptions may mention examples)."""
    template = _sam()
    text = repr(
        {key: template[key] for key in ("Resources", "Conditions", "Outputs") if key in template}
    )
    descriptions = re.compile(r"'(?:AlarmDescription|Description)': '[^']*'")
    text = descriptions.sub("", text)
    assert not re.findall(r"\b(?:us|eu|ap|cn|us-gov)-[a-z]+-\d\b|arn:aws:", text)


# ---- the DNS account's role (examples/dns-account-role.yaml) ---------------------------------


def _dns_role() -> tuple[dict[str, Any], dict[str, Any]]:
    example, matches = decode(str(ROOT / "examples" / "dns-account-role.yaml"))
    assert not matches, matches
    return example, example["Resources"]["Route53Role"]["Properties"]


def test_dns_account_role_when_read_trusts_the_organizations_providers_by_path() -> None:
    """Issue 25 point 2: not by role ARN (accounts that join later, re-created roles, the trust
    policy's size), and the path is the one the providers' roles take by default."""
    example, role = _dns_role()
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    condition = statement["Condition"]
    assert condition["StringEquals"]["aws:PrincipalOrgID"] == {"Ref": "OrganizationId"}
    assert condition["StringEquals"]["sts:ExternalId"]["Fn::If"][1] == {"Ref": "ExternalId"}
    assert condition["ArnLike"]["aws:PrincipalArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::*:role${ProviderRolePath}*"
    }
    assert (
        example["Parameters"]["ProviderRolePath"]["Default"]
        == _sam()["Parameters"]["RolePath"]["Default"]
    )


def test_dns_account_role_when_evaluated_reaches_only_the_listed_zones() -> None:
    """Not hostedzone/* (every zone of the DNS account, to every member account)."""
    example, _ = _dns_role()
    evaluator = Evaluator(example, "dns", {"HostedZoneIds": "Z111,Z222", "OrganizationId": "o-1"})
    (policy,) = evaluator.eval(example["Resources"]["Route53Role"]["Properties"]["Policies"])
    zone_statements = [s for s in policy["PolicyDocument"]["Statement"] if s["Resource"] != "*"]
    assert len(zone_statements) == 2
    for statement in zone_statements:
        assert statement["Resource"] == [
            "arn:*:route53:::hostedzone/Z111",
            "arn:*:route53:::hostedzone/Z222",
        ]
    (write,) = [s for s in zone_statements if s["Action"] == "route53:ChangeResourceRecordSets"]
    assert write["Condition"]["ForAllValues:StringEquals"][
        "route53:ChangeResourceRecordSetsActions"
    ] == ["UPSERT"]
    unscoped = [s for s in policy["PolicyDocument"]["Statement"] if s["Resource"] == "*"]
    assert {a for s in unscoped for a in s["Action"]} == {
        "route53:ListHostedZones",
        "route53:ListHostedZonesByName",
    }


# ---- the StackSet (examples/organization-stackset.yaml) --------------------------------------


def _stack_set() -> tuple[dict[str, Any], dict[str, Any]]:
    example, matches = decode(str(ROOT / "examples" / "organization-stackset.yaml"))
    assert not matches, matches
    return example, example["Resources"]["ProviderStackSet"]["Properties"]


def _passed(example: dict[str, Any], stack_set: dict[str, Any], **values: str) -> dict[str, Any]:
    evaluator = Evaluator(example, "org", values)
    return {p["ParameterKey"]: evaluator.eval(p["ParameterValue"]) for p in stack_set["Parameters"]}


def test_stackset_when_deployed_to_several_regions_resolves_the_topic_in_each() -> None:
    """Issue 25 point 1: one ARN names one region, and CloudWatch refuses an alarm action in
    another: the StackSet passes a name, each instance's alarms build the ARN of their own
    region (the template's AlarmActions, test_alarms.py)."""
    example, stack_set = _stack_set()
    passed = _passed(example, stack_set, AlarmTopicName="platform-alarms")
    assert passed["AlarmTopicArn"] == ""
    assert passed["AlarmTopicName"] == "platform-alarms"
    assert "AlarmTopicArn" not in example["Parameters"]
    template = _sam()
    for region in ("us-east-1", "eu-west-1"):
        evaluator = Evaluator(template, "StackSet-x", passed)
        evaluator.values["AWS::Region"] = region
        alarm = template["Resources"]["FailedRequestsAlarm"]["Properties"]
        assert evaluator.condition("HasAlarmTopic")
        assert evaluator.eval(alarm["AlarmActions"]) == [
            f"arn:aws:sns:{region}:{ACCOUNT}:platform-alarms"
        ]


def test_stackset_defaults_when_read_cannot_collide_with_a_pilot_stack() -> None:
    """A pilot installed as README says (stack "dns-certificate", export
    "dns-certificate-ServiceToken") and the StackSet's instance in the same account."""
    example, stack_set = _stack_set()
    provider = example["Parameters"]["ProviderName"]["Default"]
    assert provider != "dns-certificate"
    assert f"{provider}-ServiceToken" != "dns-certificate-ServiceToken"
    assert stack_set["AutoDeployment"]["RetainStacksOnAccountRemoval"] is True


def test_stackset_when_check_regions_are_left_empty_passes_every_region_of_the_rollout() -> None:
    """A validation CNAME is the same for a name in every region of an account: the instance in
    one region must see the certificates of the others before deleting a record."""
    example, stack_set = _stack_set()
    passed = _passed(example, stack_set, Regions="us-east-1,eu-west-1,ap-southeast-2")
    assert passed["CleanupCheckRegions"] == "us-east-1,eu-west-1,ap-southeast-2"
    passed = _passed(example, stack_set, CleanupCheckRegions="eu-central-1")
    assert passed["CleanupCheckRegions"] == "eu-central-1"


def test_install_name_when_deployed_with_make_is_the_one_the_examples_import() -> None:
    """Issue 25 point 7: `sam deploy --guided` suggests "sam-app"; `make deploy` passes the
    stack name whose export ("<name>-ServiceToken") the examples import by default."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (stack_name,) = re.findall(r"^STACK_NAME \?= (\S+)$", makefile, re.M)
    assert re.search(r"deploy --guided --stack-name \$\(STACK_NAME\)", makefile)
    for name in ("cloudfront-certificate.yaml", "cross-account-dns.yaml"):
        example, matches = decode(str(ROOT / "examples" / name))
        assert not matches, matches
        assert example["Parameters"]["CertificateStackName"]["Default"] == stack_name
    provider = _stack_set()[0]["Parameters"]["ProviderName"]["Default"]
    assert provider != stack_name


def test_nested_application_example_when_read_has_no_placeholder_application() -> None:
    example, matches = decode(str(ROOT / "examples" / "nested-application.yaml"))
    assert not matches, matches
    assert "Default" not in example["Parameters"]["ProviderApplicationId"]
