"""Cold-start cost of the handler module: import time and the first client construction.

Each sample is a fresh interpreter importing `app` (what Lambda does on a cold start, minus the
runtime's own start-up). Reports the median and spread of N samples.

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
import app
print(time.perf_counter() - t)
"""


def sample() -> float:
    env = dict(os.environ, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    env["PYTHONPATH"] = str(ROOT / "handler")
    output = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout
    return float(output.strip().splitlines()[-1])


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    samples = sorted(sample() for _ in range(count))
    print(
        json.dumps(
            {
                "samples": count,
                "import_app_median_ms": round(statistics.median(samples) * 1000, 1),
                "min_ms": round(samples[0] * 1000, 1),
                "max_ms": round(samples[-1] * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
