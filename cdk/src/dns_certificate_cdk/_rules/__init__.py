"""The function's own ResourceProperties rules: `properties.py` of `handler/dns_certificate` and
the pure modules it imports, so that the construct refuses at synth time exactly what the
function would refuse at deploy time, with the same reason.

A wheel holds copies of those modules in this folder, made at build time from handler/
(`cdk/hatch_build.py`; `tests/cdk/test_packaging.py` checks they are byte-identical). A clone
of the repository has no copies: this package then finds the modules in handler/dns_certificate
itself, by adding that folder to its `__path__`. Only the modules imported run; the function's
package `__init__` does not.
"""

from importlib.util import find_spec
from pathlib import Path

if find_spec(f"{__name__}.properties") is None:  # no copies: a clone of the repository
    _HANDLER_PACKAGE = Path(__file__).resolve().parents[4] / "handler" / "dns_certificate"
    if not (_HANDLER_PACKAGE / "properties.py").is_file():
        raise ImportError(
            "dns_certificate_cdk has no copy of the function's property rules and is not in a "
            f"clone of the repository ({_HANDLER_PACKAGE} is missing): install a built wheel"
        )
    __path__.append(str(_HANDLER_PACKAGE))
