"""Issue 5: certificates anywhere. Other regions, hosted zones in other accounts (sts:AssumeRole),
EMAIL validation, private CAs, WaitForIssuance, ManageDnsRecords and the 4096-byte answer.

Everything goes through `app.lambda_handler` and is answered to the real local answer server.
The function's clients are the production `AwsClients` (its real `route53_as`), recorded by
`anywhere_support.AccountClients`, which also says which account served each Route 53 call.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import loads  # type: ignore[import-untyped]

import app
from dns_certificate.certificates import region_of
from dns_certificate.context import Runtime
from dns_certificate.dns import RECORD_TTL
from dns_certificate.planning import ValidationRecord, record_attributes
from tests.integration.anywhere_support import (
    DNS_ACCOUNT,
    OTHER_DNS_ACCOUNT,
    AccountClients,
    BeyondMotoSanLimit,
    Run,
    all_cnames_in,
    cnames_in,
    create_dns_role,
    create_zone_in,
    run_request,
    zones_in,
)
from tests.integration.harness import (
    ACCOUNT_ID,
    REGION,
    AcmFaults,
    CallLog,
    Harness,
    SelfInvokes,
    acm_like_record,
    expected_records,
)
from tests.support.aws_errors import error_response
from tests.support.clock import FakeClock

EU_WEST_1 = "eu-west-1"
US_WEST_2 = "us-west-2"
PCA_ARN = (
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)
#: Keeps DescribeCertificate at PENDING_VALIDATION for the whole test.
FOREVER = 10_000

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

UseFunction = Callable[[str], AccountClients]


def function_arn(region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:dns-certificate"


@pytest.fixture
def use_function(
    harness: Harness,
    calls: CallLog,
    acm_faults: AcmFaults,
    self_invokes: SelfInvokes,
    fake_clock: FakeClock,
    runtime: Runtime,
) -> Iterator[UseFunction]:
    """The handler as a function deployed in `region` (its default region for ACM), with the
    one requests table (its records of certificates must outlive one invocation)."""

    def use(region: str) -> AccountClients:
        clients = AccountClients(region, calls, acm_faults, fake_clock)
        app.use_runtime(
            Runtime(
                clients=clients,
                invoke_self=self_invokes,
                clock=fake_clock,
                requests=runtime.requests,
            )
        )
        return clients

    yield use
    app.use_runtime(None)


@pytest.fixture
def clients(use_function: UseFunction) -> AccountClients:
    """The function in the harness's region (us-east-1)."""
    return use_function(REGION)


@pytest.fixture
def dns_role(aws: None) -> str:
    """The DNS account's role (events/create-cross-account.json names it)."""
    return create_dns_role(DNS_ACCOUNT)


def run(harness: Harness, event: dict[str, Any], region: str = REGION, **kwargs: Any) -> Run:
    return run_request(harness, event, function_arn=function_arn(region), **kwargs)


def assume_role_calls(calls: CallLog) -> list[dict[str, Any]]:
    return [dict(call.params) for call in calls.of("sts", "AssumeRole")]


def records_of(names: list[str]) -> dict[str, str]:
    """The CNAMEs ACM asks for these names: record name (lower case) -> value."""
    return {name.lower(): value for name, value in expected_records(names).items()}


def local_cnames(harness: Harness, zone: str) -> dict[str, str]:
    """A zone of the function's account: record name -> value (every record has a TTL of 300)."""
    records = harness.records(zone)
    assert all(record.ttl == RECORD_TTL for record in records.values())
    return {name: record.values[0] for name, record in records.items()}


# ---- 1. Region ----------------------------------------------------------------------------


