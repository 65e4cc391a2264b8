"""Route 53: finding the public hosted zone for a name, writing validation records, and reading
them back (with the zone's delegation set) for the diagnosis."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .clients import error_code, error_message, is_throttling
from .errors import (
    AmbiguousHostedZoneError,
    DnsChangeError,
    HostedZoneGoneError,
    HostedZoneNotFoundError,
)
from .names import normalize_name
from .planning import ValidationRecord, zone_candidates

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

logger = Logger(child=True)

RECORD_TTL = 300


#: Route 53 lists at most 100 zones per ListHostedZones / ListHostedZonesByName page.
PAGE_SIZE = 100


class HostedZoneService:
    """One account's (role's) Route 53, for one invocation: zones found or checked once.

    Finding the zones of a certificate's names costs (per account, per invocation):

    * a name whose candidate zone names are all one name (`example.com`, `*.example.com`):
      one `ListHostedZonesByName` for it;
    * two or more candidate zone names: one `ListHostedZones` page (100 zones). An account
      with at most 100 zones is then known in full, and every name's zone comes from that one
      call (100 names in 10 zones: 1 call). An account with more zones is not paged through
      (10,000 zones would be 100 calls): it falls back to one `ListHostedZonesByName` per
      candidate zone name asked, longest first, each asked once (so, at most one more call
      than that search alone). Either way the answers are the same;
    * a zone named by HostedZoneId: one `GetHostedZone` per distinct zone id, no search.

    A role in a DNS account that is not allowed ListHostedZones (it was not needed before) is
    searched by name, as a large account is.
    """

    def __init__(self, route53: Route53Client, account: str = "this account") -> None:
        """`account` names whose Route 53 this is, for reasons ("the account of role ...")."""
        self._route53 = route53
        self._account = account
        self._public_zones_by_name: dict[str, list[str]] = {}
        self._checked_zones: dict[str, str] = {}
        #: Every public zone of the account by name, once one ListHostedZones page held them
        #: all; None before that, or when the account has more than one page of zones.
        self._all_public_zones: dict[str, list[str]] | None = None
        self._listing_tried = False

    def checked_zone(self, zone_id: str, name: str, *, field: str) -> tuple[str, str]:
        """A zone the user named must exist, be public and be able to hold `name`'s record:
        (zone id, zone name).

        Checked before the certificate is requested: a typo in HostedZoneId then fails in
        seconds and requests nothing, instead of failing at the write with a certificate to
        clean up.
        """
        if zone_id not in self._checked_zones:
            try:
                zone = self._route53.get_hosted_zone(Id=zone_id)["HostedZone"]
            except ClientError as error:
                if error_code(error) == "NoSuchHostedZone":
                    raise HostedZoneNotFoundError(
                        f"{field} '{zone_id}' is not a hosted zone in {self._account}"
                    ) from error
                raise
            if zone.get("Config", {}).get("PrivateZone", False):
                raise HostedZoneNotFoundError(
                    f"{field} '{zone_id}' is a private zone; ACM reads validation records from "
                    "public DNS, so name a public zone"
                )
            self._checked_zones[zone_id] = normalize_name(zone["Name"])
        zone_name = self._checked_zones[zone_id]
        if zone_name not in zone_candidates(name):
            raise HostedZoneNotFoundError(
                f"{field} '{zone_id}' is the zone of '{zone_name}', which cannot hold the "
                f"validation record of '{name}'"
            )
        return zone_id, zone_name

    def prepare(self, names: Iterable[str]) -> None:
        """Before finding the zones of `names` one by one: when they have two or more candidate
        zone names not answered yet, try to learn every zone of the account in one call."""
        unanswered = {
            candidate
            for name in names
            for candidate in zone_candidates(name)
            if candidate not in self._public_zones_by_name
        }
        if len(unanswered) >= 2 and not self._listing_tried:
            # Not tried until answered: a throttled call is tried again (the step is retried).
            self._all_public_zones = self._list_all_public_zones()
            self._listing_tried = True

    def public_zone(self, name: str, *, field: str = "") -> tuple[str, str]:
        """The public zone with the longest name that is a suffix of `name`: (zone id, zone
        name).

        Private zones are skipped: ACM resolves validation records on the public internet.
        Two public zones of the name that wins make the choice the user's.
        """
        for candidate in zone_candidates(name):
            zones = self._public_zones_named(candidate)
            if len(zones) > 1:
                raise AmbiguousHostedZoneError(
                    f"Two or more public hosted zones are named '{candidate}' "
                    f"({', '.join(zones[:3])}); set HostedZoneId or "
                    f"DomainValidationOptions[].HostedZoneId for '{name}'"
                )
            if zones:
                return zones[0], candidate
        where = f" ({field})" if field else ""
        raise HostedZoneNotFoundError(
            f"No public hosted zone in {self._account} matches '{name}'{where}; create one or set "
            "HostedZoneId or DomainValidationOptions[].HostedZoneId"
        )

    def forget_zones(self) -> None:
        """Forget every zone found or checked: one of them turned out to be gone."""
        self._public_zones_by_name.clear()
        self._checked_zones.clear()
        self._all_public_zones = None
        self._listing_tried = False

    def _public_zones_named(self, zone_name: str) -> list[str]:
        if zone_name not in self._public_zones_by_name:
            if self._all_public_zones is not None:
                zones = list(self._all_public_zones.get(zone_name, []))
            else:
                zones = self._list_public_zones_named(zone_name)
            self._public_zones_by_name[zone_name] = zones
        return self._public_zones_by_name[zone_name]

    def _list_all_public_zones(self) -> dict[str, list[str]] | None:
        """Every public zone by name from one ListHostedZones page; None when the account has
        more zones than one page holds (the rest are not listed: see the class)."""
        try:
            response = self._route53.list_hosted_zones(MaxItems=str(PAGE_SIZE))
        except ClientError as error:
            if error_code(error) != "AccessDenied":
                raise
            # A DNS account's role granted only ListHostedZonesByName (what it needed before).
            logger.info(
                "Zones searched by name: ListHostedZones is not allowed",
                extra={"account": self._account},
            )
            return None
        if response.get("IsTruncated"):
            return None
        zones: dict[str, list[str]] = {}
        for zone in response.get("HostedZones", []):
            if not zone.get("Config", {}).get("PrivateZone", False):
                zone_id = zone["Id"].removeprefix("/hostedzone/")
                zones.setdefault(normalize_name(zone["Name"]), []).append(zone_id)
        return zones

    def _list_public_zones_named(self, zone_name: str) -> list[str]:
        """ListHostedZonesByName lists zones in order starting at the name asked for, not only
        zones of that name, so the returned names are checked."""
        zones: list[str] = []
        arguments = {"DNSName": zone_name, "MaxItems": str(PAGE_SIZE)}
        while True:
            response = self._route53.list_hosted_zones_by_name(**arguments)
            beyond = False
            for zone in response.get("HostedZones", []):
                if normalize_name(zone["Name"]) != zone_name:
                    beyond = True
                    break
                if not zone.get("Config", {}).get("PrivateZone", False):
                    zones.append(zone["Id"].removeprefix("/hostedzone/"))
            if beyond or not response.get("IsTruncated"):
                return zones
            arguments = {
                "DNSName": response["NextDNSName"],
                "HostedZoneId": response["NextHostedZoneId"],
                "MaxItems": str(PAGE_SIZE),
            }

    def upsert_records(self, zone_id: str, records: Sequence[ValidationRecord]) -> str:
        """One all-or-nothing batch; UPSERT makes a repeated write harmless."""
        changes = [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": record.name,
                    "Type": record.type,
                    "TTL": RECORD_TTL,
                    "ResourceRecords": [{"Value": record.value}],
                },
            }
            for record in records
        ]
        try:
            response = self._route53.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={
                    "Comment": "ACM DNS validation (dns-certificate custom resource)",
                    "Changes": changes,  # type: ignore[typeddict-item]
                },
            )
        except ClientError as error:
            if is_throttling(error):
                raise  # worth waiting for, not a refusal
            if error_code(error) == "NoSuchHostedZone":
                raise HostedZoneGoneError(_change_reason(zone_id, error, self._account)) from error
            raise DnsChangeError(_change_reason(zone_id, error, self._account)) from error
        return response["ChangeInfo"]["Id"]

    # ---- read back, for the diagnosis ----------------------------------------------------

    def delegation_set(self, zone_id: str) -> tuple[str, tuple[str, ...]]:
        """The zone's name and the name servers Route 53 serves it from (GetHostedZone)."""
        response = self._route53.get_hosted_zone(Id=zone_id)
        servers = response.get("DelegationSet", {}).get("NameServers", [])
        return normalize_name(response["HostedZone"]["Name"]), tuple(servers)

    def record_values(
        self, zone_id: str, name: str, record_type: str = "CNAME"
    ) -> tuple[str, ...] | None:
        """The values of the zone's `record_type` record named `name`; None when it has none.

        ListResourceRecordSets lists from the name and type asked for on, in Route 53's
        order: the first set listed is the one asked for, or the next one (checked)."""
        rrset = self.record_set(zone_id, name, record_type)
        if rrset is None:
            return None
        return tuple(r["Value"] for r in rrset.get("ResourceRecords", []))

    def record_set(
        self, zone_id: str, name: str, record_type: str = "CNAME"
    ) -> dict[str, Any] | None:
        """The zone's `record_type` record set named `name`, exactly as Route 53 lists it (what
        a DELETE must carry: name, type, TTL and values); None when the zone has none."""
        response = self._route53.list_resource_record_sets(
            HostedZoneId=zone_id,
            StartRecordName=name,
            StartRecordType=record_type,  # type: ignore[arg-type]
            MaxItems="1",
        )
        for rrset in response.get("ResourceRecordSets", []):
            if normalize_name(rrset["Name"]) == normalize_name(name) and (
                rrset["Type"] == record_type
            ):
                return dict(rrset)
        return None

    def delete_record_set(self, zone_id: str, rrset: Mapping[str, Any]) -> str:
        """DELETE one record set as read from the zone. Route 53 refuses it (InvalidChangeBatch)
        when the zone no longer holds exactly that set: the caller then leaves it alone."""
        response = self._route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={
                "Comment": "ACM DNS validation record no certificate needs any more "
                "(dns-certificate custom resource)",
                "Changes": [{"Action": "DELETE", "ResourceRecordSet": rrset}],  # type: ignore[typeddict-item]
            },
        )
        return response["ChangeInfo"]["Id"]


def _change_reason(zone_id: str, error: ClientError, account: str) -> str:
    code, message = error_code(error), error_message(error)
    if code == "NoSuchHostedZone":
        return f"Hosted zone '{zone_id}' does not exist in {account}; check HostedZoneId"
    if code == "AccessDenied":
        return f"Not allowed to write validation records in hosted zone '{zone_id}': {message}"
    return f"Route 53 refused the validation records for zone '{zone_id}' ({code}): {message}"
