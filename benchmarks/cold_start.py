"""Cold-start cost of the handler module: import time and the first client construction.

Each sample is a fresh interpreter importing `app` (what Lambda does on a cold start, minus the
runtime's own start-up). Reports the median and spread of N samples, and the same for a bare
`import boto3` sampled in turn with them, so that the ratio does not depend on the machine.

    .venv/bin/python -m benchmarks.cold_start [N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import time, sys
t = time.perf_counter()
import {module}
print(time.perf_counter() - t)
"""


def sample(module: str = "app") -> float:
    env = dict(os.environ, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    env["PYTHONPATH"] = str(ROOT / "handler")
    output = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def measure(count: int) -> dict[str, float | int]:
    """`count` samples of `import app` and of `import boto3`, alternating."""
    app: list[float] = []
    boto3: list[float] = []
    for _ in range(count):
        app.append(sample("app"))
        boto3.append(sample("boto3"))
    app.sort()
    boto3.sort()
    app_median = statistics.median(app)
    boto3_median = statistics.median(boto3)
    return {
        "samples": count,
        "import_app_median_ms": round(app_median * 1000, 1),
        "min_ms": round(app[0] * 1000, 1),
        "max_ms": round(app[-1] * 1000, 1),
        "import_boto3_median_ms": round(boto3_median * 1000, 1),
        "app_to_boto3_ratio": round(app_median / boto3_median, 2),
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print(json.dumps(measure(count)))


if __name__ == "__main__":
    main()
