"""The bounded, pinned LRU the object files use (engine/leases.py): pure bookkeeping, checked with
plain values and a record of what was closed."""
from __future__ import annotations

import threading

import pytest

from pipeline_lib.localcloud.athena.engine.leases import Leases


class Made:
    """Values made and closed, in order."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.closed: list[str] = []

    def maker(self, value: str):
        def make() -> str:
            self.made.append(value)
            return value
        return make

    def leases(self, max_bytes: int, max_files: int) -> Leases:
        return Leases(max_bytes, max_files, self.closed.append)


def test_a_held_version_is_handed_out_again_without_making_it() -> None:
    m = Made()
    leases = m.leases(100, 10)
    a = leases.lease("v1", "a", 10, m.maker("a1"))
    leases.release(a)
    again = leases.lease("v1", "a", 10, m.maker("a1-again"))
    assert again is a and again.value == "a1"
    assert m.made == ["a1"] and m.closed == []
    assert leases.stats().files == 1 and leases.stats().bytes == 10 and leases.stats().pinned == 1


def test_bytes_bound_evicts_least_recently_used_unpinned_first() -> None:
    m = Made()
    leases = m.leases(30, 10)
    for name in ("a", "b", "c"):
        leases.release(leases.lease(name, name, 10, m.maker(name)))
    leases.release(leases.lease("a", "a", 10, m.maker("a-again")))  # a used again: b is now the oldest
    leases.release(leases.lease("d", "d", 10, m.maker("d")))
    assert m.closed == ["b"]
    leases.release(leases.lease("e", "e", 20, m.maker("e")))  # needs two: c, then a
    assert m.closed == ["b", "c", "a"]
    assert leases.stats().bytes == 30 and leases.stats().files == 2


def test_files_bound() -> None:
    m = Made()
    leases = m.leases(1000, 2)
    for name in ("a", "b", "c"):
        leases.release(leases.lease(name, name, 1, m.maker(name)))
    assert m.closed == ["a"] and leases.stats().files == 2


def test_pinned_values_are_never_evicted_and_what_cannot_fit_is_refused() -> None:
    m = Made()
    leases = m.leases(20, 10)
    a = leases.lease("a", "a", 10, m.maker("a"))
    b = leases.lease("b", "b", 10, m.maker("b"))
    assert leases.lease("c", "c", 10, m.maker("c")) is None  # both pinned: refused, not over the bound
    assert m.made == ["a", "b"] and m.closed == []
    assert leases.lease("big", "big", 21, m.maker("big")) is None  # larger than the whole bound
    leases.release(a)
    c = leases.lease("c", "c", 10, m.maker("c"))
    assert c is not None and m.closed == ["a"]
    assert leases.stats().bytes == 20 and leases.stats().pinned == 2
    leases.release(b)
    leases.release(c)
    assert leases.stats().pinned == 0


def test_a_value_leased_twice_is_pinned_until_both_release() -> None:
    m = Made()
    leases = m.leases(10, 10)
    first = leases.lease("a", "a", 10, m.maker("a"))
    second = leases.lease("a", "a", 10, m.maker("a"))
    leases.release(first)
    assert leases.lease("b", "b", 10, m.maker("b")) is None  # still pinned by the second
    leases.release(second)
    assert leases.lease("b", "b", 10, m.maker("b")) is not None
    assert m.closed == ["a"]


def test_a_newer_version_of_a_name_retires_the_older_at_once_when_unpinned() -> None:
    m = Made()
    leases = m.leases(100, 10)
    leases.release(leases.lease("v1", "k", 10, m.maker("k1")))
    leases.release(leases.lease("v2", "k", 10, m.maker("k2")))
    assert m.closed == ["k1"]
    assert leases.stats().files == 1 and leases.stats().bytes == 10


def test_a_retired_version_in_use_stays_open_until_its_last_release() -> None:
    m = Made()
    leases = m.leases(100, 10)
    old = leases.lease("v1", "k", 10, m.maker("k1"))  # a running query reads it
    new = leases.lease("v2", "k", 10, m.maker("k2"))
    assert m.closed == [] and leases.stats().files == 2 and leases.stats().bytes == 20
    assert leases.stats().pinned == 2
    again = leases.lease("v1", "k", 10, m.maker("k1-remade"))  # retired: never handed out again
    assert again is not old and again.value == "k1-remade"
    leases.release(old)
    assert m.closed == ["k1"]
    leases.release(new)
    leases.release(again)


def test_a_failed_make_gives_back_its_reservation() -> None:
    m = Made()
    leases = m.leases(10, 10)

    def fail() -> str:
        raise OSError("EMFILE")

    assert leases.lease("a", "a", 10, fail) is None
    assert leases.stats().bytes == 0 and leases.stats().files == 0
    assert leases.lease("a", "a", 10, m.maker("a")) is not None


def test_clear_closes_unpinned_now_and_pinned_at_release() -> None:
    m = Made()
    leases = m.leases(100, 10)
    leases.release(leases.lease("a", "a", 10, m.maker("a")))
    b = leases.lease("b", "b", 10, m.maker("b"))
    leases.clear()
    assert m.closed == ["a"]
    leases.release(b)
    assert m.closed == ["a", "b"] and leases.stats().files == 0 and leases.stats().bytes == 0


@pytest.mark.parametrize("threads", [8])
def test_concurrent_leases_of_one_version_keep_one_value_and_close_the_rest(threads: int) -> None:
    m = Made()
    leases = m.leases(100, 10)
    start = threading.Barrier(threads)
    got = []
    lock = threading.Lock()

    def run(i: int) -> None:
        start.wait()
        lease = leases.lease("v", "k", 10, m.maker(f"made-{i}"))
        with lock:
            got.append(lease)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len({id(lease) for lease in got}) == 1
    kept = got[0].value
    assert sorted(m.closed + [kept]) == sorted(m.made)  # every other value made was closed
    assert got[0].pins == threads
    assert leases.stats().files == 1 and leases.stats().bytes == 10


class Fickle:
    """A version that, once its object is gone, equals nothing, itself included (as a version
    holding a dead weak reference may)."""

    def __init__(self) -> None:
        self.dead = False

    def __eq__(self, other: object) -> bool:
        return not self.dead and other is self

    def __hash__(self) -> int:
        return 7


def test_versions_that_stop_equalling_themselves_are_still_evicted_and_retired() -> None:
    m = Made()
    leases = m.leases(10, 10)
    first = Fickle()
    leases.release(leases.lease(first, "k", 10, m.maker("k1")))
    first.dead = True
    leases.release(leases.lease("other", "o", 10, m.maker("o")))  # evicts k1 (bytes bound)
    assert m.closed == ["k1"]
    second = Fickle()
    leases.release(leases.lease(second, "k", 5, m.maker("k2")))  # no stale name left behind
    assert leases.stats().files == 1  # "o" evicted for k2 (bytes bound)
    second.dead = True
    leases.release(leases.lease(Fickle(), "k", 5, m.maker("k3")))  # retires k2 by name
    assert m.closed == ["k1", "o", "k2"]
    assert leases.stats().files == 1 and leases.stats().bytes == 5
