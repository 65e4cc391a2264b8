"""`make bench`'s picture (benchmarks/plot.py), drawn from a tiny made-up results file.

Nothing is timed and no benchmark runs: the figures are invented, the SVG is what is checked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from matplotlib.patches import StepPatch

from benchmarks import plot

RATES = {"acm:DescribeCertificate": 10.0, "acm:ListCertificates": 8.0, "route53:*": 10.0}


def _results(*, timeline: bool = True) -> dict[str, Any]:
    many: dict[str, Any] = {"certificates": 3, "latencies": [2.5, 0.4, 6.1]}
    if timeline:
        many["timeline"] = {
            "delete_started": 2.5,
            "calls": {
                "acm:DescribeCertificate": {"answered": [0.2, 0.7, 1.1], "throttled": [0.9]},
                "acm:ListCertificates": {"answered": [1.5], "throttled": []},
                "acm:RequestCertificate": {"answered": [0.0, 0.1, 0.1], "throttled": []},
                "route53:ChangeResourceRecordSets": {"answered": [0.3, 1.2], "throttled": [1.3]},
                "route53:ListHostedZones": {"answered": [0.3, 2.9], "throttled": []},
            },
        }
    return {"when": "2026-12-05", "commit": "abc1234", "rates": RATES, "many": many}


def _ids(path: Path) -> set[str]:
    return {element.get("id", "") for element in ET.parse(path).iter()}


def test_per_second_counts_each_whole_second_and_the_rest_in_the_last() -> None:
    assert plot.per_second([0.0, 0.5, 0.99, 1.0, 2.7, 5.0], 3) == [3, 1, 2]
    assert plot.per_second([], 2) == [0, 0]


def test_write_draws_one_bar_per_certificate_the_target_and_every_rate_against_its_quota(
    tmp_path: Path,
) -> None:
    path = plot.write(_results(), tmp_path / "results.svg", latency_target=5.0)

    ids = _ids(path)
    assert {"latency-0", "latency-1", "latency-2", "latency-target"} <= ids
    assert "latency-3" not in ids
    for key in ("acm-DescribeCertificate", "acm-ListCertificates", "route53"):
        assert {f"rate-{key}", f"throttled-{key}", f"quota-{key}"} <= ids
    text = path.read_text()
    assert "quota 8/s" in text and "quota 10/s" in text
    assert "Date" not in text  # no date: the same figures give the same file


def test_the_rate_series_count_the_recorded_calls_per_second() -> None:
    fig = plot.figure(_results(), latency_target=5.0)

    def values(gid: str) -> list[float]:
        (patch,) = [a for a in fig.findobj(StepPatch) if a.get_gid() == gid]
        values, _, _ = patch.get_data()
        return [float(v) for v in values]

    assert values("rate-acm-DescribeCertificate") == [2, 1, 0]  # answered, per second
    assert values("throttled-acm-DescribeCertificate") == [3, 1, 0]  # stacked on top
    assert values("rate-acm-ListCertificates") == [0, 1, 0]
    # Route 53's quota is the account's: every Route 53 API counts in one series.
    assert values("rate-route53") == [2, 1, 1]
    assert values("throttled-route53") == [2, 2, 1]


def test_without_a_call_timeline_only_the_latencies_are_drawn(tmp_path: Path) -> None:
    path = plot.write(_results(timeline=False), tmp_path / "old.svg", latency_target=5.0)

    ids = _ids(path)
    assert "latency-2" in ids
    assert not any(i.startswith(("rate-", "quota-")) for i in ids)
