"""The local cloud's state file and pickling (pipeline_lib/localcloud/state/): what loads, what is
refused and why, and the runtime machinery a saved object gets back fresh."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict

import pytest

from pipeline_lib.localcloud.state import fileformat, pickling
from pipeline_lib.localcloud.state.keeper import snapshot_path, valid_name


def test_round_trip_and_no_temp_file_left(tmp_path):
    path = tmp_path / "state" / "current.state"
    fileformat.write_atomic(path, b"payload")
    header, payload = fileformat.read(path)
    assert payload == b"payload"
    assert header.format == fileformat.FORMAT_VERSION
    assert header.sha256 == hashlib.sha256(b"payload").hexdigest()
    assert [p.name for p in path.parent.iterdir()] == ["current.state"]


def test_a_crash_mid_save_leaves_the_previous_file(tmp_path):
    path = tmp_path / "current.state"
    fileformat.write_atomic(path, b"first")
    # A save killed before its rename leaves only its temp file behind.
    (tmp_path / ".current.state.999.tmp").write_bytes(fileformat.MAGIC + b'{"format": 1')
    assert fileformat.read(path)[1] == b"first"


def _rewrite_header(path, **changes):
    data = path.read_bytes()
    end = data.index(b"\n", len(fileformat.MAGIC))
    header = json.loads(data[len(fileformat.MAGIC):end])
    header.update(changes)
    path.write_bytes(fileformat.MAGIC + json.dumps(header).encode() + data[end:])


def test_an_older_format_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "current.state"
    fileformat.write_atomic(path, b"x")
    _rewrite_header(path, format=fileformat.FORMAT_VERSION - 1)
    with pytest.raises(fileformat.StateFileError) as caught:
        fileformat.read(path)
    message = str(caught.value)
    assert "older version" in message and f"format {fileformat.FORMAT_VERSION - 1}" in message
    assert "move" in message and str(path) in message


def test_another_moto_version_is_refused(tmp_path):
    path = tmp_path / "current.state"
    fileformat.write_atomic(path, b"x")
    _rewrite_header(path, moto="4.0.0")
    with pytest.raises(fileformat.StateFileError, match="moto 4.0.0"):
        fileformat.read(path)


def test_a_damaged_file_is_refused(tmp_path):
    path = tmp_path / "current.state"
    fileformat.write_atomic(path, b"0123456789")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(fileformat.StateFileError, match="damaged"):
        fileformat.read(path)
    path.write_bytes(path.read_bytes()[:-4])  # truncated
    with pytest.raises(fileformat.StateFileError, match="damaged"):
        fileformat.read(path)


def test_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "current.state"
    path.write_bytes(b"\x80\x04not ours")
    with pytest.raises(fileformat.StateFileError, match="not a local-cloud state file"):
        fileformat.read(path)


class _Holder:
    def __init__(self):
        self.lock = threading.Lock()
        self.rlock = threading.RLock()
        self.changed = threading.Condition()
        self.done = threading.Event()
        self.done.set()
        self.thread = threading.Thread(target=print)
        self.nested = defaultdict(lambda: defaultdict(dict))
        self.nested["a"]["b"]["c"] = 1
        self.items = {"k": [1, 2, 3]}


class _Params(defaultdict):
    """Like moto's ParameterDict: a defaultdict subclass whose constructor takes other arguments."""

    def __init__(self, account_id, region_name):
        super().__init__(list)
        self.region_name = region_name


def test_runtime_machinery_comes_back_fresh_and_data_intact():
    holder = _Holder()
    params = _Params("123456789012", "us-east-1")
    params["p"].append("v1")
    loaded, loaded_params = pickling.loads(pickling.dumps((holder, params)))
    assert loaded.items == {"k": [1, 2, 3]}
    assert loaded.lock.acquire(blocking=False)  # a fresh, unlocked lock
    with loaded.changed:
        loaded.changed.notify_all()
    assert loaded.done.is_set() and loaded.thread is None
    assert loaded.nested["a"]["b"] == {"c": 1}
    assert loaded.nested["new"]["x"] == {}  # the factory still makes the same shape
    assert type(loaded_params) is _Params and loaded_params.region_name == "us-east-1"
    assert loaded_params["p"] == ["v1"] and loaded_params["q"] == []


def test_unpicklable_objects_are_named():
    where = pickling.find_unpicklable({"ok": 1, "bad": {"inner": (lambda: 1)}})
    assert where and where[0].startswith("state['bad']['inner']")


@pytest.mark.parametrize("name", ["", "../x", ".hidden", "a/b", "x" * 101])
def test_snapshot_names_are_checked(tmp_path, name):
    with pytest.raises(ValueError, match="snapshot name"):
        snapshot_path(tmp_path, name)


def test_a_good_snapshot_name():
    assert valid_name("just-deployed_1.0") == "just-deployed_1.0"


