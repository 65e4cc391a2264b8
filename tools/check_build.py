"""The built artifact is what we test: run `sam build`'s output the way Lambda would.

    python -m tools.check_build [--build-dir .aws-sam/build/CertificateFunction]

1. The artifact holds the handler and every runtime dependency `handler/requirements.txt` pins
   (at that version, with the distributions they require), and nothing else: every other
   top-level name is refused (an allow-list, so a test or development package that no deny-list
   names is refused too), and the known test and development packages are refused even when a
   requirement would bring them.
2. A fresh interpreter (`-I -S`: no site-packages, no PYTHONPATH, no user site) whose path holds
   only the built folder and boto3 with its dependencies (what the python3.13 runtime provides)
   imports `app.lambda_handler` and invokes it with a sample event from `events/`. Its answer,
   sent to a local answer server, must be what CloudFormation would get.

3. The software bill of materials `make build` wrote (`build/sbom.json`, CycloneDX, generated
   by cyclonedx-py over the artifact's path) lists exactly the distributions the artifact holds,
   at their versions, and every one's licence is on the allow-list (`licences-allowed.txt`). A
   component with no licence, or one whose licence expression names anything not on the list,
   fails.
4. `handler/requirements.txt` pins every requirement with `==` and at least one hash (sam
   build's pip then requires the hashes of everything it installs).

The event (`events/create-bad-input.json`) is answered FAILED before any AWS call, so nothing
here needs AWS: an endpoint that refuses connections makes any call fail at once. With
`--destination` (the on-failure function) the event arrives as Lambda's on-failure destination
delivers it, wrapped in a record, and the answer is the FAILED of an invocation that died.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from email.parser import Parser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUILD = ROOT / ".aws-sam" / "build" / "CertificateFunction"
EVENT = ROOT / "events" / "create-bad-input.json"

#: What the python3.13 Lambda runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
REQUIREMENTS = ROOT / "handler" / "requirements.txt"
SBOM = ROOT / "build" / "sbom.json"
LICENCES = ROOT / "licences-allowed.txt"
#: Top-level names that must be in the artifact (the dependencies: see REQUIREMENTS).
REQUIRED = ("app.py", "dns_certificate")
#: The handler's own top-level names, besides those the dependencies' RECORDs list.
OWN = frozenset({"app.py", "dns_certificate", "requirements.txt", "__pycache__"})
#: Distributions the runtime provides: a dependency on one need not be bundled.
RUNTIME_DISTRIBUTIONS = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"}
)
#: Top-level names of test and development packages that must not be.
FORBIDDEN = (
    "tests",
    "local",
    "benchmarks",
    "tools",
    "conftest.py",
    "pytest",
    "_pytest",
    "xdist",
    "hypothesis",
    "moto",
    "responses",
    "mypy",
    "mypy_boto3_acm",
    "boto3_stubs",
    "botocore_stubs",
    "ruff",
    "cfnlint",
    "samtranslator",
    "pydantic",
    "aws_xray_sdk",
    "requests",
    "boto3",
    "botocore",
)

RUNNER = r"""
import json, sys
build, runtime, event_path, answer_url = sys.argv[1:5]
sys.path[:0] = [build, runtime]
outside = [p for p in sys.path if "site-packages" in p and not p.startswith((build, runtime))]
assert not outside, sys.path

class Context:
    function_name = "dns-certificate-certificate"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:" + function_name
    aws_request_id = "check-build-0001"
    memory_limit_in_mb = 256
    def __init__(self):
        import time
        self._ends = time.monotonic() + 60
    def get_remaining_time_in_millis(self):
        import time
        return int((self._ends - time.monotonic()) * 1000)

event = json.loads(open(event_path).read())
event.get("requestPayload", event)["ResponseURL"] = answer_url
import app
assert app.__file__.startswith(build), app.__file__
app.lambda_handler(event, Context())
loaded = sorted({m.split(".")[0] for m in sys.modules})
for forbidden in ("pytest", "moto", "pydantic", "requests", "samtranslator"):
    assert forbidden not in loaded, forbidden
print("CHECK-BUILD-MODULES " + json.dumps([m.__name__ for m in (app,)]))
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_requirements(path: Path = REQUIREMENTS) -> dict[str, tuple[Requirement, list[str]]]:
    """canonical name -> (requirement, its hashes) of a pip requirements file (continued lines
    joined, `--hash=` options taken apart)."""
    text = re.sub(r"\\\n", " ", path.read_text("utf-8"))
    found = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        hashes = re.findall(r"--hash[= ]([a-z0-9]+:[0-9a-f]+)", line)
        requirement = Requirement(re.sub(r"\s--hash[= ]\S+", "", f" {line}").strip())
        found[canonical(requirement.name)] = (requirement, hashes)
    return found


def pinned_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    return [requirement for requirement, _ in locked_requirements(path).values()]


