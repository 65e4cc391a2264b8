"""Pure decisions: the idempotency token, replacement vs in place, record batches, zones, tags."""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.planning import (
    IDEMPOTENCY_TOKEN_LENGTH,
    Done,
    Fail,
    NextAction,
    ValidationRecord,
    Wait,
    WriteRecords,
    configured_zone,
    decide_update,
    group_records_by_zone,
    idempotency_token,
    identity_fingerprint,
    next_action,
    pending_names,
    tag_changes,
    zone_candidates,
)
from dns_certificate.properties import CertificateProperties, parse_properties
from dns_certificate.tagging import RESERVED_TAG_PREFIX

from .strategies import FAST, QUICK, valid_names

ACM_TOKEN = re.compile(r"[A-Za-z0-9_]{1,32}")  # ACM's \w+ (ASCII), 1 to 32 characters
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/web/0a1b2c3d-aaaa-bbbb-cccc-0123"
PCA_ARN = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/1234-abcd"

BASE: dict[str, Any] = {
    "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:dns-certificate",
    "DomainName": "example.com",
    "SubjectAlternativeNames": ["www.example.com", "*.example.org"],
    "Tags": [{"Key": "team", "Value": "web"}],
}


def props(**changes: Any) -> CertificateProperties:
    """BASE with some properties changed (None removes one)."""
    merged = {**BASE, **changes}
    return parse_properties({key: value for key, value in merged.items() if value is not None})


def record(domain_name: str, name: str | None = None) -> ValidationRecord:
    base = domain_name.removeprefix("*.")
    return ValidationRecord(
        domain_name=domain_name,
        name=name or f"_x1.{base}.",
        type="CNAME",
        value=f"_y1.{base}.acm-validations.aws.",
    )


# ---- idempotency token ------------------------------------------------------------------------


@FAST
@given(st.text(), st.text(), st.text())
def test_idempotency_token_when_ids_are_arbitrary_matches_acm_pattern(
    stack_id: str, logical_id: str, request_id: str
) -> None:
    token = idempotency_token(stack_id, logical_id, request_id)

    assert ACM_TOKEN.fullmatch(token)
    assert len(token) == IDEMPOTENCY_TOKEN_LENGTH


def test_idempotency_token_when_request_id_is_a_uuid_is_not_the_raw_request_id() -> None:
    request_id = str(uuid.uuid4())

    token = idempotency_token(STACK_ID, "Certificate", request_id)

    assert not ACM_TOKEN.fullmatch(request_id)
    assert ACM_TOKEN.fullmatch(token)


@FAST
@given(st.text(), st.text(), st.text())
def test_idempotency_token_when_same_request_delivered_again_is_the_same(
    stack_id: str, logical_id: str, request_id: str
) -> None:
    first = idempotency_token(stack_id, logical_id, request_id)

    assert idempotency_token(stack_id, logical_id, request_id) == first


@FAST
@given(st.uuids(), st.uuids())
def test_idempotency_token_when_request_ids_differ_differs(
    first: uuid.UUID, second: uuid.UUID
) -> None:
    if first == second:
        return

    assert idempotency_token(STACK_ID, "Certificate", str(first)) != idempotency_token(
        STACK_ID, "Certificate", str(second)
    )


@pytest.mark.parametrize(
    ("stack_id", "logical_id"),
    [(STACK_ID.replace("web", "api"), "Certificate"), (STACK_ID, "OtherCertificate")],
    ids=["other-stack", "other-resource"],
)
def test_idempotency_token_when_stack_or_resource_differs_differs(
    stack_id: str, logical_id: str
) -> None:
    request_id = "5a3c4e2b-1111-2222-3333-444455556666"

    assert idempotency_token(stack_id, logical_id, request_id) != idempotency_token(
        STACK_ID, "Certificate", request_id
    )


# ---- decide_update: replacement ---------------------------------------------------------------

REPLACING: list[tuple[str, dict[str, Any], str]] = [
    ("domain-name", {"DomainName": "example.net"}, "DomainName"),
    ("san-added", {"SubjectAlternativeNames": ["www.example.com", "*.example.org",
     "a.example.com"]}, "the set of names"),
    ("san-removed", {"SubjectAlternativeNames": ["www.example.com"]}, "the set of names"),
    ("san-swapped-for-domain-name", {"DomainName": "www.example.com",
     "SubjectAlternativeNames": ["example.com", "*.example.org"]}, "DomainName"),
    ("validation-method", {"ValidationMethod": "EMAIL"}, "ValidationMethod"),
    ("private-ca-added", {"CertificateAuthorityArn": PCA_ARN}, "CertificateAuthorityArn"),
    ("key-algorithm", {"KeyAlgorithm": "EC_prime256v1"}, "KeyAlgorithm"),
    ("key-algorithm-other-rsa", {"KeyAlgorithm": "RSA_4096"}, "KeyAlgorithm"),
    ("region", {"Region": "us-east-1"}, "Region"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "named"),
    [pytest.param(changes, named, id=case) for case, changes, named in REPLACING],
)
def test_decide_update_when_request_time_property_changes_replaces(
    changes: dict[str, Any], named: str
) -> None:
    plan = decide_update(props(), props(**changes), None)

    assert plan.replace
    assert named in plan.why