def test_region_when_function_is_in_eu_west_1_requests_certificate_in_us_east_1(
    harness: Harness, use_function: UseFunction
) -> None:
    use_function(EU_WEST_1)

    answer = run(harness, harness.event("create-cloudfront.json"), EU_WEST_1).answer

    assert answer.status == "SUCCESS", answer.reason
    arn = answer.physical_id
    assert region_of(arn) == "us-east-1"
    assert harness.certificates("us-east-1") == [arn]
    assert harness.certificates(EU_WEST_1) == []
    acm_regions = {call.region for call in harness.calls.of("acm")}
    assert acm_regions == {"us-east-1"}
    assert harness.describe(arn, "us-east-1")["DomainName"] == "www.example.com"
    assert local_cnames(harness, harness.zones["example.com"]) == records_of(["www.example.com"])


def test_region_when_deleting_uses_the_arns_region_not_the_functions(
    harness: Harness, use_function: UseFunction
) -> None:
    use_function(EU_WEST_1)
    created = run(harness, harness.event("create-cloudfront.json"), EU_WEST_1).answer
    arn = created.physical_id
    mark = harness.calls.mark()

    # The Delete carries no Region: only the ARN can say where the certificate is.
    delete = harness.event("delete.json", physical_id=arn)
    answer = run(harness, delete, EU_WEST_1).answer

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    (call,) = harness.calls.since(mark, "acm", "DeleteCertificate")
    assert call.region == "us-east-1"
    assert call.params["CertificateArn"] == arn
    assert harness.certificates("us-east-1") == []


def test_region_when_changed_replaces_certificate_with_one_in_the_new_region(
    harness: Harness, use_function: UseFunction
) -> None:
    use_function(EU_WEST_1)
    old_properties = {"DomainName": "www.example.com", "Region": "us-east-1"}
    created = run(harness, harness.event("create.json", properties=old_properties), EU_WEST_1)
    old = created.answer.physical_id
    new_properties = {**old_properties, "Region": US_WEST_2}
    mark = harness.calls.mark()

    update = harness.event(
        "update-tags.json",
        properties=new_properties,
        old_properties=old_properties,
        physical_id=old,
    )
    answer = run(harness, update, EU_WEST_1).answer

    assert answer.status == "SUCCESS", answer.reason
    new = answer.physical_id
    assert new != old
    assert region_of(new) == US_WEST_2
    assert harness.certificates(US_WEST_2) == [new]
    assert harness.certificates("us-east-1") == [old]  # CloudFormation deletes it later
    (request,) = harness.calls.since(mark, "acm", "RequestCertificate")
    assert request.region == US_WEST_2
    assert answer.data == {"Arn": new, "DomainName": "www.example.com"}


def test_region_when_default_is_spelled_out_updates_in_place(
    harness: Harness, use_function: UseFunction
) -> None:
    use_function(EU_WEST_1)
    old_properties = {"DomainName": "www.example.com"}
    created = run(harness, harness.event("create.json", properties=old_properties), EU_WEST_1)
    arn = created.answer.physical_id
    mark = harness.calls.mark()

    update = harness.event(
        "update-tags.json",
        properties={**old_properties, "Region": EU_WEST_1},
        old_properties=old_properties,
        physical_id=arn,
    )
    answer = run(harness, update, EU_WEST_1).answer

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert region_of(arn) == EU_WEST_1
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []


# ---- 2. Records in another account ----------------------------------------------------------


