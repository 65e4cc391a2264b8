"""README "Troubleshooting" lists every FAILED reason the code can give.

The reasons are read from the handler's source (AST), as templates: the literal text of each
reason with every interpolated value written `…`. Each template must appear in the README's
Troubleshooting section as a code span, and each error class must have its own entry. Where a
reason comes from:

* the first argument of a `CertificateResourceError` subclass (every class in errors.py);
* the reason given to a wait (`Waiter.wait`, `.pace`, `.wait_out_throttling`'s and `.poll`'s
  what), a `Malformed` intake, the timer's `_send(FAILED, ...)`, and the `return`s of the
  reason builders below;
* a variable assigned a template in the same function.

An argument the scan cannot read (a variable from elsewhere, a call) must be listed in
DYNAMIC_SITES with where its templates are read from; a new one fails until it is. So adding a
reason, or changing one, without documenting it fails this test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dns_certificate import errors

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "handler"
SECTION = "## Troubleshooting"

#: Functions whose returned strings are reasons (file, function) -> the class they are raised as.
REASON_BUILDERS = {
    ("dns_certificate/certificates.py", "_request_reason"): "CertificateRequestError",
    ("dns_certificate/dns.py", "_change_reason"): "DnsChangeError",
    ("dns_certificate/converge.py", "_pending_reason"): "DeadlineExceededError",
    ("dns_certificate/registry.py", "_unusable"): "RegistryError",
    ("dns_certificate/registry.py", "_recorded_for_another"): "RegistryError",
}
#: Calls whose argument at this position is a reason -> the class it ends up as.
REASON_ARGUMENTS = {
    "_wait_or_hand_off": (3, "DeadlineExceededError"),
    "wait": (3, "DeadlineExceededError"),  # Waiter.wait (waiting.py)
    "pace": (1, "DeadlineExceededError"),  # Waiter.pace: a wait at the learned poll interval
    "Malformed": (1, "CertificateResourceError"),
    "_diagnosed_failure": (2, "CertificateFailedError"),  # the reason without a diagnosis
    "_send": (1, "CertificateResourceError"),
}
#: Calls whose third argument (what was throttled) goes into "AWS throttled … until the deadline".
THROTTLING_WAITS = {"_wait_out_throttling", "wait_out_throttling", "poll"}
#: Reasons the scan cannot read where they are raised: (file, source of the argument) -> why
#: that is covered. A new entry needs its templates documented (and read by the scan).
DYNAMIC_SITES = {
    ("app.py", "str(decided.get('Reason') or 'The request failed')"): (
        "a reason an earlier invocation answered (any of the others), sent again"
    ),
    ("app.py", "intake.reason"): "the Malformed(...) reasons of intake.py (REASON_ARGUMENTS)",
    ("dns_certificate/certificates.py", "_request_reason(error)"): "REASON_BUILDERS",
    ("dns_certificate/registry.py", "_recorded_for_another(record.arn)"): "REASON_BUILDERS",
    ("dns_certificate/registry.py", '_unusable("record the certificate\'s zones", error)'): (
        "REASON_BUILDERS"
    ),
    ("dns_certificate/registry.py", "_unusable('read the certificate records', error)"): (
        "REASON_BUILDERS"
    ),
    ("dns_certificate/registry.py", "_unusable('record the certificate request', error)"): (
        "REASON_BUILDERS"
    ),
    ("dns_certificate/registry.py", "_unusable('record the certificate', error)"): (
        "REASON_BUILDERS"
    ),
    ("dns_certificate/registry.py", '_unusable("reach the provider\'s records", error)'): (
        "REASON_BUILDERS"
    ),
    ("dns_certificate/dns.py", "_change_reason(zone_id, error, self._account)"): "REASON_BUILDERS",
    (
        "dns_certificate/converge.py",
        "partial(self._pending_reason, arn, properties, view, records_needed)",
    ): "REASON_BUILDERS; with a diagnosis, summary_reason (DIAGNOSIS_SECTION)",
    (
        "dns_certificate/converge.py",
        "self._diagnosed_failure(properties, view, reason)",
    ): "its reason argument (REASON_ARGUMENTS); with a diagnosis, summary_reason",
    ("dns_certificate/waiting.py", "deadline_reason"): "Waiter.pace's callers (REASON_ARGUMENTS)",
    ("dns_certificate/board.py", "reason"): "BoardWatch.wait's caller: converge's _pending_reason",
    ("dns_certificate/converge.py", "reason"): (
        "converge's: `Could not read … before the deadline`, then REASON_BUILDERS"
    ),
}
#: Reasons made of diagnosis findings (diagnosis.summary_reason) are documented in this README
#: section, which Troubleshooting must point to.
DIAGNOSIS_SECTION = "#why-is-my-certificate-not-issuing"
#: Reasons made without a template above.
EXTRA_TEMPLATES = {
    "Unexpected …: …": "protocol.py: any other exception, with its type and message",
}


@dataclass(frozen=True)
class Template:
    text: str
    kind: str
    where: str


def error_classes(handler: Path = HANDLER) -> list[str]:
    """CertificateResourceError and its subclasses: those imported here, and those defined
    anywhere in the handler (read from the source: a module this test does not import counts)."""
    found: list[str] = []

    def walk(cls: type[errors.CertificateResourceError]) -> None:
        found.append(cls.__name__)
        for sub in cls.__subclasses__():
            walk(sub)

    walk(errors.CertificateResourceError)
    definitions = [
        node
        for path in sorted(handler.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    ]
    grew = True
    while grew:
        grew = False
        for node in definitions:
            bases = {_name_of(base) for base in node.bases}
            if node.name not in found and bases & set(found):
                found.append(node.name)
                grew = True
    return found


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def template_of(node: ast.expr | None) -> str | None:
    """The literal text of a string expression, interpolated values as '…'; None if not one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(value.value) if isinstance(value, ast.Constant) else "…" for value in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = template_of(node.left), template_of(node.right)
        return None if left is None or right is None else left + right
    return None


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _assigned(function: ast.AST, name: str) -> list[str]:
    """Templates assigned to `name` in `function`."""
    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            text = template_of(node.value)
            if text is not None:
                found.append(text)
    return found


