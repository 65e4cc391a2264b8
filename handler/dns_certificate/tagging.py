"""Tags: the user's `Tags` property, checked against ACM's tag rules, and the key prefix this
resource keeps for the tags it sets itself (ownership, zones)."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import InvalidPropertyError
from .fields import as_list, type_name

MAX_TAGS = 50
#: Tag keys this resource sets itself; users may not set keys with this prefix (in any case).
RESERVED_TAG_PREFIX = "dns-certificate:"
#: Tag keys AWS reserves for itself; ACM refuses them in any case.
AWS_TAG_PREFIX = "aws:"
#: How many tags the resource adds to every certificate: `certificates.ownership_tags` (stack,
#: logical id, identity, request) and the zones tag the renewal guard reads (`zonetag.py`).
OWNERSHIP_TAG_COUNT = 5

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_TAG_CHARACTERS = set("_.:/=+-@ ")


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


def parse_tags(value: object) -> tuple[Tag, ...]:
    tags: list[Tag] = []
    keys: set[str] = set()
    items = as_list(value, "Tags")
    limit = MAX_TAGS - OWNERSHIP_TAG_COUNT
    if len(items) > limit:
        raise InvalidPropertyError(
            f"Tags has {len(items)} tags; at most {limit} (ACM allows {MAX_TAGS} per "
            f"certificate and this resource sets {OWNERSHIP_TAG_COUNT} of its own)"
        )
    for index, item in enumerate(items):
        where = f"Tags[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"Key", "Value"}:
            raise InvalidPropertyError(f"{where} must be an object with Key and Value")
        key, tag_value = item.get("Key"), item.get("Value", "")
        if not isinstance(key, str):
            raise InvalidPropertyError(f"{where}.Key must be a string, got {type_name(key)}")
        if not 1 <= len(key) <= 128:
            raise InvalidPropertyError(f"{where}.Key must be 1 to 128 characters")
        if not isinstance(tag_value, str):
            raise InvalidPropertyError(
                f"{where}.Value for '{key[:60]}' must be a string, got {type_name(tag_value)}"
            )
        if len(tag_value) > 256:
            raise InvalidPropertyError(
                f"{where}.Value for '{key[:60]}' must be at most 256 characters"
            )
        folded = key.translate(_ASCII_LOWER)  # ACM: 'AWS:' is as reserved as 'aws:'
        if folded.startswith(AWS_TAG_PREFIX):
            raise InvalidPropertyError(
                f"{where}.Key '{key[:60]}': keys starting with '{AWS_TAG_PREFIX}' (in any case) "
                "are reserved"
            )
        if folded.startswith(RESERVED_TAG_PREFIX):
            raise InvalidPropertyError(
                f"{where}.Key '{key[:60]}': keys starting with '{RESERVED_TAG_PREFIX}' (in any "
                "case) are set by this resource"
            )
        for text, part in ((key, "Key"), (tag_value, "Value")):
            bad = sorted({c for c in text if not (c.isalnum() or c in _TAG_CHARACTERS)})
            if bad:
                raise InvalidPropertyError(
                    f"{where}.{part} for '{key[:60]}' has characters ACM does not allow: "
                    f"{''.join(bad)[:20]!r} (letters, digits, spaces and _.:/=+-@ are allowed)"
                )
        if key in keys:
            raise InvalidPropertyError(f"{where}.Key '{key}' is listed twice")
        keys.add(key)
        tags.append(Tag(key=key, value=tag_value))
    return tuple(tags)