def test_cross_account_writes_records_only_into_the_dns_accounts_zone(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    zone_b = create_zone_in(DNS_ACCOUNT, "example.net")
    event = harness.event("create-cross-account.json")
    assert event["ResourceProperties"]["Route53RoleArn"] == dns_role

    answer = run(harness, event).answer

    assert answer.status == "SUCCESS", answer.reason
    names = ["shop.example.net", "*.shop.example.net"]
    assert cnames_in(DNS_ACCOUNT, zone_b) == records_of(names)
    assert all_cnames_in(ACCOUNT_ID) == {}
    assert "example.net." not in zones_in(ACCOUNT_ID).values()
    route53_accounts = {entry.account for entry in clients.route53_calls}
    assert route53_accounts == {DNS_ACCOUNT}
    assert clients.changes_by_account_and_zone() == {(DNS_ACCOUNT, zone_b): 1}


def test_cross_account_assumes_the_role_once_naming_the_resource_with_the_external_id(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    create_zone_in(DNS_ACCOUNT, "example.net")

    run(harness, harness.event("create-cross-account.json"))

    (assume,) = assume_role_calls(harness.calls)
    assert assume["RoleArn"] == dns_role
    assert assume["ExternalId"] == "website-certificates-7Qx2"
    session = assume["RoleSessionName"]
    assert "website" in session  # the stack's name
    assert "Certificate" in session  # the logical resource id
    assert len(session) <= 64


def test_cross_account_when_a_zone_of_the_same_name_is_local_still_writes_in_the_dns_account(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    decoy = harness.create_zone("example.net")
    zone_b = create_zone_in(DNS_ACCOUNT, "example.net")

    answer = run(harness, harness.event("create-cross-account.json")).answer

    assert answer.status == "SUCCESS", answer.reason
    assert cnames_in(DNS_ACCOUNT, zone_b) == records_of(["shop.example.net"])
    assert harness.records(decoy) == {}
    assert harness.calls.of("route53", "ListHostedZones") + harness.calls.of(
        "route53", "ListHostedZonesByName"
    )  # discovery did run...
    assert {entry.account for entry in clients.route53_calls} == {DNS_ACCOUNT}  # ...in B


def test_cross_account_without_external_id_sends_none(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    create_zone_in(DNS_ACCOUNT, "example.net")
    properties = {"DomainName": "shop.example.net", "Route53RoleArn": dns_role}

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    (assume,) = assume_role_calls(harness.calls)
    assert "ExternalId" not in assume


def test_cross_account_session_name_keeps_the_logical_id_when_the_stack_name_is_long(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    create_zone_in(DNS_ACCOUNT, "example.net")
    stack_name = "s" + "-very-long-stack-name" * 6  # CloudFormation allows 128 characters
    stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/5b7c1d50-8a1f"
    event = harness.event(
        "create-cross-account.json", StackId=stack_id, LogicalResourceId="ShopCertificate"
    )

    answer = run(harness, event).answer

    assert answer.status == "SUCCESS", answer.reason
    (assume,) = assume_role_calls(harness.calls)
    session = assume["RoleSessionName"]
    assert len(session) <= 64
    assert session.endswith("ShopCertificate")
    assert stack_name[:10] in session


def test_cross_account_assumes_each_role_once_in_every_invocation_that_needs_it(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    """Short invocations: discovery, then hand-offs while records hide, then the writes."""
    other_role = create_dns_role(OTHER_DNS_ACCOUNT)
    create_zone_in(DNS_ACCOUNT, "example.net")
    create_zone_in(DNS_ACCOUNT, "example.io")
    create_zone_in(OTHER_DNS_ACCOUNT, "example.dev")
    properties = {
        "DomainName": "shop.example.net",
        "SubjectAlternativeNames": ["api.example.io", "docs.example.dev"],
        "Route53RoleArn": dns_role,
        "DomainValidationOptions": [
            {"DomainName": "docs.example.dev", "Route53RoleArn": other_role}
        ],
    }
    harness.faults.hidden_records = {"api.example.io": 12}  # not in the first invocation
    harness.faults.pending_describes = 40  # and a few invocations of waiting after the writes

    result = run(harness, harness.event("create.json", properties=properties), timeout_seconds=45)

    assert result.answer.status == "SUCCESS", result.answer.reason
    assert len(result.spans) >= 3, "the test needs hand-offs to mean anything"
    assumed_in: list[Counter[str]] = []
    for index in range(len(result.spans)):
        invocation = result.calls_of(harness.calls, index)
        roles = Counter(c.params["RoleArn"] for c in invocation if c.operation == "AssumeRole")
        assumed_in.append(roles)
        assert all(count == 1 for count in roles.values()), (index, roles)
        start, end = result.spans[index]
        accounts = {
            entry.account for entry in clients.route53_calls if start <= entry.position < end
        }
        expected = {
            account
            for account, role in ((DNS_ACCOUNT, dns_role), (OTHER_DNS_ACCOUNT, other_role))
            if role in roles
        }
        assert accounts == expected, (index, accounts, roles)
    assert assumed_in[0] == Counter({dns_role: 1, other_role: 1})  # zone discovery
    writers = [index for index, roles in enumerate(assumed_in) if index and roles]
    assert len(writers) == 1, "the records were written once, in a later invocation"
    assert assumed_in[writers[0]] == Counter({dns_role: 1, other_role: 1})
    assert writers[0] < len(assumed_in) - 1, "then invocations that only wait, without roles"
    assert clients.changes_by_account_and_zone().keys() == {
        (DNS_ACCOUNT, zone)
        for zone, name in zones_in(DNS_ACCOUNT).items()
        if name in ("example.net.", "example.io.")
    } | {(OTHER_DNS_ACCOUNT, zone) for zone in zones_in(OTHER_DNS_ACCOUNT)}


def test_cross_account_when_role_cannot_be_assumed_fails_before_requesting(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    create_zone_in(DNS_ACCOUNT, "example.net")

    def refuse(**_: Any) -> Any:
        return error_response(
            "AccessDenied", "not authorized to perform: sts:AssumeRole", status=403
        )

    clients._session.events.register("before-call.sts.AssumeRole", refuse)

    answer = run(harness, harness.event("create-cross-account.json")).answer

    assert answer.status == "FAILED"
    assert dns_role in answer.reason
    assert "trust policy" in answer.reason
    assert harness.calls.of("acm") == []
    assert clients.route53_calls == []


# ---- 3. Mixed: some names through a role, some local ------------------------------------------


def test_mixed_names_each_record_lands_in_its_own_accounts_zone_one_change_per_zone(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    net_b = create_zone_in(DNS_ACCOUNT, "example.net")
    org_b = create_zone_in(DNS_ACCOUNT, "example.org")  # same name as a zone of account A
    com_a, org_a = harness.zones["example.com"], harness.zones["example.org"]
    b_names = ["app.example.net", "*.app.example.net", "shop.example.org"]
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org", *b_names],
        "DomainValidationOptions": [
            {"DomainName": name, "Route53RoleArn": dns_role} for name in b_names
        ],
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    assert all_cnames_in(ACCOUNT_ID) == {
        com_a: records_of(["example.com"]),
        org_a: records_of(["www.example.org"]),
    }
    assert all_cnames_in(DNS_ACCOUNT) == {
        net_b: records_of(["app.example.net"]),
        org_b: records_of(["shop.example.org"]),
    }
    assert clients.changes_by_account_and_zone() == {
        (ACCOUNT_ID, com_a): 1,
        (ACCOUNT_ID, org_a): 1,
        (DNS_ACCOUNT, net_b): 1,
        (DNS_ACCOUNT, org_b): 1,
    }
    assert [c["RoleArn"] for c in assume_role_calls(harness.calls)] == [dns_role]


def test_mixed_a_names_own_role_wins_over_the_resource_wide_role(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    other_role = create_dns_role(OTHER_DNS_ACCOUNT)
    net_b = create_zone_in(DNS_ACCOUNT, "example.net")
    net_c = create_zone_in(OTHER_DNS_ACCOUNT, "example.net")
    properties = {
        "DomainName": "shop.example.net",
        "SubjectAlternativeNames": ["eu.example.net"],
        "Route53RoleArn": dns_role,
        "DomainValidationOptions": [
            {
                "DomainName": "eu.example.net",
                "Route53RoleArn": other_role,
                "Route53RoleExternalId": "eu-team",
            }
        ],
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    assert cnames_in(DNS_ACCOUNT, net_b) == records_of(["shop.example.net"])
    assert cnames_in(OTHER_DNS_ACCOUNT, net_c) == records_of(["eu.example.net"])
    assert all_cnames_in(ACCOUNT_ID) == {}
    assumed = {c["RoleArn"]: c.get("ExternalId") for c in assume_role_calls(harness.calls)}
    assert assumed == {dns_role: None, other_role: "eu-team"}
    assert {entry.account for entry in clients.route53_calls} == {DNS_ACCOUNT, OTHER_DNS_ACCOUNT}


def test_mixed_a_names_entry_without_its_own_role_still_uses_the_resource_wide_role(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    """Like HostedZoneId, the resource-wide role applies to every name without its own: a
    per-name HostedZoneId then names a zone of the role's account."""
    org_b = create_zone_in(DNS_ACCOUNT, "example.org")
    create_zone_in(DNS_ACCOUNT, "example.net")
    properties = {
        "DomainName": "shop.example.net",
        "SubjectAlternativeNames": ["app.example.org"],
        "Route53RoleArn": dns_role,
        "DomainValidationOptions": [{"DomainName": "app.example.org", "HostedZoneId": org_b}],
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    assert cnames_in(DNS_ACCOUNT, org_b) == records_of(["app.example.org"])
    assert all_cnames_in(ACCOUNT_ID) == {}


def resolved(node: Any, parameters: dict[str, str]) -> Any:
    """A template fragment as CloudFormation would pass it: Refs to parameters resolved."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return parameters[node["Ref"]]
        return {key: resolved(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        return [resolved(item, parameters) for item in node]
    return str(node)


def test_examples_cross_account_template_writes_each_name_where_its_comments_say(
    harness: Harness, clients: AccountClients, dns_role: str
) -> None:
    template = loads(EXAMPLES_DIR.joinpath("cross-account-dns.yaml").read_text())
    com_b = create_zone_in(DNS_ACCOUNT, "example.com")
    team_a = harness.create_zone("internal-team.example.net")
    properties = resolved(
        template["Resources"]["Certificate"]["Properties"],
        {"DnsAccountRoleArn": dns_role, "DnsAccountExternalId": "shop-certificates"},
    )
    del properties["ServiceToken"]
    properties = json.loads(json.dumps(properties).replace("Z0123456789ABCDEFGHIJ", team_a))

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    # "Names under example.com live in the DNS account"...
    assert all_cnames_in(DNS_ACCOUNT) == {com_b: records_of(["shop.example.com"])}
    # ..."this one in a zone of this account".
    assert all_cnames_in(ACCOUNT_ID) == {team_a: records_of(["app.internal-team.example.net"])}
    assert {c.get("ExternalId") for c in assume_role_calls(harness.calls)} == {"shop-certificates"}


# ---- 4. EMAIL validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "validation_domain"),
    [
        ("www.example.com", "example.org"),  # another domain
        ("www.example.com", "api.www.example.com"),  # a subdomain, not a superdomain
        ("www.example.com", "ample.com"),  # a suffix, but not at a label boundary
        ("*.example.com", "*.example.com"),  # a wildcard cannot receive mail
    ],
)
def test_email_when_validation_domain_is_not_a_superdomain_fails_before_any_call(
    harness: Harness, clients: AccountClients, name: str, validation_domain: str
) -> None:
    properties = {
        "DomainName": name,
        "ValidationMethod": "EMAIL",
        "DomainValidationOptions": [{"DomainName": name, "ValidationDomain": validation_domain}],
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "FAILED"
    assert "ValidationDomain" in answer.reason
    assert f"'{validation_domain}'" in answer.reason
    assert harness.calls.calls == []
    assert harness.certificates() == []


def test_email_with_a_superdomain_requests_it_writes_no_record_and_waits_for_issued(
    harness: Harness, clients: AccountClients
) -> None:
    harness.faults.pending_describes = 4
    properties = {
        "DomainName": "www.example.com",
        "SubjectAlternativeNames": ["api.example.com"],
        "ValidationMethod": "EMAIL",
        "DomainValidationOptions": [
            {"DomainName": "www.example.com", "ValidationDomain": "example.com"}
        ],
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    (request,) = harness.calls.of("acm", "RequestCertificate")
    assert request.params["ValidationMethod"] == "EMAIL"
    assert request.params["DomainValidationOptions"] == [
        {"DomainName": "www.example.com", "ValidationDomain": "example.com"}
    ]
    # moto shows DNS records for EMAIL certificates too: the handler must ignore them.
    assert harness.calls.of("route53") == []
    assert harness.records(harness.zones["example.com"]) == {}
    assert harness.faults.describes[answer.physical_id] == 5  # the 5th said ISSUED


def test_email_with_manage_dns_records_false_still_waits_for_issued(
    harness: Harness, clients: AccountClients
) -> None:
    """ManageDnsRecords is about DNS records; an EMAIL certificate has none to hand over."""
    harness.faults.pending_describes = 4
    properties = {
        "DomainName": "www.example.com",
        "ValidationMethod": "EMAIL",
        "ManageDnsRecords": "false",
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    assert harness.faults.describes[answer.physical_id] == 5
    assert answer.data == {"Arn": answer.physical_id, "DomainName": "www.example.com"}


# ---- 5. Private certificates ----------------------------------------------------------------


@pytest.mark.parametrize("manage_dns_records", [None, "false"])
def test_private_certificate_reads_and_writes_no_record_and_answers_when_issued(
    harness: Harness, clients: AccountClients, manage_dns_records: str | None
) -> None:
    harness.faults.pending_describes = 3
    properties: dict[str, Any] = {
        "DomainName": "internal.example.com",
        "SubjectAlternativeNames": ["api.internal.example.com"],
        "CertificateAuthorityArn": PCA_ARN,
    }
    if manage_dns_records is not None:
        properties["ManageDnsRecords"] = manage_dns_records

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    (request,) = harness.calls.of("acm", "RequestCertificate")
    assert request.params["CertificateAuthorityArn"] == PCA_ARN
    assert "ValidationMethod" not in request.params
    assert harness.calls.of("route53") == []
    assert harness.calls.of("sts") == []
    assert harness.faults.describes[answer.physical_id] == 4  # the 4th said ISSUED
    assert answer.data == {"Arn": answer.physical_id, "DomainName": "internal.example.com"}


# ---- 6. WaitForIssuance: false --------------------------------------------------------------


def test_wait_for_issuance_false_answers_as_soon_as_records_are_written(
    harness: Harness, clients: AccountClients
) -> None:
    harness.faults.pending_describes = FOREVER
    harness.faults.hidden_records = {"www.example.org": 2}  # ACM publishes it late
    properties = {
        "DomainName": "example.com",
        "SubjectAlternativeNames": ["www.example.org"],
        "WaitForIssuance": "false",
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    arn = answer.physical_id
    assert answer.data == {"Arn": arn, "DomainName": "example.com"}
    assert harness.faults.describes[arn] == 3  # records complete at the 3rd, still pending
    assert local_cnames(harness, harness.zones["example.com"]) == records_of(["example.com"])
    assert local_cnames(harness, harness.zones["example.org"]) == records_of(["www.example.org"])
    calls = [(c.service, c.operation) for c in harness.calls.calls]
    last_describe = max(i for i, c in enumerate(calls) if c[1] == "DescribeCertificate")
    writes = [i for i, c in enumerate(calls) if c[1] == "ChangeResourceRecordSets"]
    assert len(writes) == 2
    assert min(writes) > last_describe  # written after the records were all known...
    assert calls[max(writes) + 1 :] == []  # ...and nothing after them: the answer went out


# ---- 7. ManageDnsRecords: false -------------------------------------------------------------


def test_manage_dns_records_false_makes_no_route53_call_and_answers_acms_records(
    harness: Harness, clients: AccountClients
) -> None:
    harness.faults.pending_describes = FOREVER
    harness.faults.hidden_records = {"www.example.org": 2}
    names = ["example.com", "*.example.com", "www.example.org", "app.no-zone.test"]
    properties = {
        "DomainName": names[0],
        "SubjectAlternativeNames": names[1:],
        "ManageDnsRecords": "false",
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    arn = answer.physical_id
    assert harness.calls.of("route53") == []
    assert harness.calls.of("sts") == []
    assert harness.faults.describes[arn] == 3  # every record known; never waited for ISSUED
    acm = {
        option["DomainName"]: option["ResourceRecord"]
        for option in harness.describe(arn)["DomainValidationOptions"]
    }
    expected: dict[str, str] = {"Arn": arn, "DomainName": "example.com"}
    for index, name in enumerate(names):
        expected[f"ValidationRecord{index}Name"] = acm[name]["Name"]
        expected[f"ValidationRecord{index}Value"] = acm[name]["Value"]
    expected["ValidationRecords"] = json.dumps(
        [
            {"DomainName": name, "Name": r["Name"], "Type": "CNAME", "Value": r["Value"]}
            for name in names
            if (r := acm[name])
        ],
        separators=(",", ":"),
    )
    assert answer.data == expected
    assert answer.data["ValidationRecord0Name"] == answer.data["ValidationRecord1Name"]


# ---- 8. 4096 bytes with 100 long names ------------------------------------------------------


def long_names(count: int = 100) -> list[str]:
    """`count` names of 62 characters (the first is also a valid 64-octet DomainName)."""
    template = "service-{:03d}-frontend-application.eu.environments.example.com"
    names = [template.format(index)[:62] for index in range(count)]
    assert all(len(name) >= 60 for name in names)
    return names


def full_data(arn: str, names: list[str]) -> dict[str, str]:
    records = {
        name: ValidationRecord(name, r["Name"], r["Type"], r["Value"])
        for name in names
        if (r := acm_like_record(name))
    }
    return {"Arn": arn, "DomainName": names[0], **record_attributes(names, records)}


def test_answer_with_100_long_names_and_records_as_attributes_stays_within_4096_bytes(
    harness: Harness, clients: AccountClients, log_output: io.StringIO
) -> None:
    BeyondMotoSanLimit().install(clients.acm(REGION))
    harness.faults.pending_describes = FOREVER
    names = long_names()
    properties = {
        "DomainName": names[0],
        "SubjectAlternativeNames": names[1:],
        "ManageDnsRecords": "false",
    }

    answer = run(harness, harness.event("create.json", properties=properties)).answer

    assert answer.status == "SUCCESS", answer.reason
    assert answer.problems == []
    assert len(answer.raw) <= 4096
    arn = answer.physical_id
    (request,) = harness.calls.of("acm", "RequestCertificate")
    assert len(request.params["SubjectAlternativeNames"]) == 100
    full = full_data(arn, names)
    untrimmed = json.dumps({**answer.body, "Data": full}).encode()
    assert len(untrimmed) > 4096 * 4  # what would have been sent
    assert answer.data["Arn"] == arn
    kept, dropped = answer.data, set(full) - set(answer.data)
    assert dropped
    assert all(full[key] == value for key, value in kept.items())
    (warning,) = [
        json.loads(line)
        for line in log_output.getvalue().splitlines()
        if '"Attributes dropped' in line
    ]
    assert set(warning["attributes"]) == dropped
    assert warning["dropped"] == len(dropped)
    assert warning["level"] == "WARNING"
    # What is kept is usable and predictable: whole records (a Name without its Value makes
    # no record), those of the first names, and the common name.
    assert "ValidationRecords" in dropped
    kept_records = sorted(
        int(key.removeprefix("ValidationRecord").removesuffix("Name"))
        for key in kept
        if key.startswith("ValidationRecord") and key.endswith("Name")
    )
    assert kept_records == list(range(len(kept_records)))
    assert len(kept_records) >= 10
    assert set(kept) == {"Arn", "DomainName"} | {
        f"ValidationRecord{index}{part}" for index in kept_records for part in ("Name", "Value")
    }
