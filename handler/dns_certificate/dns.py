"""Route 53: finding the public hosted zone for a name, writing validation records, and reading
them back (with the zone's delegation set) for the diagnosis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .clients import error_code, error_message, is_throttling
from .errors import AmbiguousHostedZoneError, DnsChangeError, HostedZoneNotFoundError
from .names import normalize_name
from .planning import ValidationRecord, zone_candidates

if TYPE_CHECKING:
    from mypy_boto3_route53 import Route53Client

logger = Logger(child=True)

RECORD_TTL = 300


class HostedZoneService:
    def __init__(self, route53: Route53Client, account: str = "this account") -> None:
        """`account` names whose Route 53 this is, for reasons ("the account of role ...")."""
        self._route53 = route53
        self._account = account
        self._public_zones_by_name: dict[str, list[str]] = {}
        self._checked_zones: dict[str, str] = {}

    def check_zone(self, zone_id: str, name: str, *, field: str) -> str:
        """A zone the user named must exist, be public and be able to hold `name`'s record.

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
        return zone_id

    def find_public_zone(self, name: str, *, field: str = "") -> str:
        """The public zone with the longest name that is a suffix of `name`.

        ListHostedZonesByName lists zones in order starting at the name asked for, not only
        zones of that name, so the returned names are checked. Private zones are skipped:
        ACM resolves validation records on the public internet.
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
                return zones[0]
        where = f" ({field})" if field else ""
        raise HostedZoneNotFoundError(
            f"No public hosted zone in {self._account} matches '{name}'{where}; create one or set "
            "HostedZoneId or DomainValidationOptions[].HostedZoneId"
        )

    def _public_zones_named(self, zone_name: str) -> list[str]:
        if zone_name not in self._public_zones_by_name:
            self._public_zones_by_name[zone_name] = self._list_public_zones_named(zone_name)
        return self._public_zones_by_name[zone_name]

    def _list_public_zones_named(self, zone_name: str) -> list[str]:
        zones: list[str] = []
        arguments = {"DNSName": zone_name, "MaxItems": "100"}
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
                "MaxItems": "100",
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
