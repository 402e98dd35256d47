"""The library's public face, awswrangler's conventions: each public module lists its API in
`__all__` (and every name there exists), whatever it defines outside `__all__` is private (`_`),
and every public function that calls AWS takes `boto3_session` keyword-only, last, default None."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import pipeline_lib
import pipeline_lib.cli

# The modules a user imports (pipeline_lib.__all__) and the command modules.
PUBLIC_MODULES = [f"pipeline_lib.{name}" for name in pipeline_lib.__all__] + [
    f"pipeline_lib.cli.{m.name}" for m in pkgutil.iter_modules(pipeline_lib.cli.__path__) if not m.name.startswith("_")
] + ["pipeline_lib.cli"]
# Where a public module's names are defined (a package re-exports its private modules').
DEFINING_MODULES = {"pipeline_lib.data": ["pipeline_lib.data._generate", "pipeline_lib.data._seed"]}
# Functions that make sessions rather than take one.
SESSION_MAKERS = {"pipeline_lib.backend.connect", "pipeline_lib.backend.session", "pipeline_lib.backend.endpoint_url"}
# What reaches AWS, whatever the detection below finds: a floor, so the test cannot pass empty.
KNOWN_AWS = {
    "pipeline_lib.stack.outputs", "pipeline_lib.data.seed_file", "pipeline_lib.data.seed_s3",
    "pipeline_lib.stream.read_stream", "pipeline_lib.lake.parquet_objects", "pipeline_lib.lake.parquet_rows",
    "pipeline_lib.lake.error_records", "pipeline_lib.lake.reconcile", "pipeline_lib.lake.lake_partitions",
    "pipeline_lib.lake.wait_for_lake", "pipeline_lib.lake.LakeCounter", "pipeline_lib.query.run_query",
    "pipeline_lib.flow.run_state_machine", "pipeline_lib.flow.run", "pipeline_lib.flow.deploy_and_run",
    "pipeline_lib.flow.catalog_partitions", "pipeline_lib.deploy.deploy", "pipeline_lib.deploy.destroy",
}
# Source that means "makes AWS calls": a client, the default session, or a session passed on.
_CALLS_AWS = re.compile(r"\.client\(|default_session\(|\bconnect\(|boto3_session")


def _public_callables():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{module_name}.{name}", obj


def _calls_aws(obj) -> bool:
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        return False
    return bool(_CALLS_AWS.search(source))


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_name_in_all_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert isinstance(module.__all__, (list, tuple)) and module.__all__, f"{module_name} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names what it does not have: {missing}"
    assert len(set(module.__all__)) == len(module.__all__), f"{module_name}.__all__ repeats a name"
    assert not [n for n in module.__all__ if n.startswith("_")], f"{module_name}.__all__ lists private names"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_what_a_module_defines_is_public_or_underscored(module_name: str) -> None:
    exported = set(importlib.import_module(module_name).__all__)
    for defining in DEFINING_MODULES.get(module_name, [module_name]):
        module = importlib.import_module(defining)
        defined = [
            name for name, obj in vars(module).items()
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == defining
        ]
        stray = sorted(name for name in defined if not name.startswith("_") and name not in exported)
        assert not stray, f"{defining} defines {stray}: list them in __all__ or prefix them with _"


def test_the_package_names_its_modules_and_loads_them_on_use() -> None:
    assert set(pipeline_lib.__all__) == {"backend", "data", "deploy", "flow", "lake", "query", "report", "schema", "stack", "stream"}
    for name in pipeline_lib.__all__:
        assert getattr(pipeline_lib, name) is importlib.import_module(f"pipeline_lib.{name}")
    with pytest.raises(AttributeError):
        pipeline_lib.no_such_module  # noqa: B018


def test_aws_functions_take_boto3_session_keyword_only_and_last() -> None:
    found = {}
    for qualified, obj in _public_callables():
        if qualified in SESSION_MAKERS or not _calls_aws(obj):
            continue
        found[qualified] = obj
    assert KNOWN_AWS <= set(found), f"not detected as calling AWS: {sorted(KNOWN_AWS - set(found))}"
    wrong = []
    for qualified, obj in sorted(found.items()):
        parameters = [p for p in inspect.signature(obj).parameters.values() if p.kind is not p.VAR_KEYWORD]
        session = inspect.signature(obj).parameters.get("boto3_session")
        if session is None:
            wrong.append(f"{qualified}: no boto3_session parameter")
        elif session.kind is not inspect.Parameter.KEYWORD_ONLY:
            wrong.append(f"{qualified}: boto3_session is {session.kind.description}, not keyword-only")
        elif session.default is not None:
            wrong.append(f"{qualified}: boto3_session defaults to {session.default!r}, not None")
        elif parameters[-1].name != "boto3_session":
            wrong.append(f"{qualified}: boto3_session is not the last parameter")
    assert not wrong, "\n".join(wrong)


def test_no_public_function_names_its_session_otherwise() -> None:
    named_session = [q for q, obj in _public_callables()
                     if not inspect.isclass(obj) and "session" in inspect.signature(obj).parameters]
    assert not named_session, f"use boto3_session= (awswrangler's name): {named_session}"
