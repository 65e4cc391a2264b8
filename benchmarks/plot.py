"""`make bench`'s picture, `benchmarks/results.svg`, drawn from what results.json recorded.

For the certificates created at once (`results["many"]`):

* issuance -> answer per certificate, fastest to slowest, one bar each, against the target;
* per API that has a rate quota the waits must respect (`DescribeCertificate`,
  `ListCertificates`, Route 53: one quota for the account, every API together), the calls that
  reached the emulator in each whole second of the run, answered and throttled stacked (a
  throttled attempt counts against the quota too), against the quota (`results["rates"]`).

The figure is built with matplotlib's object API (no pyplot: no global state, no display), and
the SVG is made repeatable (no date, fixed ids) so a re-run with the same figures does not
change the file. Each plotted series carries an SVG id (`gid`), which is what the tests look for.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: (title, the API as results["rates"] names it: "route53:*" is every Route 53 API).
RATE_PANELS: tuple[tuple[str, str], ...] = (
    ("ACM DescribeCertificate", "acm:DescribeCertificate"),
    ("ACM ListCertificates", "acm:ListCertificates"),
    ("Route 53, every API (one quota per account)", "route53:*"),
)

ANSWERED_COLOUR = "#4878a8"
THROTTLED_COLOUR = "#d1495b"
LIMIT_COLOUR = "#222222"


def per_second(moments: Iterable[float], seconds: int) -> list[int]:
    """How many of `moments` (seconds from the start) fall in each whole second 0..seconds-1;
    a moment past the end counts in the last second."""
    counts = [0] * seconds
    for moment in moments:
        if seconds and moment >= 0:
            counts[min(int(moment), seconds - 1)] += 1
    return counts


def _moments(
    calls: Mapping[str, Mapping[str, Sequence[float]]], rate_key: str
) -> tuple[list[float], list[float]]:
    """(answered, throttled) moments of the calls `rate_key` covers: one API, or with
    `service:*` every API of the service."""
    answered: list[float] = []
    throttled: list[float] = []
    for api, moments in calls.items():
        if api == rate_key or (rate_key.endswith(":*") and api.startswith(rate_key[:-1])):
            answered.extend(moments.get("answered", []))
            throttled.extend(moments.get("throttled", []))
    return answered, throttled


def figure(results: Mapping[str, Any], latency_target: float) -> Figure:
    """The picture of one results.json (see the module's docstring)."""
    many = results["many"]
    latencies = sorted(many.get("latencies", []))
    timeline = many.get("timeline")
    rates: Mapping[str, float] = results.get("rates", {})
    bursts: Mapping[str, float] = results.get("bursts", {})
    panels = 1 + (len(RATE_PANELS) if timeline else 0)
    fig = Figure(figsize=(10, 3.2 + 2.2 * (panels - 1)), layout="constrained")
    heights = [1.6] + [1.0] * (panels - 1)
    axes = fig.subplots(panels, 1, squeeze=False, height_ratios=heights)[:, 0]
    fig.suptitle(
        f"make bench, {results.get('when', '?')}, commit {results.get('commit', '?')}: "
        f"{many['certificates']} certificates created at once, every API at AWS's rates",
        fontsize=11,
    )

    top = axes[0]
    positions = range(1, len(latencies) + 1)
    colours = [
        THROTTLED_COLOUR if value > latency_target else ANSWERED_COLOUR for value in latencies
    ]
    bars = top.bar(positions, latencies, width=0.8, color=colours)
    for index, bar in enumerate(bars):
        bar.set_gid(f"latency-{index}")
    top.axhline(latency_target, color=THROTTLED_COLOUR, linestyle="--", linewidth=1.2).set_gid(
        "latency-target"
    )
    top.annotate(
        f"target: every answer within {latency_target:g} s of issuance",
        xy=(0.01, latency_target),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        color=THROTTLED_COLOUR,
        fontsize=8,
    )
    summary = (
        f": median {statistics.median(latencies):.2f} s, slowest {latencies[-1]:.2f} s"
        if latencies
        else ""
    )
    top.set_title(f"issuance -> answer, per certificate (fastest to slowest){summary}", fontsize=10)
    top.set_ylabel("seconds")
    top.set_xlabel("certificate")
    top.set_xlim(0.3, max(len(latencies), 1) + 0.7)
    top.set_ylim(0, max([latency_target * 1.15, *latencies]) * 1.05)
    if not latencies:
        top.text(0.5, 0.5, "no latency recorded", transform=top.transAxes, ha="center")

    if not timeline:
        return fig
    calls: Mapping[str, Mapping[str, Sequence[float]]] = timeline["calls"]
    last = max((m for api in calls.values() for ms in api.values() for m in ms), default=0.0)
    seconds = max(1, math.ceil(last + 1e-9))
    delete_started = timeline.get("delete_started")
    for ax, (title, rate_key) in zip(axes[1:], RATE_PANELS, strict=True):
        answered, throttled = _moments(calls, rate_key)
        ok = per_second(answered, seconds)
        refused = per_second(throttled, seconds)
        key = rate_key.replace(":", "-").rstrip("*-")
        edges = list(range(seconds + 1))
        ax.stairs(ok, edges, fill=True, color=ANSWERED_COLOUR, label="answered").set_gid(
            f"rate-{key}"
        )
        stacked = [a + b for a, b in zip(ok, refused, strict=True)]
        ax.stairs(
            stacked, edges, baseline=ok, fill=True, color=THROTTLED_COLOUR, label="throttled"
        ).set_gid(f"throttled-{key}")
        quota = rates.get(rate_key)
        if quota is not None:
            ax.axhline(quota, color=LIMIT_COLOUR, linestyle="--", linewidth=1.0).set_gid(
                f"quota-{key}"
            )
            burst = bursts.get(rate_key)
            ax.annotate(
                f"quota {quota:g}/s" + (f" (bucket of {burst:g})" if burst else ""),
                xy=(1.0, quota),
                xycoords=("axes fraction", "data"),
                xytext=(-3, 3),
                textcoords="offset points",
                ha="right",
                fontsize=8,
            )
        if delete_started is not None:
            ax.axvline(delete_started, color="#888888", linewidth=0.8)
            ax.annotate(
                "deletes start",
                xy=(delete_started, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -10),
                textcoords="offset points",
                fontsize=7,
                color="#666666",
            )
        peak = max(stacked, default=0)
        ax.set_title(
            f"{title}: calls per second ({len(answered)} answered, {len(throttled)} throttled)",
            fontsize=10,
        )
        ax.set_ylabel("calls / s")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, seconds)
        ax.set_ylim(0, max(peak, quota or 0) * 1.25 + 0.5)
    axes[1].legend(loc="upper center", fontsize=8, ncols=2, frameon=False)
    axes[-1].set_xlabel("seconds since the creates were sent (whole seconds)")
    return fig


def write(results: Mapping[str, Any], path: Path, latency_target: float) -> Path:
    """Draw `results` into `path` (SVG, or whatever its suffix names: .png to look at it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed ids in the SVG, and its text kept as text (smaller, searchable).
    with rc_context({"svg.hashsalt": "make-bench", "svg.fonttype": "none"}):
        figure(results, latency_target).savefig(path, metadata=_metadata(path), dpi=110)
    return path


def _metadata(path: Path) -> dict[str, Any]:
    """No date in the file (a re-run with the same figures changes nothing)."""
    if path.suffix == ".svg":
        return {"Date": None}
    if path.suffix == ".png":
        return {"Software": None}
    return {}
