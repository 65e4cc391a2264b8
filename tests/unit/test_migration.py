"""The migration's pure decisions (migration.py), without AWS."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dns_certificate.certificates import CertificateView, DomainValidation, MethodUpdate
from dns_certificate.migration import (
    KEEP_MIGRATED,
    MIGRATE,
    needs_start,
    plan_method_change,
    progress,
)
from dns_certificate.planning import ValidationRecord, identity_fingerprint
from dns_certificate.properties import parse_properties

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f3e5a7c-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
NAMES = ("example.com", "www.example.com")
BASE = {"DomainName": "example.com", "SubjectAlternativeNames": ["www.example.com"]}
EMAIL = parse_properties({**BASE, "ValidationMethod": "EMAIL"}).identity()
DNS = parse_properties({**BASE, "ValidationMethod": "DNS"}).identity()
MIGRATED = MethodUpdate("SUCCESS", "EMAIL", "DNS")


def view(status: str = "ISSUED", update: MethodUpdate | None = None) -> CertificateView:
    return CertificateView(ARN, status, None, "example.com", {}, method_update=update)


def record(name: str) -> ValidationRecord:
    return ValidationRecord(name, f"_x.{name}.", "CNAME", f"_y.{name}.acm-validations.aws.")


def validation(name: str, active: str, with_record: bool = True) -> DomainValidation:
    return DomainValidation(name, active, record=record(name) if with_record else None)


# ---- plan_method_change ---------------------------------------------------------------------


@pytest.mark.parametrize("tagged", [True, False])
def test_plan_when_an_issued_email_certificate_asks_for_dns_migrates(tagged: bool) -> None:
    tag = identity_fingerprint(EMAIL) if tagged else None
    change = plan_method_change(
        desired=DNS, old=EMAIL, desired_as_email=EMAIL, current_fingerprint=tag, view=view()
    )
    assert change is not None and change.kind == MIGRATE
    assert change.identity_tag == tag  # kept until the migration is done


@pytest.mark.parametrize("status", ["PENDING_VALIDATION", "EXPIRED", "FAILED"])
def test_plan_when_the_email_certificate_is_not_issued_replaces(status: str) -> None:
    change = plan_method_change(
        desired=DNS,
        old=EMAIL,
        desired_as_email=EMAIL,
        current_fingerprint=identity_fingerprint(EMAIL),
        view=view(status),
    )
    assert change is None


def test_plan_when_another_fixed_property_changes_too_replaces() -> None:
    more = replace(DNS, names=DNS.names | {"api.example.com"})
    change = plan_method_change(
        desired=more,
        old=EMAIL,
        desired_as_email=replace(more, validation_method="EMAIL"),
        current_fingerprint=identity_fingerprint(EMAIL),
        view=view(),
    )
    assert change is None


def test_plan_when_the_tag_names_neither_certificate_replaces() -> None:
    change = plan_method_change(
        desired=DNS, old=EMAIL, desired_as_email=EMAIL, current_fingerprint="0" * 40, view=view()
    )
    assert change is None


def test_plan_when_the_stack_already_says_dns_but_the_tag_says_email_migrates() -> None:
    """An earlier migration was not waited for: the old properties are DNS already."""
    change = plan_method_change(
        desired=DNS,
        old=DNS,
        desired_as_email=EMAIL,
        current_fingerprint=identity_fingerprint(EMAIL),
        view=view(),
    )
    assert change is not None and change.kind == MIGRATE


def test_plan_when_email_is_asked_of_a_migrated_certificate_keeps_it() -> None:
    tag = identity_fingerprint(DNS)
    change = plan_method_change(
        desired=EMAIL,
        old=DNS,
        desired_as_email=EMAIL,
        current_fingerprint=tag,
        view=view(update=MIGRATED),
    )
    assert change is not None and change.kind == KEEP_MIGRATED
    assert change.identity_tag == tag


@pytest.mark.parametrize(
    "update",
    [
        None,
        MethodUpdate("FAILED", "EMAIL", "DNS"),
        MethodUpdate("PENDING_DOMAIN_VALIDATION", "EMAIL", "DNS"),
    ],
)
def test_plan_when_email_is_asked_of_a_certificate_not_migrated_replaces(
    update: MethodUpdate | None,
) -> None:
    """A certificate requested with DNS (or not migrated yet) cannot become email-validated."""
    change = plan_method_change(
        desired=EMAIL,
        old=DNS,
        desired_as_email=EMAIL,
        current_fingerprint=identity_fingerprint(DNS),
        view=view(update=update),
    )
    assert change is None


# ---- needs_start ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (None, True),
        (MethodUpdate("FAILED", "EMAIL", "DNS"), True),  # a new attempt
        (MethodUpdate("PENDING_DOMAIN_VALIDATION", "EMAIL", "DNS"), False),
        (MethodUpdate("SUCCESS", "EMAIL", "DNS"), False),
    ],
)
def test_needs_start(update: MethodUpdate | None, expected: bool) -> None:
    assert needs_start(update) is expected


# ---- progress -------------------------------------------------------------------------------

STARTED = 1_000_000.0


def test_progress_when_every_name_is_active_dns_and_acm_says_success_is_done() -> None:
    done = progress(
        NAMES,
        [validation(n, "DNS") for n in NAMES],
        MethodUpdate("SUCCESS", "EMAIL", "DNS", changed_at=STARTED + 5),
        STARTED,
    )
    assert done.done and not done.failed and done.pending == ()


def test_progress_while_acm_still_says_pending_is_not_done() -> None:
    now = progress(
        NAMES,
        [validation(n, "DNS") for n in NAMES],
        MethodUpdate("PENDING_DOMAIN_VALIDATION", "EMAIL", "DNS", changed_at=STARTED),
        STARTED,
    )
    assert not now.done and not now.failed


def test_progress_lists_the_names_not_yet_dns_and_the_records_not_yet_known() -> None:
    now = progress(
        NAMES,
        [validation("example.com", "EMAIL"), validation("www.example.com", "EMAIL", False)],
        MethodUpdate("PENDING_DOMAIN_VALIDATION", "EMAIL", "DNS", changed_at=STARTED),
        STARTED,
    )
    assert now.pending == NAMES
    assert set(now.records) == {"example.com"}
    assert now.missing_records == ("www.example.com",)


def test_progress_when_acm_says_failed_since_the_request_started_has_failed() -> None:
    now = progress(
        NAMES,
        [validation(n, "EMAIL") for n in NAMES],
        MethodUpdate("FAILED", "EMAIL", "DNS", changed_at=STARTED + 30),
        STARTED,
    )
    assert now.failed and not now.done and now.pending == NAMES


def test_progress_when_the_failure_is_an_earlier_attempts_keeps_waiting() -> None:
    now = progress(
        NAMES,
        [validation(n, "EMAIL") for n in NAMES],
        MethodUpdate("FAILED", "EMAIL", "DNS", changed_at=STARTED - 3600),
        STARTED,
    )
    assert not now.failed and not now.done


def test_plan_when_the_certificate_is_private_replaces() -> None:
    """A private certificate (CertificateAuthorityArn) is not validated: ACM has nothing to
    migrate, so EMAIL → DNS stays the replacement it always was."""
    pca = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/1234"
    email = replace(EMAIL, certificate_authority_arn=pca)
    dns = replace(DNS, certificate_authority_arn=pca)
    change = plan_method_change(
        desired=dns,
        old=email,
        desired_as_email=email,
        current_fingerprint=identity_fingerprint(email),
        view=view(),
    )
    assert change is None
