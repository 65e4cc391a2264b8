"""template.yaml as plain CloudFormation: no transform, the code taken from S3 parameters.

Service-managed StackSets refuse templates that use a transform (`AWS::Serverless` is one), so an
organisation-wide rollout needs the template SAM would deploy. This runs the translator SAM
itself uses (aws-sam-translator) offline: no AWS call, no credentials. The region given to the
translator is a placeholder (`--region`); pseudo parameters stay `!Ref AWS::Region` in the output,
which the test checks by translating with a region that does not exist.

    python tools/plain_template.py [--template template.yaml] [--output build/plain/template.json]

What changes besides the translation:

* each function's `CodeUri: handler/` becomes the parameters `CodeS3Bucket` and `CodeS3Key`
  (the zip of `sam build`'s output, see `make plain-code`); with `CodeS3BucketPerRegion` "true"
  the bucket is `<CodeS3Bucket>-<region>` (Lambda reads code only from a bucket in its own
  region, so a rollout to several regions needs one bucket per region);
* the parameter `ProviderName` (default `dns-certificate`), optional in template.yaml (where
  it names the functions only), is required here and also stands for the stack's name wherever
  the template uses it (the `<name>-ServiceToken` export, the metrics' Provider dimension,
  descriptions). A StackSet's stack instances are named `StackSet-<set name>-<uuid>`: the
  export's name would be unknowable for other stacks;
* the Serverless Application Repository metadata is dropped (it names local files and is read
  only by `sam publish`).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]
from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
SAR_METADATA = "AWS::ServerlessRepo::Application"
#: Only a placeholder for the translator; nothing region-specific may end up in the output.
PLACEHOLDER_REGION = "us-east-1"
PER_REGION_CONDITION = "CodeS3BucketPerRegion"

NAME_PARAMETER = "ProviderName"
NAME_REFERENCE = "${ProviderName}"
NAME_PARAMETERS: dict[str, dict[str, Any]] = {
    NAME_PARAMETER: {
        "Type": "String",
        "Default": "dns-certificate",
        # Function names are limited to 64 characters; the longest adds "-certificate-failed".
        "AllowedPattern": "^[a-zA-Z][a-zA-Z0-9-]{0,44}$",
        "ConstraintDescription": "1 to 45 letters, digits and hyphens, starting with a letter",
        "Description": (
            "Name of this provider in the account and region, in place of the stack's name: "
            "functions '<name>-certificate' and '<name>-certificate-failed', the export "
            "'<name>-ServiceToken' that other stacks import, the metrics' Provider dimension. "
            "Choose one no stack of the accounts uses (a pilot stack 'dns-certificate' exports "
            "'dns-certificate-ServiceToken')."
        ),
    },
}

CODE_PARAMETERS: dict[str, dict[str, Any]] = {
    "CodeS3Bucket": {
        "Type": "String",
        "MinLength": 3,
        "Description": (
            "S3 bucket holding the function code (the zip made by `make plain-code`). With "
            "CodeS3BucketPerRegion true, the bucket's name without the '-<region>' suffix."
        ),
    },
    "CodeS3Key": {
        "Type": "String",
        "MinLength": 1,
        "Description": "S3 key of the function code zip, e.g. dns-certificate/0.2.0/code.zip.",
    },
    "CodeS3BucketPerRegion": {
        "Type": "String",
        "Default": "false",
        "AllowedValues": ["true", "false"],
        "Description": (
            "true: read the code from '<CodeS3Bucket>-<region>' (Lambda needs the code in the "
            "function's region; use one bucket per region for a multi-region rollout)."
        ),
    },
}


class _NoManagedPolicies:
    """The template names no managed policy; a lookup would need IAM, so it is an error."""

    def __call__(self) -> dict[str, str]:
        raise RuntimeError("template.yaml must not use managed policies by name (needs IAM)")


def _code_location() -> dict[str, Any]:
    return {
        "Bucket": {
            "Fn::If": [
                PER_REGION_CONDITION,
                {"Fn::Sub": "${CodeS3Bucket}-${AWS::Region}"},
                {"Ref": "CodeS3Bucket"},
            ]
        },
        "Key": {"Ref": "CodeS3Key"},
    }


def _named_by_parameter(node: Any) -> Any:
    """`node` with the stack's name replaced by the ProviderName parameter."""
    if isinstance(node, list):
        return [_named_by_parameter(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node == {"Ref": "AWS::StackName"}:
        return {"Ref": NAME_PARAMETER}
    if set(node) == {"Fn::Sub"}:
        sub = node["Fn::Sub"]
        if isinstance(sub, str):
            return {"Fn::Sub": sub.replace("${AWS::StackName}", NAME_REFERENCE)}
        text, variables = sub
        return {
            "Fn::Sub": [
                text.replace("${AWS::StackName}", NAME_REFERENCE),
                _named_by_parameter(variables),
            ]
        }
    return {key: _named_by_parameter(value) for key, value in node.items()}


def prepare(sam: dict[str, Any]) -> dict[str, Any]:
    """The SAM template with its code taken from S3, named by a parameter, without SAR
    metadata."""
    template = copy.deepcopy(sam)
    for section in ("Resources", "Outputs"):
        template[section] = _named_by_parameter(template.get(section, {}))
    metadata = template.get("Metadata", {})
    metadata.pop(SAR_METADATA, None)
    interface = metadata.get("AWS::CloudFormation::Interface")
    if interface is not None:
        interface.setdefault("ParameterGroups", []).insert(
            0,
            {
                "Label": {"default": "Provider name and function code"},
                "Parameters": [*NAME_PARAMETERS, *CODE_PARAMETERS],
            },
        )
    # template.yaml's own ProviderName is optional; here it is required (NAME_PARAMETERS wins).
    template["Parameters"] = {
        **NAME_PARAMETERS,
        **CODE_PARAMETERS,
        **template.get("Parameters", {}),
        **NAME_PARAMETERS,
    }
    template.setdefault("Conditions", {})[PER_REGION_CONDITION] = {
        "Fn::Equals": [{"Ref": "CodeS3BucketPerRegion"}, "true"]
    }
    functions = 0
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = _code_location()
            functions += 1
    if not functions:
        raise ValueError("the template has no AWS::Serverless::Function")
    return template


def translate(sam: dict[str, Any], region: str = PLACEHOLDER_REGION) -> dict[str, Any]:
    """Plain CloudFormation for `sam`, offline (the region only feeds the translator)."""
    session = boto3.session.Session(region_name=region)
    translator = Translator(None, Parser(), boto_session=session)
    plain: dict[str, Any] = translator.translate(
        prepare(sam), parameter_values={}, get_managed_policy_map=_NoManagedPolicies()
    )
    leftovers = [
        name
        for name, resource in plain["Resources"].items()
        if str(resource.get("Type", "")).startswith("AWS::Serverless::")
    ]
    if "Transform" in plain or leftovers:
        raise ValueError(f"translation left SAM in the template: {leftovers or 'Transform'}")
    return plain


def translate_file(path: Path, region: str = PLACEHOLDER_REGION) -> dict[str, Any]:
    return translate(yaml_parse(path.read_text(encoding="utf-8")), region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "plain" / "template.json")
    parser.add_argument("--region", default=PLACEHOLDER_REGION, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plain = translate_file(args.template, args.region)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(plain, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
