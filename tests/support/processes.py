"""Running a command the way a user does, bounded: no test hangs on a process that went on."""

import os
import signal
import subprocess
import sys


def run_bounded(command: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `command`; past `timeout` (a server that started after all) kill it and all it forked."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:  # fmt: skip
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def serve_command(port: int, *args: str) -> list[str]:
    """Return the command line of `smartcity-kg serve` on `port`, as a user would run it."""
    return [sys.executable, "-m", "smartcity_kg.cli", "serve", "--port", str(port), *args]
