"""Each finding of the diagnosis, decided from answers alone: no network, no AWS."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dns_certificate.diagnosis import (
    ALL_PASS,
    ANSWER,
    FAIL,
    NODATA,
    NXDOMAIN,
    PASS,
    SERVFAIL,
    SKIPPED,
    UNREACHABLE,
    CaaLookup,
    CaaRecord,
    Diagnosis,
    DnsAnswer,
    Observations,
    ZoneReadBack,
    caa_permits,
    diagnose,
    parse_caa,
    summary_reason,
)
from dns_certificate.errors import MAX_REASON_LENGTH

RECORD = "_abc.example.com."
VALUE = "_def.xyz.acm-validations.aws."
AWS_NS = ("ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net")


def healthy(name: str = "example.com") -> Observations:
    return Observations(
        domain_name=name,
        record_name=RECORD,
        record_value=VALUE,
        zone=ZoneReadBack("Z123", "example.com", AWS_NS, (VALUE,)),
        delegation=DnsAnswer(ANSWER, tuple(f"{ns}." for ns in reversed(AWS_NS))),
        cname=DnsAnswer(ANSWER, (VALUE.upper(),)),
        caa=CaaLookup(owner=None),
    )


def caa(*records: str, owner: str = "example.com") -> CaaLookup:
    parsed = tuple(r for r in (parse_caa(text) for text in records) if r is not None)
    return CaaLookup(owner=owner, records=parsed)


def outcomes(diagnosis: Diagnosis) -> dict[str, str]:
    return {result.check: result.outcome for result in diagnosis.results}


def test_diagnose_when_every_check_passes_says_acm_has_not_validated_yet() -> None:
    diagnosis = diagnose(healthy())

    assert diagnosis.finding == ALL_PASS
    assert diagnosis.failed_check is None
    assert outcomes(diagnosis) == {"record": PASS, "delegation": PASS, "cname": PASS, "caa": PASS}


def test_diagnose_when_record_missing_from_zone_says_so_first() -> None:
    obs = replace(
        healthy(),
        zone=ZoneReadBack("Z123", "example.com", AWS_NS, None),
        cname=DnsAnswer(NXDOMAIN),
    )

    diagnosis = diagnose(obs)

    assert diagnosis.failed_check == "record"
    assert "missing from hosted zone Z123" in diagnosis.finding
    assert outcomes(diagnosis)["cname"] == FAIL  # every check still reported


def test_diagnose_when_record_has_another_value_names_both() -> None:
    obs = replace(healthy(), zone=ZoneReadBack("Z123", "example.com", AWS_NS, ("other.example.",)))

    diagnosis = diagnose(obs)

    assert diagnosis.failed_check == "record"
    assert "has value other.example, not ACM's _def.xyz.acm-validations.aws" in diagnosis.finding


def test_diagnose_when_delegated_elsewhere_names_both_sets_and_the_fix() -> None:
    obs = replace(
        healthy(),
        delegation=DnsAnswer(ANSWER, ("ns2.registrar-dns.net.", "ns1.registrar-dns.net.")),
        cname=DnsAnswer(NXDOMAIN),
    )

    diagnosis = diagnose(obs)

    assert diagnosis.failed_check == "delegation"
    assert diagnosis.finding == (
        "example.com is delegated to ns1.registrar-dns.net, ns2.registrar-dns.net, not to "
        "hosted zone Z123's ns-1.awsdns-01.org, ns-2.awsdns-02.co.uk, ns-3.awsdns-03.com, "
        "ns-4.awsdns-04.net: update the name servers at the registrar"
    )


def test_diagnose_when_zone_domain_does_not_exist_publicly_says_register_it() -> None:
    diagnosis = diagnose(replace(healthy(), delegation=DnsAnswer(NXDOMAIN)))

    assert diagnosis.failed_check == "delegation"
    assert diagnosis.finding.startswith("example.com does not exist in public DNS (NXDOMAIN)")


def test_diagnose_when_subzone_has_no_ns_records_says_delegate_it() -> None:
    diagnosis = diagnose(replace(healthy(), delegation=DnsAnswer(NODATA)))

    assert diagnosis.failed_check == "delegation"
    assert "is not delegated" in diagnosis.finding


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (DnsAnswer(NXDOMAIN), "_abc.example.com does not exist in public DNS"),
        (DnsAnswer(NODATA), "_abc.example.com has no CNAME in public DNS"),
        (
            DnsAnswer(ANSWER, ("_old.acm-validations.aws.",)),
            "_abc.example.com resolves publicly to _old.acm-validations.aws, not ACM's",
        ),
    ],
)
def test_diagnose_when_public_cname_wrong_says_what_public_dns_answers(
    answer: DnsAnswer, expected: str
) -> None:
    diagnosis = diagnose(replace(healthy(), cname=answer))

    assert diagnosis.failed_check == "cname"
    assert diagnosis.finding.startswith(expected)


def test_diagnose_when_caa_allows_only_another_ca_names_it_and_the_fix() -> None:
    diagnosis = diagnose(replace(healthy(), caa=caa('0 issue "letsencrypt.org"')))

    assert diagnosis.failed_check == "caa"
    assert diagnosis.finding.startswith("CAA issue at example.com allows only letsencrypt.org")
    assert 'add example.com. CAA 0 issue "amazon.com"' in diagnosis.finding


@pytest.mark.parametrize(
    "issuer", ["amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"]
)
def test_caa_permits_each_amazon_issuer(issuer: str) -> None:
    records = [CaaRecord(0, "issue", "letsencrypt.org"), CaaRecord(0, "issue", f"{issuer}; x=y")]

    assert caa_permits(records, wildcard=False)[0]


def test_diagnose_when_issuewild_forbids_wildcard_fails_only_the_wildcard() -> None:
    lookup = caa('0 issue "amazon.com"', '0 issuewild ";"')

    wildcard = diagnose(replace(healthy("*.example.com"), caa=lookup))
    apex = diagnose(replace(healthy("example.com"), caa=lookup))

    assert wildcard.failed_check == "caa"
    assert wildcard.finding.startswith("CAA issuewild at example.com allows only no CA")
    assert apex.finding == ALL_PASS


def test_caa_for_wildcard_without_issuewild_uses_issue() -> None:
    records = [CaaRecord(0, "issue", "letsencrypt.org")]

    assert caa_permits(records, wildcard=True) == (False, "issue", ["letsencrypt.org"])


def test_caa_with_only_iodef_permits_any_ca() -> None:
    assert caa_permits([CaaRecord(0, "iodef", "mailto:x@example.com")], wildcard=False)[0]


def test_caa_with_unknown_critical_property_forbids_issuance() -> None:
    diagnosis = diagnose(replace(healthy(), caa=caa('128 tbs "x"', '0 issue "amazon.com"')))

    assert diagnosis.failed_check == "caa"
    assert "critical tbs" in diagnosis.finding


def test_diagnose_when_public_dns_unreachable_skips_its_checks_and_says_so() -> None:
    silent = DnsAnswer(UNREACHABLE, error="no answer from 10.0.0.2:53 within 2 s")
    obs = replace(
        healthy(), delegation=silent, cname=silent, caa=CaaLookup(owner=None, unreachable=silent)
    )

    diagnosis = diagnose(obs)

    assert diagnosis.failed_check is None
    assert outcomes(diagnosis) == {
        "record": PASS,
        "delegation": SKIPPED,
        "cname": SKIPPED,
        "caa": SKIPPED,
    }
    assert diagnosis.finding.startswith(
        "public DNS did not answer (no answer from 10.0.0.2:53 within 2 s); delegation, cname, "
        "caa checks skipped"
    )


def test_diagnose_when_route53_unreadable_skips_record_and_delegation() -> None:
    obs = replace(healthy(), zone=ZoneReadBack("Z123", error="AccessDenied: not allowed"))

    diagnosis = diagnose(obs)

    assert outcomes(diagnosis)["record"] == SKIPPED
    assert outcomes(diagnosis)["delegation"] == SKIPPED
    assert "could not be read: AccessDenied" in diagnosis.finding


def test_diagnose_when_records_not_managed_checks_public_dns_only() -> None:
    diagnosis = diagnose(replace(healthy(), zone=None, delegation=None))

    assert diagnosis.finding == ALL_PASS


def test_diagnose_after_a_failure_still_reports_every_check() -> None:
    diagnosis = diagnose(replace(healthy(), cname=DnsAnswer(NXDOMAIN)))

    assert [r.check for r in diagnosis.results] == ["record", "delegation", "cname", "caa"]
    assert diagnosis.to_log()["checks"]["caa"] == {  # type: ignore[index]
        "outcome": PASS,
        "detail": "no CAA records restrict issuance",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('0 issue "amazon.com"', CaaRecord(0, "issue", "amazon.com")),
        ('128 ISSUEWILD ";"', CaaRecord(128, "issuewild", ";")),
        ("0 issue", CaaRecord(0, "issue", "")),
        ("x issue y", None),
        ("0", None),
    ],
)
def test_parse_caa(text: str, expected: CaaRecord | None) -> None:
    assert parse_caa(text) == expected


# ---- the reason --------------------------------------------------------------------------------


def test_summary_reason_starts_with_first_finding_and_counts_the_others() -> None:
    first = diagnose(replace(healthy(), cname=DnsAnswer(NXDOMAIN)))
    second = diagnose(healthy("www.example.com"))

    reason = summary_reason([first, second], "Still PENDING_VALIDATION at the deadline")

    assert reason.startswith("example.com: _abc.example.com does not exist in public DNS")
    assert reason.endswith(
        "zone (+1 more pending name: see the log). Still PENDING_VALIDATION at the deadline"
    )
    assert len(reason) <= MAX_REASON_LENGTH


def test_summary_reason_leads_with_a_name_whose_check_failed() -> None:
    explained = diagnose(replace(healthy("www.example.com"), cname=DnsAnswer(NXDOMAIN)))
    unexplained = diagnose(healthy())
    assert unexplained.failed_check is None and explained.failed_check is not None

    reason = summary_reason([unexplained, explained], "Still PENDING_VALIDATION at the deadline")

    assert reason.startswith("www.example.com: _abc.example.com does not exist")
    assert "(+1 more pending name: see the log)" in reason


def test_summary_reason_when_long_keeps_the_count_and_drops_the_tail() -> None:
    long = Diagnosis("example.com", "x" * 400, "cname", ())
    reason = summary_reason([long, long, long], "tail " * 30, prefix="FAILED (CAA_ERROR): ")

    assert len(reason) == MAX_REASON_LENGTH
    assert reason.startswith("FAILED (CAA_ERROR): example.com: xxx")
    assert reason.endswith("… (+2 more pending names: see the log)")


@pytest.mark.parametrize("prefix", ["", "VALIDATION_TIMED_OUT (CAA_ERROR): "])
@pytest.mark.parametrize("others", [0, 1, 99])
def test_summary_reason_with_a_253_character_name_stays_within_the_limit(
    prefix: str, others: int
) -> None:
    # Review 11: a long domain name left no room for the finding, and the reason ran past 255.
    name = ".".join(["a" * 62] * 4) + ".example.com"
    name = name[len(name) - 253 :].lstrip(".")
    long = Diagnosis(name, "x" * 400, "cname", ())
    reason = summary_reason([long] * (others + 1), "Still PENDING_VALIDATION", prefix=prefix)

    assert len(reason) <= MAX_REASON_LENGTH
    assert reason.startswith(prefix)
    if others:
        plural = "s" if others > 1 else ""
        assert reason.endswith(f"(+{others} more pending name{plural}: see the log)")


# ---- review 11 ---------------------------------------------------------------------------------


def test_delegation_to_some_of_the_zones_name_servers_passes() -> None:
    # Review 11: a registrar holding two of the zone's four name servers delegates the zone
    # (it resolves, ACM validates); calling it misdelegated hid the real finding behind it.
    two = DnsAnswer(ANSWER, ("NS-3.AWSDNS-03.COM.", "ns-1.awsdns-01.org"))
    diagnosis = diagnose(replace(healthy(), delegation=two, cname=DnsAnswer(NXDOMAIN)))

    assert outcomes(diagnosis)["delegation"] == PASS
    assert diagnosis.failed_check == "cname"


def test_delegation_to_one_server_besides_the_zones_fails() -> None:
    mixed = DnsAnswer(ANSWER, (*AWS_NS[:2], "ns1.registrar-dns.net."))
    diagnosis = diagnose(replace(healthy(), delegation=mixed))

    assert diagnosis.failed_check == "delegation"
    assert "ns1.registrar-dns.net" in diagnosis.finding


def test_diagnose_when_no_check_could_run_does_not_say_the_others_pass() -> None:
    # Review 11: "record, delegation, cname, caa checks skipped, the others pass".
    silent = DnsAnswer(UNREACHABLE, error="DNS_RESOLVERS is invalid")
    obs = replace(
        healthy(),
        zone=ZoneReadBack("Z123", error="AccessDenied: not allowed"),
        delegation=None,
        cname=silent,
        caa=CaaLookup(owner=None, unreachable=silent),
    )

    finding = diagnose(obs).finding

    assert "the others pass" not in finding
    assert finding.endswith("no check could run; ACM has not validated yet")


def test_diagnose_when_the_zone_fails_to_resolve_blames_the_delegation() -> None:
    # Review 11: the registrar naming the name servers of a deleted (recreated) hosted zone, or
    # a DS record the zone does not match, makes resolvers answer SERVFAIL for the zone; the
    # diagnosis said "public DNS did not answer" and skipped every public check.
    broken = DnsAnswer(SERVFAIL, error="10.0.0.2:53 answered SERVFAIL")
    obs = replace(
        healthy(), delegation=broken, cname=broken, caa=CaaLookup(owner=None, unreachable=broken)
    )

    diagnosis = diagnose(obs)

    assert diagnosis.failed_check == "delegation"
    assert diagnosis.finding.startswith(
        "example.com does not resolve in public DNS (SERVFAIL, while its parent zone does):"
    )
    assert "ns-1.awsdns-01.org" in diagnosis.finding
    assert "DS" in diagnosis.finding
    assert len(diagnosis.brief or diagnosis.finding) < 200
