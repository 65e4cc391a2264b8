"""A CloudFormation custom resource for DNS-validated ACM certificates."""

import os

# Powertools names a child logger after POWERTOOLS_SERVICE_NAME when its module is imported.
# Without the variable (sam local, local drivers, tests) the children would not hang under the
# function's logger (`app.logger`, service "dns-certificate"): their lines would lose its JSON
# format and the request keys, and INFO lines would not be written at all.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "dns-certificate")
