"""Real daemon processes for fault tests: start, wait until ready, SIGKILL, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, **(extra or {}))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


class Proc:
    """A child process with its output in a log file (read it when a test fails)."""

    def __init__(self, args: list[str], log_path: str, ready_text: str | None = None,
                 timeout: float = 20.0, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=_env(env),
                                      cwd=ROOT, start_new_session=True)
        if ready_text:
            self._wait_for(ready_text, timeout)

    def _wait_for(self, text: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with open(self.log_path, "rb") as f:
                if text.encode() in f.read():
                    return
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.args[:3]} exited with {self.popen.returncode}: {self.output()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.args[:3]} not ready after {timeout}s: {self.output()[-2000:]}")

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush: the crash we must survive."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)
        self._log.close()

    def stop(self, timeout: float = 10.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()
        return self.popen.returncode


def start_broker_process(store_url: str, tmp_path, clients_port: int, raters_port: int, *extra: str,
                         name: str = "broker", env: dict[str, str] | None = None) -> Proc:
    args = [sys.executable, "-m", "broker.cli", "--store", store_url,
            "--bind-clients", f"tcp://127.0.0.1:{clients_port}",
            "--bind-raters", f"tcp://127.0.0.1:{raters_port}", *extra]
    return Proc(args, str(tmp_path / f"{name}.log"), ready_text="broker listening", env=env)


def start_fake_rater(endpoint: str, name: str, tmp_path, mode: str = "noop", seconds: float = 300,
                     job_log: str | None = None) -> Proc:
    args = [sys.executable, os.path.join(ROOT, "tests", "support", "fake_rater.py"),
            "--broker", endpoint, "--name", name, "--mode", mode, "--seconds", str(seconds)]
    if job_log:
        args += ["--job-log", job_log]
    return Proc(args, str(tmp_path / f"rater-{name}.log"))
