"""A small DNS server on 127.0.0.1 (UDP and TCP, one random port) that plays public DNS.

It answers from records set by the caller, the way a recursive resolver would answer the
function: NOERROR with the records, NODATA when the name exists without that type, NXDOMAIN
when nothing is at or under the name, CNAMEs followed within its own records. It can also be
silent (a resolver that never answers: the client times out) or truncate every UDP answer
(the client must retry over TCP). Built on dnspython's wire format; used by the tests and by
`make demo` to point the handler's diagnosis (`DNS_RESOLVERS`) at a world of our choosing.

    with DnsServer() as dns_server:
        dns_server.set("example.com", "NS", ["ns1.registrar-dns.net."])
        os.environ["DNS_RESOLVERS"] = dns_server.address
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

TTL = 60


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".")


@dataclass(frozen=True)
class Query:
    name: str
    type: str
    transport: str  # udp | tcp


class DnsServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.silent = False
        self.truncate_udp = False
        #: Close every TCP connection without answering (a resolver without TCP).
        self.close_tcp = False
        #: Seconds to wait before each answer (a slow resolver).
        self.delay = 0.0
        #: Names (and the names under them) answered SERVFAIL (a broken delegation).
        self.servfail: set[str] = set()
        self._records: dict[tuple[str, str], list[str]] = {}
        self._lock = threading.Lock()
        self._queries: list[Query] = []
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    # ---- records ------------------------------------------------------------------------

    def set(self, name: str, rdtype: str, values: Iterable[str]) -> None:
        """Replace `name`'s records of `rdtype` (presentation form: `ns1.example.net.`,
        `0 issue "amazon.com"`); an empty list removes them."""
        with self._lock:
            key = (_key(name), rdtype.upper())
            values = list(values)
            if values:
                self._records[key] = values
            else:
                self._records.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._queries.clear()
            self.silent = False
            self.truncate_udp = False
            self.close_tcp = False
            self.delay = 0.0
            self.servfail.clear()

    @property
    def queries(self) -> list[Query]:
        with self._lock:
            return list(self._queries)

    @property
    def address(self) -> str:
        """For DNS_RESOLVERS: `127.0.0.1:port` (`[::1]:port` on IPv6)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    # ---- answering ----------------------------------------------------------------------

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        question = query.question[0] if query.question else None
        if question is None:
            return None
        qname = question.name.to_text()
        qtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self._queries.append(Query(_key(qname), qtype, transport))
            silent, truncate, delay = self.silent, self.truncate_udp, self.delay
        if delay:
            time.sleep(delay)
        if silent or (transport == "tcp" and self.close_tcp):
            return None
        response = dns.message.make_response(query, recursion_available=True)
        if transport == "udp" and truncate:
            response.flags |= dns.flags.TC
            return response.to_wire()
        failing = self.servfail
        key = _key(qname)
        if any(key == name or key.endswith("." + name) for name in failing):
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        self._fill(response, question.name, qtype)
        limit = 65535 if transport == "tcp" else max(512, query.payload)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response = dns.message.make_response(query, recursion_available=True)
            response.flags |= dns.flags.TC
            return response.to_wire()

    def _fill(self, response: dns.message.Message, name: dns.name.Name, qtype: str) -> None:
        with self._lock:
            records = dict(self._records)
        current = name
        for _ in range(8):  # a CNAME chain, followed like a resolver would
            key = _key(current.to_text())
            values = records.get((key, qtype))
            if values:
                response.answer.append(self._rrset(current, qtype, values))
                return
            cname = records.get((key, "CNAME"))
            if cname and qtype != "CNAME":
                response.answer.append(self._rrset(current, "CNAME", cname))
                current = dns.name.from_text(cname[0])
                continue
            exists = any(owner == key or owner.endswith("." + key) for owner, _type in records)
            if not exists and not response.answer:
                response.set_rcode(dns.rcode.NXDOMAIN)
            return

    @staticmethod
    def _rrset(name: dns.name.Name, rdtype: str, values: list[str]) -> dns.rrset.RRset:
        return dns.rrset.from_text_list(name, TTL, dns.rdataclass.IN, rdtype, values)

    # ---- serving ------------------------------------------------------------------------

    def start(self) -> DnsServer:
        owner = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = owner.answer(data, "udp")
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.settimeout(5.0)
                try:
                    while True:
                        length = _read_exactly(sock, 2)
                        if length is None:
                            return
                        data = _read_exactly(sock, int.from_bytes(length, "big"))
                        if data is None:
                            return
                        reply = owner.answer(data, "tcp")
                        if reply is None:
                            return
                        sock.sendall(len(reply).to_bytes(2, "big") + reply)
                except OSError:
                    return

        ipv6 = ":" in self.host
        udp_class = _UdpServer6 if ipv6 else _UdpServer
        tcp_class = _TcpServer6 if ipv6 else _TcpServer
        for _attempt in range(20):
            udp = udp_class((self.host, 0), Udp)
            port = udp.server_address[1]
            try:
                tcp = tcp_class((self.host, port), Tcp)
            except OSError:  # the port is taken for TCP: try another
                udp.server_close()
                continue
            self.port = int(port)
            self._servers = [udp, tcp]
            break
        else:
            raise OSError("no free port for both UDP and TCP")
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> DnsServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class _UdpServer6(_UdpServer):
    address_family = socket.AF_INET6


class _TcpServer6(_TcpServer):
    address_family = socket.AF_INET6


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
