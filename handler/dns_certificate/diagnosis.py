"""Why a name is not validated yet: pure findings from what Route 53 and public DNS answered.

Nothing here does I/O. `dnsprobe` asks public DNS, `diagnoser` reads Route 53 back and gathers
one `Observations` per name; the functions below decide, check by check and in this order:

1. ``record``: the validation CNAME is in the hosted zone it was written to, with ACM's value;
2. ``delegation``: public DNS delegates the zone's domain to that zone's own name servers;
3. ``cname``: the CNAME resolves publicly to ACM's value;
4. ``caa``: the CAA set at the name or its closest ancestor permits Amazon to issue
   (``issuewild`` for a wildcard name).

The first check that fails explains the name; a check that could not run (public DNS did not
answer, Route 53 could not be read) says so and is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import MAX_REASON_LENGTH
from .names import is_wildcard, normalize_name

#: How long one diagnosis may ask public DNS and Route 53 (seconds). Here, not in dnsprobe.py, so
#: that the lifecycle can budget a diagnosis without importing dnspython at cold start.
DIAGNOSIS_BUDGET_SECONDS = 10.0

#: The issuer domain names ACM's CAA documentation lists; any one of them permits ACM.
AMAZON_CAA_ISSUERS = ("amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com")

#: Outcomes of one check.
PASS = "pass"
FAIL = "fail"
SKIPPED = "skipped"

CHECKS = ("record", "delegation", "cname", "caa")
ALL_PASS = "all checks pass; ACM has not validated yet"

#: Kinds of public DNS answers.
ANSWER = "answer"  # NOERROR with records of the type asked for
NODATA = "nodata"  # NOERROR, the name exists but has no record of that type
NXDOMAIN = "nxdomain"  # the name does not exist
UNREACHABLE = "unreachable"  # no resolver answered usefully (timeout, refused...)
#: Every resolver that answered said SERVFAIL. For a zone's NS question whose parent zone
#: resolves, that is a broken delegation (the diagnoser checks the parent; otherwise it makes
#: the answer UNREACHABLE): a checked-out name server set, or DNSSEC failing.
SERVFAIL = "servfail"


# ---- what was observed -------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsAnswer:
    """Public DNS's answer to one question: its kind, the values (presentation form, for CAA
    ``flags tag "value"``), and for an unreachable answer, why."""

    kind: str
    values: tuple[str, ...] = ()
    error: str = ""

    @property
    def reachable(self) -> bool:
        return self.kind not in (UNREACHABLE, SERVFAIL)


@dataclass(frozen=True)
class CaaRecord:
    flags: int
    tag: str
    value: str


@dataclass(frozen=True)
class CaaLookup:
    """The CAA set that governs a name: the first name up the tree that has CAA records
    (`owner` None when none has), or the answer that stopped the climb."""

    owner: str | None
    records: tuple[CaaRecord, ...] = ()
    unreachable: DnsAnswer | None = None


@dataclass(frozen=True)
class ZoneReadBack:
    """The hosted zone the record was written to, as Route 53 shows it now.

    `record_values` is None when the zone holds no CNAME of that name; `error` says why the zone
    could not be read (then the other fields are empty)."""

    zone_id: str
    zone_name: str = ""
    name_servers: tuple[str, ...] = ()
    record_values: tuple[str, ...] | None = None
    error: str = ""


@dataclass(frozen=True)
class Observations:
    """Everything known about one pending name."""

    domain_name: str
    record_name: str
    record_value: str
    #: None when the resource does not write the records (ManageDnsRecords false).
    zone: ZoneReadBack | None
    #: The NS answer public DNS gives for the zone's name (None: not asked).
    delegation: DnsAnswer | None
    cname: DnsAnswer
    caa: CaaLookup


# ---- what was decided --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    check: str
    outcome: str  # pass | fail | skipped
    detail: str
    #: A shorter form of `detail` for CloudFormation's reason ("" when `detail` is short).
    brief: str = ""


@dataclass(frozen=True)
class Diagnosis:
    domain_name: str
    finding: str
    #: The check that explains the name, or None when none does.
    failed_check: str | None
    results: tuple[CheckResult, ...]
    #: The finding as the reason shows it (lists cut short; the log has `finding` whole).
    brief: str = ""

    def to_log(self) -> dict[str, object]:
        return {
            "domain_name": self.domain_name,
            "finding": self.finding,
            "failed_check": self.failed_check,
            "checks": {r.check: {"outcome": r.outcome, "detail": r.detail} for r in self.results},
        }


def _unanswered(answer: DnsAnswer) -> str:
    return f"public DNS did not answer ({answer.error})" if answer.error else "no DNS answer"


def _fqdn_list(names: Sequence[str], limit: int = 4) -> str:
    shown = [normalize_name(n) for n in names[:limit]]
    text = ", ".join(shown)
    return text + (", …" if len(names) > limit else "")


def _same(a: str, b: str) -> bool:
    return normalize_name(a) == normalize_name(b)


def check_record(obs: Observations) -> CheckResult:
    zone = obs.zone
    record = normalize_name(obs.record_name)
    if zone is None:
        return CheckResult("record", SKIPPED, "the records are not written by this resource")
    if zone.error:
        return CheckResult(
            "record", SKIPPED, f"hosted zone {zone.zone_id} could not be read: {zone.error}"
        )
    if zone.record_values is None:
        return CheckResult(
            "record",
            FAIL,
            f"the validation CNAME {record} is missing from hosted zone {zone.zone_id} "
            f"({zone.zone_name}): it was deleted or changed after it was written; update the "
            "stack to write it again",
        )
    values = zone.record_values
    if len(values) != 1 or not _same(values[0], obs.record_value):
        return CheckResult(
            "record",
            FAIL,
            f"the validation CNAME {record} in hosted zone {zone.zone_id} has value "
            f"{_fqdn_list(values)}, not ACM's {normalize_name(obs.record_value)}: set it to ACM's",
        )
    return CheckResult(
        "record", PASS, f"{record} is in hosted zone {zone.zone_id} with ACM's value"
    )


def check_delegation(obs: Observations) -> CheckResult:
    zone, answer = obs.zone, obs.delegation
    if zone is None or zone.error:
        return CheckResult("delegation", SKIPPED, "the hosted zone's name servers are not known")
    if answer is None:
        return CheckResult("delegation", SKIPPED, "public DNS was not asked")
    domain = normalize_name(zone.zone_name)
    ours = ", ".join(sorted(normalize_name(n) for n in zone.name_servers))
    if answer.kind == SERVFAIL:
        first = ours.split(", ")[0]
        what = f"{domain} does not resolve in public DNS (SERVFAIL, while its parent zone does):"
        fix = (
            "the registrar names name servers that do not serve it (a deleted or recreated "
            "hosted zone?), or a DS record does not match the zone: delegate it to hosted zone "
            f"{zone.zone_id}'s"
        )
        return CheckResult(
            "delegation",
            FAIL,
            f"{what} {fix} {ours}, and check DS records at the registrar",
            f"{domain} does not resolve publicly (SERVFAIL): the registrar's name servers do "
            f"not serve it, or its DS is wrong; delegate it to {zone.zone_id}'s {first}, …",
        )
    if not answer.reachable:
        return CheckResult("delegation", SKIPPED, _unanswered(answer))
    if answer.kind == NXDOMAIN:
        return CheckResult(
            "delegation",
            FAIL,
            f"{domain} does not exist in public DNS (NXDOMAIN): register it, or delegate it to "
            f"hosted zone {zone.zone_id}'s {ours}",
        )
    public = sorted({normalize_name(n) for n in answer.values})
    if not public:
        return CheckResult(
            "delegation",
            FAIL,
            f"{domain} is not delegated (public DNS has no NS records for it): delegate it to "
            f"hosted zone {zone.zone_id}'s {ours} (NS records in its parent zone or registrar)",
        )
    # Every public name server must be one of the zone's; some of them (a registrar that
    # takes two) is a delegation that works.
    if not set(public) <= {normalize_name(n) for n in zone.name_servers}:
        first = ours.split(", ")[0]
        return CheckResult(
            "delegation",
            FAIL,
            f"{domain} is delegated to {', '.join(public)}, not to hosted zone "
            f"{zone.zone_id}'s {ours}: update the name servers at the registrar",
            f"{domain} is delegated to {_fqdn_list(public, 2)}, not to hosted zone "
            f"{zone.zone_id}'s {first}, …: update the name servers at the registrar",
        )
    return CheckResult(
        "delegation", PASS, f"{domain} is delegated to hosted zone {zone.zone_id}'s name servers"
    )


def check_cname(obs: Observations) -> CheckResult:
    answer = obs.cname
    record = normalize_name(obs.record_name)
    wanted = normalize_name(obs.record_value)
    if not answer.reachable:
        return CheckResult("cname", SKIPPED, _unanswered(answer))
    if answer.kind == NXDOMAIN or not answer.values:
        what = "does not exist" if answer.kind == NXDOMAIN else "has no CNAME"
        return CheckResult(
            "cname",
            FAIL,
            f"{record} {what} in public DNS (ACM needs a CNAME to {wanted}): public DNS "
            "does not see the record's zone",
        )
    values = [normalize_name(v) for v in answer.values]
    if values != [wanted]:
        return CheckResult(
            "cname",
            FAIL,
            f"{record} resolves publicly to {_fqdn_list(values)}, not ACM's {wanted}: another "
            "zone or record answers for it",
        )
    return CheckResult("cname", PASS, f"{record} resolves publicly to ACM's value")


def parse_caa(text: str) -> CaaRecord | None:
    """`0 issue "amazon.com"` (presentation form) -> CaaRecord; None when unreadable."""
    parts = text.split(None, 2)
    if len(parts) < 2:
        return None
    try:
        flags = int(parts[0])
    except ValueError:
        return None
    value = parts[2].strip() if len(parts) > 2 else ""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return CaaRecord(flags, parts[1].lower(), value)


def _issuer(value: str) -> str:
    """The issuer domain name of an issue/issuewild value ("" means no CA may issue)."""
    return normalize_name(value.split(";", 1)[0].strip())


def caa_permits(records: Sequence[CaaRecord], wildcard: bool) -> tuple[bool, str, list[str]]:
    """(permitted, the property that decided, issuers it allows) per RFC 8659."""
    known = {"issue", "issuewild", "iodef", "contactemail", "contactphone", "issuevmc", "issuemail"}
    for record in records:
        if record.flags & 128 and record.tag not in known:
            return False, f"critical {record.tag}", []
    tag = "issue"
    if wildcard and any(r.tag == "issuewild" for r in records):
        tag = "issuewild"
    relevant = [r for r in records if r.tag == tag]
    if not relevant:
        return True, tag, []
    issuers = [_issuer(r.value) for r in relevant]
    return any(i in AMAZON_CAA_ISSUERS for i in issuers), tag, issuers


def check_caa(obs: Observations) -> CheckResult:
    lookup = obs.caa
    if lookup.unreachable is not None:
        return CheckResult("caa", SKIPPED, _unanswered(lookup.unreachable))
    if lookup.owner is None or not lookup.records:
        return CheckResult("caa", PASS, "no CAA records restrict issuance")
    owner = normalize_name(lookup.owner)
    wildcard = is_wildcard(obs.domain_name)
    permitted, tag, issuers = caa_permits(lookup.records, wildcard)
    if permitted:
        return CheckResult("caa", PASS, f"CAA at {owner} permits Amazon ({tag})")
    if tag.startswith("critical"):
        return CheckResult(
            "caa",
            FAIL,
            f"CAA at {owner} has a {tag} property no CA understands, so none may issue: remove it",
        )
    allowed = ", ".join(i for i in issuers if i) or "no CA"
    fix = f'{owner}. CAA 0 {tag} "amazon.com"'
    return CheckResult(
        "caa",
        FAIL,
        f"CAA {tag} at {owner} allows only {allowed}, not Amazon "
        f"({', '.join(AMAZON_CAA_ISSUERS)}): add {fix}",
        f"CAA {tag} at {owner} allows only {allowed}, not Amazon: add {fix}",
    )


def diagnose(obs: Observations) -> Diagnosis:
    """Every check's result, and the first one that explains why the name is not validated."""
    results = (check_record(obs), check_delegation(obs), check_cname(obs), check_caa(obs))
    for result in results:
        if result.outcome == FAIL:
            return Diagnosis(obs.domain_name, result.detail, result.check, results, result.brief)
    # Skipped only because this resource does not write the records: nothing to report.
    unmanaged = ("record", "delegation") if obs.zone is None else ()
    skipped = [r for r in results if r.outcome == SKIPPED and r.check not in unmanaged]
    if skipped:
        names = ", ".join(r.check for r in skipped)
        others = (
            "no check could run"
            if len(skipped) + len(unmanaged) == len(results)
            else "the others pass"
        )
        finding = (
            f"{skipped[0].detail}; {names} check{'s' if len(skipped) > 1 else ''} skipped, "
            f"{others}; ACM has not validated yet"
        )
        return Diagnosis(obs.domain_name, finding, None, results)
    return Diagnosis(obs.domain_name, ALL_PASS, None, results)


