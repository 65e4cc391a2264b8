"""DNS questions: resolver configuration, and real queries to a local server (127.0.0.1)."""

from __future__ import annotations

import pytest

from dns_certificate.diagnosis import (
    ANSWER,
    DIAGNOSIS_BUDGET_SECONDS,
    NODATA,
    NXDOMAIN,
    UNREACHABLE,
)
from dns_certificate.dnsprobe import (
    QUERY_TIMEOUT_SECONDS,
    RESOLVERS_VARIABLE,
    DnsSettings,
    Nameserver,
    parse_resolvers,
)
from local.dns_server import DnsServer

#: Short, so the timeout cases take a fraction of a second.
TEST_TIMEOUT = 0.3


def settings(server: DnsServer, **changes: float) -> DnsSettings:
    return DnsSettings(
        resolvers=parse_resolvers(server.address),
        query_timeout=changes.get("query_timeout", TEST_TIMEOUT),
        budget=changes.get("budget", DIAGNOSIS_BUDGET_SECONDS),
    )


def test_defaults_are_two_seconds_per_query_and_ten_per_diagnosis() -> None:
    assert QUERY_TIMEOUT_SECONDS == 2.0
    assert DIAGNOSIS_BUDGET_SECONDS == 10.0
    assert DnsSettings().query_timeout == 2.0
    assert DnsSettings().budget == 10.0
    assert RESOLVERS_VARIABLE == "DNS_RESOLVERS"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.2", (Nameserver("10.0.0.2", 53),)),
        (" 1.1.1.1:5353 , 8.8.8.8", (Nameserver("1.1.1.1", 5353), Nameserver("8.8.8.8", 53))),
        ("[2001:db8::1]:5300", (Nameserver("2001:db8::1", 5300),)),
        ("2001:db8::2", (Nameserver("2001:db8::2", 53),)),
    ],
)
def test_parse_resolvers_reads_address_and_port(text: str, expected: tuple) -> None:
    assert parse_resolvers(text) == expected


@pytest.mark.parametrize("text", ["dns.google", "1.1.1.1:x", "1.1.1.1:0", "[::1]x", " , "])
def test_parse_resolvers_refuses_what_is_not_address_port(text: str) -> None:
    with pytest.raises(ValueError):
        parse_resolvers(text)


def test_settings_from_environment_use_dns_resolvers() -> None:
    loaded = DnsSettings.from_environment({"DNS_RESOLVERS": "127.0.0.1:5300,10.0.0.2"})

    assert loaded.resolvers == (Nameserver("127.0.0.1", 5300), Nameserver("10.0.0.2", 53))
    assert not loaded.problem


def test_settings_from_environment_when_invalid_skip_public_dns_saying_why() -> None:
    loaded = DnsSettings.from_environment({"DNS_RESOLVERS": "resolver.internal"})
    answer = loaded.session().query("example.com", "NS")

    assert answer.kind == UNREACHABLE
    assert answer.error.startswith("DNS_RESOLVERS is invalid: 'resolver.internal'")


def test_settings_from_environment_when_unset_use_the_system_resolvers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "dns_certificate.dnsprobe.system_resolvers", lambda: (Nameserver("192.0.2.53"),)
    )

    assert DnsSettings.from_environment({}).resolvers == (Nameserver("192.0.2.53"),)


def test_query_answers_nodata_and_nxdomain(dns_server: DnsServer) -> None:
    dns_server.set("example.com", "NS", ["ns1.example.net."])
    public = settings(dns_server).session()

    assert public.query("example.com", "NS").kind == ANSWER
    assert public.query("example.com", "CNAME").kind == NODATA
    assert public.query("_x.example.com", "CNAME").kind == NXDOMAIN


def test_query_when_udp_answer_truncated_retries_over_tcp(dns_server: DnsServer) -> None:
    dns_server.set("example.com", "NS", ["ns1.example.net."])
    dns_server.truncate_udp = True

    answer = settings(dns_server).session().query("example.com", "NS")

    assert answer.values == ("ns1.example.net.",)
    assert [q.transport for q in dns_server.queries] == ["udp", "tcp"]


def test_query_when_resolver_silent_times_out_once_then_skips(dns_server: DnsServer) -> None:
    dns_server.silent = True
    public = settings(dns_server).session()

    first = public.query("example.com", "NS")
    later = public.caa("www.example.com")

    assert first.kind == UNREACHABLE
    assert f"within {TEST_TIMEOUT:g} s" in first.error
    assert later.unreachable == first
    assert len(dns_server.queries) == 1  # the later question was not asked (nor waited for)