def test_decide_update_when_region_changes_between_two_regions_replaces() -> None:
    plan = decide_update(props(Region="eu-west-1"), props(Region="us-east-1"), None)

    assert plan.replace


def test_decide_update_when_email_validation_domain_changes_replaces() -> None:
    def email(domain: str) -> CertificateProperties:
        return props(
            ValidationMethod="EMAIL",
            DomainValidationOptions=[{"DomainName": "www.example.com", "ValidationDomain": domain}],
        )

    assert decide_update(email("www.example.com"), email("example.com"), None).replace


def test_decide_update_when_old_properties_unreadable_replaces() -> None:
    assert decide_update(None, props(), None).replace


# ---- decide_update: in place ------------------------------------------------------------------

IN_PLACE: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("nothing", {}, {}),
    ("tag-added", {}, {"Tags": [{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "p"}]}),
    ("tag-changed", {}, {"Tags": [{"Key": "team", "Value": "api"}]}),
    ("tag-removed", {}, {"Tags": None}),
    ("transparency", {}, {"Options": {"CertificateTransparencyLoggingPreference": "DISABLED"}}),
    ("hosted-zone", {"HostedZoneId": "Z111"}, {"HostedZoneId": "Z222"}),
    ("hosted-zone-added", {}, {"HostedZoneId": "/hostedzone/Z222"}),
    ("per-name-zone", {}, {"DomainValidationOptions": [{"DomainName": "www.example.com",
     "HostedZoneId": "Z333"}]}),
    ("service-timeout", {}, {"ServiceTimeout": "600"}),
    ("wait-for-issuance", {}, {"WaitForIssuance": "false"}),
    ("san-reordered", {}, {"SubjectAlternativeNames": ["*.example.org", "www.example.com"]}),
    ("san-case-and-dot", {}, {"SubjectAlternativeNames": ["WWW.Example.com.", "*.EXAMPLE.org"]}),
    ("domain-name-case-and-dot", {}, {"DomainName": "Example.COM."}),
    ("domain-name-repeated-in-sans", {}, {"SubjectAlternativeNames": ["www.example.com",
     "example.com", "*.example.org"]}),
    ("key-algorithm-unset-to-default", {}, {"KeyAlgorithm": "RSA_2048"}),
    ("key-algorithm-default-to-unset", {"KeyAlgorithm": "RSA_2048"}, {}),
    ("validation-method-explicit-default", {}, {"ValidationMethod": "DNS"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old_changes", "new_changes"),
    [pytest.param(old, new, id=case) for case, old, new in IN_PLACE],
)
def test_decide_update_when_only_in_place_properties_change_keeps_certificate(
    old_changes: dict[str, Any], new_changes: dict[str, Any]
) -> None:
    plan = decide_update(props(**old_changes), props(**new_changes), None)

    assert not plan.replace, plan.why


@FAST
@given(st.permutations(["www.example.com", "*.example.org", "api.example.com", "example.net"]))
def test_decide_update_when_sans_are_permuted_keeps_certificate(order: list[str]) -> None:
    old = props(SubjectAlternativeNames=["www.example.com", "*.example.org", "api.example.com",
                                         "example.net"])  # fmt: skip

    assert not decide_update(old, props(SubjectAlternativeNames=order), None).replace


# ---- decide_update: the certificate's own fingerprint ----------------------------------------


def test_decide_update_when_rollback_sends_back_the_certificates_properties_keeps_it() -> None:
    # A failed replacement is rolled back by an Update from the new properties to the old ones
    # with the old certificate's physical id: the old certificate already fits.
    original = props()
    failed_replacement = props(DomainName="example.net")
    fingerprint_of_old_certificate = identity_fingerprint(original.identity())

    plan = decide_update(failed_replacement, original, fingerprint_of_old_certificate)

    assert not plan.replace


def test_decide_update_when_fingerprint_differs_from_new_properties_replaces() -> None:
    fingerprint = identity_fingerprint(props(DomainName="example.net").identity())

    plan = decide_update(props(), props(), fingerprint)

    assert plan.replace


def test_decide_update_when_fingerprint_matches_but_old_properties_unreadable_keeps_it() -> None:
    new = props()

    assert not decide_update(None, new, identity_fingerprint(new.identity())).replace


def test_decide_update_when_fingerprint_differs_names_what_changed() -> None:
    old, new = props(), props(KeyAlgorithm="EC_secp384r1")

    plan = decide_update(old, new, identity_fingerprint(old.identity()))

    assert plan.why == "changed: KeyAlgorithm"


@FAST
@given(st.permutations(["www.example.com", "*.example.org", "api.example.com"]), st.booleans())
def test_identity_fingerprint_when_names_reordered_or_respelled_is_unchanged(
    order: list[str], shout: bool
) -> None:
    written = [name.upper() + "." for name in order] if shout else order
    reference = props(SubjectAlternativeNames=["www.example.com", "*.example.org",
                                               "api.example.com"])  # fmt: skip

    assert identity_fingerprint(props(SubjectAlternativeNames=written).identity()) == (
        identity_fingerprint(reference.identity())
    )


def test_identity_fingerprint_when_identity_differs_differs() -> None:
    assert identity_fingerprint(props().identity()) != identity_fingerprint(
        props(KeyAlgorithm="RSA_4096").identity()
    )


# ---- records and zones ------------------------------------------------------------------------


def test_group_records_by_zone_when_apex_and_wildcard_share_a_record_writes_it_once() -> None:
    records = [record("example.com"), record("*.example.com")]

    batches = group_records_by_zone(records, {"example.com": "Z1", "*.example.com": "Z1"})

    assert batches == {"Z1": (records[0],)}


def test_group_records_by_zone_when_record_names_differ_only_in_case_or_dot_writes_once() -> None:
    records = [
        record("example.com", "_x1.example.com."),
        record("*.example.com", "_X1.Example.com"),
    ]

    batches = group_records_by_zone(records, {"example.com": "Z1", "*.example.com": "Z1"})

    assert len(batches["Z1"]) == 1


def test_group_records_by_zone_when_names_in_two_zones_makes_one_batch_per_zone() -> None:
    records = [record("example.com"), record("www.example.com"), record("example.org")]
    zones = {"example.com": "Z1", "www.example.com": "Z1", "example.org": "Z2"}

    batches = group_records_by_zone(records, zones)

    assert batches == {"Z1": (records[0], records[1]), "Z2": (records[2],)}


@QUICK
@given(st.lists(valid_names(), min_size=1, max_size=12), st.data())
def test_group_records_by_zone_when_any_names_each_record_name_once_per_zone(
    names: list[str], data: st.DataObject
) -> None:
    zones = {name: data.draw(st.sampled_from(["Z1", "Z2", "Z3"])) for name in names}
    records = [record(name) for name in names]

    batches = group_records_by_zone(records, zones)

    for zone, batch in batches.items():
        record_names = [item.name for item in batch]
        assert len(record_names) == len(set(record_names))
        assert {item.name for item in records if zones[item.domain_name] == zone} == set(
            record_names
        )


@pytest.mark.parametrize(
    ("name", "candidates"),
    [
        ("a.b.example.com", ["a.b.example.com", "b.example.com", "example.com"]),
        ("*.example.com", ["example.com"]),
        ("*.www.Example.COM.", ["www.example.com", "example.com"]),
        ("example.co.uk", ["example.co.uk", "co.uk"]),
    ],
)
def test_zone_candidates_when_name_given_lists_most_specific_first_without_wildcard(
    name: str, candidates: list[str]
) -> None:
    assert zone_candidates(name) == candidates


@FAST
@given(valid_names())
def test_zone_candidates_when_any_name_each_is_a_parent_of_the_previous(name: str) -> None:
    candidates = zone_candidates(name)

    assert candidates[0] == name.removeprefix("*.")
    for child, parent in itertools.pairwise(candidates):
        assert child.endswith("." + parent)
        assert child.count(".") == parent.count(".") + 1
    assert candidates[-1].count(".") == 1


def test_configured_zone_when_name_has_its_own_zone_prefers_it_over_default() -> None:
    properties = props(
        HostedZoneId="Z0",
        DomainValidationOptions=[{"DomainName": "www.example.com", "HostedZoneId": "Z9"}],
    )

    assert configured_zone(properties, "www.example.com") == "Z9"
    assert configured_zone(properties, "example.com") == "Z0"


def test_configured_zone_when_nothing_configured_returns_none() -> None:
    assert configured_zone(props(), "example.com") is None


def test_pending_names_when_some_records_missing_lists_them_in_order() -> None:
    records = {"www.example.com": record("www.example.com")}

    assert pending_names(["example.com", "www.example.com", "a.example.com"], records) == [
        "example.com",
        "a.example.com",
    ]


# ---- tags -------------------------------------------------------------------------------------

OWN = RESERVED_TAG_PREFIX + "stack-id"


def test_tag_changes_when_tag_is_new_adds_it() -> None:
    to_add, to_remove = tag_changes({"team": "web"}, {"team": "web", "env": "prod"}, "x:")

    assert (to_add, to_remove) == ({"env": "prod"}, [])


def test_tag_changes_when_value_changes_overwrites_it() -> None:
    to_add, to_remove = tag_changes({"team": "web"}, {"team": "api"}, "x:")

    assert (to_add, to_remove) == ({"team": "api"}, [])


def test_tag_changes_when_user_tag_dropped_removes_it() -> None:
    to_add, to_remove = tag_changes({"team": "web", "env": "prod"}, {"team": "web"}, "x:")

    assert (to_add, to_remove) == ({}, ["env"])


def test_tag_changes_when_resource_tag_absent_from_desired_keeps_it() -> None:
    current = {OWN: "stack", "team": "web", "zzz": "1", "aaa": "2"}

    _, to_remove = tag_changes(current, {}, RESERVED_TAG_PREFIX)

    assert to_remove == ["aaa", "team", "zzz"]


def test_tag_changes_when_nothing_differs_changes_nothing() -> None:
    current = {OWN: "stack", "team": "web"}

    assert tag_changes(current, dict(current), RESERVED_TAG_PREFIX) == ({}, [])


@FAST
@given(
    st.dictionaries(st.sampled_from(["a", "b", "c", OWN, RESERVED_TAG_PREFIX + "x"]), st.text()),
    st.dictionaries(st.sampled_from(["a", "b", "d", OWN]), st.text()),
)
def test_tag_changes_when_applied_yields_desired_tags_plus_the_resources_own(
    current: dict[str, str], desired: dict[str, str]
) -> None:
    to_add, to_remove = tag_changes(current, desired, RESERVED_TAG_PREFIX)

    after = {key: value for key, value in current.items() if key not in to_remove} | to_add
    kept_own = {k: v for k, v in current.items() if k.startswith(RESERVED_TAG_PREFIX)}
    assert after == kept_own | desired


# ---- exportable and N2 certificates --------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "label"),
    [
        ({}, {"CertificateExport": "ENABLED"}, "CertificateExport (Options.Export)"),
        ({"Options": {"Export": "ENABLED"}}, {}, "CertificateExport (Options.Export)"),
        ({}, {"RootHierarchyType": "N2_AMAZON_MANAGED"}, "RootHierarchyType"),
        (
            {"RootHierarchyType": "N2_AMAZON_MANAGED"},
            {"RootHierarchyType": "N2_SFG2_AMAZON_MANAGED"},
            "RootHierarchyType",
        ),
        (
            {"RootHierarchyType": "N2_AMAZON_MANAGED"},
            {"RootHierarchyType": "N2_AMAZON_MANAGED", "CertificateUsage": "CLIENT_AUTH_ONLY"},
            "CertificateUsage",
        ),
    ],
)
def test_decide_update_when_export_or_n2_changes_replaces_and_names_it(
    old: dict[str, Any], new: dict[str, Any], label: str
) -> None:
    before, after = props(**old), props(**new)

    by_properties = decide_update(before, after, None)
    by_fingerprint = decide_update(before, after, identity_fingerprint(before.identity()))

    assert by_properties.replace and by_fingerprint.replace
    assert label in by_properties.why and label in by_fingerprint.why


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({}, {"CertificateExport": "DISABLED"}),
        ({"CertificateExport": "DISABLED"}, {"Options": {"Export": "DISABLED"}}),
        ({"CertificateExport": "ENABLED"}, {"Options": {"Export": "ENABLED"}}),
        (
            {"RootHierarchyType": "N2_SFG2_AMAZON_MANAGED"},
            {
                "RootHierarchyType": "N2_SFG2_AMAZON_MANAGED",
                "CertificateUsage": "CLIENT_AND_SERVER_AUTH",
            },
        ),
        ({}, {"CertificateTransparencyLoggingPreference": "DISABLED"}),
        (
            {"Options": {"CertificateTransparencyLoggingPreference": "ENABLED"}},
            {"CertificateTransparencyLoggingPreference": "DISABLED"},
        ),
    ],
)
def test_decide_update_when_only_spelling_or_defaults_or_transparency_change_keeps_it(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    before, after = props(**old), props(**new)

    assert not decide_update(before, after, None).replace
    assert not decide_update(before, after, identity_fingerprint(before.identity())).replace


@pytest.mark.parametrize(
    ("raw_properties", "region", "fingerprint"),
    [
        # Computed before exportable and N2 certificates existed: certificates tagged then must
        # keep their fingerprint, or their next update would replace them.
        (
            {"DomainName": "example.com", "SubjectAlternativeNames": ["www.example.com"]},
            "us-east-1",
            "428812536bc446db57163bf507971a569aee7ed0",
        ),
        (
            {
                "DomainName": "example.com",
                "ValidationMethod": "EMAIL",
                "KeyAlgorithm": "EC_prime256v1",
                "CertificateExport": "DISABLED",
                "DomainValidationOptions": [
                    {"DomainName": "example.com", "ValidationDomain": "example.com"}
                ],
            },
            "eu-west-1",
            "7a62e285f4020135616ea76ad6e1d18042baca6b",
        ),
    ],
)
def test_identity_fingerprint_when_certificate_predates_export_and_n2_is_unchanged(
    raw_properties: dict[str, Any], region: str, fingerprint: str
) -> None:
    properties = replace(parse_properties(raw_properties), region=region)

    assert identity_fingerprint(properties.identity()) == fingerprint


#: The properties `next_action` reads, by the kinds of wait they ask for.
KINDS = {
    "dns": props(),
    "dns-unmanaged": props(ManageDnsRecords="false"),
    "dns-no-wait": props(WaitForIssuance="false"),
    "email": props(ValidationMethod="EMAIL"),
    "email-no-wait": props(ValidationMethod="EMAIL", WaitForIssuance="false"),
    "private": props(CertificateAuthorityArn=PCA_ARN),
}


@pytest.mark.parametrize(
    ("kind", "issued", "failed", "published", "written", "expected"),
    [
        # DNS, records written by the handler: write once all are published, wait for ISSUED.
        ("dns", False, False, False, False, Wait(for_records=True)),
        ("dns", False, False, True, False, WriteRecords()),
        ("dns", True, False, False, False, WriteRecords()),  # issued before all were shown
        ("dns", False, False, True, True, Wait(for_records=False)),
        ("dns", True, False, True, True, Done(issued=True)),
        ("dns", False, True, True, False, Fail()),  # a failure writes nothing
        ("dns", False, True, True, True, Fail()),
        # ManageDnsRecords false: the records are handed over as attributes, then done.
        ("dns-unmanaged", False, False, False, False, Wait(for_records=True)),
        ("dns-unmanaged", False, False, True, False, WriteRecords()),
        ("dns-unmanaged", False, False, True, True, Done(issued=False)),
        ("dns-unmanaged", True, False, True, True, Done(issued=True)),
        # WaitForIssuance false: done once the records are written, not before.
        ("dns-no-wait", False, False, False, False, Wait(for_records=True)),
        ("dns-no-wait", False, False, True, False, WriteRecords()),
        ("dns-no-wait", False, False, True, True, Done(issued=False)),
        # EMAIL and private certificates have no records: they wait like any other, unless told.
        ("email", False, False, False, False, Wait(for_records=False)),
        ("email", True, False, False, False, Done(issued=True)),
        ("email", False, True, False, False, Fail()),
        ("email-no-wait", False, False, False, False, Done(issued=False)),
        ("private", False, False, False, False, Wait(for_records=False)),
        ("private", True, False, False, False, Done(issued=True)),
    ],
)
def test_next_action_when_polled_returns(
    kind: str, issued: bool, failed: bool, published: bool, written: bool, expected: NextAction
) -> None:
    action = next_action(
        KINDS[kind],
        issued=issued,
        failed=failed,
        records_published=published,
        records_written=written,
    )

    assert action == expected


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_next_action_when_asked_again_after_writing_records_never_writes_again(kind: str) -> None:
    for issued, published in itertools.product((False, True), repeat=2):
        first = next_action(
            KINDS[kind],
            issued=issued,
            failed=False,
            records_published=published,
            records_written=False,
        )
        if not isinstance(first, WriteRecords):
            continue
        then = next_action(
            KINDS[kind],
            issued=issued,
            failed=False,
            records_published=published,
            records_written=True,
        )
        assert isinstance(then, Done | Wait), (kind, issued, published, then)
        assert then != Wait(for_records=True)