# ---- the CloudFormation reason -----------------------------------------------------------------

#: What a long domain name leaves of the finding in the reason, at least.
MIN_FINDING_IN_REASON = 80


def summary_reason(diagnoses: Sequence[Diagnosis], tail: str = "", prefix: str = "") -> str:
    """`prefix` + a pending name's finding + how many others are pending + `tail`, within
    CloudFormation's reason limit (the finding is cut last; the tail first). The name shown is
    the first whose check failed: one with nothing found would hide the actionable one."""
    if not diagnoses:
        return (prefix + tail)[:MAX_REASON_LENGTH]
    first = next((d for d in diagnoses if d.failed_check is not None), diagnoses[0])
    lead = f"{prefix}{first.domain_name}: "
    others = len(diagnoses) - 1
    count = ""
    if others:
        count = f" (+{others} more pending name{'s' if others > 1 else ''}: see the log)"
    room = MAX_REASON_LENGTH - len(lead) - len(count)
    if room < MIN_FINDING_IN_REASON:  # a long name (up to 253 characters): cut the name too
        keep = max(0, MAX_REASON_LENGTH - len(prefix) - len(count) - MIN_FINDING_IN_REASON - 3)
        lead = f"{prefix}{first.domain_name[:keep]}…: "
        room = MAX_REASON_LENGTH - len(lead) - len(count)
    finding = first.brief or first.finding
    if len(finding) > room:
        finding = finding[: max(0, room - 1)] + "…"
    head = lead + finding + count
    rest = MAX_REASON_LENGTH - len(head)
    if tail and rest > len(tail) + 2:
        head += ". " + tail
    return head