def test_an_installed_snapshot_and_the_current_state_never_change_each_other(tmp_path):
    from pipeline_lib.localcloud.state.keeper import current_path
    from pipeline_lib.localcloud.state.snapshots import install_snapshot

    fileformat.write_atomic(snapshot_path(tmp_path, "base"), b"snapshot")
    current = install_snapshot(tmp_path, "base")
    assert fileformat.read(current)[1] == b"snapshot"
    fileformat.write_atomic(current_path(tmp_path), b"later state")  # a periodic save
    fileformat.write_atomic(snapshot_path(tmp_path, "other"), b"x")
    assert fileformat.read(snapshot_path(tmp_path, "base"))[1] == b"snapshot"
    install_snapshot(tmp_path, "base")
    fileformat.write_atomic(snapshot_path(tmp_path, "base"), b"snapshot saved again")
    assert fileformat.read(current_path(tmp_path))[1] == b"snapshot"


def test_a_dict_subclass_comes_back_without_running_its_setitem():
    class Checked(dict):
        inserts = 0

        def __setitem__(self, key, value):
            type(self).inserts += 1
            super().__setitem__(key, value)

    globals()["Checked"] = Checked  # picklable by name
    Checked.__qualname__ = "Checked"
    original = Checked()
    dict.update(original, {"a": 1, "b": [2]})
    original.note = "kept"
    Checked.inserts = 0
    restored = pickling.loads(pickling.dumps(original))
    assert type(restored) is Checked and restored == {"a": 1, "b": [2]} and restored.note == "kept"
    assert Checked.inserts == 0
    # A state saved before the flat form (pairs in a list) still loads.
    import pickle

    older = pickle.dumps((pickling._restored_dict, (Checked, [("a", 1), ("b", [2])], {"note": "kept"})))
    function, args = pickle.loads(older)
    again = function(*args)
    assert type(again) is Checked and again == {"a": 1, "b": [2]} and again.note == "kept"
    assert Checked.inserts == 0


def test_moto_s3s_versioned_key_store_keeps_every_version():
    from moto.s3.utils import _VersionedKeyStore

    store = _VersionedKeyStore()
    store["k"] = "v1"
    store["k"] = "v2"
    store["other"] = "only"
    restored = pickling.loads(pickling.dumps(store))
    assert restored.getlist("k") == ["v1", "v2"] and restored["k"] == "v2" and restored["other"] == "only"


def test_periodic_saves_are_paced_by_how_long_the_last_one_took(tmp_path):
    from types import SimpleNamespace

    from pipeline_lib.localcloud.state.keeper import PACE, StateKeeper

    keeper = StateKeeper(SimpleNamespace(state_dir=str(tmp_path)), interval=5.0)
    assert keeper.next_wait() == 5.0  # nothing saved yet: the interval
    keeper.last_save = {"seconds": 0.2}
    assert keeper.next_wait() == 5.0  # a quick save: still the interval
    keeper.last_save = {"seconds": 3.0}  # a large state: saving stays under a tenth of the time
    assert keeper.next_wait() == 27.0 and 3.0 / (3.0 + keeper.next_wait()) <= 0.1 + 1e-9
    assert PACE == 9.0 and keeper.status()["next_save_within_seconds"] == 27.0


def test_a_state_written_from_a_buffer_reads_back(tmp_path):
    # The keeper hands the pickle's buffer to write_atomic without copying it.
    import io

    buffer = io.BytesIO(b"payload " * 1000).getbuffer()
    path = tmp_path / "s.state"
    header = fileformat.write_atomic(path, buffer)
    assert header.length == 8000 and fileformat.read(path)[1] == b"payload " * 1000


def test_a_streamed_state_reads_back_and_a_failed_one_leaves_the_previous_file(tmp_path):
    path = tmp_path / "s.state"
    fileformat.write_atomic(path, b"first")

    def fill(out):
        out.write(b"par")
        out.write(memoryview(b"tial"))
        raise RuntimeError("dictionary changed size during iteration")

    with pytest.raises(RuntimeError):
        fileformat.write_streamed(path, fill)
    assert fileformat.read(path)[1] == b"first" and [p.name for p in tmp_path.iterdir()] == ["s.state"]
    header = fileformat.write_streamed(path, lambda out: (out.write(b"second "), out.write(memoryview(b"part"))))
    assert fileformat.read(path)[1] == b"second part"
    assert (header.length, header.sha256) == (11, hashlib.sha256(b"second part").hexdigest())


def test_a_save_never_holds_its_payload_in_memory(tmp_path):
    """The pickle goes to the file as it is made: a save of 24 MB of state allocates far less."""
    import tracemalloc
    from types import SimpleNamespace

    from pipeline_lib.localcloud.extension import Extension
    from pipeline_lib.localcloud.state.keeper import StateKeeper, decode

    held = [bytes([n % 251]) * 65_536 for n in range(384)]  # 24 MB in 384 objects

    class Holder(Extension):
        name = "holder"

        def save_state(self):
            return held

    cloud = SimpleNamespace(state_dir=str(tmp_path))
    cloud.extensions = [Holder(cloud)]
    keeper = StateKeeper(cloud, interval=0)
    tracemalloc.start()
    try:
        saved = keeper.save()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert saved["bytes"] > 24 * 2**20
    assert peak < 4 * 2**20, peak
    decoded = decode(keeper.path)
    assert decoded.values[[n for _k, n in decoded.names].index("holder")] == held
