"""tests/conftest.py: what every pytest suite of kisekae shares (tests/pytest.ini
makes tests/ the root, so this file is loaded for each of them).

The suite is strict: a skipped test is a failed test (a check that did not
run proved nothing), and a run that collected no test fails too. A test that
does not apply to a run is deselected by its runner, never skipped.
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = "skipped, and a skipped test fails in kisekae: %s" % (reason,)


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nkisekae: pytest collected no tests, which counts as a failure")


def pytest_collectreport(report):
    if report.skipped:
        report.outcome = "failed"
