"""Bad inputs: every entry of bad_inputs.json is answered FAILED, naming the property, with no
AWS call.

Each entry goes through the real `app.lambda_handler` as a Create (events/create.json with its
ResourceProperties replaced), against moto in-process, and its answer is read from the local
ResponseURL server. AWS calls are counted twice: by the harness's instrumented clients, and by
a hook on every botocore client in the process (so a client built anywhere else, STS for a
Route 53 role for instance, is counted too). The requests table (DynamoDB) is the protocol's own
bookkeeping of who answers, not a call on the user's account, and is not counted.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import pytest

from dns_certificate.errors import InvalidPropertyError
from dns_certificate.properties import ACCEPTED_PROPERTIES, OPTION_KEYS, parse_properties
from dns_certificate.validation_options import VALIDATION_OPTION_KEYS
from tests.integration.harness import Harness

from .conftest import Figures

CORPUS_FILE = Path(__file__).with_name("bad_inputs.json")
CORPUS: dict[str, Any] = json.loads(CORPUS_FILE.read_text())
BAD_INPUTS: list[dict[str, Any]] = CORPUS["bad_inputs"]
VALID_AT_LIMIT: list[dict[str, Any]] = CORPUS["valid_at_limit"]
SECTION = "bad inputs"
MIN_TRIED = 80
SERVICE_TOKEN = "arn:aws:lambda:eu-west-1:123456789012:function:dns-certificate-certificate"
#: CloudFormation sets ServiceToken itself and the resource reads nothing from it: no entry
#: can make it a bad input.
NOT_VALIDATED = frozenset({"ServiceToken"})


def top_level(expect_property: str) -> str:
    """'DomainValidationOptions[0].HostedZoneId' -> 'DomainValidationOptions'."""
    return re.split(r"[.\[]", expect_property, maxsplit=1)[0]


def names_property(reason: str, expect_property: str) -> bool:
    """The reason names the property before any list of accepted names it may append."""
    return expect_property in reason.split("; accepted:")[0]


@pytest.fixture
def every_api_call(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every API call any botocore client in this process makes, as 'service.Operation'."""
    made: list[str] = []
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        service = self.meta.service_model.service_name
        if service != "dynamodb":  # the requests table: bookkeeping, not the user's resources
            made.append(f"{service}.{operation_name}")
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    yield made


# ---- the corpus itself -----------------------------------------------------------------------


def test_corpus_when_loaded_has_at_least_90_entries_with_unique_ids() -> None:
    ids = [entry["id"] for entry in BAD_INPUTS + VALID_AT_LIMIT]

    assert len(BAD_INPUTS) >= 90
    assert len(ids) == len(set(ids))
    for entry in BAD_INPUTS:
        assert set(entry) == {"id", "properties", "expect_property"}, entry["id"]
        assert "ServiceToken" not in entry["properties"], entry["id"]


def test_corpus_when_loaded_covers_every_accepted_property() -> None:
    named = {top_level(entry["expect_property"]) for entry in BAD_INPUTS}
    nested = {entry["expect_property"] for entry in BAD_INPUTS}

    assert set(ACCEPTED_PROPERTIES) - NOT_VALIDATED <= named
    for key in VALIDATION_OPTION_KEYS:
        assert any(re.fullmatch(rf"DomainValidationOptions\[\d+\]\.{key}", n) for n in nested), key
    for key in OPTION_KEYS:
        assert f"Options.{key}" in nested, key


@pytest.mark.parametrize("entry", VALID_AT_LIMIT, ids=[entry["id"] for entry in VALID_AT_LIMIT])
def test_valid_at_limit_when_parsed_is_accepted(entry: dict[str, Any]) -> None:
    try:
        parse_properties({"ServiceToken": SERVICE_TOKEN, **entry["properties"]})
    except InvalidPropertyError as error:
        pytest.fail(f"{entry['id']} refused: {error.reason}")


# ---- the figures -----------------------------------------------------------------------------


def test_bad_inputs_when_created_are_answered_failed_naming_the_property_without_aws_calls(
    harness: Harness, every_api_call: list[str], figures: Figures
) -> None:
    started = time.perf_counter()
    named: list[str] = []
    untouched: list[str] = []
    problems: list[str] = []
    for entry in BAD_INPUTS:
        event = harness.event("create.json", properties=entry["properties"])
        mark, api_before, invokes_before = (
            harness.calls.mark(),
            len(every_api_call),
            len(harness.self_invokes),
        )
        try:
            answer = harness.invoke(event)
        except Exception as error:  # the handler must never crash: count it as a miss
            problems.append(f"{entry['id']}: {type(error).__name__}: {error}")
            continue
        calls = [f"{c.service}.{c.operation}" for c in harness.calls.calls[mark:]]
        calls += every_api_call[api_before:]
        if not calls and len(harness.self_invokes) == invokes_before:
            untouched.append(entry["id"])
        else:
            problems.append(f"{entry['id']}: AWS calls {sorted(set(calls))}")
        if answer is None:
            problems.append(f"{entry['id']}: no answer")
        elif answer.status != "FAILED" or not names_property(
            answer.reason, entry["expect_property"]
        ):
            problems.append(
                f"{entry['id']}: {answer.status} {answer.reason[:120]!r} does not name "
                f"{entry['expect_property']!r}"
            )
        else:
            named.append(entry["id"])
    elapsed = time.perf_counter() - started

    tried = len(BAD_INPUTS)
    figures.record(SECTION, "bad inputs tried", tried, f">= {MIN_TRIED}", tried >= MIN_TRIED)
    figures.record(
        SECTION, "answered FAILED naming the property", len(named), f"= {tried}",
        len(named) == tried,
    )  # fmt: skip
    figures.record(
        SECTION, "with zero AWS calls", len(untouched), f"= {tried}", len(untouched) == tried
    )
    figures.record(SECTION, "seconds for all bad inputs", f"{elapsed:.1f}")
    assert tried >= MIN_TRIED
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:30])
    assert len(named) == tried
    assert len(untouched) == tried
    assert harness.certificates() == []
