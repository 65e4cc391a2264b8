"""Helpers the construct's tests share."""

from __future__ import annotations

import aws_cdk as cdk

from dns_certificate_cdk import DnsValidatedCertificate


def logical_id(construct: object) -> str:
    """The logical id of a construct's CloudFormation resource (a certificate's custom
    resource; another L2 construct's default child)."""
    if isinstance(construct, DnsValidatedCertificate):
        construct = construct.custom_resource
    assert isinstance(construct, cdk.Resource | cdk.CfnResource), construct
    child = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    assert isinstance(child, cdk.CfnResource), child
    return str(cdk.Stack.of(child).get_logical_id(child))
