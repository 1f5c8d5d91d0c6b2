"""Training and serving the Rasa model from its own virtualenv (`.venv-rasa`).

The app never imports rasa: Rasa pins old libraries and Python 3.10, so it lives in a
separate environment and we drive its command line.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
NLU_DIR = ROOT / "nlu"
MODEL_NAME = "frontdesk-nlu"


class RasaError(Exception):
    """Rasa is not installed, a model is missing, or the server did not start."""


def rasa_executable() -> Path:
    """The `rasa` command of `.venv-rasa` (or RASA_BIN)."""
    path = Path(os.environ.get("RASA_BIN", ROOT / ".venv-rasa" / "bin" / "rasa"))
    if not path.exists():
        raise RasaError(f"Rasa not found at {path}: run `make rasa` (creates .venv-rasa)")
    return path


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    # Quiet TensorFlow and keep Rasa from phoning home (no internet here anyway).
    env.update(TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false", LOG_LEVEL="WARNING")
    env.pop("DATABASE_URL", None)  # Rasa must never touch the app's database
    # Our pipeline component (nlu.rasa_components) is imported from this checkout.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def model_path(model_dir: Path) -> Path:
    return model_dir / f"{MODEL_NAME}.tar.gz"


def train(model_dir: Path, *, config: Path | None = None, data: Path | None = None) -> Path:
    """Trains the NLU model (Rasa skips the work when data and config are unchanged).

    Raises:
        RasaError: when training fails.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(rasa_executable()),
        "train",
        "nlu",
        "--config",
        str(config or NLU_DIR / "config.yml"),
        "--nlu",
        str(data or NLU_DIR / "data"),
        "--out",
        str(model_dir),
        "--fixed-model-name",
        MODEL_NAME,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=rasa_env(), check=False)
    if proc.returncode != 0 or not model_path(model_dir).exists():
        raise RasaError(f"rasa train nlu failed (exit {proc.returncode})")
    return model_path(model_dir)


@dataclass
class RasaServer:
    """A `rasa run --enable-api` child process on 127.0.0.1."""

    model: Path
    port: int
    token: str
    process: subprocess.Popen[bytes] | None = None
    log_file: Path | None = None
    _log_start: int = 0  # where this run's lines begin in the (appended) log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(rasa_executable()),
            "run",
            "--enable-api",
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            f"--auth-token={self.token}",  # one argument: a token may start with "-"
            "-m",
            str(self.model),
        ]

    def start(self, *, log_file: Path | None = None) -> None:
        """Starts the process (in its own process group, so Ctrl-C reaches us first)."""
        if not self.model.exists():
            raise RasaError(f"no NLU model at {self.model}: run `frontdesk nlu train`")
        self.log_file = log_file
        self._log_start = log_file.stat().st_size if log_file and log_file.exists() else 0
        out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=rasa_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Blocks until the model answers `/status`.

        Raises:
            RasaError: when the process dies or the timeout passes.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                code = self.process.returncode
                raise RasaError(f"Rasa exited with code {code}{self._log_tail()}")
            try:
                resp = httpx.get(f"{self.url}/status", params={"token": self.token}, timeout=2)
                if resp.status_code == 200 and resp.json().get("model_file"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise RasaError(f"Rasa did not become ready within {timeout:.0f}s{self._log_tail()}")

    def port_was_taken(self) -> bool:
        """Whether the process died because another one bound its port first."""
        return any("address already in use" in line.lower() for line in self._this_run())

    def _log_tail(self, lines: int = 15) -> str:
        """The end of this run's log, for the error message (startup lines only: Rasa logs
        no message text at WARNING)."""
        if self.log_file is None:
            return ""
        return f" (from {self.log_file}):\n" + "\n".join(self._this_run()[-lines:])

    def _this_run(self) -> list[str]:
        """This run's lines of the log (it is appended to across runs)."""
        if self.log_file is None or not self.log_file.exists():
            return []
        with self.log_file.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace").splitlines()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the child cleanly (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def rasa_test(
    out: Path, *, folds: int = 0, model: Path | None = None, data: Path | None = None
) -> None:
    """`rasa test nlu`: cross-validation (folds > 0) or a trained model on a test file.

    Writes intent/entity reports and confusion-matrix images into `out`.

    Raises:
        RasaError: when Rasa fails.
    """
    cmd = [
        str(rasa_executable()),
        "test",
        "nlu",
        "--out",
        str(out),
        "--config",
        str(NLU_DIR / "config.yml"),
    ]
    if folds > 0:
        cmd += ["--nlu", str(NLU_DIR / "data"), "--cross-validation", "--folds", str(folds)]
    else:
        assert model is not None and data is not None
        cmd += ["--nlu", str(data), "--model", str(model)]
    proc = subprocess.run(cmd, cwd=ROOT, env=rasa_env(), check=False)
    if proc.returncode != 0:
        raise RasaError(f"rasa test nlu failed (exit {proc.returncode})")
