"""The continuation: state carried from one invocation to the next, stored in the requests table
under an unguessable reference that the next invocation's event carries (issue 18)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.continuation import (
    CONTINUATION_KEY,
    MAX_HOPS,
    RECORDS_WRITTEN,
    REFERENCE_KEY,
    REQUESTED,
    Continuation,
    MemoryContinuations,
    binding_of,
    lambda_self_invoke,
    load_state,
    next_event,
)
from dns_certificate.errors import ContinuationError

from .strategies import FAST

ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
EVENT: dict[str, Any] = {
    "RequestType": "Create",
    "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:dns-certificate",
    "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x",
    "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/web/0a1b",
    "RequestId": "5a3c4e2b-1111-2222-3333-444455556666",
    "LogicalResourceId": "Certificate",
    "ResourceType": "Custom::DnsValidatedCertificate",
    "ResourceProperties": {"DomainName": "example.com", "SubjectAlternativeNames": ["a.b.co"]},
}

times = st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False)
dns_names = st.from_regex(r"[a-z0-9*.-]{1,40}", fullmatch=True)
zone_ids = st.from_regex(r"[A-Z0-9]{1,32}", fullmatch=True)
states = st.builds(
    Continuation,
    action=st.sampled_from(["create", "replace", "in_place", "delete"]),
    started_at=times,
    deadline=times,
    hop=st.integers(min_value=0, max_value=MAX_HOPS - 1),
    phase=st.sampled_from([REQUESTED, RECORDS_WRITTEN]),
    certificate_arn=st.none() | st.just(ARN),
    records_written_at=st.none() | times,
    diagnosed=st.booleans(),
    zones=st.lists(st.tuples(dns_names, zone_ids, dns_names), max_size=3).map(tuple),
)


def over_the_wire(payload: Mapping[str, Any]) -> dict[str, Any]:
    """What the next invocation receives: the payload as Lambda's JSON."""
    return cast(dict[str, Any], json.loads(json.dumps(payload)))


def handed_over(state: Continuation, event: Mapping[str, Any] = EVENT) -> Continuation | None:
    """The state the next invocation reads: stored, referenced, sent as JSON, loaded back."""
    store = MemoryContinuations()
    return load_state(over_the_wire(next_event(event, state, store)), store)


# ---- round trip -------------------------------------------------------------------------------


@FAST
@given(states)
def test_continuation_when_sent_through_json_comes_back_equal_with_next_hop(
    state: Continuation,
) -> None:
    received = handed_over(state)

    assert received == state.advanced(hop=state.hop + 1)


@FAST
@given(states)
def test_continuation_to_json_when_read_back_is_equal(state: Continuation) -> None:
    assert Continuation.from_json(over_the_wire(state.to_json())) == state


def test_load_state_when_first_invocation_is_none() -> None:
    assert load_state(EVENT, MemoryContinuations()) is None


def test_continuation_from_json_when_optional_fields_absent_uses_defaults() -> None:
    state = Continuation.from_json({"action": "create", "started_at": 1.0, "deadline": 2.0})

    assert state == Continuation("create", 1.0, 2.0, hop=0, phase=REQUESTED, certificate_arn=None)


# ---- malformed state --------------------------------------------------------------------------

VALID: dict[str, Any] = {"action": "create", "started_at": 1.0, "deadline": 2.0, "hop": 1}


@pytest.mark.parametrize(
    "state",
    [
        {k: v for k, v in VALID.items() if k != "action"},
        {k: v for k, v in VALID.items() if k != "started_at"},
        {k: v for k, v in VALID.items() if k != "deadline"},
        {**VALID, "started_at": "yesterday"},
        {**VALID, "deadline": None},
        {**VALID, "deadline": [1]},
        {**VALID, "hop": "second"},
        {**VALID, "hop": None},
    ],
    ids=["no-action", "no-start", "no-deadline", "start-not-a-number", "deadline-null",
         "deadline-a-list", "hop-not-a-number", "hop-null"],
)  # fmt: skip
def test_continuation_from_json_when_fields_missing_or_mistyped_raises(
    state: dict[str, Any],
) -> None:
    with pytest.raises(ContinuationError, match="malformed"):
        Continuation.from_json(state)


@pytest.mark.parametrize("state", ["create", ["create", 1.0, 2.0], 42])
def test_continuation_from_json_when_state_is_not_an_object_raises(state: object) -> None:
    with pytest.raises(ContinuationError, match="malformed"):
        Continuation.from_json(state)


