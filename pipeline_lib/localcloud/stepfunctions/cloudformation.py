"""AWS::StepFunctions::StateMachine in the Step Functions backend the API answers from.

moto's own model always writes to its plain backend, but with `execute_state_machine` on (as in
the local cloud) the API reads the executing ("parser") backend, so a stack's state machine was
invisible to DescribeStateMachine and StartExecution. It also dropped the logging, tracing and
type settings. This model uses the API's backend with the full configuration.

Ref / GetAtt Arn: the ARN; GetAtt Name. The name and type need a new
state machine; definition, role, logging, tracing and encryption change in place.
"""
from __future__ import annotations

import json
from typing import Any

from ..cfn.base import LocalResource, ResourceError
from ..cfn.shapes import conform, input_member

PROPERTIES = {
    "StateMachineName", "StateMachineType", "Definition", "DefinitionString", "DefinitionS3Location",
    "DefinitionSubstitutions", "RoleArn", "LoggingConfiguration", "TracingConfiguration",
    "EncryptionConfiguration", "Tags",
}


def camel(value: Any) -> Any:
    """Template spelling (LoggingConfiguration.Destinations...) to the API's (loggingConfiguration...)."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:]): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def api_backend(account_id: str, region: str) -> Any:
    from ..moto_backends import backend

    return backend("stepfunctions", account_id, region)


class StateMachine(LocalResource):
    TYPE = "AWS::StepFunctions::StateMachine"
    NAME_PROPERTY = "StateMachineName"
    ATTRIBUTES = frozenset({"Arn", "Name"})
    REPLACE_ON = ("StateMachineType",)

    @property
    def arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{self.name}"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def _definition(self, properties: dict[str, Any]) -> str:
        if "Definition" in properties:
            definition = json.dumps(properties["Definition"])
        elif "DefinitionString" in properties:
            definition = str(properties["DefinitionString"])
        elif "DefinitionS3Location" in properties:
            location = properties["DefinitionS3Location"]
            found = self.backend("s3").get_object(location["Bucket"], location["Key"], location.get("Version"))
            if found is None:
                raise ResourceError(f"DefinitionS3Location s3://{location['Bucket']}/{location['Key']} does not exist")
            definition = found.value.decode()
        else:
            raise ResourceError(f"{self.TYPE} needs Definition, DefinitionString or DefinitionS3Location")
        for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        try:
            json.loads(definition)
        except ValueError as exc:
            raise ResourceError(f"the state machine definition is not valid JSON ({exc})") from None
        return definition

    def _settings(self, properties: dict[str, Any]) -> dict[str, Any]:
        unknown = set(properties) - PROPERTIES
        if unknown:
            raise ResourceError(f"{self.TYPE} property {sorted(unknown)[0]} is not supported by the local cloud")
        if not properties.get("RoleArn"):
            raise ResourceError(f"{self.TYPE} needs the property RoleArn")
        settings: dict[str, Any] = {}
        for prop, member in (("LoggingConfiguration", "loggingConfiguration"),
                             ("TracingConfiguration", "tracingConfiguration"),
                             ("EncryptionConfiguration", "encryptionConfiguration")):
            value = properties.get(prop)
            settings[member] = None if value is None else conform(
                camel(value), input_member("stepfunctions", "CreateStateMachine", member), prop)
        return settings

    def create(self) -> None:
        settings = self._settings(self.properties)
        tags = [{"key": t["Key"], "value": t["Value"]} for t in self.properties.get("Tags") or []]
        api_backend(self.account_id, self.region).create_state_machine(
            name=self.name,
            definition=self._definition(self.properties),
            roleArn=self.properties["RoleArn"],
            tags=tags,
            sm_type=self.properties.get("StateMachineType", "STANDARD"),
            **settings,
        )

    def update(self, properties: dict[str, Any]) -> None:
        settings = self._settings(properties)
        api_backend(self.account_id, self.region).update_state_machine(
            self.arn,
            definition=self._definition(properties),
            role_arn=properties["RoleArn"],
            logging_configuration=settings["loggingConfiguration"],
            tracing_configuration=settings["tracingConfiguration"],
            encryption_configuration=settings["encryptionConfiguration"],
        )

    def remove(self) -> None:
        api_backend(self.account_id, self.region).delete_state_machine(self.arn)

    def attribute(self, name: str) -> Any:
        return self.arn if name == "Arn" else self.name


RESOURCE_TYPES = (StateMachine,)
