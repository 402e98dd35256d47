"""Stack operations with CloudFormation's outcomes: resource events, rollback, DELETE_FAILED.

moto creates, updates and deletes a stack's resources inside the API call. It stops at the first
failing resource with an HTTP error and a half-made stack, updates in a fixed order, and loses a
stack whose delete fails. Here the same operations (still inside the call) run in dependency
order, record a stack event for every resource (..._IN_PROGRESS, ..._COMPLETE, ..._FAILED with
its StatusReason) and end as AWS does: a failed create rolls back (ROLLBACK_COMPLETE), a failed
update rolls back to the previous template (UPDATE_ROLLBACK_COMPLETE), a failed delete leaves
the stack in DELETE_FAILED with what could not be deleted. Reading a stack never creates
anything (moto's resource map creates resources lazily when read).

Seams (moto 5.2.5, checked at install):
- ``moto.cloudformation.parsing.parse_and_create_resource``: resource events; failures become
  ResourceFailed carrying the StatusReason.
- ``moto.cloudformation.models.Stack.create_resources``: rollback when a resource fails.
- ``Stack.update``: ordered update, cleanup of replaced/removed resources, rollback.
- ``Stack.delete``: reverse dependency order, DeletionPolicy, DELETE_FAILED.
- ``Stack.stack_resources`` / ``Stack.outputs`` (properties): the resources that exist; outputs
  only once the stack is complete.
- ``moto.cloudformation.models.CloudFormationBackend.delete_stack``: a stack whose delete failed
  stays listed.
- ``moto.cloudformation.parsing.ResourceMap.parse_ssm_parameter``: a missing SSM parameter is a
  ValidationError like AWS's ("Unable to fetch parameters ...").
- ``ResourceMap.load``: the template's Rules are checked (rules.py).

Called as moto has them (signatures checked at install): ``parsing.parse_and_update_resource``,
``ResourceMap._delete_resource``, ``ResourceMap.build_resource_diff``, and moto's own
``parse_and_create_resource`` (through ``..seam.original``) where a replaced resource is re-created.
"""
from __future__ import annotations

import copy
import logging
from typing import Any

from ..seam import SeamSet, original
from . import graph, rules
from .base import LocalResource, reason_of

log = logging.getLogger("pipeline_lib.localcloud.cfn")

STACK_TYPE = "AWS::CloudFormation::Stack"
# Statuses in which every resource of the current template exists (so outputs can be read).
COMPLETE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
}
REPLACING = "Requested update requires the creation of a new physical resource; hence creating one."
# moto's signature of parse_and_create_resource and parse_and_update_resource.
PARSE_RESOURCE = ("logical_id", "resource_json", "resources_map", "account_id", "region_name")


class ResourceFailed(Exception):
    """A resource operation failed; its event (with `reason`) is already recorded."""

    def __init__(self, logical_id: str, resource_type: str, reason: str):
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


# -- helpers ---------------------------------------------------------------------------------------
def _is_resource(value: Any) -> bool:
    return value is not None and not isinstance(value, (str, int, float, bool, list, dict))


def physical_id(resource: Any) -> str:
    try:
        value = getattr(resource, "physical_resource_id", "")
    except Exception:  # some moto models compute it from state that may be gone
        return ""
    return "" if value is None else str(value)


def _stack_of(resource_map: Any) -> Any:
    from ..moto_backends import backend as moto_backend

    try:
        backend = moto_backend("cloudformation", resource_map._account_id, resource_map._region_name)
    except KeyError:
        return None
    return backend.stacks.get(resource_map.stack_id)