@pytest.mark.parametrize("entry", ["create", ["create", 1.0, 2.0], 42])
def test_load_state_when_continuation_entry_is_not_an_object_refuses(entry: object) -> None:
    # Treating it as a first invocation would restart the clock and the hop count.
    with pytest.raises(ContinuationError, match="malformed"):
        load_state({**EVENT, CONTINUATION_KEY: entry}, MemoryContinuations())


# ---- next_event -------------------------------------------------------------------------------


def test_next_event_when_below_max_hops_increments_hop() -> None:
    state = Continuation("create", 1.0, 2.0, hop=MAX_HOPS - 1)

    payload = next_event(EVENT, state, MemoryContinuations())

    assert payload[CONTINUATION_KEY]["hop"] == MAX_HOPS


def test_next_event_when_max_hops_reached_raises_and_stores_nothing() -> None:
    store = MemoryContinuations()

    with pytest.raises(ContinuationError, match=str(MAX_HOPS)):
        next_event(EVENT, Continuation("create", 1.0, 2.0, hop=MAX_HOPS), store)

    assert store._states == {}


def test_max_hops_when_waiting_an_hour_on_short_invocations_is_enough() -> None:
    # An hour of waiting in invocations of 60 s (30 s usable each) needs 120 hops.
    assert MAX_HOPS >= 3600 // 30


@FAST
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=20).filter(lambda key: key != CONTINUATION_KEY),
        st.text(max_size=20) | st.integers() | st.lists(st.text(max_size=5), max_size=3),
        max_size=8,
    ),
    states,
)
def test_next_event_when_any_event_keeps_every_original_key_and_value(
    extra: dict[str, Any], state: Continuation
) -> None:
    event = {**EVENT, **extra}

    payload = next_event(event, state, MemoryContinuations())

    assert {key: value for key, value in payload.items() if key != CONTINUATION_KEY} == event


def test_next_event_when_event_already_continued_replaces_the_old_reference() -> None:
    store = MemoryContinuations()
    first = next_event(EVENT, Continuation("create", 1.0, 2.0, hop=0), store)

    second = next_event(
        first, Continuation("create", 1.0, 2.0, hop=1, phase=RECORDS_WRITTEN), store
    )

    assert second[CONTINUATION_KEY]["hop"] == 2
    assert second[CONTINUATION_KEY][REFERENCE_KEY] != first[CONTINUATION_KEY][REFERENCE_KEY]
    loaded = load_state(over_the_wire(second), store)
    assert loaded is not None and loaded.phase == RECORDS_WRITTEN
    assert CONTINUATION_KEY not in json.dumps(second[CONTINUATION_KEY])


def test_next_event_when_called_leaves_the_original_event_untouched() -> None:
    event = dict(EVENT)

    next_event(event, Continuation("create", 1.0, 2.0), MemoryContinuations())

    assert event == EVENT


# ---- the reference (issue 18: continuations carry no authority) ------------------------------


def test_next_event_when_handing_off_carries_only_a_reference_and_the_hop() -> None:
    state = Continuation("create", 1.0, 2.0, phase=RECORDS_WRITTEN, certificate_arn=ARN)

    entry = next_event(EVENT, state, MemoryContinuations())[CONTINUATION_KEY]

    assert set(entry) == {REFERENCE_KEY, "hop"}
    assert entry["hop"] == 1
    assert len(entry[REFERENCE_KEY]) == 43
    assert ARN not in json.dumps(entry)


def test_next_event_when_handing_off_twice_gives_unrelated_references() -> None:
    store = MemoryContinuations()
    state = Continuation("create", 1.0, 2.0)

    references = {
        next_event({**EVENT, "RequestId": str(n)}, state, store)[CONTINUATION_KEY][REFERENCE_KEY]
        for n in range(20)
    }

    assert len(references) == 20


def test_memory_continuations_when_saving_keep_no_reference_in_the_clear() -> None:
    store = MemoryContinuations()

    reference = next_event(EVENT, Continuation("create", 1.0, 2.0), store)[CONTINUATION_KEY][
        REFERENCE_KEY
    ]

    assert reference not in repr(store._states) + repr(store._latest)


def _continued() -> tuple[MemoryContinuations, dict[str, Any]]:
    store = MemoryContinuations()
    payload = over_the_wire(next_event(EVENT, Continuation("create", 1.0, 2.0), store))
    store.supersede_others(binding_of(payload), payload[CONTINUATION_KEY][REFERENCE_KEY])
    return store, payload


