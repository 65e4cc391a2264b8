"""Delete as CloudFormation means it, and discarding what a failed request made: only a
certificate whose tags name this stack's resource (and, to discard, this request) is deleted.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from .certificates import (
    LOGICAL_ID_TAG,
    REQUEST_TAG,
    STACK_TAG,
    CertificateService,
    is_certificate_arn,
    owned_by,
    region_of,
)
from .cleanup import RecordCleanup, plan_cleanup
from .clients import error_code, error_message, is_throttling
from .context import RequestContext, request_token, token_of_placeholder
from .continuation import Continuation
from .deadline import IN_USE_BACKOFF, THROTTLED_BACKOFF, Moment, Seconds, moment_after
from .errors import InvalidPropertyError, quote_list
from .listing import find_requested
from .metrics import current as current_metrics
from .properties import CertificateProperties, parse_properties
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
        if self._owned_for_delete(physical_id, state):
            certificates = self._ctx.runtime_certificates
            cleanup = plan_cleanup(self._ctx.request.properties, physical_id, certificates)
            self._delete_until_gone(physical_id, state)
            if cleanup is not None:  # opted in: records no other certificate needs go too
                outcome = RecordCleanup(self._ctx.records).after_delete(
                    cleanup, certificates, self._ctx.remaining_seconds
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
        return find_requested(
            service,
            self._ctx.request.stack_id,
            self._ctx.request.logical_id,
            request_token(self._ctx.event),
            domain_name,
        )

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
        tags = service.tags_if_exists(arn)
        if tags is None:
            logger.info("Certificate already gone", extra={"certificate_arn": arn})
            return False
        if tags.get(REQUEST_TAG) == request_token(self._ctx.event) and owned_by(
            tags, self._ctx.request.stack_id, self._ctx.request.logical_id
        ):
            return True
        logger.warning(
            "Not discarding the certificate: this request did not make it",
            extra={"certificate_arn": arn},
        )
        return False

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

    def _owned_for_delete(self, arn: str, state: Continuation) -> bool:
        """Delete only a certificate whose ownership tags name this stack's resource: a Delete
        naming any other ARN of the account (a mistake, or a crafted event) leaves it alone."""
        attempt = 0
        while True:
            try:
                # Inside the try: a region botocore refuses (`us_east_1`, `a b`) is no owner.
                service = self._ctx.runtime_certificates(region_of(arn))
                found = service.tags_if_exists(arn)
                if found is None:
                    logger.info("Certificate already gone", extra={"certificate_arn": arn})
                    return False
                tags = found
                break
            except ClientError as error:
                code = error_code(error)
                if not is_throttling(error):
                    logger.warning(
                        "Not deleting the certificate: its owner cannot be read",
                        extra={"certificate_arn": arn, "error": f"{code}: {error_message(error)}"},
                    )
                    return False
                self._ctx.waiter.wait_out_throttling(
                    error, state, f"reading the tags of {arn}", attempt
                )
                attempt += 1
            except BotoCoreError as error:
                logger.warning(
                    "Not deleting the certificate: ACM cannot be reached in its region",
                    extra={"certificate_arn": arn, "error": f"{type(error).__name__}: {error}"},
                )
                return False
        if owned_by(tags, self._ctx.request.stack_id, self._ctx.request.logical_id):
            return True
        logger.warning(
            "Not deleting the certificate: its ownership tags do not name this stack's resource",
            extra={
                "certificate_arn": arn,
                "owner_stack_id": tags.get(STACK_TAG),
                "owner_logical_id": tags.get(LOGICAL_ID_TAG),
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
                outcome = service.delete(arn)
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