def event(stack: Any, logical_id: str, physical: str, resource_type: str, status: str, reason: str | None = None) -> None:
    from moto.cloudformation.models import Event

    if stack is None:
        return
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _stack_event(stack: Any, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack.status_reason = reason  # DescribeStacks' StackStatusReason (moto's serializer reads it)
    stack._add_stack_event(status, resource_status_reason=reason)


def created_resources(resource_map: Any) -> dict[str, Any]:
    """Logical id -> resource, for the resources of the current template that exist."""
    parsed = resource_map._parsed_resources
    return {name: parsed[name] for name in resource_map._resource_json_map if _is_resource(parsed.get(name))}


def delete_all(stack: Any) -> list[str]:
    """Delete every resource of the stack's template that exists (rollback of a create, stack
    delete); return the logical ids that failed."""
    resource_map = stack.resource_map
    templates = resource_map._resource_json_map
    items = [(name, resource, templates[name]) for name, resource in created_resources(resource_map).items()]
    return delete_resources(stack, resource_map, items, templates)


def delete_one(resource_map: Any, resource: Any, resource_json: dict[str, Any]) -> None:
    from moto.cloudformation import parsing

    # The registry's model of the type (through the seam); some delete what moto's model cannot.
    model = parsing.resource_class_from_type(resource_json.get("Type", ""))
    if hasattr(model, "delete_resource"):
        model.delete_resource(resource, resource_map._account_id, resource_map._region_name)
    elif isinstance(resource, LocalResource):
        resource.remove()
    else:
        resource_map._delete_resource(resource, resource_json)


def delete_resources(stack: Any, resource_map: Any, items: list[tuple[str, Any, dict[str, Any]]],
                     templates: dict[str, dict[str, Any]], honour_retain: bool = True) -> list[str]:
    """Delete `items` (logical id, resource, its template JSON) dependents first; return the
    logical ids that failed. What a failed resource depends on is kept, as AWS keeps it."""
    by_name = {name: (resource, rjson) for name, resource, rjson in items}
    order = [n for n in graph.deletion_order(templates) if n in by_name] + [
        n for n in by_name if n not in templates
    ]
    failed: list[str] = []
    kept: set[str] = set()
    for name in order:
        if name in kept:
            continue
        resource, rjson = by_name[name]
        rtype = rjson.get("Type", "")
        physical = physical_id(resource)
        if honour_retain and rjson.get("DeletionPolicy") == "Retain":
            event(stack, name, physical, rtype, "DELETE_SKIPPED")
            resource_map._parsed_resources.pop(name, None)
            continue
        event(stack, name, physical, rtype, "DELETE_IN_PROGRESS")
        try:
            delete_one(resource_map, resource, rjson)
        except Exception as exc:
            reason = reason_of(exc)
            log.warning("deleting %s (%s) failed: %s", name, rtype, reason)
            event(stack, name, physical, rtype, "DELETE_FAILED", reason)
            failed.append(name)
            kept |= graph.prerequisites(templates, [name]) if name in templates else set()
            continue
        resource_map._parsed_resources.pop(name, None)
        event(stack, name, physical, rtype, "DELETE_COMPLETE")
    return failed


# -- create ------------------------------------------------------------------------------------------
def _make_parse_and_create(moto_create: Any) -> Any:
    def parse_and_create_resource(logical_id: str, resource_json: dict[str, Any], resources_map: Any,
                                  account_id: str, region_name: str) -> Any:
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        # What this resource refers to first, so the events read in creation order.
        for name in sorted(graph.references(resource_json) | graph.depends_on(resource_json)):
            if name != logical_id and name in resources_map._resource_json_map:
                resources_map[name]
        stack = _stack_of(resources_map)
        rtype = resource_json.get("Type", "")
        event(stack, logical_id, "", rtype, "CREATE_IN_PROGRESS")
        try:
            resource = moto_create(logical_id, resource_json, resources_map, account_id, region_name)
        except ResourceFailed:
            raise
        except Exception as exc:
            reason = reason_of(exc)
            event(stack, logical_id, "", rtype, "CREATE_FAILED", reason)
            raise ResourceFailed(logical_id, rtype, reason) from exc
        if resource is not None:
            event(stack, logical_id, physical_id(resource), rtype, "CREATE_COMPLETE")
        return resource

    return parse_and_create_resource


def _make_create_resources(moto_create_resources: Any) -> Any:
    def create_resources(stack: Any) -> None:
        try:
            graph.creation_order(stack.template_dict.get("Resources") or {})
            moto_create_resources(stack)
        except Exception as exc:
            _roll_back_create(stack, exc)
            return
        if stack.status != "CREATE_COMPLETE":  # moto waits for resources it did not create yet
            stack.mark_creation_complete()

    return create_resources


def _roll_back_create(stack: Any, exc: Exception) -> None:
    if isinstance(exc, ResourceFailed):
        reason = f"The following resource(s) failed to create: [{exc.logical_id}]. Rollback requested by user."
    else:
        reason = reason_of(exc)
        event(stack, stack.name, stack.stack_id, STACK_TYPE, "CREATE_FAILED", reason)
    log.warning("stack %s failed to create: %s", stack.name, exc)
    if stack.disable_rollback:
        _stack_event(stack, "CREATE_FAILED", reason)
        return
    _stack_event(stack, "ROLLBACK_IN_PROGRESS", reason)
    failed = delete_all(stack)
    if failed:
        _stack_event(stack, "ROLLBACK_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}].")
    else:
        _stack_event(stack, "ROLLBACK_COMPLETE")


# -- update ------------------------------------------------------------------------------------------
def _has_update(resource_class: Any) -> bool:
    method = getattr(resource_class, "update_from_cloudformation_json", None)
    return method is not None and not hasattr(method, "__isabstractmethod__")


def _update_one(stack: Any, resource_map: Any, name: str, old_json: dict[str, Any]) -> None:
    """Update one resource in place, or replace it when its model cannot update."""
    from moto.cloudformation import parsing

    new_json = resource_map._resource_json_map[name]
    rtype = new_json.get("Type", "")
    original = resource_map._parsed_resources.get(name)
    if not _is_resource(original):
        resource_map[name]  # it did not exist (its condition was false): create it
        return
    old_physical = physical_id(original)
    if old_json.get("Type") != rtype:
        reason = f"Update of resource type is not permitted. The new template modifies resource type of resource {name}."
        event(stack, name, old_physical, rtype, "UPDATE_FAILED", reason)
        raise ResourceFailed(name, rtype, reason)
    for dep in sorted(graph.references(new_json) | graph.depends_on(new_json)):
        if dep != name and dep in resource_map._resource_json_map:
            resource_map[dep]
    resource_class = parsing.resource_class_from_type(rtype)
    event(stack, name, old_physical, rtype, "UPDATE_IN_PROGRESS")
    try:
        if _has_update(resource_class):
            new = parsing.parse_and_update_resource(
                name, new_json, resource_map, resource_map._account_id, resource_map._region_name
            )
        else:
            # moto has no in-place update for this type: replace it. The old one goes first, since
            # template-given names would collide.
            event(stack, name, old_physical, rtype, "UPDATE_IN_PROGRESS", REPLACING)
            delete_one(resource_map, original, old_json)
            resource_map._parsed_resources.pop(name, None)
            new = original(parsing, "parse_and_create_resource")(  # moto's: no events of its own
                name, new_json, resource_map, resource_map._account_id, resource_map._region_name
            )
    except Exception as exc:
        reason = exc.reason if isinstance(exc, ResourceFailed) else reason_of(exc)
        event(stack, name, old_physical, rtype, "UPDATE_FAILED", reason)
        raise ResourceFailed(name, rtype, reason) from exc
    resource_map._parsed_resources[name] = new
    event(stack, name, physical_id(new), rtype, "UPDATE_COMPLETE")


def _apply(stack: Any, template: str | dict[str, Any], parameters: dict[str, Any] | None) -> list[tuple[str, Any, dict[str, Any]]]:
    """Bring the stack's resources to `template`; return the removed resources to clean up."""
    resource_map = stack.resource_map
    template_dict = stack.parse_template(template) if isinstance(template, str) else template
    old_json = dict(resource_map._resource_json_map)
    diff = resource_map.build_resource_diff(template_dict, parameters)
    resource_map._template = template_dict
    if parameters:
        resource_map.input_parameters = parameters
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    rules.check(template_dict.get("Rules"), resource_map.resolved_parameters)
    new_resources = template_dict.get("Resources") or {}
    resource_map._resource_json_map = new_resources
    stack.template_dict = template_dict
    cleanup = [
        (name, resource_map._parsed_resources[name], old_json[name])
        for name in diff["Remove"]
        if _is_resource(resource_map._parsed_resources.get(name))
    ]
    for name in graph.creation_order(new_resources):
        if name in diff["Modify"]:
            _update_one(stack, resource_map, name, old_json[name])
        else:
            resource_map[name]  # created when new; the existing resource otherwise
    return cleanup


def _make_update(_moto_update: Any) -> Any:
    def update(stack: Any, template: str, role_arn: str | None = None, parameters: dict[str, Any] | None = None,
               tags: dict[str, str] | None = None) -> None:
        from moto.cloudformation.exceptions import ValidationError

        new_dict = stack.parse_template(template)
        try:
            graph.creation_order(new_dict.get("Resources") or {})
        except ValueError as exc:
            raise ValidationError(stack.stack_id, message=str(exc)) from None
        resource_map = stack.resource_map
        # Compare with the template as submitted (moto adds empty Properties to the parsed one).
        current = stack.parse_template(stack.template) if isinstance(stack.template, str) else stack.template_dict
        if new_dict == current and (parameters or {}) == (resource_map.input_parameters or {}):
            raise ValidationError(stack.stack_id, message="No updates are to be performed.")
        before = {
            "template": stack.template,
            "template_dict": copy.deepcopy(stack.template_dict),
            "resources": dict(resource_map._resource_json_map),
            "parameters": dict(resource_map.input_parameters or {}),
        }
        _stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        stack.template = template
        try:
            cleanup = _apply(stack, new_dict, parameters)
        except Exception as exc:
            _roll_back_update(stack, before, exc)
            return
        stack.output_map = stack._create_output_map()
        stack.role_arn = role_arn
        if parameters:
            stack.parameters = parameters
        if tags is not None:
            stack.tags = tags
        _stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        delete_resources(stack, resource_map, cleanup, before["resources"])
        _stack_event(stack, "UPDATE_COMPLETE")

    return update


def _roll_back_update(stack: Any, before: dict[str, Any], exc: Exception) -> None:
    if isinstance(exc, ResourceFailed):
        reason = f"The following resource(s) failed to update: [{exc.logical_id}]."
    else:
        reason = reason_of(exc)
    log.warning("stack %s failed to update: %s", stack.name, exc)
    _stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    resource_map = stack.resource_map
    failed_template = dict(resource_map._resource_json_map)
    try:
        cleanup = _apply(stack, before["template_dict"], before["parameters"])
    except Exception as again:
        stack.template, stack.template_dict = before["template"], before["template_dict"]
        _stack_event(stack, "UPDATE_ROLLBACK_FAILED", reason_of(again.__cause__ or again))
        return
    stack.template, stack.template_dict = before["template"], before["template_dict"]
    stack.output_map = stack._create_output_map()
    _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    delete_resources(stack, resource_map, cleanup, failed_template)
    _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")


# -- delete ------------------------------------------------------------------------------------------
def _make_delete(_moto_delete: Any) -> Any:
    def delete(stack: Any) -> None:
        _stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
        failed = delete_all(stack)
        if failed:
            _stack_event(stack, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        else:
            _stack_event(stack, "DELETE_COMPLETE")

    return delete


def _make_backend_delete_stack(_moto_delete_stack: Any) -> Any:
    def delete_stack(backend: Any, name_or_stack_id: str) -> None:
        stack = backend.stacks.get(name_or_stack_id) or next(
            (s for s in backend.stacks.values() if s.name == name_or_stack_id), None
        )
        if stack is None:
            return  # deleting a stack that does not exist succeeds, as on AWS
        stack.delete()
        if stack.status == "DELETE_COMPLETE":
            backend.stacks.pop(stack.stack_id, None)
            backend.deleted_stacks[stack.stack_id] = stack
            for name, export in list(backend.exports.items()):
                if export.exporting_stack_id == stack.stack_id:
                    backend.exports.pop(name)

    return delete_stack


# -- reads ---------------------------------------------------------------------------------------------
def _make_stack_resources(_moto_property: Any) -> property:
    def stack_resources(stack: Any) -> list[Any]:
        return list(created_resources(stack.resource_map).values())

    return property(stack_resources)


def _make_outputs(moto_property: property) -> property:
    def outputs(stack: Any) -> Any:
        if stack.status not in COMPLETE:
            return None
        return moto_property.fget(stack)

    return property(outputs)


def _make_parse_ssm_parameter(moto_parse: Any) -> Any:
    def parse_ssm_parameter(resource_map: Any, value: str, value_type: str) -> Any:
        from moto.cloudformation.exceptions import ValidationError
        from ..moto_backends import backend

        if backend("ssm", resource_map._account_id, resource_map._region_name).get_parameter(value) is None:
            raise ValidationError(message=f"Unable to fetch parameters [{value}] from parameter store for this account.")
        return moto_parse(resource_map, value, value_type)

    return parse_ssm_parameter


def _make_load(moto_load: Any) -> Any:
    def load(resource_map: Any) -> None:
        from moto.cloudformation.exceptions import ValidationError

        moto_load(resource_map)
        try:
            rules.check(resource_map._template.get("Rules"), resource_map.resolved_parameters)
        except rules.RuleError as exc:
            raise ValidationError(message=str(exc)) from None

    return load


def declare(seams: SeamSet) -> None:
    from moto.cloudformation import models, parsing

    # Called, not patched:
    seams.expect(parsing, "parse_and_update_resource", PARSE_RESOURCE)
    seams.expect(parsing.ResourceMap, "_delete_resource", ("self", "parsed_resource", "resource_json"))
    seams.expect(parsing.ResourceMap, "build_resource_diff", ("self", "other_template", "parameters"))
    seams.replace(parsing, "parse_and_create_resource", PARSE_RESOURCE, _make_parse_and_create)
    seams.replace(models.Stack, "create_resources", ("self",), _make_create_resources)
    seams.replace(models.Stack, "update", ("self", "template", "role_arn", "parameters", "tags"), _make_update)
    seams.replace(models.Stack, "delete", ("self",), _make_delete)
    seams.replace(models.Stack, "stack_resources", ("self",), _make_stack_resources)
    seams.replace(models.Stack, "outputs", ("self",), _make_outputs)
    seams.replace(models.CloudFormationBackend, "delete_stack", ("self", "name_or_stack_id"), _make_backend_delete_stack)
    seams.replace(parsing.ResourceMap, "parse_ssm_parameter", ("self", "value", "value_type"), _make_parse_ssm_parameter)
    seams.replace(parsing.ResourceMap, "load", ("self",), _make_load)
    # Read and written, not patched: moto's private state of a template and a stack.
    seams.reads(parsing.ResourceMap, "_resource_json_map", "_parsed_resources", "_account_id", "_region_name",
                "_template", "input_parameters", "resolved_parameters", "stack_id")
    for name in ("load_parameters", "load_mapping", "load_conditions"):
        seams.expect(parsing.ResourceMap, name)
    seams.reads(models.Stack, "stack_id", "name", "template", "template_dict", "resource_map", "status",
                "output_map", "tags", "role_arn", "parameters", "events", "disable_rollback")
    for name in ("_create_output_map", "_add_stack_event", "parse_template", "mark_creation_complete"):
        seams.expect(models.Stack, name)
    seams.reads(models.CloudFormationBackend, "stacks")