def test_load_state_when_reference_is_random_refuses_it_as_unknown() -> None:
    store, payload = _continued()
    payload[CONTINUATION_KEY][REFERENCE_KEY] = "A" * 43

    with pytest.raises(ContinuationError, match="unknown"):
        load_state(payload, store)


def test_load_state_when_reference_was_superseded_by_a_later_hand_off_refuses_it() -> None:
    store, first = _continued()
    loaded = load_state(first, store)
    assert loaded is not None
    payload = next_event(first, loaded, store)  # the first continuation handed off again
    # ...and the next invocation accepted it (context.hand_off, after invoke_self):
    store.supersede_others(binding_of(first), payload[CONTINUATION_KEY][REFERENCE_KEY])

    with pytest.raises(ContinuationError, match="already used"):
        load_state(first, store)


@pytest.mark.parametrize(
    "change",
    [
        {"ResponseURL": "https://attacker.example/answer"},
        {"PhysicalResourceId": ARN},
        {"RequestType": "Delete"},
        {"StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/other/0a1b"},
        {"ResourceProperties": {"DomainName": "evil.example.com"}},
    ],
    ids=["another-response-url", "another-physical-id", "another-request-type",
         "another-stack", "other-properties"],
)  # fmt: skip
def test_load_state_when_reference_is_presented_with_another_event_refuses_it(
    change: dict[str, Any],
) -> None:
    store, payload = _continued()

    with pytest.raises(ContinuationError, match="another request"):
        load_state({**payload, **change}, store)


def test_load_state_when_hop_differs_from_the_stored_one_refuses_it() -> None:
    store, payload = _continued()
    payload[CONTINUATION_KEY]["hop"] = 2

    with pytest.raises(ContinuationError, match="hop"):
        load_state(payload, store)


@pytest.mark.parametrize(
    "entry",
    [
        {"hop": 1},
        {REFERENCE_KEY: None, "hop": 1},
        {REFERENCE_KEY: 42, "hop": 1},
        {REFERENCE_KEY: "short", "hop": 1},
        {REFERENCE_KEY: "x" * 101, "hop": 1},
        {REFERENCE_KEY: "é" * 43, "hop": 1},
        {REFERENCE_KEY: "A" * 43},
        {REFERENCE_KEY: "A" * 43, "hop": True},
        {REFERENCE_KEY: "A" * 43, "hop": "1"},
        {"action": "create", "started_at": 1.0, "deadline": 2.0, "hop": 1},
    ],
    ids=["no-reference", "reference-null", "reference-a-number", "reference-too-short",
         "reference-too-long", "reference-not-ascii", "no-hop", "hop-a-boolean", "hop-a-string",
         "a-whole-state-as-before"],
)  # fmt: skip
def test_load_state_when_entry_is_not_a_reference_refuses_it(entry: dict[str, Any]) -> None:
    store, _payload = _continued()

    with pytest.raises(ContinuationError, match="refused"):
        load_state({**EVENT, CONTINUATION_KEY: entry}, store)


@FAST
@given(
    st.sampled_from(sorted(EVENT)),
    st.text(max_size=30) | st.integers() | st.none(),
)
def test_load_state_when_any_field_of_the_event_changes_refuses_the_reference(
    key: str, value: object
) -> None:
    store, payload = _continued()
    if payload[key] == value:
        return

    with pytest.raises(ContinuationError, match="another request"):
        load_state({**payload, key: value}, store)


# ---- the self-invoke --------------------------------------------------------------------------


class FakeLambda:
    def __init__(self, status: int) -> None:
        self.status = status
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(arguments)
        return {"StatusCode": self.status}


def test_lambda_self_invoke_when_called_invokes_asynchronously_with_the_event() -> None:
    client = FakeLambda(202)
    payload = next_event(EVENT, Continuation("create", 1.0, 2.0), MemoryContinuations())

    lambda_self_invoke(cast(Any, client))("arn:aws:lambda:eu-west-1:1:function:f", payload)

    (call,) = client.calls
    assert call["FunctionName"] == "arn:aws:lambda:eu-west-1:1:function:f"
    assert call["InvocationType"] == "Event"
    assert json.loads(call["Payload"]) == payload


def test_lambda_self_invoke_when_lambda_does_not_accept_raises() -> None:
    invoke = lambda_self_invoke(cast(Any, FakeLambda(200)))

    with pytest.raises(ContinuationError, match="200"):
        invoke("arn:aws:lambda:eu-west-1:1:function:f", dict(EVENT))


# ---- the diagnosis' moment (issue 11) -----------------------------------------------------------


