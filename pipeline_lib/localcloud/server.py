"""The local-cloud process: `python -m pipeline_lib.localcloud.server --state-dir D [--port P]`.

Binds 127.0.0.1 only. Holds an exclusive lock on the state dir for its whole life, so a second
cloud on the same state dir refuses to start. Writes its record (pid, port, start time) once it
listens; `lifecycle.up` waits for that record and a healthy answer.
"""
from __future__ import annotations

import argparse
import fcntl
import gc
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from datetime import datetime, timezone

from .state.fileformat import StateFileError
from .statedir import DEFAULT_PORT, CloudRecord, StateDir

SWITCH_INTERVAL_SECONDS = 0.001

log = logging.getLogger("pipeline_lib.localcloud")


class StateDirBusy(RuntimeError):
    pass


def hold_lock(state: StateDir):
    """Take the state dir's server lock or raise StateDirBusy. The open file keeps the lock."""
    state.ensure()
    handle = open(state.lock_file, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StateDirBusy(f"another local cloud already runs on {state.path}") from None
    return handle


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


class NotLoopback(ValueError):
    pass


def require_loopback(host: str) -> None:
    """The local cloud answers anyone who reaches it with full rights over everything it holds
    (the user's calls are unrestricted), so it never listens beyond this machine."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopback(f"the local cloud listens on loopback only (127.0.0.1 or ::1), not on {host!r}")


def bind_socket(host: str, port: int | None) -> socket.socket:
    """Bind `port` if given (0: any free port; error if taken); else the default port, or any
    free one when the default is taken. Loopback addresses only."""
    require_loopback(host)
    candidates = [port] if port is not None else [DEFAULT_PORT, 0]
    last_error: OSError | None = None
    for candidate in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A restart on the same port (`down`/`up`, snapshot load) must not wait for the previous
        # process's connections in TIME_WAIT; a port another process listens on still fails.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
            sock.listen(128)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise OSError(f"cannot bind {host}:{port}: {last_error}. Choose another port with --port.")


def serve(host: str, port: int | None, state_dir: str | None, time_scale: float, buffering: str = "scaled") -> int:
    # moto reads its port and config at import/call time: set them before importing moto.
    state = StateDir(state_dir)
    lock = hold_lock(state)  # noqa: F841  (held until exit)
    sock = bind_socket(host, port)
    real_port = sock.getsockname()[1]
    os.environ["MOTO_PORT"] = str(real_port)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Our own boto3 calls (Step Functions integrations, custom resources) go to this process.
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{real_port}"

    from moto.core.config import default_user_config
    from werkzeug.serving import make_server

    from .cloud import LocalCloud
    from .dispatch import moto_app
    from .httpserver import request_handler_class

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    default_user_config["lambda"]["use_docker"] = False

    from .state.inplace import CloudHost

    def make_cloud() -> LocalCloud:
        return LocalCloud(host, real_port, str(state.path), time_scale=time_scale, buffering=buffering,
                          persistent=True)

    # The host installs the cloud, which loads the state dir's saved state (a state it cannot
    # load stops the start); a snapshot load later replaces the cloud in place.
    host_app = CloudHost(make_cloud, moto_app())
    cloud = host_app.cloud
    server = make_server(host, real_port, host_app, threaded=True, request_handler=request_handler_class(),
                         fd=sock.fileno())

    stopping = threading.Event()

    def shutdown(*_args) -> None:
        if not stopping.is_set():
            stopping.set()
            server.closing = True  # kept-alive connections get no further answers (httpserver.py)
            threading.Thread(target=server.shutdown, daemon=True).start()

    cloud.on_shutdown(shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)

    cloud.start()
    # Everything alive now (moto's models, botocore's service models, our modules) lives as long
    # as the process: out of the collector's generations, a full collection over a table of a
    # million items no longer walks it too; and young collections less often (a write allocates
    # hundreds of objects, most of them kept as the item).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    # A thread back from a wait (the Firehose engine after a Lambda or conversion worker answered,
    # the forwarder) asks for the interpreter lock and gets it after at most this long instead of
    # 5 ms, while request threads would keep it: the engine does a few short steps per batch
    # between waits. Measured at load 6-11 (README): e2e +25-30 % at 30,000 items in two
    # alternating 5 ms / 1 ms pairs; later whole-branch pairs were within that load's noise.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    from .. import __version__

    state.write_record(
        CloudRecord(
            pid=os.getpid(),
            host=host,
            port=real_port,
            started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            state_dir=str(state.path),
            time_scale=time_scale,
            version=__version__,
        )
    )
    log.info("local cloud listening on http://%s:%s (state dir %s)", host, real_port, state.path)
    try:
        server.serve_forever()
    finally:
        host_app.stop()  # the cloud in place now (a snapshot load may have replaced the first)
        state.clear_record()
        log.info("local cloud stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    from .malloc import limit_arenas

    limit_arenas()  # before any thread starts (malloc.py says why)
    parser = argparse.ArgumentParser(prog="pipeline_lib.localcloud.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--state-dir", default=None)
    parser.add_argument("--time-scale", type=float, default=float(os.environ.get("PIPELINE_TIME_SCALE", "0.05")))
    parser.add_argument("--buffering", choices=("scaled", "aws"),
                        default=os.environ.get("PIPELINE_FIREHOSE_BUFFERING", "scaled"),
                        help="Firehose buffer intervals on the time scale (scaled) or as configured (aws)")
    args = parser.parse_args(argv)
    try:
        require_loopback(args.host)
    except NotLoopback as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=os.environ.get("PIPELINE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s",
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from .faults import FaultConfigError

    try:
        return serve(args.host, args.port, args.state_dir, args.time_scale, args.buffering)
    except (StateDirBusy, OSError, FaultConfigError, StateFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
