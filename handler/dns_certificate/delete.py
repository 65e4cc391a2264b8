"""Delete as CloudFormation means it, and discarding what a failed request made: only a
certificate the provider's own records (registry.py) say this stack's resource owns (and, to
discard, that this request requested) is deleted. Tags name owners for people, not for this.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from .certificates import CertificateService, is_certificate_arn, region_of
from .cleanup import RecordCleanup, plan_cleanup
from .clients import is_throttling
from .context import RequestContext, request_token, token_of_placeholder
from .continuation import Continuation
from .deadline import IN_USE_BACKOFF, THROTTLED_BACKOFF, Moment, Seconds, moment_after
from .errors import InvalidPropertyError, quote_list
from .listing import find_requested
from .metrics import current as current_metrics
from .properties import CertificateProperties, parse_properties
from .registry import CertificateRecord
from .waiting import HandedOff

logger = Logger(child=True)


class Deleter:
    """A Delete's steps, and the discarding create and update fall back on."""

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx

    def delete(self) -> str:
        physical_id = self._ctx.request.physical_id or ""
        state = self._ctx.state_or_new(("delete",), self._ctx.lenient_timeout())
        if not is_certificate_arn(physical_id):
            self._delete_unreported(physical_id, state)
            return physical_id
        if self._owned_for_delete(physical_id):
            certificates = self._ctx.runtime_certificates
            cleanup = plan_cleanup(self._ctx.request.properties, physical_id, certificates)
            self._delete_until_gone(physical_id, state)
            self._ctx.registry.forget(physical_id)
            if cleanup is not None:  # opted in: records no other certificate needs go too
                outcome = RecordCleanup(self._ctx.records).after_delete(
                    cleanup,
                    certificates,
                    self._ctx.remaining_seconds,
                    lambda: {record.region for record in self._ctx.registry.live()},
                )
                current_metrics().records_deleted(len(outcome.deleted) if outcome else 0)
        return physical_id

    def discard_requested(
        self, properties: CertificateProperties, arn: str | None, budget: Seconds
    ) -> None:
        """Delete the certificate this request made and CloudFormation will never name (a failed
        replacement's, a dead Create's), found by its request's tag when its ARN never arrived.
        Never raises: the real reason must reach CloudFormation."""
        service = self._ctx.certificates(properties)
        try:
            arns = [arn] if arn else self._find_requested(service, properties.domain_name)
        except Exception as error:
            logger.warning(
                "Could not look for the replacement certificate to discard it",
                extra={"error": f"{type(error).__name__}: {error}"[:300]},
            )
            return
        for each in arns:
            self.discard(service, each, budget)

    def _find_requested(self, service: CertificateService, domain_name: str | None) -> list[str]:
        token = request_token(self._ctx.event)
        return [
            arn
            for arn in find_requested(
                service,
                self._ctx.request.stack_id,
                self._ctx.request.logical_id,
                token,
                domain_name,
            )
            if self._recorded_or_intended(arn, token)
        ]

    def discard(self, service: CertificateService, arn: str, budget: Seconds) -> None:
        """Delete a certificate this request made, retrying throttling within `budget` seconds.
        Never raises; logs when it gives up (the certificate is then left behind).

        Only a certificate whose tags carry this request's token is deleted: the ARN may come
        from a continuation, and a crafted one must not steer the delete at another resource's.
        """
        give_up_at = moment_after(Moment(self._ctx.clock.now()), budget)
        attempt = 0
        while True:
            try:
                if not self._made_by_this_request(service, arn):
                    return
                outcome = service.delete(arn)
                if outcome.deleted or outcome.already_gone:  # one still in use stays recorded
                    self._ctx.registry.forget(arn)
                logger.info(
                    "Certificate discarded",
                    extra={
                        "certificate_arn": arn,
                        "deleted": outcome.deleted or outcome.already_gone,
                    },
                )
                return
            except Exception as error:
                delay = THROTTLED_BACKOFF.delay(attempt)
                if not is_throttling(error) or self._ctx.clock.now() + delay > give_up_at:
                    logger.error(
                        "Could not discard the certificate this request made; delete it by hand",
                        extra={
                            "certificate_arn": arn,
                            "error": f"{type(error).__name__}: {error}"[:300],
                        },
                    )
                    return
                self._ctx.clock.sleep(delay)
                attempt += 1

    def _made_by_this_request(self, service: CertificateService, arn: str) -> bool:
        """The provider's records say this request of this resource requested the certificate."""
        record = self._ctx.registry.certificate(arn)
        if record is not None and record.made_by(self._ctx.owner, request_token(self._ctx.event)):
            return True
        logger.warning(
            "Not discarding the certificate: the provider's records do not say this request "
            "made it",
            extra={"certificate_arn": arn, "recorded": record is not None},
        )
        return False

    def _recorded_or_intended(self, arn: str, token: str) -> bool:
        """A certificate found by its request tag: the provider's record names this request, or
        (the invocation died between RequestCertificate and its record) no record exists and the
        provider's intent says this resource requested with this token, in this region. Such a
        certificate is recorded now, so everything after trusts only the record."""
        record = self._ctx.registry.certificate(arn)
        if record is not None:
            return record.made_by(self._ctx.owner, token)
        intent = self._ctx.registry.intent(token)
        if intent is None or intent.owner != self._ctx.owner or intent.region != region_of(arn):
            logger.warning(
                "Not deleting a certificate carrying this request's tag: the provider never "
                "recorded requesting it (tags can be copied)",
                extra={"certificate_arn": arn},
            )
            return False
        self._ctx.registry.record(
            CertificateRecord(arn=arn, owner=self._ctx.owner, token=token, region=intent.region)
        )
        return True

    def _delete_until_gone(self, arn: str, state: Continuation) -> None:
        service = self._ctx.runtime_certificates(region_of(arn))
        attempt = 0
        while True:
            try:
                outcome = service.delete(arn)
            except ClientError as error:
                self._ctx.waiter.wait_out_throttling(error, state, f"deleting {arn}", attempt)
                attempt += 1
                continue
            if outcome.deleted or outcome.already_gone:
                logger.info(
                    "Certificate deleted" if outcome.deleted else "Certificate already gone",
                    extra={"certificate_arn": arn},
                )
                return
            logger.info(
                "Certificate still in use",
                extra={"certificate_arn": arn, "in_use_by": list(outcome.in_use_by)},
            )

            users = quote_list(outcome.in_use_by, 2) if outcome.in_use_by else "other resources"
            # The users come first: reasons are cut at 255 characters, and two ARNs of users
            # plus the certificate's own ARN (the physical id, shown anyway) do not fit.
            reason = f"Still in use by {users}; detach the certificate, then retry. {arn}"
            self._ctx.waiter.wait(state, IN_USE_BACKOFF, attempt, reason, in_use=True)
            attempt += 1

    def _owned_for_delete(self, arn: str) -> bool:
        """Delete only a certificate the provider's records say this stack's resource owns: a
        Delete naming any other ARN of the account (a mistake, a crafted event, a certificate
        whose tags were copied) leaves it alone."""
        record = self._ctx.registry.certificate(arn)
        if record is not None and record.belongs_to(self._ctx.owner):
            return True
        if record is not None and record.deleted:
            logger.info("Certificate already deleted", extra={"certificate_arn": arn})
            return False
        logger.warning(
            "Not deleting the certificate: the provider's records do not name this stack's "
            "resource as its owner (requested by something else, or before the records "
            "existed: see tools/adopt_certificates.py)",
            extra={
                "certificate_arn": arn,
                "recorded": record is not None,
                "owner_stack_id": record.owner.stack_id if record else None,
                "owner_logical_id": record.owner.logical_id if record else None,
            },
        )
        return False

    def _delete_unreported(self, physical_id: str, state: Continuation) -> None:
        """A Create that failed before answering an ARN may still have requested one: find it
        by the request token its placeholder id carries, and delete it. Best effort: whatever
        goes wrong is logged and the Delete succeeds, so a rollback always completes."""
        token = token_of_placeholder(physical_id)
        if token is None:
            logger.info("The physical id names no certificate and no request; nothing to delete")
            return
        try:
            properties = parse_properties(self._ctx.request.properties)
        except InvalidPropertyError:
            return  # invalid properties never reach RequestCertificate
        service = self._ctx.certificates(properties)
        stack_id, logical_id = self._ctx.request.stack_id, self._ctx.request.logical_id

        def search(state: Continuation) -> Continuation:
            for arn in find_requested(service, stack_id, logical_id, token, properties.domain_name):
                if not self._recorded_or_intended(arn, token):
                    continue
                outcome = service.delete(arn)
                if outcome.deleted or outcome.already_gone:  # one still in use stays recorded
                    self._ctx.registry.forget(arn)
                logger.info(
                    "Deleted a certificate the failed create had requested",
                    extra={"certificate_arn": arn, "deleted": outcome.deleted},
                )
            return state

        try:
            self._ctx.waiter.persevering(state, "looking for unreported certificates", search)
        except HandedOff:
            raise
        except Exception as error:  # also throttled until the deadline: a rollback must end
            logger.warning(
                "Could not look for a certificate the failed create may have requested; if one "
                "exists, delete it by hand (tag dns-certificate:request = the token below)",
                extra={"request_token": token, "error": f"{type(error).__name__}: {error}"[:300]},
            )
