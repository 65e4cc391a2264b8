"""The answer to CloudFormation: a body within 4096 bytes, PUT to the URL it was given."""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.request
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dns_certificate.answer import (
    MAX_BODY_BYTES,
    MAX_REASON_CHARACTERS,
    AnswerNotDeliveredError,
    encode_body,
    send_answer,
    url_problem,
)
from local.answers import AnswerServer
from tests.support.clock import FakeClock

from .fakes import SilentServer
from .strategies import FAST

ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def body(**changes: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "Status": "SUCCESS",
        "Reason": "",
        "PhysicalResourceId": ARN,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/web/0a1b2c3d-1234",
        "RequestId": "5a3c4e2b-1111-2222-3333-444455556666",
        "LogicalResourceId": "Certificate",
        "NoEcho": False,
        "Data": {"Arn": ARN, "DomainName": "example.com"},
    }
    answer.update(changes)
    return answer


def decoded(encoded: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(encoded)
    return result


# ---- encode_body ------------------------------------------------------------------------------


def test_encode_body_when_small_keeps_every_field() -> None:
    answer = body(Reason="ok")

    assert decoded(encode_body(answer)) == answer


def test_encode_body_when_data_too_large_drops_the_largest_attribute_first() -> None:
    data = {"Arn": ARN, "Huge": "h" * 3000, "Medium": "m" * 800, "DomainName": "example.com"}

    result = decoded(encode_body(body(Data=data)))

    assert set(result["Data"]) == {"Arn", "Medium", "DomainName"}


def test_encode_body_when_many_attributes_too_large_drops_until_it_fits() -> None:
    data = {"Arn": ARN, **{f"Attribute{index}": "x" * 700 for index in range(10)}}

    encoded = encode_body(body(Data=data))

    assert len(encoded) <= MAX_BODY_BYTES
    assert 1 <= len(decoded(encoded)["Data"]) < len(data)


def test_encode_body_when_arn_is_the_largest_attribute_never_drops_it() -> None:
    long_arn = ARN + "x" * 1500
    data = {"Arn": long_arn, "Records": "r" * 1400, "Other": "o" * 1300}

    result = decoded(encode_body(body(Data=data)))

    assert result["Data"]["Arn"] == long_arn


def test_encode_body_when_still_too_large_without_optional_data_truncates_reason() -> None:
    reason = "The certificate failed: " + "e" * 2000
    answer = body(Reason=reason, PhysicalResourceId="p" * 1024, LogicalResourceId="L" * 255,
                  Data={"Arn": ARN + "x" * 1500, "Extra": "y" * 100})  # fmt: skip

    encoded = encode_body(answer)

    result = decoded(encoded)
    assert len(encoded) <= MAX_BODY_BYTES
    assert set(result["Data"]) == {"Arn"}
    assert result["Reason"].endswith("...")
    assert reason.startswith(result["Reason"][:-3])
    assert result["PhysicalResourceId"] == answer["PhysicalResourceId"]


def test_encode_body_when_reason_is_not_ascii_keeps_as_much_of_it_as_fits() -> None:
    """JSON escapes a non-ASCII character as six bytes: cutting one character per byte over
    the limit used to cut the whole reason down to "..."."""
    reason = "Zertifikat für " + "ü" * 1000
    answer = body(Status="FAILED", Reason=reason, PhysicalResourceId="p" * 1024,
                  Data={"Arn": ARN + "x" * 1500})  # fmt: skip

    encoded = encode_body(answer)

    result = decoded(encoded)
    assert len(encoded) <= MAX_BODY_BYTES
    assert len(encoded) > MAX_BODY_BYTES - 6  # nothing cut that would have fitted
    assert result["Reason"].endswith("...")
    assert reason.startswith(result["Reason"][:-3])
    assert len(result["Reason"]) > 200


def test_encode_body_when_data_fits_after_dropping_keeps_the_reason_whole() -> None:
    reason = "Certificate issued after 3 minutes"

    result = decoded(encode_body(body(Reason=reason, Data={"Arn": ARN, "Big": "b" * 5000})))

    assert result["Reason"] == reason


def test_encode_body_when_reason_is_very_long_caps_it() -> None:
    result = decoded(encode_body(body(Status="FAILED", Reason="r" * 5000)))

    assert len(result["Reason"]) <= MAX_REASON_CHARACTERS


ascii_ids = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=1024)


