"""The check-then-patch helper, and that the installed moto still matches every seam we declare."""
from __future__ import annotations

import types

import pytest

from pipeline_lib.localcloud.seam import SeamError, SeamSet, is_patched, original


def make_owner():
    class Owner:
        def greet(self, name):
            return f"hello {name}"

        @classmethod
        def build(cls, value):
            return value

    return Owner


def shout(original):
    def greet(self, name):
        return original(self, name).upper()

    return greet


def test_apply_is_idempotent_and_restore_puts_originals_back():
    owner = make_owner()
    original = owner.__dict__["greet"]
    seams = SeamSet("test")
    seams.replace(owner, "greet", ("self", "name"), shout)
    seams.add(owner, "extra", lambda self: "extra")
    seams.apply()
    seams.apply()  # a second install must not wrap twice
    again = SeamSet("test")  # a second set with the same tag (another cloud in the process) takes over
    again.replace(owner, "greet", ("self", "name"), shout)
    again.add(owner, "extra", lambda self: "extra")
    again.apply()
    assert owner().greet("x") == "HELLO X"  # wrapping moto's original, not the first set's patch
    assert owner().extra() == "extra"
    assert again.applied and not seams.applied
    again.restore()
    assert owner.__dict__["greet"] is original
    assert not hasattr(owner, "extra")
    assert owner().greet("x") == "hello x"


def test_a_changed_signature_refuses_every_patch_and_names_moto():
    owner = make_owner()
    seams = SeamSet("test")
    seams.add(owner, "extra", lambda self: 1)
    seams.replace(owner, "greet", ("self", "name", "loudly"), shout)
    with pytest.raises(SeamError, match=r"moto \S+ does not match .*greet takes \('self', 'name'\).*moto\[server\]==5.2.5"):
        seams.apply()
    assert not hasattr(owner, "extra")  # nothing half-applied


def test_an_addition_moto_already_has_is_refused():
    owner = make_owner()
    seams = SeamSet("test")
    seams.add(owner, "greet", lambda self, name: name)
    with pytest.raises(SeamError, match="now exists in moto"):
        seams.check()


def test_a_vanished_attribute_is_refused():
    seams = SeamSet("test")
    seams.replace(make_owner(), "gone", ("self",), shout)
    with pytest.raises(SeamError, match="no longer exists"):
        seams.check()


def test_classmethod_seams_keep_their_kind():
    owner = make_owner()
    seams = SeamSet("test")
    seams.replace(owner, "build", ("cls", "value"),
                  lambda original: classmethod(lambda cls, value: original.__func__(cls, value) * 2))
    seams.apply()
    assert owner.build(21) == 42
    seams.restore()
    assert owner.build(21) == 21


def test_module_functions_and_properties_are_seams_too():
    module = types.ModuleType("fake_moto_module")

    def lookup(resource_type):
        return resource_type.lower()

    module.lookup = lookup
    owner = make_owner()
    owner.size = property(lambda self: 1)
    seams = SeamSet("test")
    seams.replace(module, "lookup", ("resource_type",), lambda moto_lookup: lambda resource_type: "ours:" + moto_lookup(resource_type))
    seams.replace(owner, "size", ("self",), lambda moto_size: property(lambda self: moto_size.fget(self) + 1))
    assert seams.apply() == 2
    assert seams.apply() == 0  # once
    assert module.lookup("X") == "ours:x" and owner().size == 2
    assert is_patched(module, "lookup") and original(module, "lookup") is lookup
    assert isinstance(original(owner, "size"), property)
    seams.restore()
    assert module.lookup is lookup and not is_patched(module, "lookup") and owner().size == 1


def test_expected_attributes_are_checked_and_never_patched():
    owner = make_owner()
    module = types.ModuleType("fake_moto_module")
    module.Backend = owner
    greet = owner.__dict__["greet"]
    seams = SeamSet("test")
    seams.expect(owner, "greet", ("self", "name"))
    seams.expect(module, "Backend")  # read: must exist, any shape
    assert seams.apply() == 0
    assert owner.__dict__["greet"] is greet and not is_patched(owner, "greet")
    changed = SeamSet("test")
    changed.expect(owner, "greet", ("self",))
    changed.expect(module, "backends")
    with pytest.raises(SeamError, match=r"greet takes \('self', 'name'\), the seam expects \('self',\).*fake_moto_module\.backends no longer exists"):
        changed.check()


def test_installed_moto_matches_every_service_package_seams(bare_cloud):
    """Fails when a moto upgrade changes anything the local cloud patches or reads (no patching
    here): every service package of the cloud has one `seams.build_seams(cloud)`."""
    import importlib

    from pipeline_lib.localcloud.cloud import EXTENSION_MODULES

    checked = []
    for package in EXTENSION_MODULES:
        seams = importlib.import_module(f"{package}.seams").build_seams(bare_cloud)
        seams.check()
        assert seams.describe()
        checked.append(package.rsplit(".", 1)[-1])
    assert {"kinesis", "lambda_runtime", "stepfunctions", "s3", "logs", "cfn", "dynamodb", "dynamodb_kinesis", "firehose",
            "glue"} <= set(checked)


def test_instance_attributes_are_checked_in_the_class_source():
    class Base:
        def __init__(self):
            self.buffer = b""

    class Model(Base):
        slots_too = 1

        def __init__(self):
            super().__init__()
            self.size: int = 0

    seams = SeamSet("test")
    seams.reads(Model, "buffer", "size", "slots_too")
    assert seams.apply() == 0  # checked, nothing patched
    gone = SeamSet("test")
    gone.reads(Model, "lock")
    with pytest.raises(SeamError, match=r"Model\.lock is no longer an attribute of its instances"):
        gone.check()
