"""tools/check_build.py's inspection of the artifact (the invocation runs in .ci/run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.check_build import check_answer, check_contents


def _artifact(root: Path, *names: str) -> Path:
    for name in ("app.py", "dns_certificate", "aws_lambda_powertools", "crhelper", *names):
        path = root / name
        if name.endswith(".py"):
            path.write_text("")
        else:
            path.mkdir()
    return root


def test_check_contents_when_only_runtime_packages_passes(tmp_path: Path) -> None:
    assert check_contents(_artifact(tmp_path, "jmespath", "typing_extensions.py")) == []


@pytest.mark.parametrize(
    "extra", ["pytest", "moto", "tests", "pydantic", "moto-5.2.5.dist-info", "boto3"]
)
def test_check_contents_when_a_dev_package_is_built_in_fails(tmp_path: Path, extra: str) -> None:
    assert check_contents(_artifact(tmp_path, extra))


def test_check_contents_when_the_handler_is_missing_fails(tmp_path: Path) -> None:
    assert check_contents(tmp_path) == [
        "missing app.py",
        "missing dns_certificate",
        "missing aws_lambda_powertools",
        "missing crhelper",
    ]


def test_check_answer_when_two_answers_fails() -> None:
    event = {"StackId": "s", "RequestId": "r", "LogicalResourceId": "l"}
    assert check_answer([{}, {}], event) == ["expected one answer, got 2"]
