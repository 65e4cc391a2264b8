"""Hypothesis strategies and settings shared by the unit tests."""

from __future__ import annotations

from hypothesis import assume, settings
from hypothesis import strategies as st

#: Enough examples to find edge cases, few enough to keep the unit suite well under 20 s.
FAST = settings(max_examples=200, deadline=None)
QUICK = settings(max_examples=50, deadline=None)

#: ACM's model pattern for a name (botocore's acm service-2.json), matched in full.
MODEL_NAME_PATTERN = (
    r"(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])"
)

#: A label: letters, digits and inner hyphens, 1 to 63 characters.
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)
#: A top-level label: like a label, but at least two characters.
top_labels = st.from_regex(r"[a-z0-9][a-z0-9-]{0,61}[a-z0-9]", fullmatch=True)


@st.composite
def valid_names(draw: st.DrawFn, max_length: int = 253, wildcard: bool | None = None) -> str:
    """A name ACM accepts, already in normal form (lower case, no trailing dot)."""
    prefix = "*." if (draw(st.booleans()) if wildcard is None else wildcard) else ""
    top = draw(top_labels)
    assume(len(prefix) + len("a.") + len(top) <= max_length)
    name = top
    for label in draw(st.lists(labels, min_size=1, max_size=6)):
        if len(prefix) + len(label) + 1 + len(name) > max_length:
            break
        name = f"{label}.{name}"
    if "." not in name:
        # The first label did not fit: a one-character label always does.
        name = f"a.{name}"
    return prefix + name


@st.composite
def spelling_variants(draw: st.DrawFn, name: str) -> str:
    """The same name as a user might write it: any case, maybe a trailing dot."""
    cased = "".join(character.upper() if draw(st.booleans()) else character for character in name)
    return cased + ("." if draw(st.booleans()) else "")
