"""A CloudFormation custom resource for DNS-validated ACM certificates."""
