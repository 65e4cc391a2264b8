"""Issue 9, item 5: an Update from EMAIL to DNS validation migrates the certificate in place."""

from __future__ import annotations

from typing import Any

from dns_certificate.certificates import IDENTITY_TAG
from tests.integration.harness import Harness, carried_state, expected_records

EMAIL = {
    "DomainName": "example.com",
    "SubjectAlternativeNames": ["www.example.com", "www.example.org"],
    "ValidationMethod": "EMAIL",
    "Tags": [{"Key": "team", "Value": "web"}],
}
DNS = {**EMAIL, "ValidationMethod": "DNS"}
#: Every ACM or Route 53 call that changes something.
MUTATIONS = (
    ("acm", "RequestCertificate"),
    ("acm", "UpdateCertificateOptions"),
    ("acm", "AddTagsToCertificate"),
    ("acm", "RemoveTagsFromCertificate"),
    ("acm", "DeleteCertificate"),
    ("route53", "ChangeResourceRecordSets"),
)


def email_certificate(harness: Harness) -> str:
    arn = harness.create(EMAIL)
    assert harness.faults.migrations.methods[arn] == "EMAIL"
    return arn


def update(harness: Harness, arn: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return harness.event("update-tags.json", properties=new, old_properties=old, physical_id=arn)


def mutations_since(harness: Harness, mark: int) -> list[str]:
    return [
        f"{service}:{operation}"
        for service, operation in MUTATIONS
        for _ in harness.calls.since(mark, service, operation)
    ]


def all_records(harness: Harness) -> dict[str, str]:
    records: dict[str, str] = {}
    for zone_id in harness.zones.values():
        records.update({name: r.values[0] for name, r in harness.records(zone_id).items()})
    return records


def migrate(harness: Harness, arn: str) -> None:
    answer = harness.run(update(harness, arn, EMAIL, DNS))
    assert answer.status == "SUCCESS", answer.reason
    assert harness.faults.migrations.runs[arn].status == "SUCCESS"


# ---- the migration --------------------------------------------------------------------------


def test_migration_when_email_becomes_dns_keeps_the_arn_writes_the_records_and_succeeds(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    identity_before = harness.tags(arn)[IDENTITY_TAG]
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, EMAIL, DNS))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert answer.data == {"Arn": arn, "DomainName": "example.com"}
    (call,) = harness.calls.since(mark, "acm", "UpdateCertificateOptions")
    assert call.params == {"CertificateArn": arn, "Options": {"ValidationMethod": "DNS"}}
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.calls.since(mark, "acm", "ListCertificateDomainValidations") != []
    assert all_records(harness) == expected_records(
        ["example.com", "www.example.com", "www.example.org"]
    )
    assert harness.faults.migrations.runs[arn].status == "SUCCESS"
    assert harness.tags(arn)[IDENTITY_TAG] != identity_before  # now the DNS identity
    assert harness.certificates() == [arn]
    assert harness.self_invokes.payloads == []


