"""One local deploy at a time per cloud assembly directory (flock on `<out_dir>/.lock`)."""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Callable, Iterator

LOCK_FILE = ".lock"  # in the assembly directory (synth adds to it, never empties it)


@contextlib.contextmanager
def assembly_lock(out_dir: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Hold `<out_dir>/.lock` exclusively (released when the holder ends, however it ends); while
    another process or thread holds it, say so and wait."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            say(f"another deploy{f' (pid {holder})' if holder else ''} is using {out_dir}; waiting…")
            fcntl.flock(handle, fcntl.LOCK_EX)
            say(f"{out_dir} is free again: deploying")
        handle.truncate(0)
        handle.write(str(os.getpid()))  # for the message of whoever waits next
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
