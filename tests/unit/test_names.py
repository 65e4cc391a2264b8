"""Domain names: what ACM accepts, in which normal form, and why the rest is refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.errors import MAX_REASON_LENGTH, InvalidPropertyError
from dns_certificate.names import (
    MAX_COMMON_NAME_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_NAME_LENGTH,
    base_name,
    is_subdomain_or_equal,
    is_wildcard,
    normalize_name,
    parse_name,
)

from .strategies import FAST, MODEL_NAME_PATTERN, labels, spelling_variants, valid_names

MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
FIELD = "SubjectAlternativeNames[3]"


def refusal(value: object, *, max_length: int = MAX_NAME_LENGTH, field: str = FIELD) -> str:
    with pytest.raises(InvalidPropertyError) as caught:
        parse_name(value, field=field, max_length=max_length)
    return caught.value.reason


def name_of_length(length: int, *, wildcard: bool = False) -> str:
    """A valid name of exactly `length` characters: labels of up to 63, the last one >= 2."""
    prefix = "*." if wildcard else ""
    parts: list[str] = []
    left = length - len(prefix)
    while True:
        if parts and left <= MAX_LABEL_LENGTH:
            parts.append("b" * left)
            break
        size = min(MAX_LABEL_LENGTH, left - 3)  # room for "." and a two-character label
        parts.append("a" * size)
        left -= size + 1
    name = prefix + ".".join(parts)
    assert len(name) == length
    return name


# ---- accepted names --------------------------------------------------------------------------


@FAST
@given(st.data())
def test_parse_name_when_name_is_valid_returns_normal_form(data: st.DataObject) -> None:
    name = data.draw(valid_names())
    written = data.draw(spelling_variants(name))

    assert parse_name(written, field=FIELD) == name


@FAST
@given(st.data())
def test_parse_name_when_applied_to_its_own_result_returns_it_unchanged(
    data: st.DataObject,
) -> None:
    written = data.draw(spelling_variants(data.draw(valid_names())))

    once = parse_name(written, field=FIELD)

    assert parse_name(once, field=FIELD) == once
    assert normalize_name(once) == once


@FAST
@given(valid_names(max_length=MAX_COMMON_NAME_LENGTH))
def test_parse_name_when_common_name_fits_64_accepts(name: str) -> None:
    assert parse_name(name, field="DomainName", max_length=MAX_COMMON_NAME_LENGTH) == name


@pytest.mark.parametrize(
    ("length", "limit"),
    [(MAX_NAME_LENGTH, MAX_NAME_LENGTH), (MAX_COMMON_NAME_LENGTH, MAX_COMMON_NAME_LENGTH)],
    ids=["san-253", "common-name-64"],
)
def test_parse_name_when_exactly_at_length_limit_accepts(length: int, limit: int) -> None:
    name = name_of_length(length)

    assert parse_name(name, field=FIELD, max_length=limit) == name


def test_parse_name_when_at_limit_with_trailing_dot_accepts_without_the_dot() -> None:
    name = name_of_length(MAX_NAME_LENGTH)

    assert parse_name(name + ".", field=FIELD) == name


def test_parse_name_when_wildcard_is_whole_leftmost_label_accepts() -> None:
    assert parse_name("*.Example.COM.", field=FIELD) == "*.example.com"


def test_parse_name_when_surrounded_by_spaces_strips_them() -> None:
    assert parse_name("  www.example.com ", field=FIELD) == "www.example.com"


@pytest.mark.parametrize("name", ["a.io", "1.2.3.example", "xn--bcher-kva.example", "a--b.co"])
def test_parse_name_when_labels_are_short_numeric_or_inner_hyphen_accepts(name: str) -> None:
    assert parse_name(name, field=FIELD) == name


# ---- agreement with ACM's model pattern ------------------------------------------------------


def _mutations(name: str) -> st.SearchStrategy[str]:
    """Small edits of a valid name: most of them break it in one place."""
    positions = st.integers(min_value=0, max_value=len(name))
    pieces = st.sampled_from(["-", ".", "*", "*.", "_", "..", "a", "-.", ".-", " ", "A"])
    insert = st.tuples(positions, pieces).map(
        lambda pair: name[: pair[0]] + pair[1] + name[pair[0] :]
    )
    delete = positions.map(lambda index: name[:index] + name[index + 1 :])
    return st.one_of(insert, delete)


ascii_candidates = st.one_of(
    valid_names(),
    valid_names().flatmap(_mutations),
    st.text(alphabet="abzAZ09-.*_ ", max_size=40),
    st.lists(labels, min_size=1, max_size=6).map(".".join),
    st.lists(st.text(alphabet="ab-", min_size=60, max_size=70), min_size=2, max_size=5).map(
        ".".join
    ),
)


@FAST
@given(ascii_candidates, st.sampled_from([MAX_NAME_LENGTH, MAX_COMMON_NAME_LENGTH]))
def test_parse_name_when_ascii_string_accepts_exactly_what_model_pattern_and_limits_allow(
    candidate: str, limit: int
) -> None:
    normal = normalize_name(candidate)
    allowed_by_acm = (
        MODEL_NAME.fullmatch(normal) is not None
        and len(normal) <= limit
        and all(len(label) <= MAX_LABEL_LENGTH for label in normal.split("."))
    )

    try:
        accepted = parse_name(candidate, field=FIELD, max_length=limit)
    except InvalidPropertyError:
        assert not allowed_by_acm, f"{normal!r} fits ACM's pattern and limits but was refused"
    else:
        assert allowed_by_acm, f"{normal!r} was accepted but ACM's pattern or limits refuse it"
        assert MODEL_NAME.fullmatch(accepted)
        assert len(accepted) <= limit


# ---- refused names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [".example.com", "www..example.com", "example..com", "*..example.com", "."]
)
def test_parse_name_when_a_label_is_empty_refuses(name: str) -> None:
    reason = refusal(name)

    assert "empty" in reason


@FAST
@given(
    st.data(),
    st.from_regex(r"[a-z0-9][a-z0-9-]{62,90}[a-z0-9]", fullmatch=True),
)
def test_parse_name_when_a_label_is_longer_than_63_refuses(
    data: st.DataObject, long_label: str
) -> None:
    labels_ = data.draw(st.lists(labels, min_size=1, max_size=2))
    position = data.draw(st.integers(min_value=0, max_value=len(labels_) - 1))
    labels_.insert(position, long_label)
    name = ".".join([*labels_, "com"])

    reason = refusal(name)

    assert f"label of {len(long_label)} characters" in reason


@FAST
@given(st.integers(min_value=MAX_NAME_LENGTH + 1, max_value=400), st.booleans())
def test_parse_name_when_longer_than_253_refuses(length: int, wildcard: bool) -> None:
    reason = refusal(name_of_length(length, wildcard=wildcard))

    assert f"is {length} characters long; the limit is {MAX_NAME_LENGTH}" in reason


@pytest.mark.parametrize("length", [MAX_COMMON_NAME_LENGTH + 1, 100, MAX_NAME_LENGTH])
def test_parse_name_when_common_name_longer_than_64_refuses(length: int) -> None:
    reason = refusal(name_of_length(length), max_length=MAX_COMMON_NAME_LENGTH, field="DomainName")

    assert reason.startswith("DomainName ")
    assert f"the limit is {MAX_COMMON_NAME_LENGTH}" in reason


def test_parse_name_when_wildcard_common_name_counts_its_prefix_refuses() -> None:
    name = name_of_length(MAX_COMMON_NAME_LENGTH + 1, wildcard=True)

    reason = refusal(name, max_length=MAX_COMMON_NAME_LENGTH, field="DomainName")

    assert f"the limit is {MAX_COMMON_NAME_LENGTH}" in reason


@pytest.mark.parametrize(
    "name",
    [
        "a*.example.com",
        "www.*.example.com",
        "*a.example.com",
        "*.*.example.com",
        "**.example.com",
        "example.*",
        "*",
        "w*w.example.com",
    ],
)
def test_parse_name_when_wildcard_is_not_the_whole_leftmost_label_refuses(name: str) -> None:
    reason = refusal(name)

    assert "wildcard" in reason


@FAST
@given(valid_names(wildcard=False), st.sampled_from(["-{}", "{}-"]), st.data())
def test_parse_name_when_a_label_starts_or_ends_with_hyphen_refuses(
    name: str, shape: str, data: st.DataObject
) -> None:
    parts = name.split(".")
    index = data.draw(st.integers(min_value=0, max_value=len(parts) - 1))
    parts[index] = shape.format(parts[index])

    reason = refusal(".".join(parts))

    assert "hyphen" in reason


@pytest.mark.parametrize("name", ["_acme.example.com", "a_b.example.com", "example.c_m"])
def test_parse_name_when_name_has_an_underscore_refuses(name: str) -> None:
    reason = refusal(name)

    assert "invalid label" in reason


@FAST
@given(
    valid_names(wildcard=False),
    st.characters(min_codepoint=0x80, categories=["Ll", "Lu", "Lo", "Nd"]),
    st.data(),
)
def test_parse_name_when_a_label_has_a_non_ascii_letter_refuses(
    name: str, letter: str, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=name.index(".")))

    reason = refusal(name[:index] + letter + name[index:])

    assert "non-ASCII" in reason


def test_parse_name_when_non_ascii_suggests_punycode() -> None:
    reason = refusal("bücher.example.com")

    assert "xn--bcher-kva.example.com" in reason


def test_parse_name_when_kelvin_sign_would_lowercase_to_ascii_refuses() -> None:
    # "\u212a".lower() == "k": lower-casing first would turn a non-ASCII name into another one.
    reason = refusal("\u212aelvin.example.com")

    assert "non-ASCII" in reason


@pytest.mark.parametrize("name", ["localhost", "com", "*.com", "localhost."])
def test_parse_name_when_name_has_a_single_label_refuses(name: str) -> None:
    reason = refusal(name)

    assert "two labels" in reason


@pytest.mark.parametrize("name", ["example.c", "www.example.c", "*.example.x"])
def test_parse_name_when_top_level_label_has_one_character_refuses(name: str) -> None:
    reason = refusal(name)

    assert "top-level label" in reason


@pytest.mark.parametrize("value", ["", "   ", None, 42, ["example.com"]])
def test_parse_name_when_value_is_empty_or_not_a_string_refuses(value: object) -> None:
    reason = refusal(value)

    assert reason.startswith(FIELD)


@pytest.mark.parametrize(
    "name",
    ["a..example.com", "a*.example.com", "-a.example.com", "a_b.example.com", "example.c"],
)
def test_parse_name_when_refused_reason_names_field_and_value(name: str) -> None:
    reason = refusal(name)

    assert reason.startswith(f"{FIELD} '{name}'")


@FAST
@given(
    st.text(max_size=400),
    st.sampled_from(["DomainName", "DomainValidationOptions[99].ValidationDomain"]),
)
def test_parse_name_when_refused_reason_fits_255_characters(value: str, field: str) -> None:
    try:
        parse_name(value, field=field)
    except InvalidPropertyError as error:
        assert len(error.reason) <= MAX_REASON_LENGTH
        assert error.reason.startswith(field)


# ---- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normal"),
    [("Example.COM.", "example.com"), (" www.example.com ", "www.example.com"), ("a.b", "a.b")],
)
def test_normalize_name_when_case_or_trailing_dot_differs_returns_lower_without_dot(
    written: str, normal: str
) -> None:
    assert normalize_name(written) == normal


@pytest.mark.parametrize(
    ("name", "wildcard", "base"),
    [("*.example.com", True, "example.com"), ("example.com", False, "example.com")],
)
def test_base_name_when_wildcard_or_not_returns_covered_name(
    name: str, wildcard: bool, base: str
) -> None:
    assert is_wildcard(name) is wildcard
    assert base_name(name) == base


@pytest.mark.parametrize(
    ("name", "parent", "expected"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("notexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
    ],
)
def test_is_subdomain_or_equal_when_suffix_is_whole_labels_only_matches(
    name: str, parent: str, expected: bool
) -> None:
    assert is_subdomain_or_equal(name, parent) is expected
