"""Record in the provider's registry the certificates it requested before the registry existed.

The provider acts only on certificates its own records in the requests table name
(handler/dns_certificate/registry.py); it never adopts one by itself, because everything it
could go by (tags, a stack resource holding the ARN, an event) a caller can steer. Certificates
requested by releases before 0.2.0 have no record: a Delete leaves them in place (and says so
in the log), the renewal guard does not check them, an Update replaces them.

This tool is the path a caller cannot steer: an operator runs it with their own credentials,
reviews what it lists, and only then writes the records. It lists the certificates of the
given regions that carry the provider's ownership tags, and keeps those whose tagged stack
resource (`DescribeStackResource`) holds exactly that ARN as its physical id *and* is a custom
resource; with `--write` it records them for that stack's resource.

    PYTHONPATH=handler python -m tools.adopt_certificates --table <RequestsTableName> \\
        --regions eu-west-1,us-east-1 [--write]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError

from dns_certificate.certificates import (
    LOGICAL_ID_TAG,
    REQUEST_TAG,
    STACK_TAG,
    CertificateService,
)
from dns_certificate.listing import list_all_certificates
from dns_certificate.registry import CertificateRecord, DynamoDBRegistry, Owner
from dns_certificate.zonetag import ZONES_TAG


@dataclass(frozen=True)
class Candidate:
    arn: str
    region: str
    owner: Owner
    token: str
    zones: str | None
    verdict: str  # "adopt" or why not


def candidates(session: boto3.Session, regions: Sequence[str]) -> Iterator[Candidate]:
    for region in regions:
        service = CertificateService(session.client("acm", region_name=region))
        for summary in list_all_certificates(service):
            arn = str(summary["CertificateArn"])
            tags = service.tags_if_exists(arn) or {}
            stack_id, logical_id = tags.get(STACK_TAG), tags.get(LOGICAL_ID_TAG)
            if not stack_id or not logical_id:
                continue
            owner = Owner(stack_id, logical_id)
            yield Candidate(
                arn=arn,
                region=region,
                owner=owner,
                token=tags.get(REQUEST_TAG, ""),
                zones=tags.get(ZONES_TAG),
                verdict=_verdict(session, owner, arn),
            )


def _verdict(session: boto3.Session, owner: Owner, arn: str) -> str:
    try:
        stack_region = owner.stack_id.split(":")[3]
        detail = session.client("cloudformation", region_name=stack_region).describe_stack_resource(
            StackName=owner.stack_id, LogicalResourceId=owner.logical_id
        )["StackResourceDetail"]
    except (ClientError, IndexError, ValueError) as error:
        return f"skip: its tagged stack resource cannot be read ({error})"
    if detail.get("PhysicalResourceId") != arn:
        return "skip: its tagged stack resource does not hold this certificate"
    if not str(detail.get("ResourceType", "")).startswith(("Custom::", "AWS::CloudFormation::")):
        return f"skip: held by a {detail.get('ResourceType')}, not a custom resource"
    return "adopt"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the provider's RequestsTableName output")
    parser.add_argument("--regions", required=True, help="comma-separated regions to search")
    parser.add_argument("--write", action="store_true", help="record the adoptable ones")
    args = parser.parse_args(argv)
    session = boto3.Session()
    registry = DynamoDBRegistry(args.table, session.client("dynamodb"))
    adopted = 0
    for candidate in candidates(session, [r.strip() for r in args.regions.split(",") if r]):
        known = registry.certificate(candidate.arn)
        verdict = "skip: already recorded" if known else candidate.verdict
        print(f"{verdict:60.60} {candidate.arn} {candidate.owner.logical_id}")
        if verdict != "adopt" or not args.write:
            continue
        registry.record(
            CertificateRecord(
                arn=candidate.arn,
                owner=candidate.owner,
                token=candidate.token,
                region=candidate.region,
                zones=candidate.zones,
            )
        )
        adopted += 1
    print(f"{adopted} recorded" if args.write else "nothing written (add --write to record)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
