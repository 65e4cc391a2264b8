"""Domain names as ACM's RequestCertificate accepts them.

Names are compared case-insensitively and without a trailing dot, so they are normalised to
lower case without the dot before anything else looks at them. The rules are ACM's: the model's
name pattern (labels of letters, digits and inner hyphens, a top-level label of two characters
or more, a wildcard only as the whole leftmost label) and the length limits (64 octets for the
certificate's common name, 253 for any other name, 63 per label).
"""

from __future__ import annotations

import re
import string

from .errors import InvalidPropertyError

MAX_COMMON_NAME_LENGTH = 64
MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
WILDCARD_PREFIX = "*."

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
#: DNS is case-insensitive for ASCII letters only; str.lower() would also turn the Kelvin sign
#: (U+212A) into "k" and let a non-ASCII name through as a different ASCII one.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def normalize_name(name: str) -> str:
    """The form used for every comparison: lower case, no surrounding space, no trailing dot."""
    name = name.strip().translate(_ASCII_LOWER)
    return name[:-1] if name.endswith(".") else name


def is_wildcard(name: str) -> bool:
    return name.startswith(WILDCARD_PREFIX)


def base_name(name: str) -> str:
    """The name a wildcard covers: its validation record and hosted zone are those of the base."""
    return name[len(WILDCARD_PREFIX) :] if is_wildcard(name) else name


def is_subdomain_or_equal(name: str, parent: str) -> bool:
    return name == parent or name.endswith("." + parent)


def _punycode_hint(name: str) -> str:
    try:
        return f"; use its punycode form '{name.encode('idna').decode('ascii')}'"
    except UnicodeError:
        return ""


def name_problem(name: str, *, max_length: int) -> str | None:
    """Why `name` (already normalised) is not a name ACM accepts, or None when it is."""
    if not name:
        return "is empty"
    if not name.isascii():
        return "contains non-ASCII characters" + _punycode_hint(name)
    if len(name) > max_length:
        return f"is {len(name)} characters long; the limit is {max_length}"
    labels = name.split(".")
    if labels[0] == "*":
        labels = labels[1:]
    if "*" in name[len(WILDCARD_PREFIX) if is_wildcard(name) else 0 :]:
        return "has a wildcard that is not the whole leftmost label (only '*.name' is allowed)"
    if len(labels) < 2:
        return "needs at least two labels (e.g. 'example.com')"
    for label in labels:
        if not label:
            return "has an empty label"
        if len(label) > MAX_LABEL_LENGTH:
            return f"has a label of {len(label)} characters; the limit is {MAX_LABEL_LENGTH}"
        if not _LABEL.match(label):
            return (
                f"has an invalid label '{label}': use letters, digits and hyphens, "
                "not starting or ending with a hyphen"
            )
    if len(labels[-1]) < 2:
        return "has a top-level label shorter than two characters"
    return None


def parse_name(value: object, *, field: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """Normalise and validate one name; the error names the property it came from."""
    if not isinstance(value, str):
        raise InvalidPropertyError(f"{field} must be a string, got {type(value).__name__}")
    name = normalize_name(value)
    problem = name_problem(name, max_length=max_length)
    if problem:
        raise InvalidPropertyError(
            f"{field} '{value.strip()[:80]}' is not a valid domain name: {problem}"
        )
    return name
