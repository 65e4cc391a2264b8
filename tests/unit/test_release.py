"""The release metadata: one version, and what the Serverless Application Repository needs.

`pyproject.toml` holds the version; the template's SAR metadata, its `Version` output, the
newest release in CHANGELOG.md and the CDK construct library (cdk/) must say the same.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
#: semver.org's own pattern.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
RELEASE_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\] - (?P<date>\d{4}-\d{2}-\d{2})$", re.M)


def _template() -> Any:
    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches, matches
    return template


def _sar() -> dict[str, Any]:
    return dict(_template()["Metadata"]["AWS::ServerlessRepo::Application"])


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def test_project_version_is_semantic() -> None:
    assert SEMVER.match(project_version())


def test_sar_semantic_version_when_read_equals_pyproject() -> None:
    assert str(_sar()["SemanticVersion"]) == project_version()


def test_version_output_when_read_equals_pyproject() -> None:
    assert str(_template()["Outputs"]["Version"]["Value"]) == project_version()


def test_cdk_construct_version_when_read_equals_pyproject() -> None:
    """The construct's version, and so the provider version it installs by default."""
    text = (ROOT / "cdk" / "src" / "dns_certificate_cdk" / "_version.py").read_text("utf-8")
    versions = re.findall(r'^__version__ = "([^"]+)"$', text, re.M)
    assert versions == [project_version()]


def test_cdk_package_when_built_takes_its_version_from_the_version_file() -> None:
    with (ROOT / "cdk" / "pyproject.toml").open("rb") as file:
        cdk = tomllib.load(file)
    assert "version" not in cdk["project"]
    assert cdk["project"]["dynamic"] == ["version"]
    assert cdk["tool"]["hatch"]["version"]["path"] == "src/dns_certificate_cdk/_version.py"


def test_changelog_newest_release_when_read_equals_pyproject() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = RELEASE_HEADING.findall(text)
    assert releases, "CHANGELOG.md has no '## [x.y.z] - YYYY-MM-DD' heading"
    assert releases[0][0] == project_version()


def test_changelog_when_read_keeps_an_unreleased_section_on_top() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert headings[0] == "Unreleased"


@pytest.mark.parametrize(
    "key",
    [
        *("Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl"),
        *("Labels", "SourceCodeUrl", "SemanticVersion"),
    ],
)
def test_sar_metadata_when_read_has(key: str) -> None:
    assert _sar().get(key)


def test_sar_metadata_when_read_follows_the_repository_rules() -> None:
    """The limits the Serverless Application Repository's API documents for these fields."""
    sar = _sar()
    assert re.fullmatch(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?", sar["Author"])
    assert len(sar["Author"]) <= 127
    assert 1 <= len(sar["Name"]) <= 140
    assert 1 <= len(sar["Description"]) <= 256
    assert 1 <= len(sar["Labels"]) <= 10
    for label in sar["Labels"]:
        assert re.fullmatch(r"[a-zA-Z0-9+\-_:/@]{1,127}", label)
    for url in ("HomePageUrl", "SourceCodeUrl"):
        assert str(sar[url]).startswith("https://")


def test_sar_metadata_files_when_read_exist() -> None:
    sar = _sar()
    license_text = (ROOT / sar["LicenseUrl"]).read_text(encoding="utf-8")
    assert sar["SpdxLicenseId"] == "Apache-2.0"
    assert "Apache License" in license_text
    assert "Version 2.0" in license_text
    assert (ROOT / sar["ReadmeUrl"]).is_file()


def test_nested_application_example_when_read_asks_for_the_current_version() -> None:
    example, matches = decode(str(ROOT / "examples" / "nested-application.yaml"))
    assert not matches, matches
    assert str(example["Parameters"]["ProviderVersion"]["Default"]) == project_version()
    provider = example["Resources"]["CertificateProvider"]
    assert provider["Type"] == "AWS::Serverless::Application"
    certificate = example["Resources"]["Certificate"]["Properties"]
    assert certificate["ServiceToken"] == {
        "Fn::GetAtt": ["CertificateProvider", "Outputs.ServiceToken"]
    }


def test_readme_install_snippet_when_read_asks_for_the_current_version() -> None:
    """README's nested-application snippet is what people copy: a release must move it too."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    versions = re.findall(r"^\s*SemanticVersion:\s*(\S+)\s*$", readme, re.M)
    assert versions, "README shows no SemanticVersion"
    assert set(versions) == {project_version()}


def test_changelog_links_when_read_compare_from_the_newest_release() -> None:
    """Keep a Changelog's link references: [Unreleased] compares from the newest release, and
    that release's heading has its link."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    version = project_version()
    unreleased = re.search(r"^\[Unreleased\]: (\S+)$", text, re.M)
    assert unreleased and unreleased.group(1).endswith(f"/compare/v{version}...HEAD")
    for heading_version, _ in RELEASE_HEADING.findall(text):
        assert re.search(rf"^\[{re.escape(heading_version)}\]: https://\S+$", text, re.M), (
            f"CHANGELOG.md has no link for [{heading_version}]"
        )