@FAST
@given(
    reason=st.text(max_size=3000),
    physical_id=ascii_ids.filter(bool),
    data=st.dictionaries(
        st.text(min_size=1, max_size=40).filter(lambda key: key != "Arn"),
        st.text(max_size=2500),
        max_size=8,
    ),
)
def test_encode_body_when_any_content_fits_4096_bytes_and_keeps_required_fields(
    reason: str, physical_id: str, data: dict[str, str]
) -> None:
    answer = body(Status="FAILED", Reason=reason, PhysicalResourceId=physical_id,
                  Data={"Arn": ARN, **data})  # fmt: skip

    encoded = encode_body(answer)

    result = decoded(encoded)
    assert len(encoded) <= MAX_BODY_BYTES
    assert result["Data"]["Arn"] == ARN
    for field in ("Status", "PhysicalResourceId", "StackId", "RequestId", "LogicalResourceId"):
        assert result[field] == answer[field]
    assert set(result["Data"]) <= set(answer["Data"])


# ---- send_answer over real sockets -------------------------------------------------------------


def test_send_answer_when_url_is_plain_http_delivers_it(answer_server: AnswerServer) -> None:
    url = answer_server.new_url()
    answer = body()

    send_answer(url, answer, 5.0)

    (received,) = answer_server.attempts_for(url)
    assert json.loads(received.body) == answer


def test_send_answer_when_delivering_uses_put_with_empty_content_type(
    answer_server: AnswerServer,
) -> None:
    url = answer_server.new_url()

    send_answer(url, body(), 5.0)

    (received,) = answer_server.attempts_for(url)
    assert received.method == "PUT"
    assert received.headers.get("content-type") == ""
    assert int(received.headers["content-length"]) == len(received.body)


def test_send_answer_when_url_is_presigned_keeps_path_and_query(
    answer_server: AnswerServer,
) -> None:
    url = answer_server.new_url()

    send_answer(url, body(), 5.0)

    assert answer_server.base_url + answer_server.attempts_for(url)[0].target == url


def test_send_answer_when_body_too_large_sends_at_most_4096_bytes(
    answer_server: AnswerServer,
) -> None:
    url = answer_server.new_url()

    send_answer(url, body(Reason="r" * 9000, Data={"Arn": ARN, "X": "x" * 9000}), 5.0)

    (answer,) = answer_server.answers_for(url)
    assert len(answer.raw) <= MAX_BODY_BYTES
    assert answer.problems == []


