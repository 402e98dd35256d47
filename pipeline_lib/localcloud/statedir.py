"""Where a local cloud keeps its record, lock and logs (pure paths + small JSON I/O)."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = REPO_ROOT / ".workbench"
DEFAULT_PORT = 4566
DEFAULT_REGION = "us-east-1"
# moto's default account; the local cloud is single-account.
ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class CloudRecord:
    """What a running cloud writes about itself once it listens."""

    pid: int
    host: str
    port: int
    started_at: str
    state_dir: str
    time_scale: float
    version: str

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"


class StateDir:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path or os.environ.get("PIPELINE_STATE_DIR") or DEFAULT_STATE_DIR).resolve()

    @property
    def record_file(self) -> Path:
        return self.path / "cloud.json"

    @property
    def lock_file(self) -> Path:
        # Held (flock) by the server for its whole life: two clouds can't share a state dir.
        return self.path / "server.lock"

    @property
    def up_lock_file(self) -> Path:
        # Held by `up` while it starts a cloud, so two `up`s don't race.
        return self.path / "up.lock"

    @property
    def log_dir(self) -> Path:
        return self.path / "logs"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "cloud.log"

    def ensure(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        gitignore = self.path / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")

    def write_record(self, record: CloudRecord) -> None:
        tmp = self.record_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(record), indent=2))
        tmp.replace(self.record_file)

    def read_record(self) -> CloudRecord | None:
        try:
            return CloudRecord(**json.loads(self.record_file.read_text()))
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return None

    def clear_record(self) -> None:
        self.record_file.unlink(missing_ok=True)
