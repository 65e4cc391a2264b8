"""A local stand-in for CloudFormation and AWS, used by the tests and by `make demo`.

Nothing here is deployed: `handler/` is the Lambda's code.
"""
