"""tools/check_build.py's inspection of the artifact (the invocation runs in .ci/run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tools.check_build import (
    check_answer,
    check_contents,
    check_lock,
    check_sbom,
    pinned_requirements,
)

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


# ---- the SBOM against the artifact, licences, the lock's hashes -----------------------------


def _sbom(path: Path, components: dict[str, tuple[str, list[dict]]]) -> Path:
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"type": "library", "name": name, "version": version, "licenses": licences}
            for name, (version, licences) in components.items()
        ],
    }
    sbom = path / "sbom.json"
    sbom.write_text(json.dumps(document))
    return sbom


def _licences(path: Path, *names: str) -> Path:
    allowed = path / "licences.txt"
    allowed.write_text("# comment\n" + "\n".join(names) + "\n")
    return allowed


def _listed_as_built() -> dict[str, tuple[str, list[dict]]]:
    versions = {**VERSIONS, **{r.name: str(r.specifier)[2:] for r in pinned_requirements()}}
    return {
        # cyclonedx-py names components as their METADATA does (underscores and all)
        name.replace("-", "_"): (versions[name], [{"license": {"id": "MIT"}}])
        for name in BUILT
    }


@pytest.fixture
def scratch(tmp_path: Path) -> tuple[Path, Path]:
    build = tmp_path / "build"
    build.mkdir()
    return _artifact(build), tmp_path


def test_check_sbom_when_it_lists_what_the_artifact_holds_passes(scratch) -> None:
    build, tmp = scratch
    sbom = _sbom(tmp, _listed_as_built())
    assert check_sbom(build, sbom, _licences(tmp, "MIT")) == []


def test_check_sbom_when_the_artifact_holds_a_package_it_does_not_list_fails(scratch) -> None:
    build, tmp = scratch
    listed = _listed_as_built()
    del listed["dnspython"]
    problems = check_sbom(build, _sbom(tmp, listed), _licences(tmp, "MIT"))
    assert [p for p in problems if "dnspython" in p and "does not list" in p], problems


def test_check_sbom_when_it_lists_a_package_the_artifact_lacks_fails(scratch) -> None:
    build, tmp = scratch
    listed = {**_listed_as_built(), "requests": ("2.34.2", [{"license": {"id": "MIT"}}])}
    problems = check_sbom(build, _sbom(tmp, listed), _licences(tmp, "MIT"))
    assert problems == ["the SBOM lists requests, which the artifact does not hold"]


def test_check_sbom_when_a_version_differs_fails(scratch) -> None:
    build, tmp = scratch
    listed = _listed_as_built()
    listed["crhelper"] = ("2.0.11", listed["crhelper"][1])
    problems = check_sbom(build, _sbom(tmp, listed), _licences(tmp, "MIT"))
    assert [p for p in problems if "crhelper 2.0.11" in p], problems


@pytest.mark.parametrize(
    ("licences", "refused"),
    [
        ([{"license": {"id": "GPL-3.0-only"}}], "GPL-3.0-only"),
        ([{"license": {"name": "Proprietary"}}], "Proprietary"),
        ([{"expression": "MIT OR AGPL-3.0-or-later"}], "AGPL-3.0-or-later"),
        ([{"license": {"id": "MIT"}}, {"license": {"id": "SSPL-1.0"}}], "SSPL-1.0"),
    ],
)
def test_check_sbom_when_a_licence_is_not_on_the_allow_list_fails(
    scratch, licences: list[dict], refused: str
) -> None:
    build, tmp = scratch
    listed = _listed_as_built()
    listed["jmespath"] = (listed["jmespath"][0], licences)
    problems = check_sbom(build, _sbom(tmp, listed), _licences(tmp, "MIT"))
    assert problems == [f"jmespath: licence {refused!r} is not on licences.txt"]


def test_check_sbom_when_a_component_has_no_licence_fails(scratch) -> None:
    build, tmp = scratch
    listed = _listed_as_built()
    listed["typing_extensions"] = (listed["typing_extensions"][0], [])
    problems = check_sbom(build, _sbom(tmp, listed), _licences(tmp, "MIT"))
    assert problems == ["typing-extensions: the SBOM gives no licence"]


def test_check_sbom_when_missing_fails(scratch) -> None:
    build, tmp = scratch
    assert check_sbom(build, tmp / "none.json", _licences(tmp, "MIT"))


def test_check_lock_when_the_project_lock_is_read_passes() -> None:
    assert check_lock() == []


@pytest.mark.parametrize(
    "line",
    [
        "dnspython==2.9.2",  # no hash
        "dnspython>=2.9 --hash=sha256:" + "0" * 64,  # not pinned
        "dnspython==2.9.2 --hash=md5:" + "0" * 32,  # no sha256
    ],
)
def test_check_lock_when_a_requirement_lacks_a_pin_or_hash_fails(tmp_path: Path, line: str) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("crhelper==2.0.12 \\\n    --hash=sha256:" + "a" * 64 + "\n" + line + "\n")
    problems = check_lock(lock)
    assert len(problems) == 1 and "dnspython" in problems[0], problems
