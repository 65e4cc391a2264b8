"""The construct library's tests (cdk/): synthesized with aws-cdk-lib (jsii: Node.js).

Synthesis is the slow part (seconds per app): each module builds its apps once, in
module-scoped fixtures, and its tests read them.
"""

from __future__ import annotations

import os

# jsii warns on every start that Node.js 20 is past its end of life (the machines have 20;
# jsii supports 22 and 24). The warning is known (README: Use it from CDK) and only noise here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
