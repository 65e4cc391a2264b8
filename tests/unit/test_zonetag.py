"""The zones tag (zonetag.py): what the renewal guard reads back from a certificate must be
exactly what the resource wrote, always fit ACM's tag value rules, and never hold a secret."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.validation_options import Route53Access
from dns_certificate.zonetag import (
    MAX_VALUE_LENGTH,
    RecordedZones,
    Unrecorded,
    decode,
    encode,
    unrecorded,
)

from .strategies import FAST

#: ACM's pattern for a tag value: [\p{L}\p{Z}\p{N}_.:/=+\-@]*, at most 256 characters.
ACM_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")

zone_ids = st.from_regex(r"Z[A-Z0-9]{9,21}", fullmatch=True)
roles = st.builds(
    lambda account, name: f"arn:aws:iam::{account}:role/{name}",
    st.from_regex(r"[0-9]{12}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9+=.@_/-]{1,40}", fullmatch=True),
)
accesses = st.one_of(st.just(Route53Access()), roles.map(lambda r: Route53Access(role_arn=r)))
zone_sets = st.lists(st.tuples(accesses, zone_ids), min_size=1, max_size=12)


@FAST
@given(zone_sets)
def test_encode_then_decode_round_trips_or_says_it_is_too_long(
    zones: list[tuple[Route53Access, str]],
) -> None:
    value = encode(zones)

    assert len(value) <= MAX_VALUE_LENGTH
    assert ACM_TAG_VALUE.match(value), value
    decoded = decode(value)
    if isinstance(decoded, Unrecorded):
        assert decoded.reason == "too-long"
    else:
        assert set(decoded.zones) == set(zones)
        assert len(decoded.zones) == len(set(zones))


def test_encode_writes_each_role_once_with_its_zones_after_the_local_ones() -> None:
    role = "arn:aws:iam::222222222222:role/dns"
    value = encode(
        [
            (Route53Access(role_arn=role), "ZDNS2"),
            (Route53Access(), "ZLOCAL"),
            (Route53Access(role_arn=role), "ZDNS1"),
        ]
    )

    assert value == f"ZLOCAL @{role} ZDNS1 ZDNS2"
    assert decode(value) == RecordedZones(
        (
            (Route53Access(), "ZLOCAL"),
            (Route53Access(role_arn=role), "ZDNS1"),
            (Route53Access(role_arn=role), "ZDNS2"),
        )
    )


def test_encode_when_a_role_needs_an_external_id_never_writes_it() -> None:
    access = Route53Access(role_arn="arn:aws:iam::222222222222:role/dns", external_id="s3cr3t")

    value = encode([(Route53Access(), "ZLOCAL"), (access, "ZDNS")])

    assert value == "=external-id"
    assert decode(value) == Unrecorded("external-id")


def test_encode_when_a_role_has_a_comma_says_so() -> None:
    access = Route53Access(role_arn="arn:aws:iam::222222222222:role/a,b")

    assert decode(encode([(access, "ZDNS")])) == Unrecorded("role")


def test_encode_when_the_value_would_exceed_256_characters_says_too_long() -> None:
    zones = [(Route53Access(), f"Z{index:020d}") for index in range(20)]  # 21 * 20 - 1 = 419

    assert encode(zones) == "=too-long"


def test_encode_when_there_are_no_zones_says_none() -> None:
    assert decode(encode([])) == Unrecorded("none")


@pytest.mark.parametrize(
    "value",
    ["", " ", "z-lower", "@arn:aws:iam::1:role/x", "=unknown", "ZONE @notarole ZONE2", "Z1  Z2"],
)
def test_decode_when_not_a_value_of_ours_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        decode(value)


def test_unrecorded_when_reason_unknown_refuses() -> None:
    with pytest.raises(ValueError):
        unrecorded("because")