@pytest.mark.parametrize("status", [200, 201, 204])
def test_send_answer_when_status_is_2xx_counts_as_delivered(
    answer_server: AnswerServer, fake_clock: FakeClock, status: int
) -> None:
    answer_server.set_status_code(status)
    url = answer_server.new_url()

    send_answer(url, body(), 5.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert len(answer_server.attempts_for(url)) == 1
    assert fake_clock.sleeps == []


def test_send_answer_when_first_attempt_gets_503_retries_and_delivers(
    answer_server: AnswerServer, fake_clock: FakeClock
) -> None:
    answer_server.set_status_code(200, fail_first=1)
    url = answer_server.new_url()

    send_answer(url, body(), 60.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    first, second = answer_server.attempts_for(url)
    assert (first.status, second.status) == (503, 200)
    assert first.body == second.body
    assert len(fake_clock.sleeps) == 1


@pytest.mark.parametrize("status", [500, 403, 404])
def test_send_answer_when_every_attempt_fails_gives_up_within_budget(
    answer_server: AnswerServer, fake_clock: FakeClock, status: int
) -> None:
    answer_server.set_status_code(status)
    url = answer_server.new_url()
    started = fake_clock.now()

    with pytest.raises(AnswerNotDeliveredError, match=f"HTTP {status}"):
        send_answer(url, body(), 60.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert fake_clock.now() - started <= 60.0
    assert 2 <= len(answer_server.attempts_for(url)) <= 20
    assert answer_server.answers_for(url) == []
    assert fake_clock.sleeps == sorted(fake_clock.sleeps)  # backoff never shrinks


def test_send_answer_when_nothing_listens_gives_up_within_budget(
    unused_port_url: str, fake_clock: FakeClock
) -> None:
    started = fake_clock.now()

    with pytest.raises(AnswerNotDeliveredError):
        send_answer(unused_port_url, body(), 10.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert fake_clock.now() - started <= 10.0


def test_send_answer_when_https_url_points_at_plain_http_server_does_not_deliver(
    answer_server: AnswerServer, fake_clock: FakeClock
) -> None:
    url = answer_server.new_url()
    https_url = url.replace("http://", "https://", 1)

    with pytest.raises(AnswerNotDeliveredError):
        send_answer(https_url, body(), 3.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert answer_server.attempts_for(url) == []


def test_send_answer_when_server_never_answers_times_out_each_attempt(
    silent_server: SilentServer,
) -> None:
    started = time.monotonic()

    with pytest.raises(AnswerNotDeliveredError, match=r"[Tt]imeout"):
        send_answer(silent_server.url, body(), 0.6, attempt_timeout=0.2, sleep=lambda _: None)

    assert time.monotonic() - started < 3.0  # bounded (a silent server never answers)


def test_send_answer_when_not_delivered_never_reveals_the_url(
    answer_server: AnswerServer, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    answer_server.set_status_code(403)
    url = answer_server.new_url()
    signature = url.split("X-Amz-Signature=")[1]
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AnswerNotDeliveredError) as caught:
        send_answer(url, body(), 5.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert signature not in str(caught.value)
    assert "/responses/" not in str(caught.value)
    assert "Answer not delivered" in caplog.messages  # the log was captured...
    assert signature not in caplog.text  # ...and does not hold the URL's signature


# ---- which URLs the sender accepts ----------------------------------------------------------


SECRET = "X-Amz-Signature=topsecret"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fails the test if the sender tries to open any URL; the attempts it made, if any."""
    attempts: list[object] = []

    def refuse(request: object, *args: object, **kwargs: object) -> object:
        attempts.append(request)
        raise AssertionError("the sender made a network attempt")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return attempts


@pytest.mark.parametrize(
    "url",
    [
        f"file:///etc/passwd?{SECRET}",
        f"data:text/plain,{SECRET}",
        f"ftp://127.0.0.1/responses/abc?{SECRET}",
        f"gopher://127.0.0.1:70/{SECRET}",
        f"127.0.0.1:8080/responses/abc?{SECRET}",
        f"cloudformation.example.com/responses/abc?{SECRET}",
        f"//127.0.0.1/responses/abc?{SECRET}",
        f"http://cloudformation.example.com/responses/abc?{SECRET}",
        f"http://127.0.0.1.example.com/responses/abc?{SECRET}",
        f"http://localhost.example.com/responses/abc?{SECRET}",
        f"http://10.0.0.1/responses/abc?{SECRET}",
        f"https:///responses/abc?{SECRET}",
        f"https://[::1/responses/abc?{SECRET}",
        "",
        "   ",
    ],
    ids=[
        "file",
        "data",
        "ftp",
        "gopher",
        "no-scheme-host-port",
        "no-scheme-name",
        "scheme-relative",
        "http-public-host",
        "http-loopback-lookalike",
        "http-localhost-lookalike",
        "http-private-address",
        "https-without-host",
        "malformed-ipv6",
        "empty",
        "blank",
    ],
)
def test_send_answer_when_url_is_not_accepted_refuses_without_network_attempt(
    url: str, no_network: list[object], fake_clock: FakeClock
) -> None:
    with pytest.raises(AnswerNotDeliveredError) as caught:
        send_answer(url, body(), 60.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert no_network == []
    assert fake_clock.sleeps == []
    message = str(caught.value)
    assert message.startswith("Answer not sent: the ResponseURL ")
    assert "topsecret" not in message
    assert "example.com" not in message
    assert "127.0.0.1" not in message


@pytest.mark.parametrize(
    "url",
    [None, 42, b"https://example.com/responses", ["https://example.com/"], {"url": "x"}],
    ids=["none", "int", "bytes", "list", "dict"],
)
def test_send_answer_when_url_is_not_a_string_refuses_without_network_attempt(
    url: Any, no_network: list[object], fake_clock: FakeClock
) -> None:
    with pytest.raises(AnswerNotDeliveredError, match="is not a string"):
        send_answer(url, body(), 60.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert no_network == []
    assert fake_clock.sleeps == []


@pytest.mark.parametrize(
    "url",
    [
        "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/x",
        "HTTPS://S3.AMAZONAWS.COM/x",
        "http://127.0.0.1:8080/responses/abc",
        "http://127.200.3.4/responses/abc",
        "http://localhost:8080/responses/abc",
        "http://LOCALHOST/responses/abc",
        "http://[::1]:8080/responses/abc",
    ],
)
def test_url_problem_when_https_or_http_to_loopback_accepts_it(url: str) -> None:
    assert url_problem(url) is None


def test_send_answer_when_http_to_localhost_delivers_it(answer_server: AnswerServer) -> None:
    url = answer_server.new_url()

    send_answer(url.replace("127.0.0.1", "localhost", 1), body(), 5.0)

    assert len(answer_server.answers_for(url)) == 1


@pytest.mark.parametrize(
    "error",
    [
        TypeError("a str, bytes-like object or None is required"),
        http.client.InvalidURL("URL can't contain control characters"),
        http.client.BadStatusLine("garbage"),
        http.client.IncompleteRead(b""),
        RuntimeError("anything else"),
    ],
    ids=["TypeError", "InvalidURL", "BadStatusLine", "IncompleteRead", "RuntimeError"],
)
def test_send_answer_when_transport_raises_anything_counts_a_failed_attempt(
    monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock, error: Exception
) -> None:
    attempts: list[object] = []

    def failing(request: object, *args: object, **kwargs: object) -> object:
        attempts.append(request)
        raise error

    monkeypatch.setattr(urllib.request, "urlopen", failing)

    with pytest.raises(AnswerNotDeliveredError, match=type(error).__name__) as caught:
        send_answer(
            f"https://s3.amazonaws.com/responses/abc?{SECRET}",
            body(),
            30.0,
            sleep=fake_clock.sleep,
            monotonic=fake_clock.now,
        )

    assert len(attempts) >= 2  # retried: a failed attempt, not a crash
    assert "topsecret" not in str(caught.value)


def test_send_answer_when_first_attempt_raises_type_error_retries_and_delivers(
    monkeypatch: pytest.MonkeyPatch, answer_server: AnswerServer, fake_clock: FakeClock
) -> None:
    url = answer_server.new_url()
    real_urlopen = urllib.request.urlopen
    attempts: list[object] = []

    def flaky(request: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(request)
        if len(attempts) == 1:
            raise TypeError("injected")
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", flaky)

    send_answer(url, body(), 60.0, sleep=fake_clock.sleep, monotonic=fake_clock.now)

    assert len(attempts) == 2
    assert len(answer_server.attempts_for(url)) == 1
