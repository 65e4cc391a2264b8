"""regions.py: Region is a region where ACM is available, read from botocore's endpoint data
only when a template sets it."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import pytest

from dns_certificate import regions
from dns_certificate.regions import acm_regions, global_certificate_region, partition_of

from .resource_properties import parse, raw, refusal, tags


def test_parse_properties_when_region_valid_keeps_it() -> None:
    assert parse(Region="us-east-1").region == "us-east-1"


def test_parse_properties_when_region_unknown_to_botocore_for_acm_refuses_naming_it() -> None:
    reason = refusal(raw(Region="xx-fake-1"))

    assert reason == "Region 'xx-fake-1' is not a region where ACM is available (e.g. us-east-1)"


@pytest.mark.parametrize(
    "region",
    ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"],
)
def test_parse_properties_when_region_is_an_acm_region_of_any_partition_keeps_it(
    region: str,
) -> None:
    assert parse(Region=region).region == region


def test_acm_regions_when_computed_is_cached_and_reads_no_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A profile that does not exist breaks a boto3 Session; the endpoint data needs none.
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    acm_regions.cache_clear()

    regions = acm_regions()

    assert {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"} <= regions
    assert "xx-fake-1" not in regions
    assert acm_regions() is regions  # computed once per container


def test_parse_properties_when_no_region_given_never_loads_endpoint_data() -> None:
    acm_regions.cache_clear()

    parse(DomainName="example.com", Tags=tags(3), ServiceTimeout="300")

    assert acm_regions.cache_info().currsize == 0


# ---- partitions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "partition", "global_region"),
    [
        ("eu-west-1", "aws", "us-east-1"),
        ("us-east-1", "aws", "us-east-1"),
        # botocore's endpoint data: CloudFront's global endpoint in China signs in
        # cn-northwest-1; GovCloud and the ISO partitions have no CloudFront.
        ("cn-north-1", "aws-cn", "cn-northwest-1"),
        ("us-gov-west-1", "aws-us-gov", None),
        ("us-gov-east-1", "aws-us-gov", None),
        ("us-iso-east-1", "aws-iso", None),
        # A region botocore does not list yet still belongs to the partition its name matches.
        ("eu-west-99", "aws", "us-east-1"),
        ("zz-nowhere-7", None, None),
    ],
)
def test_global_certificate_region_when_asked_comes_from_the_regions_partition(
    region: str, partition: str | None, global_region: str | None
) -> None:
    assert partition_of(region) == partition
    assert global_certificate_region(region) == global_region


def test_global_certificate_region_when_asked_is_read_from_botocores_endpoint_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a table in the code: botocore's data changes, the answer changes."""
    data = copy.deepcopy(regions._endpoint_data())
    aws = next(p for p in data["partitions"] if p["partition"] == "aws")
    cloudfront = aws["services"]["cloudfront"]
    cloudfront["endpoints"][cloudfront["partitionEndpoint"]]["credentialScope"]["region"] = (
        "us-west-2"
    )
    monkeypatch.setattr(regions, "_endpoint_data", lambda: data)

    assert global_certificate_region("eu-west-1") == "us-west-2"


#: Where a region or partition name may appear as a string in the handler: what reads
#: botocore's data, and messages. Everything else takes regions from botocore or parameters.
ALLOWED_REGION_LITERALS = {
    # The example in a refusal's text.
    ("regions.py", "us-east-1"),
    # Lambda always sets AWS_REGION; the fallback serves local runs without one.
    ("app.py", "us-east-1"),
}
REGION_LITERAL = re.compile(
    r"(?<![\w-])((us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eusc)-[a-z]+-\d+"
    r"|aws-cn|aws-us-gov|aws-iso[a-z-]*)(?![\w-])"
)


def test_handler_code_when_read_names_no_region_or_partition_of_its_own() -> None:
    """Issue 25: in GovCloud and China a hard-coded us-east-1 made every sweep log an error
    and every clean-up keep every record. String constants only (docstrings and comments may
    explain; code may not decide)."""
    handler = Path(__file__).resolve().parents[2] / "handler"
    found = set()
    for path in handler.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                found |= {(path.name, match[0]) for match in REGION_LITERAL.findall(node.value)}
    assert found <= ALLOWED_REGION_LITERALS
