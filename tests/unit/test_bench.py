"""`make bench`'s own arithmetic: percentiles, the rate peak, which misses fail the run.

No benchmark runs here (and nothing is timed): the figures are made up.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.bench import Observer, build_rows, percentiles


def test_percentiles_use_the_nearest_rank() -> None:
    figures = percentiles([float(i) for i in range(1, 21)])
    assert figures == {"n": 20, "p50": 10.5, "p95": 19.0, "max": 20.0}


def test_percentiles_when_empty_are_nan() -> None:
    assert math.isnan(float(percentiles([])["max"]))


def test_peak_rate_counts_within_any_one_second_window() -> None:
    observer = Observer()
    observer.calls = [(t, "acm:DescribeCertificate", False) for t in (0.0, 0.5, 0.9, 1.2, 3.0)]
    observer.calls.append((0.95, "acm:RequestCertificate", False))
    assert observer.peak_rate("acm:DescribeCertificate", 0.0, 10.0) == 3


def test_peak_rate_when_answered_only_leaves_throttled_calls_out() -> None:
    observer = Observer()
    observer.calls = [(0.1 * i, "acm:DescribeCertificate", i % 2 == 0) for i in range(6)]
    assert observer.peak_rate("acm:DescribeCertificate", 0.0, 1.0) == 6
    assert observer.peak_rate("acm:DescribeCertificate", 0.0, 1.0, answered=True) == 3


def test_timeline_keeps_each_call_in_the_windows_per_api_from_the_start() -> None:
    observer = Observer()
    observer.calls = [
        (100.0, "acm:RequestCertificate", False),  # before the windows
        (101.5, "acm:DescribeCertificate", False),
        (100.25, "acm:DescribeCertificate", True),
        (102.0, "route53:ChangeResourceRecordSets", False),
        (104.5, "acm:DescribeCertificate", False),  # between them (the benchmark's checks)
        (106.0, "acm:DeleteCertificate", False),
        (108.0, "acm:ListCertificates", False),  # after them
    ]
    assert observer.timeline(100.2, [(100.2, 104.0), (105.0, 107.0)]) == {
        "acm:DeleteCertificate": {"answered": [5.8], "throttled": []},
        "acm:DescribeCertificate": {"answered": [1.3], "throttled": [0.05]},
        "route53:ChangeResourceRecordSets": {"answered": [1.8], "throttled": []},
    }


def _results(*, latency_max: float, peak: int, lookups: int, orphans: int) -> dict[str, Any]:
    latency = {"n": 5, "p50": 1.0, "p95": latency_max, "max": latency_max}
    phase = {"seconds": 1.0, "total_throttled": 0}
    hundred = {
        "step": "create: 100 names in 10 zones",
        "calls": 10 + lookups,
        "by_api": {
            "route53:ChangeResourceRecordSets": 10,
            "route53:ListHostedZonesByName": lookups,
        },
        "zone_lookups": lookups,
    }
    return {
        "memory_mb": 256,
        "single": {
            "latency": latency,
            "gb_seconds_per_certificate": 45.0,
            "billed_seconds_per_certificate": 180.0,
        },
        "many": {
            "certificates": 50,
            "latency": latency,
            "describe_peak_per_second": peak,
            "created": 50,
            "deleted": 50,
            "failures": 0,
            "throttling_failures": 0,
            "orphans": orphans,
            "create": phase,
            "delete": phase,
        },
        "calls": {"rows": [hundred], "problems": []},
        "cold_start": {
            "samples": 3,
            "app_to_boto3_ratio": 1.5,
            "import_app_median_ms": 150.0,
            "import_boto3_median_ms": 100.0,
        },
    }


def _failing(results: dict[str, Any]) -> list[str]:
    return [row.what for row in build_rows(results) if row.met is False and row.gates]


def test_build_rows_when_every_target_is_met_fails_nothing() -> None:
    assert _failing(_results(latency_max=1.0, peak=10, lookups=10, orphans=0)) == []


def test_build_rows_when_only_latencies_miss_fails_nothing() -> None:
    rows = build_rows(_results(latency_max=9.0, peak=10, lookups=10, orphans=0))
    missed = [row for row in rows if row.met is False]
    assert len(missed) == 2
    assert all(not row.gates for row in missed)


def test_build_rows_when_counts_miss_fails_each_of_them() -> None:
    failing = _failing(_results(latency_max=1.0, peak=11, lookups=11, orphans=1))
    assert len(failing) == 3
    assert any("DescribeCertificate" in what for what in failing)
    assert any("100 names" in what for what in failing)
    assert any("created and deleted" in what for what in failing)
