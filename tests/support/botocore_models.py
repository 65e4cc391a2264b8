"""One cache of botocore's service models for the whole test process.

Every botocore session reads and parses its JSON models (endpoints, partitions, each service's
API and endpoint rules) anew: its loader caches per instance. The tests make several sessions
per test (moto's reset, the handler's clients for each invocation, the fixtures' own), so about
half of an integration test's setup went to parsing the same files again. Here the loaders of
one data path share one cache, as the clients of one session already share theirs: the same
models, read once; nothing else about the sessions changes (each keeps its own loader).
"""

from __future__ import annotations

from typing import Any

import botocore.loaders
import botocore.session

_create_loader = botocore.loaders.create_loader
_CACHES: dict[str | None, dict[Any, Any]] = {}


def _sharing_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    loader = _create_loader(search_path_string)
    loader._cache = _CACHES.setdefault(search_path_string, {})  # type: ignore[attr-defined]
    return loader


def share_botocore_models() -> None:
    """Sessions made from now on load their models through the shared cache (idempotent)."""
    botocore.session.create_loader = _sharing_loader
