"""intake.classify: every payload sorted before anything acts on it (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from dns_certificate.intake import (
    CertificateEvent,
    DeadInvocation,
    IgnoredEvent,
    Malformed,
    Refusal,
    Request,
    SweepEvent,
    classify,
    hop_of,
    usable_response_url,
)


def request(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": "Create",
        "ResponseURL": "https://s3.amazonaws.com/bucket/key?X-Amz-Signature=abc",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "LogicalResourceId": "Certificate",
        "ResourceProperties": {"DomainName": "example.com"},
    }
    event.update(changes)
    return {k: v for k, v in event.items() if v is not ...}


def test_classify_when_well_formed_is_a_request() -> None:
    assert classify(request()) == Request(request())


@pytest.mark.parametrize("payload", [None, [], "x", 1, 1.5, True, b"{}"])
def test_classify_when_not_an_object_refuses(payload: object) -> None:
    assert isinstance(classify(payload), Refusal)


@pytest.mark.parametrize(
    "url",
    [
        ...,
        None,
        "",
        7,
        "file:///etc/passwd",
        "data:text/plain,x",
        "ftp://example.com/",
        "http://example.com/",
        "https://",
        "http://[::1",
    ],
)
def test_classify_when_response_url_unusable_refuses(url: object) -> None:
    assert isinstance(classify(request(ResponseURL=url)), Refusal)


@pytest.mark.parametrize(
    "url",
    ["https://example.com/x", "http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]/x"],
)
def test_usable_response_url_when_https_or_loopback_http_accepts(url: str) -> None:
    assert usable_response_url(url)


@pytest.mark.parametrize("field", ["StackId", "RequestId", "LogicalResourceId"])
@pytest.mark.parametrize("value", [..., None, "", 5, ["x"], "x" * 2049])
def test_classify_when_identity_field_unusable_refuses(field: str, value: object) -> None:
    assert isinstance(classify(request(**{field: value})), Refusal)


@pytest.mark.parametrize("request_type", [..., None, "create", "Poll", 1])
def test_classify_when_request_type_unknown_is_malformed_as_create(request_type: object) -> None:
    intake = classify(request(RequestType=request_type))

    assert isinstance(intake, Malformed)
    assert intake.event["RequestType"] == "Create"
    assert "RequestType" in intake.reason


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"PhysicalResourceId": 5}, "PhysicalResourceId"),
        ({"ResourceProperties": ["x"]}, "ResourceProperties"),
        ({"OldResourceProperties": "x"}, "OldResourceProperties"),
        ({"Continuation": ["x"]}, "continuation"),
        ({"Continuation": "x"}, "continuation"),
    ],
)
def test_classify_when_a_field_has_the_wrong_shape_is_malformed(
    changes: dict[str, Any], named: str
) -> None:
    intake = classify(request(**changes))

    assert isinstance(intake, Malformed)
    assert named in intake.reason


def test_classify_when_crhelper_private_keys_present_drops_them() -> None:
    intake = classify(
        request(CrHelperPoll=True, CrHelperData={"Arn": "x"}, CrHelperRule="r", CrHelperX=1)
    )

    assert isinstance(intake, Request)
    assert not [key for key in intake.event if key.startswith("CrHelper")]


def destination(payload: object, condition: object = "RetriesExhausted") -> dict[str, Any]:
    return {"requestContext": {"condition": condition}, "requestPayload": payload}


def test_classify_when_destination_record_of_a_request_is_a_dead_invocation() -> None:
    intake = classify(destination(request()))

    assert intake == DeadInvocation(request(), "RetriesExhausted")


def test_classify_when_destination_record_without_condition_says_unknown() -> None:
    intake = classify({"requestContext": "x", "requestPayload": request()})

    assert intake == DeadInvocation(request(), "unknown")


@pytest.mark.parametrize(
    "payload",
    [
        {"source": "aws.events", "detail-type": "Scheduled Event", "resources": [], "detail": {}},
        {"source": "aws.acm", "detail-type": "ACM Certificate Renewal Action Required"},
    ],
    ids=["sweep", "acm-event"],
)
def test_classify_when_destination_record_of_a_guard_event_is_ignored_not_refused(
    payload: dict[str, Any],
) -> None:
    """A renewal-guard invocation that died has no stack to answer: it is not a refused
    request (an error), just logged; the next event or sweep checks again."""
    intake = classify(destination(payload, "RetriesExhausted"))

    assert isinstance(intake, IgnoredEvent)
    assert intake.source == payload["source"]
    assert intake.detail_type == payload["detail-type"]
    assert "RetriesExhausted" in intake.why and "renewal guard" in intake.why


@pytest.mark.parametrize(
    "payload",
    [
        request(source="aws.events", **{"detail-type": "Scheduled Event"}),
        request(RequestType="Rename", source="aws.acm", **{"detail-type": "x"}),
    ],
    ids=["request", "malformed-request"],
)
def test_classify_when_destination_record_of_a_request_with_event_keys_is_a_dead_invocation(
    payload: dict[str, Any],
) -> None:
    """A request is told from a guard event by its ResponseURL, not by `source` and
    `detail-type` it may also carry: its died invocation still gets its FAILED answer."""
    intake = classify(destination(payload))

    assert isinstance(intake, DeadInvocation)
    assert intake.event["ResponseURL"] == payload["ResponseURL"]


@pytest.mark.parametrize("payload", [None, "x", request(ResponseURL=...), destination(request())])
def test_classify_when_destination_record_wraps_no_request_refuses(payload: object) -> None:
    """Also a record of a record: a failing destination invocation cannot loop."""
    assert isinstance(classify(destination(payload)), Refusal)


@pytest.mark.parametrize(
    ("continuation", "hop"),
    [(None, 0), ({"hop": 3}, 3), ({"hop": "3"}, 0), ({"hop": True}, 0), ({"hop": -1}, 0), ([], 0)],
)
def test_hop_of_when_continuation_varies(continuation: object, hop: int) -> None:
    event = request() if continuation is None else request(Continuation=continuation)
    assert hop_of(event) == hop


# ---- EventBridge events: the renewal guard ------------------------------------------------

ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def _acm(
    detail_type: str = "ACM Certificate Renewal Action Required", **extra: object
) -> dict[str, Any]:
    event: dict[str, object] = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "aws.acm",
        "account": "123456789012",
        "time": "2020-09-30T06:51:08Z",
        "region": "eu-west-1",
        "resources": [ARN],
        "detail": {"DaysToExpiry": 31, "CommonName": "example.com"},
    }
    event.update(extra)
    return event


@pytest.mark.parametrize(
    "detail_type",
    ["ACM Certificate Renewal Action Required", "ACM Certificate Approaching Expiration"],
)
def test_classify_when_acm_event_for_a_certificate_is_a_certificate_event(
    detail_type: str,
) -> None:
    assert classify(_acm(detail_type)) == CertificateEvent(detail_type, (ARN,))


def test_classify_when_scheduled_event_is_a_sweep() -> None:
    event = {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "resources": [],
        "detail": {},
    }

    assert classify(event) == SweepEvent()


@pytest.mark.parametrize(
    "event",
    [
        _acm("ACM Certificate Expired"),
        _acm(source="aws.s3"),
        _acm(resources="not a list"),
        _acm(resources=[]),
        _acm(resources=[ARN, "arn:aws:s3:::bucket"]),
        _acm(resources=[{"arn": ARN}]),
        _acm(resources=[ARN] * 11),
        {"source": "aws.events", "detail-type": "Object Created"},
        {"source": ["aws.acm"], "detail-type": {"x": 1}},
        _acm({"x": 1}),  # type: ignore[arg-type]
        _acm(["ACM Certificate Renewal Action Required"]),  # type: ignore[arg-type]
        {"source": "aws.events", "detail-type": ["Scheduled Event"]},
    ],
)
def test_classify_when_event_is_unknown_or_malformed_ignores_it(event: dict[str, Any]) -> None:
    intake = classify(event)

    assert isinstance(intake, IgnoredEvent)
    assert len(intake.source) <= 80 and len(intake.detail_type) <= 80


def test_classify_when_a_request_has_a_response_url_it_is_never_an_eventbridge_event() -> None:
    event = _acm(ResponseURL="https://example.com/answer")

    assert isinstance(classify(event), Refusal)
