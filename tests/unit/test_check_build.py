"""tools/check_build.py's inspection of the artifact (the invocation runs in .ci/run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.check_build import check_answer, check_contents, pinned_requirements

#: What `sam build` installs for handler/requirements.txt: distribution -> (top-level names,
#: unconditional requirements). Versions are read from handler/requirements.txt.
BUILT = {
    "aws-lambda-powertools": (("aws_lambda_powertools",), ("jmespath>=1.0.1", "typing-extensions")),
    "crhelper": (("crhelper",), ()),
    "dnspython": (("dns",), ()),
    "jmespath": (("jmespath", "jmespath-1.1.0.data"), ()),
    "typing-extensions": (("typing_extensions.py",), ()),
}
VERSIONS = {"jmespath": "1.1.0", "typing-extensions": "4.16.0"}


def _dist(root: Path, name: str, version: str, tops: tuple[str, ...], requires=()) -> None:
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    metadata = [f"Name: {name}", f"Version: {version}"]
    metadata += [f"Requires-Dist: {r}" for r in requires]
    metadata.append("Requires-Dist: pydantic>=2; extra == 'parser'")
    (info / "METADATA").write_text("\n".join(metadata) + "\n")
    record = [f"{top}/__init__.py,," if not top.endswith(".py") else f"{top},," for top in tops]
    (info / "RECORD").write_text("\n".join([*record, f"{info.name}/RECORD,,"]) + "\n")
    for top in tops:
        path = root / top
        if top.endswith(".py"):
            path.write_text("")
        else:
            path.mkdir()


def _artifact(root: Path, *names: str, without: str = "") -> Path:
    for name in ("app.py", "dns_certificate", "requirements.txt", *names):
        path = root / name
        if name.endswith((".py", ".txt")):
            path.write_text("")
        else:
            path.mkdir()
    versions = {**VERSIONS, **{r.name: str(r.specifier)[2:] for r in pinned_requirements()}}
    for dist, (tops, requires) in BUILT.items():
        if dist != without:
            _dist(root, dist, versions[dist], tops, requires)
    return root


def test_check_contents_when_only_runtime_packages_passes(tmp_path: Path) -> None:
    assert check_contents(_artifact(tmp_path)) == []


@pytest.mark.parametrize(
    "extra", ["pytest", "moto", "tests", "pydantic", "moto-5.2.5.dist-info", "boto3"]
)
def test_check_contents_when_a_dev_package_is_built_in_fails(tmp_path: Path, extra: str) -> None:
    assert check_contents(_artifact(tmp_path, extra))


def test_check_contents_when_the_handler_is_missing_fails(tmp_path: Path) -> None:
    problems = check_contents(tmp_path)
    assert "missing app.py" in problems
    assert "missing dns_certificate" in problems


@pytest.mark.parametrize("dist", ["dnspython", "crhelper", "aws-lambda-powertools"])
def test_check_contents_when_a_runtime_dependency_is_missing_names_it(
    tmp_path: Path, dist: str
) -> None:
    """dnspython is imported by the diagnosis only: nothing else would notice it missing."""
    problems = check_contents(_artifact(tmp_path, without=dist))
    assert [p for p in problems if dist in p and "missing" in p], problems


def test_check_contents_when_a_dependency_of_a_dependency_is_missing_names_it(
    tmp_path: Path,
) -> None:
    _artifact(tmp_path)
    for path in tmp_path.glob("typing_extensions*"):
        path.unlink() if path.is_file() else shutil.rmtree(path)
    assert [p for p in check_contents(tmp_path) if "typing-extensions" in p]


@pytest.mark.parametrize(
    "extra",
    [
        "mypy_boto3_route53",  # boto3-stubs' per-service package: not on any deny list
        "pluggy",
        "iniconfig",
        "_hypothesis_pytestplugin.py",
        "werkzeug",
        "flask",
    ],
)
def test_check_contents_when_a_package_no_requirement_brings_is_built_in_fails(
    tmp_path: Path, extra: str
) -> None:
    problems = check_contents(_artifact(tmp_path, extra))
    assert [p for p in problems if extra in p], problems


def test_check_answer_when_two_answers_fails() -> None:
    event = {"StackId": "s", "RequestId": "r", "LogicalResourceId": "l"}
    assert check_answer([{}, {}], event) == ["expected one answer, got 2"]


def test_destination_record_when_built_wraps_the_event_as_lambda_does() -> None:
    """The failure function is Lambda's on-failure destination: its artifact must be run with
    what it receives there (a record wrapping the event), not with a plain request."""
    from tools.check_build import destination_record

    event = {"RequestType": "Create", "StackId": "s", "RequestId": "r", "LogicalResourceId": "l"}
    record = destination_record(event)

    assert record["requestPayload"] == event
    assert record["requestContext"]["condition"] in ("RetriesExhausted", "EventAgeExceeded")


def test_check_answer_when_run_as_the_destination_expects_the_died_reason() -> None:
    event = {"StackId": "s", "RequestId": "r", "LogicalResourceId": "l"}
    answer = {
        **event,
        "Status": "FAILED",
        "PhysicalResourceId": "dns-certificate-not-created-0",
        "Reason": "The function's invocation ended without answering (RetriesExhausted: …)",
    }
    assert check_answer([answer], event, destination=True) == []
    assert check_answer([answer], event) != []