def check_lock(path: Path = REQUIREMENTS) -> list[str]:
    """Every requirement pinned (==) with at least one sha256 hash."""
    problems = []
    for name, (requirement, hashes) in locked_requirements(path).items():
        if len(requirement.specifier) != 1 or next(iter(requirement.specifier)).operator != "==":
            problems.append(f"{path.name}: {name} is not pinned with ==")
        if not [h for h in hashes if h.startswith("sha256:")]:
            problems.append(f"{path.name}: {name} has no sha256 hash (make lock)")
    return problems


def allowed_licences(path: Path = LICENCES) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return {line for line in lines if line}


def _licence_terms(entry: dict[str, Any]) -> list[str]:
    """The licence ids or names one CycloneDX `licenses` entry names."""
    if "expression" in entry:
        words = re.split(r"[()\s]+", str(entry["expression"]))
        return [w for w in words if w and w.upper() not in ("AND", "OR", "WITH")]
    licence = entry.get("license", {})
    return [str(licence.get("id") or licence.get("name") or "")]


def check_sbom(build: Path, sbom: Path = SBOM, licences: Path = LICENCES) -> list[str]:
    """Problems with the SBOM against the artifact: the same distributions and versions, each
    under a licence on the allow-list."""
    if not sbom.is_file():
        return [f"no SBOM at {sbom} (make build writes it)"]
    document = json.loads(sbom.read_text("utf-8"))
    problems = []
    if document.get("bomFormat") != "CycloneDX":
        problems.append(f"{sbom.name} is not a CycloneDX document")
    listed = {
        canonical(str(c.get("name"))): c
        for c in document.get("components", [])
        if c.get("type") == "library"
    }
    bundled = {name: version for name, (version, _, _) in _distributions(build).items()}
    for name in sorted(set(bundled) - set(listed)):
        problems.append(f"the artifact holds {name} {bundled[name]}, which the SBOM does not list")
    for name in sorted(set(listed) - set(bundled)):
        problems.append(f"the SBOM lists {name}, which the artifact does not hold")
    allowed = allowed_licences(licences)
    for name in sorted(set(listed) & set(bundled)):
        component = listed[name]
        if str(component.get("version")) != bundled[name]:
            problems.append(
                f"the SBOM lists {name} {component.get('version')}, the artifact holds "
                f"{bundled[name]}"
            )
        terms = [t for entry in component.get("licenses", []) for t in _licence_terms(entry)]
        if not [t for t in terms if t]:
            problems.append(f"{name}: the SBOM gives no licence")
        for term in terms:
            if term not in allowed:
                problems.append(f"{name}: licence {term!r} is not on {licences.name}")
    return problems


def _distributions(build: Path) -> dict[str, tuple[str, list[str], set[str]]]:
    """canonical name -> (version, Requires-Dist, top-level names its RECORD lists)."""
    found = {}
    for info in build.glob("*.dist-info"):
        metadata_file = info / "METADATA"
        if not metadata_file.is_file():
            continue
        metadata = Parser().parsestr(metadata_file.read_text("utf-8", errors="replace"))
        tops = {info.name}
        record = info / "RECORD"
        if record.is_file():
            for row in csv.reader(record.read_text("utf-8").splitlines()):
                if row and not row[0].startswith(".."):
                    tops.add(row[0].split("/", 1)[0])
        found[canonical(str(metadata["Name"]))] = (
            str(metadata["Version"]),
            list(metadata.get_all("Requires-Dist") or []),
            tops,
        )
    return found


def _allowed(build: Path, requirements: list[Requirement]) -> tuple[set[str], list[str]]:
    """Top-level names the requirements (and what they require) own, and what is missing."""
    distributions = _distributions(build)
    owned: set[str] = set()
    problems: list[str] = []
    seen: set[str] = set()
    queue = [(requirement, "handler/requirements.txt") for requirement in requirements]
    while queue:
        requirement, wanted_by = queue.pop(0)
        name = canonical(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        if name not in distributions:
            if wanted_by != "handler/requirements.txt" and name in RUNTIME_DISTRIBUTIONS:
                continue
            problems.append(f"missing the runtime dependency {requirement} ({wanted_by})")
            continue
        version, requires, tops = distributions[name]
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"holds {name} {version}, not {requirement} ({wanted_by})")
        owned |= tops
        extras = set(requirement.extras) | {""}
        for line in requires:
            needed = Requirement(line)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in extras
            ):
                queue.append((needed, f"required by {name}"))
    return owned, problems


def check_contents(build: Path, requirements: Path = REQUIREMENTS) -> list[str]:
    """Problems with what the artifact holds (empty when it is right)."""
    names = {path.name for path in build.iterdir()}
    tops = {name.split("-")[0].lower() for name in names if name.endswith(".dist-info")}
    problems = [f"missing {name}" for name in REQUIRED if name not in names]
    owned, missing = _allowed(build, pinned_requirements(requirements))
    problems += missing
    for name in sorted(names - OWN - owned):
        problems.append(
            f"holds {name}, which is neither the handler nor brought by handler/requirements.txt"
        )
    for name in FORBIDDEN:
        if name in names or name.lower() in tops or name.replace("_", "-") in tops:
            problems.append(f"holds the development/test package {name}")
    return problems


