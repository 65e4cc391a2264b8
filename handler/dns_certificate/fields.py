"""Property values as CloudFormation delivers them, read back into the types they mean.

CloudFormation sends every scalar as a string ("true", "300"), keeps lists as lists, and passes
through whatever the user typed. These readers are shared by every group of property rules
(properties.py, tagging.py, validation_options.py); each raises InvalidPropertyError with a
reason naming the property.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .errors import InvalidPropertyError

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def required(raw: Mapping[str, object], name: str) -> object:
    value = raw.get(name)
    if value is None or value == "":
        raise InvalidPropertyError(f"{name} is required")
    return value


def as_list(value: object, name: str) -> Sequence[object]:
    if value is None or value == "":
        return ()
    if isinstance(value, (list, tuple)):
        return value
    raise InvalidPropertyError(f"{name} must be a list, got {type(value).__name__}")


def parse_enum(value: object, name: str, allowed: Sequence[str]) -> str:
    if isinstance(value, str):
        for candidate in allowed:
            if value.strip() == candidate:
                return candidate
    raise InvalidPropertyError(f"{name} '{value}' is not one of: {', '.join(allowed)}")


def parse_optional_enum(value: object, name: str, allowed: Sequence[str]) -> str | None:
    if value is None or value == "":
        return None
    return parse_enum(value, name, allowed)


def parse_bool(value: object, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidPropertyError(f"{name} '{value}' must be true or false")


def whole_number(value: object) -> int | None:
    """A non-negative integer written as CloudFormation sends it: ASCII digits and nothing else.

    `int()` alone would also accept full-width digits, '1_0_0', ' 120' and '+120'. An int (from
    a caller other than CloudFormation) is taken as is; a bool, a float or anything else is not.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        return int(value)
    return None


def type_name(value: object) -> str:
    """How a JSON value's type reads in a reason: null, a number, a list..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
