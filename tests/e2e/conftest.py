"""End-to-end fixtures: the strict AWS emulator and the local CloudFormation driver.

Unlike the integration tests (moto in-process, a fake clock), these run the handler the way
AWS would: over HTTP against moto's server made strict (`local.emulator`), invoked
asynchronously in threads with a Lambda context that counts down for real (`local.driver`).
Delays are kept short so the whole directory runs in well under two minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.answers import AnswerServer
from local.demo import create_zones
from local.driver import LocalCloudFormation
from local.emulator import Emulator, StrictSettings, moto_is_patched

#: Fast but not instantaneous: the handler has to poll. Validation records show at once
#: (tests about late records set `emulator.rules.settings.records_delay`).
ISSUE_DELAY = 0.5
RECORDS_DELAY = 0.0
#: A function timeout with enough room that no test hands off unless it means to.
FUNCTION_TIMEOUT = 45.0


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The strict emulator; boto3 points at it while the test runs. moto is restored after."""
    with Emulator(
        settings=StrictSettings(issue_delay=ISSUE_DELAY, records_delay=RECORDS_DELAY)
    ) as aws:
        yield aws
    assert not moto_is_patched(), "the emulator left moto patched"


@pytest.fixture
def hosted_zones(emulator: Emulator) -> dict[str, str]:
    """Public example.com and example.org, and a private example.com: name -> zone id."""
    return create_zones(emulator)


@pytest.fixture
def cfn(emulator: Emulator, answer_server: AnswerServer) -> Iterator[LocalCloudFormation]:
    """The local CloudFormation; the handler's runtime is restored after."""
    with LocalCloudFormation(
        function_timeout=FUNCTION_TIMEOUT,
        answer_timeout=60.0,
        grace=0.3,
        retry_delay=0.2,
        answers=answer_server,
    ) as driver:
        yield driver
