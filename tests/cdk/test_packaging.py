"""The construct's wheel carries the function's property rules, unchanged and complete.

The rules have one source, handler/dns_certificate. A wheel built from cdk/ (directly, or from
its sdist) holds copies made at build time (cdk/hatch_build.py); these tests build both with
hatchling in-process and check the copies are byte for byte the function's modules, that they
are every module `properties.py` needs, that none of them pulls in the function's AWS
dependencies, and that the installed wheel works without handler/ anywhere on the path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.sdist import SdistBuilder
from hatchling.builders.wheel import WheelBuilder

pytestmark = pytest.mark.xdist_group("cdk-packaging")  # tests/support/xdist_groups.py

ROOT = Path(__file__).resolve().parents[2]
HANDLER_PACKAGE = ROOT / "handler" / "dns_certificate"
RULES = "dns_certificate_cdk/_rules/"
#: What the rules may not import (the function's runtime and AWS SDK): the construct runs them
#: at synth time, where none of these need to be installed.
HEAVY = ("boto3", "botocore", "aws_lambda_powertools", "crhelper", "dns")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A wheel built from cdk/, and one built from the sdist of cdk/ (as pip builds an sdist)."""
    out = tmp_path_factory.mktemp("dist")
    (direct,) = WheelBuilder(str(ROOT / "cdk")).build(directory=str(out / "direct"))
    (sdist,) = SdistBuilder(str(ROOT / "cdk")).build(directory=str(out / "sdist"))
    with tarfile.open(sdist) as archive:
        archive.extractall(out / "unpacked", filter="data")
    (unpacked,) = (out / "unpacked").iterdir()
    (from_sdist,) = WheelBuilder(str(unpacked)).build(directory=str(out / "from-sdist"))
    return {"direct": Path(direct), "from sdist": Path(from_sdist)}


def _function_rule_modules() -> tuple[set[str], set[str]]:
    """The modules of the function's package that `import dns_certificate.properties` loads,
    and the heavy packages it loads with them (a fresh interpreter, handler/ on the path)."""
    script = (
        "import json, sys; import dns_certificate.properties; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT / "handler",
            env={**os.environ, "PYTHONPATH": str(ROOT / "handler")},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    modules = {
        f"{name.removeprefix('dns_certificate.')}.py"
        for name in loaded
        if name.startswith("dns_certificate.")
    }
    heavy = {name for name in loaded if name.split(".")[0] in HEAVY}
    return modules, heavy


@pytest.mark.parametrize("build", ["direct", "from sdist"])
def test_wheel_rules_when_compared_are_the_functions_byte_for_byte(
    wheels: dict[str, Path], build: str
) -> None:
    with zipfile.ZipFile(wheels[build]) as wheel:
        copies = {
            name.removeprefix(RULES): wheel.read(name)
            for name in wheel.namelist()
            if name.startswith(RULES) and name != f"{RULES}__init__.py"
        }
    assert copies
    for module, content in copies.items():
        assert content == (HANDLER_PACKAGE / module).read_bytes(), module


@pytest.mark.parametrize("build", ["direct", "from sdist"])
def test_wheel_rules_when_listed_are_every_module_the_parser_loads(
    wheels: dict[str, Path], build: str
) -> None:
    with zipfile.ZipFile(wheels[build]) as wheel:
        vendored = {
            name.removeprefix(RULES)
            for name in wheel.namelist()
            if name.startswith(RULES) and name != f"{RULES}__init__.py"
        }
    modules, _ = _function_rule_modules()
    assert vendored == modules


def test_function_rules_when_imported_load_no_aws_or_runtime_package() -> None:
    """regions.py reads botocore's endpoint data inside parse_region only (a Region set)."""
    _, heavy = _function_rule_modules()
    assert heavy == set()


def test_installed_wheel_when_used_alone_checks_with_its_copies(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    """Only the wheel and the venv's packages on the path: no handler/, no cdk/src."""
    wheel = wheels["direct"]
    script = """
import json, sys
import aws_cdk as cdk
from dns_certificate_cdk import DnsValidatedCertificate, InvalidPropertyError
from dns_certificate_cdk._rules import properties
try:
    import dns_certificate
    handler_importable = True
except ImportError:
    handler_importable = False
try:
    DnsValidatedCertificate(cdk.Stack(), "C", service_token="t", domain_name="a..example.com")
    reason = None
except InvalidPropertyError as error:
    reason = str(error)
ok = DnsValidatedCertificate(cdk.Stack(), "D", service_token="t", domain_name="example.com",
                             region="us-east-1")
print(json.dumps({"rules": properties.__file__, "handler": handler_importable,
                  "reason": reason, "region": ok.checked.region}))
"""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONSAFEPATH")
    }
    env["PYTHONPATH"] = str(wheel)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["rules"].startswith(str(wheel))
    assert seen["handler"] is False
    assert seen["reason"] == (
        "DomainName 'a..example.com' is not a valid domain name: has an empty label"
    )
    assert seen["region"] == "us-east-1"


def test_construct_rules_in_the_repository_when_imported_are_handlers_own_files() -> None:
    """No copy lives in cdk/src (a stale one would shadow the function's rules)."""
    from dns_certificate_cdk.rules import errors, properties

    assert Path(properties.__file__) == HANDLER_PACKAGE / "properties.py"
    assert Path(errors.__file__) == HANDLER_PACKAGE / "errors.py"
    source = ROOT / "cdk" / "src" / "dns_certificate_cdk" / "_rules"
    assert sorted(path.name for path in source.glob("*.py")) == ["__init__.py"]