def test_migration_when_it_outlasts_the_invocation_continues_and_answers_once(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    harness.faults.migrations.looks_to_complete = 20
    event = update(harness, arn, EMAIL, DNS)

    assert harness.invoke(event, harness.context(timeout_seconds=40)) is None
    (_, payload) = harness.self_invokes.payloads[-1]
    assert carried_state(payload).phase == "migration_records_written"
    assert harness.faults.migrations.runs[arn].status == "PENDING_DOMAIN_VALIDATION"
    answer = harness.invoke(payload, harness.context())

    assert answer is not None and answer.status == "SUCCESS", answer and answer.reason
    assert answer.physical_id == arn
    assert len(harness.answers_for(event)) == 1
    assert len(harness.calls.of("acm", "UpdateCertificateOptions")) == 1
    assert len(harness.change_batches()) == 2  # once per zone, in the first invocation
    assert harness.faults.migrations.runs[arn].status == "SUCCESS"


def test_migration_when_records_appear_late_writes_them_once_all_are_known(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    harness.faults.migrations.hidden_record_looks = 3

    answer = harness.run(update(harness, arn, EMAIL, DNS))

    assert answer.status == "SUCCESS", answer.reason
    assert len(harness.change_batches()) == 2
    assert len(all_records(harness)) == 3


def test_migration_when_acm_reports_failed_answers_failed_naming_the_pending_names(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    harness.faults.migrations.fail_after_looks = 3
    harness.faults.migrations.looks_to_complete = 10**6

    answer = harness.run(update(harness, arn, EMAIL, DNS))

    assert answer.status == "FAILED"
    assert answer.physical_id == arn
    assert "FAILED" in answer.reason and arn in answer.reason
    for name in ("'example.com'", "'www.example.com'", "'www.example.org'"):
        assert name in answer.reason
    assert "stays email-validated" in answer.reason
    assert harness.certificates() == [arn]


def test_migration_when_the_deadline_passes_answers_failed_with_the_names_pending(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    harness.faults.migrations.looks_to_complete = 10**6
    start = harness.clock.now()

    answer = harness.run(update(harness, arn, EMAIL, {**DNS, "ServiceTimeout": "120"}))

    assert answer.status == "FAILED"
    assert answer.physical_id == arn
    assert "deadline" in answer.reason and "still pending" in answer.reason
    assert "'www.example.org'" in answer.reason
    assert harness.clock.now() - start <= 120
    assert harness.faults.migrations.runs[arn].status == "PENDING_DOMAIN_VALIDATION"


def test_migration_when_wait_for_issuance_is_false_answers_once_the_records_are_written(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    harness.faults.migrations.looks_to_complete = 10**6
    identity_before = harness.tags(arn)[IDENTITY_TAG]

    answer = harness.run(update(harness, arn, EMAIL, {**DNS, "WaitForIssuance": "false"}))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert len(all_records(harness)) == 3
    assert harness.faults.migrations.runs[arn].status == "PENDING_DOMAIN_VALIDATION"
    # The tag says what the certificate is: still the email identity until ACM says done.
    assert harness.tags(arn)[IDENTITY_TAG] == identity_before
    assert harness.clock.slept < 30


def test_migration_not_waited_for_finishes_in_a_later_update_without_a_second_start(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    no_wait = {**DNS, "WaitForIssuance": "false"}
    harness.faults.migrations.looks_to_complete = 3
    harness.run(update(harness, arn, EMAIL, no_wait))
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, no_wait, DNS))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert harness.calls.since(mark, "acm", "UpdateCertificateOptions") == []
    assert harness.calls.since(mark, "acm", "RequestCertificate") == []
    assert harness.faults.migrations.runs[arn].status == "SUCCESS"


# ---- rollbacks ------------------------------------------------------------------------------


def test_rollback_after_a_failed_migration_answers_success_without_touching_anything(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    harness.faults.migrations.fail_after_looks = 2
    harness.faults.migrations.looks_to_complete = 10**6
    assert harness.run(update(harness, arn, EMAIL, DNS)).status == "FAILED"
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, DNS, EMAIL))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert mutations_since(harness, mark) == []
    assert harness.certificates() == [arn]


def test_rollback_after_a_migration_past_its_deadline_answers_success_untouched(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    harness.faults.migrations.looks_to_complete = 10**6
    failed = harness.run(update(harness, arn, EMAIL, {**DNS, "ServiceTimeout": "120"}))
    assert failed.status == "FAILED"
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, {**DNS, "ServiceTimeout": "120"}, EMAIL))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert mutations_since(harness, mark) == []


def test_rollback_after_a_successful_migration_keeps_the_dns_validated_certificate(
    harness: Harness,
) -> None:
    """ACM cannot migrate back; a new EMAIL certificate would wait for an approval mail."""
    arn = email_certificate(harness)
    migrate(harness, arn)
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, DNS, EMAIL))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    assert mutations_since(harness, mark) == []
    assert harness.certificates() == [arn]


def test_update_after_a_successful_migration_is_an_ordinary_in_place_update(
    harness: Harness,
) -> None:
    arn = email_certificate(harness)
    migrate(harness, arn)
    mark = harness.calls.mark()

    answer = harness.run(
        update(harness, arn, DNS, {**DNS, "Tags": [{"Key": "team", "Value": "platform"}]})
    )

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id == arn
    acm_changes = [m for m in mutations_since(harness, mark) if m.startswith("acm:")]
    assert acm_changes == ["acm:AddTagsToCertificate"]  # records are upserted as usual
    assert harness.tags(arn)["team"] == "platform"


# ---- replacements ---------------------------------------------------------------------------


def test_update_from_dns_to_email_replaces_the_certificate(harness: Harness) -> None:
    arn = harness.create(DNS)
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, DNS, EMAIL))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != arn
    assert harness.calls.since(mark, "acm", "UpdateCertificateOptions") == []
    (request,) = harness.calls.since(mark, "acm", "RequestCertificate")
    assert request.params["ValidationMethod"] == "EMAIL"


def test_update_to_dns_of_an_email_certificate_not_issued_replaces_it(harness: Harness) -> None:
    harness.faults.pending_describes = 3  # the Create's and the Update's look: not issued
    arn = harness.create({**EMAIL, "WaitForIssuance": "false"})
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, {**EMAIL, "WaitForIssuance": "false"}, DNS))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != arn
    assert harness.calls.since(mark, "acm", "UpdateCertificateOptions") == []
    (request,) = harness.calls.since(mark, "acm", "RequestCertificate")
    assert request.params["ValidationMethod"] == "DNS"


def test_update_to_dns_that_also_adds_a_name_replaces_the_certificate(harness: Harness) -> None:
    arn = email_certificate(harness)
    more = {**DNS, "SubjectAlternativeNames": [*DNS["SubjectAlternativeNames"], "api.example.com"]}
    mark = harness.calls.mark()

    answer = harness.run(update(harness, arn, EMAIL, more))

    assert answer.status == "SUCCESS", answer.reason
    assert answer.physical_id != arn
    assert harness.calls.since(mark, "acm", "UpdateCertificateOptions") == []
