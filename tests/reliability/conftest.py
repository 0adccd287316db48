"""Print the figures each reliability module collected at the end of the run (README)."""

from tests.reliability.harness import SUMMARY


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("reliability figures")
        for line in SUMMARY:
            terminalreporter.write_line(line)
