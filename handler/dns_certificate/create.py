"""Create as CloudFormation means it: request the certificate (once per request: ACM's
idempotency token), then converge. The order of steps, nothing else.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

from .context import RequestContext, placeholder_physical_id, request_token
from .continuation import Continuation
from .converge import Converger
from .delete import Deleter
from .policy import Policy
from .properties import CertificateProperties, parse_properties
from .registry import CertificateRecord, Intent
from .waiting import HandedOff

logger = Logger(child=True)


class Creator:
    """A Create's steps; an Update's replacement requests and completes through them too."""

    def __init__(self, ctx: RequestContext) -> None:
        self._ctx = ctx
        self._converger = Converger(ctx)
        self._deleter = Deleter(ctx)

    def create(self) -> str:
        # Until there is an ARN, a failure answers this id; the rollback Delete finds any
        # certificate this request made by the token it carries.
        self._ctx.responder.set_physical_id(placeholder_physical_id(self._ctx.event))
        properties = parse_properties(self._ctx.request.properties)
        state = self._ctx.state_or_new(("create",), properties.service_timeout)
        if not state.certificate_arn:
            state = self._ctx.waiter.persevering(
                state, "requesting the certificate", lambda s: self.request_new(properties, s)
            )
        return self.complete(properties, state)

    def request_new(self, properties: CertificateProperties, state: Continuation) -> Continuation:
        # The provider's policy, read for each request: a Create's first step, a replacement's
        # first before it requests anything (the check is pure: no AWS call comes before it).
        Policy.from_environment().check(properties)
        zones = self._ctx.records.zones(properties)  # a name without a zone fails before a request
        self._ctx.stop_if_answered("requesting a certificate")
        service = self._ctx.certificates(properties)
        token = request_token(self._ctx.event)
        region = self._ctx.region(properties)
        zones_tag = self._ctx.zones_tag(properties, zones)
        # The provider's own records come first and last: the intent lets a rollback find a
        # certificate whose ARN never came back; the record is what every later step trusts.
        self._ctx.registry.intend(Intent(token, self._ctx.owner, region, self._ctx.clock.now()))
        arn = service.request(
            properties,
            token,
            [*properties.tags, *self._ctx.ownership_tags(properties, with_request=True), zones_tag],
        )
        self._ctx.registry.record(
            CertificateRecord(
                arn=arn,
                owner=self._ctx.owner,
                token=token,
                region=region,
                zones=zones_tag.value,
                requested_at=self._ctx.clock.now(),
            )
        )
        logger.info("Certificate requested", extra={"certificate_arn": arn, "action": state.action})
        if self._ctx.responder.answered:
            # The timer answered FAILED while the request was on its way: CloudFormation has
            # moved on, and its rollback may have looked for this certificate already.
            logger.warning("Deleting the certificate: the request was answered meanwhile")
            self._deleter.discard(service, arn, self._ctx.discard_budget())
            raise HandedOff()
        return state.advanced(certificate_arn=arn)

    def complete(self, properties: CertificateProperties, state: Continuation) -> str:
        """A created or in-place updated certificate: its ARN is the answer, from the start."""
        arn = self._ctx.arn_of(state)
        self._ctx.responder.set_physical_id(arn)
        self._ctx.responder.set_data({"Arn": arn, "DomainName": properties.domain_name})
        self._converger.converge(properties, state)
        return arn
