"""Asking public DNS, for the diagnosis: dnspython over UDP, TCP when the answer is truncated.

Each question gets at most `query_timeout` seconds (2 by default, UDP and any TCP retry
together) per resolver, and one diagnosis at most `budget` seconds in all (10 by default).
Resolvers come from the function's `DNS_RESOLVERS` environment variable
(`address[:port],...`; an IPv6 address with a port is written `[address]:port`), or from the
system's configuration when it is unset. When no resolver answers, the answer says why and
every later question of the same diagnosis is answered the same way at once: a check that
needs public DNS is then skipped, never waited for.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from .diagnosis import (
    ANSWER,
    DIAGNOSIS_BUDGET_SECONDS,
    NODATA,
    NXDOMAIN,
    SERVFAIL,
    UNREACHABLE,
    CaaLookup,
    CaaRecord,
    DnsAnswer,
    parse_caa,
)
from .names import base_name, normalize_name

#: The environment variable naming the resolvers: a contract with the template and the README.
RESOLVERS_VARIABLE = "DNS_RESOLVERS"
QUERY_TIMEOUT_SECONDS = 2.0
DNS_PORT = 53
#: EDNS payload size (the DNS flag day's 1232): large answers come back truncated, then by TCP.
EDNS_PAYLOAD = 1232


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = DNS_PORT

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_resolvers(text: str) -> tuple[Nameserver, ...]:
    """`10.0.0.2, 1.1.1.1:5353, [2001:db8::1]:53, 2001:db8::2` -> name servers.

    Raises ValueError naming the first entry that is not `address[:port]`."""
    servers: list[Nameserver] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        address, port = entry, str(DNS_PORT)
        if entry.startswith("["):
            address, _, rest = entry[1:].partition("]")
            if rest:
                if not rest.startswith(":"):
                    raise ValueError(f"'{entry}' is not address[:port]")
                port = rest[1:]
        elif entry.count(":") == 1:
            address, port = entry.split(":")
        try:
            ipaddress.ip_address(address)
            number = int(port)
        except ValueError as error:
            raise ValueError(f"'{entry}' is not address[:port]") from error
        if not 0 < number < 65536:
            raise ValueError(f"'{entry}' has a port outside 1..65535")
        servers.append(Nameserver(address, number))
    if not servers:
        raise ValueError("it names no resolver")
    return tuple(servers)


def system_resolvers() -> tuple[Nameserver, ...]:
    """The resolvers the system is configured with (/etc/resolv.conf)."""
    resolver = dns.resolver.Resolver(configure=True)
    return tuple(Nameserver(str(address), int(resolver.port)) for address in resolver.nameservers)


@dataclass(frozen=True)
class DnsSettings:
    """Where and how patiently to ask. `problem` set: public DNS cannot be asked at all."""

    resolvers: tuple[Nameserver, ...] = ()
    query_timeout: float = QUERY_TIMEOUT_SECONDS
    budget: float = DIAGNOSIS_BUDGET_SECONDS
    problem: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> DnsSettings:
        text = environ.get(RESOLVERS_VARIABLE, "").strip()
        if text:
            try:
                return cls(resolvers=parse_resolvers(text))
            except ValueError as error:
                return cls(problem=f"{RESOLVERS_VARIABLE} is invalid: {error}")
        try:
            servers = system_resolvers()
        except Exception as error:  # no resolv.conf, or an unreadable one
            return cls(problem=f"no system resolvers ({type(error).__name__})")
        if not servers:
            return cls(problem="no system resolvers")
        return cls(resolvers=servers)

    def session(self, budget: float | None = None) -> PublicDns:
        """A diagnosis' questions: a fresh budget and a cache of the answers."""
        limit = self.budget if budget is None else min(self.budget, budget)
        return PublicDns(self, TimeBudget(limit))


@dataclass
class TimeBudget:
    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def remaining(self) -> float:
        return self.seconds - (self.clock() - self.started)