def test_continuation_from_older_payload_without_diagnosis_fields_loads_with_defaults() -> None:
    old = {
        "action": "create",
        "started_at": 1000.0,
        "deadline": 4000.0,
        "hop": 1,
        "phase": RECORDS_WRITTEN,
        "certificate_arn": ARN,
    }

    state = Continuation.from_json(old)

    assert state.records_written_at is None
    assert state.diagnosed is False


def test_continuation_carries_records_written_at_and_diagnosed_to_the_next_hop() -> None:
    state = Continuation(
        "create", 1000.0, 4000.0, phase=RECORDS_WRITTEN, records_written_at=1100.5, diagnosed=True
    )

    loaded = handed_over(state)

    assert loaded == state.advanced(hop=1)


@pytest.mark.parametrize("value", ["1100", True, [1]])
def test_continuation_with_records_written_at_not_a_number_is_refused(value: object) -> None:
    data = {
        "action": "create",
        "started_at": 1000.0,
        "deadline": 4000.0,
        "hop": 1,
        "records_written_at": value,
    }

    with pytest.raises(ContinuationError, match="malformed"):
        Continuation.from_json(data)


@pytest.mark.parametrize("written_at", [500.0, 1200.0 + 3600.0])
def test_continuation_check_refuses_records_written_outside_the_request(written_at: float) -> None:
    state = Continuation("create", 1000.0, 4000.0, hop=1, records_written_at=written_at)

    with pytest.raises(ContinuationError, match="records_written_at"):
        state.check(actions=("create",), latest_deadline=4000.0, now=1200.0)


# ---- zones carried ------------------------------------------------------------------------------

ZONE_ID = "Z0123456789ABCDEFGHIJ"


def test_continuation_carries_zones_to_the_next_hop_through_json() -> None:
    state = Continuation(
        "create",
        1000.0,
        4000.0,
        zones=(("example.com", ZONE_ID, "example.com"), ("*.example.com", ZONE_ID, "example.com")),
    )

    loaded = handed_over(state)

    assert loaded == state.advanced(hop=1)


def test_continuation_without_zones_writes_no_zones_key() -> None:
    assert "zones" not in Continuation("create", 1000.0, 4000.0).to_json()


LONG = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61  # 253 characters


@pytest.mark.parametrize(
    "zones",
    [
        "example.com",
        {"example.com": ZONE_ID},
        [["example.com", ZONE_ID]],
        [["example.com", ZONE_ID, "example.com", "extra"]],
        [["example.com", 42, "example.com"]],
        [["example.com", "", "example.com"]],
        [["example.com", "z0123456789abcdefghij", "example.com"]],
        [["example.com", "../hostedzone/Z1", "example.com"]],
        [["example.com", "Z1\n", "example.com"]],
        [["example.com", "Z" * 33, "example.com"]],
        [[LONG + ".example", ZONE_ID, "example.com"]],
        [["example.com", ZONE_ID, "example.com"]] * 101,
    ],
    ids=["a-string", "an-object", "two-parts", "four-parts", "id-a-number", "id-empty",
         "id-lower-case", "id-a-path", "id-with-newline", "id-too-long", "name-too-long",
         "more-entries-than-names"],
)  # fmt: skip
def test_continuation_with_malformed_zones_is_refused(zones: object) -> None:
    data = {"action": "create", "started_at": 1000.0, "deadline": 4000.0, "hop": 1}

    with pytest.raises(ContinuationError, match="malformed"):
        Continuation.from_json({**data, "zones": zones})


def test_continuation_with_a_zone_for_each_of_100_longest_names_fits_lambda_and_dynamodb() -> None:
    """Lambda's asynchronous payload is at most 256 KB: the event (100 names of 253
    characters in its properties, twice for an Update) plus the reference; the state with
    every name's zone is one DynamoDB item, at most 400 KB."""
    names = [f"{index:03d}{LONG[3:]}" for index in range(100)]
    properties = {"DomainName": names[0], "SubjectAlternativeNames": names[1:]}
    event = {**EVENT, "ResourceProperties": properties, "OldResourceProperties": properties}
    state = Continuation(
        "create", 1000.0, 4000.0, zones=tuple((name, "Z" * 32, name) for name in names)
    )

    payload = json.dumps(next_event(event, state, MemoryContinuations())).encode()
    stored = json.dumps(state.to_json(), separators=(",", ":")).encode()

    assert len(payload) < 256 * 1024
    assert len(stored) + len(binding_of(event)) + 200 < 400 * 1024