def runtime_path(into: Path) -> Path:
    """A folder with only boto3 and its dependencies (links into this interpreter's copies)."""
    for package in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{package} is not installed here (it stands in for the runtime)")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (into / source.name).symlink_to(source)
    return into


class _Answers(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def invoke(build: Path, event_path: Path) -> tuple[list[dict[str, Any]], str]:
    """Run the built handler in a fresh interpreter; the answers it sent and its stdout."""
    _Answers.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/answer?X-Amz-Signature=check"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # Any AWS call fails at once: the event must be answered without one.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_LAMBDA_FUNCTION_NAME": "dns-certificate-certificate",
        "POWERTOOLS_SERVICE_NAME": "dns-certificate",
        "POWERTOOLS_METRICS_NAMESPACE": "DnsCertificate",
        "METRICS_PROVIDER": "dns-certificate",
        "LOG_LEVEL": "INFO",
    }
    try:
        with tempfile.TemporaryDirectory() as runtime:
            result = subprocess.run(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    "-c",
                    RUNNER,
                    str(build),
                    str(runtime_path(Path(runtime))),
                    str(event_path),
                    url,
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
    finally:
        server.shutdown()
        server.server_close()
    if result.returncode != 0:
        raise SystemExit(
            f"the built handler failed (exit {result.returncode}):\n{result.stderr[-4000:]}"
        )
    return list(_Answers.received), result.stdout


def destination_record(event: dict[str, Any]) -> dict[str, Any]:
    """`event` as Lambda's on-failure destination delivers it once its retries are spent."""
    return {
        "version": "1.0",
        "timestamp": "2026-11-30T00:00:00.000Z",
        "requestContext": {
            "requestId": "check-build-0000",
            "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:"
            "dns-certificate-certificate:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
    }


def check_answer(
    answers: list[dict[str, Any]], event: dict[str, Any], *, destination: bool = False
) -> list[str]:
    if len(answers) != 1:
        return [f"expected one answer, got {len(answers)}"]
    answer = answers[0]
    problems = []
    expected = {
        "Status": "FAILED",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }
    for key, value in expected.items():
        if answer.get(key) != value:
            problems.append(f"answer {key} is {answer.get(key)!r}, expected {value!r}")
    expected_reason = (
        "invocation ended without answering" if destination else "SubjectAlternativeNames[0]"
    )
    if expected_reason not in str(answer.get("Reason")):
        problems.append(f"answer Reason lacks {expected_reason!r}: {answer.get('Reason')!r}")
    if not str(answer.get("PhysicalResourceId", "")).startswith("dns-certificate-not-created-"):
        problems.append(f"answer PhysicalResourceId: {answer.get('PhysicalResourceId')!r}")
    return problems


def check_metrics(stdout: str) -> list[str]:
    """The invocation's one embedded-metric-format line: Failed, for a Create."""
    lines: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "_aws" in parsed:
            lines.append(parsed)
    if len(lines) != 1:
        return [f"expected one metrics (EMF) line, got {len(lines)}"]
    emf = lines[0]
    if emf.get("Failed") != [1.0] or emf.get("RequestType") != "Create":
        return [f"metrics line is not one failed Create: {emf}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD)
    parser.add_argument("--sbom", type=Path, default=SBOM)
    parser.add_argument("--licences", type=Path, default=LICENCES)
    parser.add_argument(
        "--destination",
        action="store_true",
        help="invoke with the on-failure destination record of the event (the failure function)",
    )
    args = parser.parse_args(argv)
    build: Path = args.build_dir.resolve()
    if not (build / "app.py").is_file():
        print(f"check-build: no build in {build} (run make build)", file=sys.stderr)
        return 1
    started = time.monotonic()
    problems = check_contents(build) + check_lock() + check_sbom(build, args.sbom, args.licences)
    event = json.loads(EVENT.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        sent = EVENT
        if args.destination:
            sent = Path(scratch) / EVENT.name
            sent.write_text(json.dumps(destination_record(event)), encoding="utf-8")
        try:
            answers, stdout = invoke(build, sent)
        except SystemExit as failed:  # the handler crashed: report it with the contents' problems
            problems.append(str(failed))
        else:
            problems += check_answer(answers, event, destination=args.destination)
        problems += check_metrics(stdout)
    for problem in problems:
        print(f"check-build: {problem}", file=sys.stderr)
    if problems:
        return 1
    shown = build.relative_to(ROOT) if build.is_relative_to(ROOT) else build
    print(
        f"check-build: {shown} matches the SBOM ({args.sbom.name}, licences allowed), "
        f"imports in a bare python3.13 path and answers "
        f"{EVENT.name}{' (as its on-failure destination record)' if args.destination else ''} "
        f"as expected ({time.monotonic() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