def test_query_tries_the_next_resolver_when_one_is_silent(dns_server: DnsServer) -> None:
    dns_server.set("example.com", "NS", ["ns1.example.net."])
    with DnsServer() as silent:
        silent.silent = True
        both = DnsSettings(
            resolvers=parse_resolvers(f"{silent.address},{dns_server.address}"),
            query_timeout=TEST_TIMEOUT,
        )
        answer = both.session().query("example.com", "NS")

    assert answer.kind == ANSWER


def test_query_when_budget_spent_asks_nothing(dns_server: DnsServer) -> None:
    answer = settings(dns_server).session(budget=0).query("example.com", "NS")

    assert answer.kind == UNREACHABLE
    assert "budget is spent" in answer.error
    assert dns_server.queries == []


def test_caa_climbs_to_the_closest_ancestor_with_records(dns_server: DnsServer) -> None:
    dns_server.set("example.com", "CAA", ['0 issue "letsencrypt.org"'])
    dns_server.set("www.shop.example.com", "A", ["192.0.2.1"])

    lookup = settings(dns_server).session().caa("*.www.shop.example.com")

    assert lookup.owner == "example.com"
    assert [q.name for q in dns_server.queries] == [
        "www.shop.example.com",
        "shop.example.com",
        "example.com",
    ]


def test_caa_when_none_anywhere_has_no_owner(dns_server: DnsServer) -> None:
    lookup = settings(dns_server).session().caa("www.example.com")

    assert lookup.owner is None
    assert [q.name for q in dns_server.queries] == ["www.example.com", "example.com", "com"]


# ---- review 11 ---------------------------------------------------------------------------------


def test_query_ns_through_a_cname_is_not_the_targets_delegation(dns_server: DnsServer) -> None:
    # The zone's name is a CNAME in public DNS: the resolver follows it and answers the
    # target's NS set, which is not a delegation of the zone's name.
    dns_server.set("sub.example.com", "CNAME", ["other.example.net."])
    dns_server.set("other.example.net", "NS", ["ns1.other.net."])

    answer = settings(dns_server).session().query("sub.example.com", "NS")

    assert answer.values == ()


def test_caa_through_a_cname_is_the_targets_caa(dns_server: DnsServer) -> None:
    # RFC 8659: CAA is looked up by DNS resolution, which follows the CNAME.
    dns_server.set("www.example.com", "CNAME", ["cdn.example.net."])
    dns_server.set("cdn.example.net", "CAA", ['0 issue "letsencrypt.org"'])

    lookup = settings(dns_server).session().caa("www.example.com")

    assert lookup.owner == "www.example.com"
    assert [r.value for r in lookup.records] == ["letsencrypt.org"]


def test_query_when_truncated_and_tcp_closed_says_so_and_keeps_asking(
    dns_server: DnsServer,
) -> None:
    # A big answer truncated over UDP, and a resolver that closes TCP at once: that answer is
    # unavailable, but the resolver answers UDP, so the other questions are still asked.
    dns_server.set("example.com", "TXT", [f'"{"x" * 200}{i}"' for i in range(10)])
    dns_server.set("_x.example.com", "CNAME", ["_y.acm-validations.aws."])
    dns_server.close_tcp = True
    public = settings(dns_server).session()

    big = public.query("example.com", "TXT")
    small = public.query("_x.example.com", "CNAME")

    assert big.kind == UNREACHABLE
    assert "truncated" in big.error
    assert small.values == ("_y.acm-validations.aws.",)


def test_query_through_an_ipv6_resolver_with_a_port() -> None:
    with DnsServer(host="::1") as server:
        server.set("example.com", "NS", ["ns1.example.net."])
        assert server.address.startswith("[::1]:")
        loaded = DnsSettings.from_environment({"DNS_RESOLVERS": f" {server.address} "})
        answer = loaded.session().query("example.com", "NS")

    assert answer.values == ("ns1.example.net.",)


def test_query_answered_just_within_the_timeout_is_an_answer(dns_server: DnsServer) -> None:
    dns_server.set("example.com", "NS", ["ns1.example.net."])
    dns_server.delay = TEST_TIMEOUT - 0.1

    answer = settings(dns_server).session().query("example.com", "NS")

    assert answer.values == ("ns1.example.net.",)


def test_query_cut_short_by_the_budget_blames_the_budget_not_the_resolver(
    dns_server: DnsServer,
) -> None:
    # Review 11: the last question of a spent budget got a sliver of time and the finding said
    # "no answer from <resolver> within 0.05 s", as if public DNS were unreachable.
    dns_server.set("example.com", "NS", ["ns1.example.net."])
    dns_server.delay = TEST_TIMEOUT - 0.1
    public = settings(dns_server, budget=TEST_TIMEOUT).session()

    first = public.query("example.com", "NS")
    second = public.query("_x.example.com", "CNAME")

    assert first.kind == ANSWER
    assert second.kind == UNREACHABLE
    assert "budget" in second.error
    assert "no answer from" not in second.error
