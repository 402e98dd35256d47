"""The request path in front of moto's services: which backend app answers a request, without
the per-request work that does not depend on the request (the HTTP handler: httpserver.py).

moto's server spends most of a small request's time outside the service (profiled: a
ListTables call, 1.8 ms in-process, 0.5 ms of it here):
- `DomainDispatcherApplication.get_backend_for_host` lists moto's package directory and stats
  every entry (`backends.list_of_moto_modules()`), twice per request, under a lock all requests
  share. The answer depends on the host name alone: `dispatcher_class()` remembers it per host.
- `BaseResponse.call_action` collects every function of the response class
  (`inspect.getmembers`) to ask whether one is named like the action. `method_names_from_class`
  here answers that one question directly (the seam below), with the same answer.
- moto's Flask apps run in debug mode, in which Flask's request, on reading any body without
  files, builds a class per request (`attach_enctype_error_multidict`: an empty `files` whose
  KeyError is reworded for HTML forms): 40-50 us a request, class objects for the garbage
  collector. moto only indexes `files` when it is not empty, where Flask attaches nothing, so
  its request loads form data as werkzeug's does (`load_form_data`, the seam below).
"""
from __future__ import annotations

import functools
import inspect
from typing import Any

from .seam import SeamSet

__all__ = ["MethodNames", "build_seams", "dispatcher_class", "moto_app"]

# Host names whose backend is remembered: the few (service, region) pairs a cloud answers; a
# bound, so that odd hosts cannot grow it without limit.
MAX_REMEMBERED_HOSTS = 1024


class MethodNames:
    """`name in MethodNames(cls)` exactly as `name in moto's method_names_from_class(cls)` (the
    names `inspect.getmembers(cls, inspect.isfunction)` lists), asked of that one name. Looked up
    when asked, so a seam applied or restored later is seen as moto would see it."""

    __slots__ = ("clazz",)

    def __init__(self, clazz: Any):
        self.clazz = clazz

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            value = getattr(self.clazz, name)
        except AttributeError:
            return False
        return inspect.isfunction(value)

    def __iter__(self):  # the whole list, should anything iterate it
        return iter([name for name, _ in inspect.getmembers(self.clazz, predicate=inspect.isfunction)])


def method_names_from_class(clazz: Any) -> MethodNames:
    return MethodNames(clazz)


def load_form_data(request: Any) -> None:
    """moto's request's form data, loaded as werkzeug's Request does (without Flask's debug
    helper; module docstring)."""
    from werkzeug.wrappers import Request as WerkzeugRequest

    WerkzeugRequest._load_form_data(request)


def build_seams() -> SeamSet:
    """The request path's moto patches: `call_action`'s membership test of the action's name;
    the form loading of moto's request without Flask's debug helper."""
    import moto.core.responses as responses
    from flask import Request as FlaskRequest
    from moto.core.responses import BaseResponse
    from moto.moto_server.werkzeug_app import BackendRequest, DomainDispatcherApplication
    from werkzeug.wrappers import Request as WerkzeugRequest

    seams = SeamSet("dispatch")
    seams.replace(responses, "method_names_from_class", ("clazz",), lambda _original: method_names_from_class)
    seams.expect(BaseResponse, "call_action", ("self",))
    # Dispatcher overrides this one (moto's get_application calls it) and calls moto's for a
    # host it has not seen.
    seams.expect(DomainDispatcherApplication, "get_backend_for_host", ("self", "host"))
    seams.expect(DomainDispatcherApplication, "get_application", ("self", "environ"))
    # Flask's override (the debug helper) is what is skipped; werkzeug's is what it calls first.
    seams.expect(FlaskRequest, "_load_form_data", ("self",))
    seams.expect(WerkzeugRequest, "_load_form_data", ("self",))
    seams.add(BackendRequest, "_load_form_data", load_form_data)
    return seams


@functools.cache
def dispatcher_class() -> type:
    """`Dispatcher`: moto's DomainDispatcherApplication remembering each host name's backend.
    Made on first use: moto is imported only once the server has set moto's settings."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class Dispatcher(DomainDispatcherApplication):
        def __init__(self, create_app: Any):
            super().__init__(create_app)
            self._backends: dict[str, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host is None:
                return None
            backend = self._backends.get(host)
            if backend is None:
                backend = super().get_backend_for_host(host)
                # None (no backend: moto prints a hint each time) is not remembered.
                if backend is not None and len(self._backends) < MAX_REMEMBERED_HOSTS:
                    self._backends[host] = backend
            return backend

    return Dispatcher


def moto_app() -> Any:
    """moto's services as one WSGI app, with the request path's seams applied (once per process:
    each cloud, also one loaded in place, wraps this app in its own layers)."""
    from moto.moto_server.werkzeug_app import create_backend_app

    build_seams().apply()
    return dispatcher_class()(create_backend_app)
