"""`--dist=loadgroup` that keeps `xdist_group` tests on one worker again (pytest 9.2, xdist 3.8).

xdist marks a grouped test by appending "@group" to its node id on the worker; pytest 9.2 keeps
node ids in a structured field that this no longer changes (pytest-xdist issue 1386), so every
grouped test became a unit of its own. tests/reliability/test_faults.py then ran its 100-second
module-scoped fault run twice, once on each worker, each run crowding the other's timers.

The controller never sees the marks (it gets node ids only), so the groups are named here by
module, and each worker checks at collection that the marks agree with this table: a module
marked but missing here (or the other way round) is a usage error, not a silently split group.
Scopes are queued largest first (xdist's `loadscopereorder`), so the group starts at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadGroupScheduling

#: Test module (path as in its node ids) -> the `xdist_group` name its tests are marked with.
GROUPED_MODULES: dict[str, str] = {
    "tests/reliability/test_faults.py": "faults",
    # The CDK tests synthesize their apps once per module (module-scoped fixtures, seconds
    # each): one worker per module, so that no app is synthesized twice.
    "tests/cdk/test_certificate.py": "cdk-certificate",
    "tests/cdk/test_cloudfront.py": "cdk-cloudfront",
    "tests/cdk/test_example.py": "cdk-example",
    "tests/cdk/test_packaging.py": "cdk-packaging",
    "tests/cdk/test_provider.py": "cdk-provider",
    "tests/reliability/test_crash_points.py": "crash-points",
}


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class ModuleGroupScheduling(LoadGroupScheduling):  # type: ignore[misc]  # xdist is untyped
    """loadgroup, with the groups taken from GROUPED_MODULES when the node ids carry none."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.rfind("@") > nodeid.rfind("]"):  # xdist's own suffix, should it work again
            return nodeid.rsplit("@", 1)[-1]
        group = GROUPED_MODULES.get(module_of(nodeid))
        return group if group is not None else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None  # another --dist asked for: xdist's own scheduler
    return ModuleGroupScheduling(config, log)


def marked_group(item: pytest.Item) -> str | None:
    names = sorted(
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    )
    return "_".join(names) if names else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every `xdist_group` mark has its module in GROUPED_MODULES, under the same name."""
    for item in items:
        module = module_of(item.nodeid)
        marked, listed = marked_group(item), GROUPED_MODULES.get(module)
        if marked != listed:
            raise pytest.UsageError(
                f"{item.nodeid}: xdist_group {marked!r}, but GROUPED_MODULES in "
                f"tests/support/xdist_groups.py says {listed!r} for {module}"
            )