class PublicDns:
    """The questions of one diagnosis, answered through the configured resolvers."""

    def __init__(self, settings: DnsSettings, budget: TimeBudget) -> None:
        self._settings = settings
        self._budget = budget
        self._cache: dict[tuple[str, str], DnsAnswer] = {}
        self._silent: str = settings.problem  # why every later question is not asked

    def remaining(self) -> float:
        """Seconds left of the diagnosis' budget."""
        return self._budget.remaining()

    def query(self, name: str, rdtype: str) -> DnsAnswer:
        key = (normalize_name(name), rdtype)
        if key not in self._cache:
            self._cache[key] = self._ask(*key)
        return self._cache[key]

    def caa(self, name: str) -> CaaLookup:
        """The CAA set governing `name` (a wildcard's is its base name's): the first name up
        the tree, the top-level domain included, that has CAA records (RFC 8659)."""
        current = normalize_name(base_name(normalize_name(name)))
        while current:
            answer = self.query(current, "CAA")
            if not answer.reachable:
                return CaaLookup(owner=None, unreachable=answer)
            if answer.kind == ANSWER:
                return CaaLookup(current, caa_records(answer.values))
            current = current.partition(".")[2]
        return CaaLookup(owner=None)

    def _ask(self, name: str, rdtype: str) -> DnsAnswer:
        if self._silent:
            return DnsAnswer(UNREACHABLE, error=self._silent)
        errors: list[str] = []
        unanswered = True
        servfails = 0
        for server in self._settings.resolvers:
            remaining = self._budget.remaining()
            if remaining <= 0:
                errors.append(f"the diagnosis' {self._budget.seconds:g}-second budget is spent")
                break
            timeout = min(self._settings.query_timeout, remaining)
            try:
                response = exchange(name, rdtype, server, timeout)
            except TruncatedWithoutTcpError as error:
                # The resolver answers (over UDP): only this answer is out of reach.
                unanswered = False
                errors.append(f"{server}: {error}")
                continue
            except dns.exception.Timeout:
                if timeout < self._settings.query_timeout:  # cut short by the budget
                    errors.append(f"the diagnosis' {self._budget.seconds:g}-second budget is spent")
                    break
                errors.append(f"no answer from {server} within {timeout:g} s")
                continue
            except (OSError, EOFError, dns.exception.DNSException) as error:
                errors.append(f"{server}: {type(error).__name__}")
                continue
            unanswered = False
            rcode = response.rcode()
            if rcode == dns.rcode.NXDOMAIN:
                return DnsAnswer(NXDOMAIN)
            if rcode != dns.rcode.NOERROR:
                errors.append(f"{server} answered {dns.rcode.to_text(rcode)}")
                servfails += rcode == dns.rcode.SERVFAIL
                continue
            values = answer_values(response, rdtype, name)
            return DnsAnswer(ANSWER if values else NODATA, values)
        why = "; ".join(errors) or "no resolver"
        if unanswered:
            self._silent = why
        if servfails and servfails == len(errors):
            return DnsAnswer(SERVFAIL, error=why)
        return DnsAnswer(UNREACHABLE, error=why)


class TruncatedWithoutTcpError(Exception):
    """The UDP answer was truncated and the TCP retry failed."""


def exchange(name: str, rdtype: str, server: Nameserver, timeout: float) -> dns.message.Message:
    """One question to one resolver: UDP, then TCP if the UDP answer was truncated, both
    within `timeout` seconds."""
    query = dns.message.make_query(
        dns.name.from_text(name), dns.rdatatype.from_text(rdtype), use_edns=0, payload=EDNS_PAYLOAD
    )
    expires = time.monotonic() + timeout
    try:
        return dns.query.udp(
            query, server.address, timeout=timeout, port=server.port, raise_on_truncation=True
        )
    except dns.message.Truncated:
        left = expires - time.monotonic()
        if left <= 0:
            raise dns.exception.Timeout(timeout=timeout) from None  # type: ignore[no-untyped-call]
        try:
            return dns.query.tcp(query, server.address, timeout=left, port=server.port)
        except (OSError, EOFError, dns.exception.DNSException) as error:
            raise TruncatedWithoutTcpError(
                f"answer truncated over UDP, and TCP failed ({type(error).__name__})"
            ) from error


def answer_values(response: dns.message.Message, rdtype: str, name: str) -> tuple[str, ...]:
    """The answer's records of the type asked for at `name`, in presentation form (CAA keeps
    `flags tag "value"`).

    A CNAME chain the resolver followed is followed here too for CAA (RFC 8659 looks CAA up
    by resolution), but not for NS: the NS set of a CNAME's target is not a delegation of the
    name (a zone's name that is a CNAME in public DNS is not delegated)."""
    wanted = dns.rdatatype.from_text(rdtype)
    owner = dns.name.from_text(name)
    if wanted not in (dns.rdatatype.NS, dns.rdatatype.CNAME):
        for _ in range(len(response.answer)):
            alias = next(
                (r for r in response.answer if r.name == owner and r.rdtype == dns.rdatatype.CNAME),
                None,
            )
            if alias is None:
                break
            owner = next(iter(alias)).target
    values: list[str] = []
    for rrset in response.answer:
        if rrset.rdtype != wanted or rrset.name != owner:
            continue
        for rdata in rrset:
            values.append(rdata.to_text())
    return tuple(values)


def caa_records(values: Sequence[str]) -> tuple[CaaRecord, ...]:
    return tuple(r for r in (parse_caa(v) for v in values) if r is not None)
