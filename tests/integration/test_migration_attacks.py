"""Issue 9, item 5 under attack: the email → DNS migration as ACM, CloudFormation and Lambda
really deliver it (races, refusals, throttling, the timer, private certificates, rollbacks at
every stage)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dns_certificate.certificates import IDENTITY_TAG
from dns_certificate.context import Runtime
from tests.integration.harness import REGION, Harness
from tests.integration.test_migration import (
    DNS,
    EMAIL,
    all_records,
    email_certificate,
    mutations_since,
    update,
)
from tests.integration.test_timeout import HANG, about_to_time_out, run_what_was_handed_on

PCA_ARN = (
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)


class Refuser:
    """Fails the next `times` calls of an ACM operation with an error code of our choosing, or
    makes the next call hang (real time, for crhelper's timer).

    It acts before the request is built: the harness answers UpdateCertificateOptions and
    ListCertificateDomainValidations itself (moto has neither), ahead of any later hook. An
    injected error is one whole failed call, as if botocore's own retries were spent.
    """

    def __init__(self) -> None:
        self.planned: dict[str, tuple[str, int]] = {}
        self.injected: dict[str, int] = {}
        self.hangs: dict[str, list[float]] = {}

    def refuse(self, operation: str, code: str, times: int = 10**6) -> None:
        self.planned[operation] = (code, times)

    def hang(self, operation: str, seconds: list[float]) -> None:
        """The next calls of `operation` hang this long each (0: not at all)."""
        self.hangs[operation] = list(seconds)

    def __call__(self, model: Any, **_: Any) -> None:
        if self.hangs.get(model.name):
            time.sleep(self.hangs[model.name].pop(0))
        code, left = self.planned.get(model.name, ("", 0))
        if left <= 0:
            return
        self.planned[model.name] = (code, left - 1)
        self.injected[model.name] = self.injected.get(model.name, 0) + 1
        raise ClientError(
            {"Error": {"Code": code, "Message": f"{model.name} refused (injected)"}}, model.name
        )


@pytest.fixture
def refuser(runtime: Runtime) -> Iterator[Refuser]:
    refuser = Refuser()
    events = runtime.clients.acm(REGION).meta.events
    for operation in ("UpdateCertificateOptions", "ListCertificateDomainValidations"):
        events.register(f"before-parameter-build.acm.{operation}", refuser)
    yield refuser


# ---- a private certificate has no validation method to migrate -------------------------------


def test_update_of_private_certificate_from_email_to_dns_replaces_it_as_before(
    harness: Harness,
) -> None:
    private_email = {"DomainName": "internal.example.com", "CertificateAuthorityArn": PCA_ARN}
    private_email["ValidationMethod"] = "EMAIL"
    arn = harness.create(private_email)
    private_dns = {**private_email, "ValidationMethod": "DNS"}

    answer = harness.run(update(harness, arn, private_email, private_dns))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != arn
    assert harness.calls.of("acm", "UpdateCertificateOptions") == []


# ---- a migration someone else started between our look and our start --------------------


def test_migration_when_another_caller_starts_it_first_carries_on_with_that_migration(
    harness: Harness,
) -> None:
    """A duplicate delivery without the requests table, a retried hop or the console: ACM
    refuses the second start; the migration that runs is the one asked for."""
    arn = email_certificate(harness)
    harness.faults.migrations.start_races = 1

    answer = harness.run(update(harness, arn, EMAIL, DNS))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.faults.migrations.runs[arn].status == "SUCCESS"
    assert len(all_records(harness)) == 3


# ---- IAM and throttling on the migration's own APIs -----------------------------------------


def test_migration_when_domain_validations_cannot_be_read_fails_before_starting_it(
    harness: Harness, refuser: Refuser
) -> None:
    """A function role deployed before acm:ListCertificateDomainValidations was granted: a
    migration started now could never get its records; nothing is started, the reason says
    which permission is missing."""
    arn = email_certificate(harness)
    refuser.refuse("ListCertificateDomainValidations", "AccessDeniedException")
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, EMAIL, DNS))

    assert answer.status == "FAILED"
    assert answer.physical_id == arn
    assert "acm:ListCertificateDomainValidations" in answer.reason
    assert harness.calls.since(mark, "acm", "UpdateCertificateOptions") == []
    assert arn not in harness.faults.migrations.runs


@pytest.mark.parametrize(
    "operation", ["UpdateCertificateOptions", "ListCertificateDomainValidations"]
)
def test_migration_when_its_apis_stay_throttled_waits_and_migrates_once(
    harness: Harness, refuser: Refuser, operation: str
) -> None:
    arn = email_certificate(harness)
    refuser.refuse(operation, "ThrottlingException", times=8)

    answer = harness.run(update(harness, arn, EMAIL, DNS))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert refuser.injected[operation] == 8
    assert harness.faults.migrations.runs[arn].status == "SUCCESS"


# ---- the timer answers FAILED mid-migration ---------------------------------------------------


def test_migration_when_timer_answers_while_reading_records_writes_none_after_it(
    harness: Harness, refuser: Refuser
) -> None:
    """CloudFormation rolls back to EMAIL after the timer's FAILED: records written now would
    complete a migration the stack no longer asks for."""
    arn = email_certificate(harness)
    # Not the look before the start; the first look of the wait for the records.
    refuser.hang("ListCertificateDomainValidations", [0.0, HANG])
    event = update(harness, arn, EMAIL, DNS)

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None and answer.status == "FAILED"
    assert len(harness.answers_for(event)) == 1
    assert harness.change_batches() == []
    assert harness.faults.migrations.runs[arn].status == "PENDING_DOMAIN_VALIDATION"


def test_migration_when_timer_answers_while_tagging_does_not_start_it(harness: Harness) -> None:
    arn = email_certificate(harness)
    harness.faults.stalls = {"AddTagsToCertificate": [HANG]}
    retagged = {**DNS, "Tags": [{"Key": "team", "Value": "platform"}]}
    event = update(harness, arn, EMAIL, retagged)

    answer = harness.invoke(event, about_to_time_out(harness))
    run_what_was_handed_on(harness)

    assert answer is not None and answer.status == "FAILED"
    assert harness.calls.of("acm", "UpdateCertificateOptions") == []
    assert arn not in harness.faults.migrations.runs


# ---- rollbacks at every stage -----------------------------------------------------------------


def test_rollback_when_records_were_never_published_answers_success_untouched(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    identity_before = harness.tags(arn)[IDENTITY_TAG]
    harness.faults.migrations.hidden_record_looks = 10**6
    short = {**DNS, "ServiceTimeout": "120"}
    failed = harness.run(update(harness, arn, EMAIL, short))
    assert failed.status == "FAILED"
    assert "did not publish" in failed.reason
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, short, EMAIL))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert mutations_since(harness, mark) == []
    assert harness.tags(arn)[IDENTITY_TAG] == identity_before


def test_update_to_dns_again_after_a_failed_migration_starts_a_new_one_and_succeeds(
    harness: Harness,
) -> None:
    """The UpdateSummary still says FAILED (the earlier attempt's) when the retry looks."""
    arn = email_certificate(harness)
    migrations = harness.faults.migrations
    migrations.fail_after_looks = 2
    migrations.looks_to_complete = 10**6
    assert harness.run(update(harness, arn, EMAIL, DNS)).status == "FAILED"
    assert harness.run(update(harness, arn, DNS, EMAIL)).status == "SUCCESS"
    harness.clock.advance(3600)
    migrations.fail_after_looks = None
    migrations.looks_to_complete = 1
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, EMAIL, DNS))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert len(harness.calls.since(mark, "acm", "UpdateCertificateOptions")) == 1
    assert migrations.runs[arn].status == "SUCCESS"
