"""tagging.py: the Tags property under ACM's tag rules, and the tags the resource keeps for
itself."""

from __future__ import annotations

import pytest

from dns_certificate.certificates import ownership_tags
from dns_certificate.tagging import MAX_TAGS, OWNERSHIP_TAG_COUNT, RESERVED_TAG_PREFIX, Tag
from dns_certificate.zonetag import ZONES_TAG

from .resource_properties import parse, raw, refusal, tags


def test_tag_limit_when_resource_adds_its_own_tags_leaves_45_for_the_user() -> None:
    own = ownership_tags(
        "arn:aws:cloudformation:eu-west-1:1:stack/s/1", "Certificate", "f" * 40, "a" * 32
    )

    # The four ownership tags and the zones tag the renewal guard reads.
    assert len([*own, Tag(ZONES_TAG, "Z1")]) == OWNERSHIP_TAG_COUNT
    assert MAX_TAGS - OWNERSHIP_TAG_COUNT == 45
    assert all(tag.key.startswith(RESERVED_TAG_PREFIX) for tag in own)
    assert ZONES_TAG.startswith(RESERVED_TAG_PREFIX)


def test_parse_properties_when_45_tags_accepts() -> None:
    assert len(parse(Tags=tags(45)).tags) == 45


def test_parse_properties_when_46_tags_refuses_and_explains_the_reserved_five() -> None:
    reason = refusal(raw(Tags=tags(46)))

    assert "at most 45" in reason
    assert str(OWNERSHIP_TAG_COUNT) in reason


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("k" * 128, "v" * 256),
        ("a", ""),
        ("Team Name_.:/=+-@", "Web + API: /prod @eu"),
        ("café", "naïve"),
        ("awsome", "not reserved"),
        ("dns-certificates", "not the reserved prefix"),
    ],
    ids=["max-lengths", "empty-value", "all-punctuation", "unicode-letters", "aws-no-colon",
         "reserved-prefix-without-colon"],
)  # fmt: skip
def test_parse_properties_when_tag_within_acm_rules_accepts(key: str, value: str) -> None:
    assert parse(Tags=[{"Key": key, "Value": value}]).tags == (Tag(key, value),)


def test_parse_properties_when_tag_value_absent_uses_empty_string() -> None:
    assert parse(Tags=[{"Key": "team"}]).tags == (Tag("team", ""),)


@pytest.mark.parametrize(
    "value",
    [42, 4.5, True, None, ["web"], {"team": "web"}],
    ids=["int", "float", "bool", "null", "list", "object"],
)
def test_parse_properties_when_tag_value_not_a_string_says_it_must_be_a_string(
    value: object,
) -> None:
    reason = refusal(raw(Tags=[{"Key": "team", "Value": value}]))

    assert reason.startswith("Tags[0].Value for 'team' must be a string")
    assert "256" not in reason


@pytest.mark.parametrize(
    "key",
    [42, True, None, ["team"], {"k": "v"}],
    ids=["int", "bool", "null", "list", "object"],
)
def test_parse_properties_when_tag_key_not_a_string_says_it_must_be_a_string(key: object) -> None:
    reason = refusal(raw(Tags=[{"Key": key, "Value": "web"}]))

    assert reason.startswith("Tags[0].Key must be a string")
    assert "128" not in reason


@pytest.mark.parametrize(
    "key",
    ["dns-certificate:x", "DNS-CERTIFICATE:x", "Dns-Certificate:stack-id", "dNs-CeRtIfIcAtE:"],
)
def test_parse_properties_when_tag_key_has_reserved_prefix_in_any_case_refuses(key: str) -> None:
    reason = refusal(raw(Tags=[{"Key": key, "Value": "b"}]))

    assert "Tags[0].Key" in reason
    assert RESERVED_TAG_PREFIX in reason


@pytest.mark.parametrize("key", ["aws:x", "AWS:x", "Aws:cloudformation:stack-name", "aWs:"])
def test_parse_properties_when_tag_key_has_aws_prefix_in_any_case_refuses(key: str) -> None:
    reason = refusal(raw(Tags=[{"Key": key, "Value": "b"}]))

    assert "Tags[0].Key" in reason
    assert "'aws:'" in reason