def _called_name(call: ast.Call) -> str | None:
    return _name_of(call.func)


def scan(handler: Path = HANDLER) -> tuple[list[Template], list[tuple[str, str]]]:
    """Every reason template in the handler, and the sites the scan could not read."""
    classes = set(error_classes(handler))
    templates: list[Template] = []
    unread: list[tuple[str, str]] = []
    for path in sorted(handler.rglob("*.py")):
        relative = path.relative_to(handler).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in _functions(tree):
            builder = REASON_BUILDERS.get((relative, function.name))
            if builder:
                for node in ast.walk(function):
                    if isinstance(node, ast.Return):
                        text = template_of(node.value)
                        if text is not None:
                            templates.append(Template(text, builder, relative))
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                name = _called_name(node)
                if name in classes:
                    position, kind = 0, name
                elif name in REASON_ARGUMENTS:
                    position, kind = REASON_ARGUMENTS[name]
                else:
                    continue
                given_as = [k.value for k in node.keywords if k.arg == "reason"]
                if len(node.args) > position:
                    argument = node.args[position]
                elif given_as:
                    argument = given_as[0]
                elif name in classes:  # an error without a reason the scan can read
                    unread.append((relative, ast.unparse(node)))
                    continue
                else:
                    continue
                text = template_of(argument)
                if text is not None:
                    templates.append(Template(text, kind, relative))
                    continue
                if isinstance(argument, ast.Name):
                    assigned = _assigned(function, argument.id)
                    templates.extend(Template(t, kind, relative) for t in assigned)
                    if assigned:
                        continue
                unread.append((relative, ast.unparse(argument)))
        # _wait_out_throttling("… what …") callers: their `what` goes into a reason.
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) in THROTTLING_WAITS:
                what = template_of(node.args[2]) if len(node.args) > 2 else None
                if what is not None:
                    templates.append(
                        Template(f"AWS throttled {what} until the deadline", "Throttled", relative)
                    )
    templates.extend(Template(text, "Unexpected", "protocol.py") for text in EXTRA_TEMPLATES)
    return templates, unread


def troubleshooting() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    return readme[start : end if end != -1 else len(readme)]


def test_scan_when_run_finds_reasons_in_every_layer() -> None:
    templates, _ = scan()
    where = {template.where for template in templates}
    assert {"dns_certificate/properties.py", "dns_certificate/converge.py", "app.py"} <= where
    assert len(templates) > 50


def test_scan_when_run_reads_every_reason_or_knows_where_it_comes_from() -> None:
    _, unread = scan()
    unknown = sorted(set(unread) - set(DYNAMIC_SITES))
    assert not unknown, (
        "A reason the scan cannot read: document its templates in README Troubleshooting and "
        f"add the site to DYNAMIC_SITES (with how its templates are read): {unknown}"
    )


@pytest.mark.parametrize("name", error_classes())
def test_troubleshooting_when_read_has_an_entry_for(name: str) -> None:
    assert re.search(rf"^### `{name}`", troubleshooting(), re.M), (
        f"README Troubleshooting has no '### `{name}`' entry"
    )


def test_troubleshooting_when_read_lists_every_reason_template() -> None:
    templates, _ = scan()
    section = troubleshooting()
    missing = sorted({t.text for t in templates if f"`{t.text}`" not in section})
    assert not missing, "README Troubleshooting lacks these reasons (as `code`):\n" + "\n".join(
        missing
    )


def test_troubleshooting_when_read_points_to_the_diagnosis_findings() -> None:
    assert DIAGNOSIS_SECTION in troubleshooting()


def test_template_of_when_given_an_f_string_marks_each_value() -> None:
    node = ast.parse("f'Zone {zone!r} of {name}: bad'", mode="eval").body
    assert template_of(node) == "Zone … of …: bad"


NEW_REASONS = """
from .errors import CertificateResourceError, InvalidPropertyError


class RecordCleanupError(CertificateResourceError):
    pass


def by_keyword(name):
    raise InvalidPropertyError(reason=f"Keyword reason for {name}")


def by_a_class_defined_here():
    raise RecordCleanupError("Cleanup reason from a class defined outside errors.py")
"""


@pytest.mark.parametrize(
    "text",
    ["Keyword reason for …", "Cleanup reason from a class defined outside errors.py"],
)
def test_scan_when_a_reason_is_added_finds_it(tmp_path: Path, text: str) -> None:
    """A reason given by keyword, or raised as a class defined beside the code (not imported by
    this test), is a reason like any other: README must list it."""
    package = tmp_path / "dns_certificate"
    package.mkdir()
    (package / "cleanup.py").write_text(NEW_REASONS, encoding="utf-8")

    templates, unread = scan(tmp_path)

    assert text in {template.text for template in templates}, (templates, unread)
