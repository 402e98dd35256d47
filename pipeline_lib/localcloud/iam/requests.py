"""What an HTTP request to the local cloud asks for, in IAM's terms (pure logic): who signed it
(the access key of its SigV4 credential scope), the IAM action (`service:Operation`), the
resource ARNs it touches and the request's condition keys.

Resources are derived for the operations the stack's code and the local cloud's integrations
call (DynamoDB, Kinesis, Firehose, Glue, Lambda, Step Functions, Logs, S3 buckets and objects,
CloudWatch); for another operation of a JSON or query service `resources` is None and the action
alone is checked; a request whose operation is not recognised at all (S3 bucket sub-resources
other than those listed below, other Lambda paths) has `action` None and is not checked
(docs/SECURITY.md).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote

__all__ = ["Call", "access_key_of", "describe"]

# SigV4 credential scope signing name -> IAM service prefix
_PREFIX = {"monitoring": "cloudwatch", "execute-api": "execute-api"}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Call:
    access_key: str
    service: str  # the signing name (s3, dynamodb, monitoring, ...)
    region: str
    action: str | None  # "dynamodb:BatchWriteItem"; None when the operation is not known
    resources: list[str] | None
    context: dict[str, Any] = field(default_factory=dict)
    protocol: str | None = None  # "json", "cbor", "query", or None (the service's only one)


def access_key_of(environ: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(access key id, region, signing name) from the Authorization header or a presigned URL."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    found = _CREDENTIAL.search(header)
    if found is None:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        credential = (query.get("X-Amz-Credential") or [""])[0]
        parts = credential.split("/")
        if len(parts) == 5:
            return parts[0], parts[2], parts[3]
        return None
    return found.group(1), found.group(2), found.group(3)


def describe(environ: Mapping[str, Any], body: bytes, account: str) -> Call | None:
    """The call a request makes, or None when it is not signed."""
    signed = access_key_of(environ)
    if signed is None:
        return None
    key, region, service = signed
    call = Call(key, service, region, None, None)
    prefix = _PREFIX.get(service, service)
    operation, params, call.protocol = _operation(environ, body)
    if service == "s3":
        _s3(call, environ, account)
        return call
    if service == "lambda":
        _lambda(call, environ, region, account)
        return call
    if operation is None:
        return call
    call.action = f"{prefix}:{operation}"
    call.resources = _resources(service, operation, params, region, account)
    return call


def _operation(environ: Mapping[str, Any], body: bytes) -> tuple[str | None, dict[str, Any], str | None]:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return target.rsplit(".", 1)[-1], params if isinstance(params, dict) else {}, "json"
    path = environ.get("PATH_INFO", "")
    cbor = re.match(r"^/service/[^/]+/operation/([^/]+)$", path)
    if cbor:
        return cbor.group(1), {}, "cbor"
    if body and b"Action=" in body[:4096]:
        form = parse_qs(body.decode("utf-8", "replace"))
        action = (form.get("Action") or [None])[0]
        return action, {k: v[0] for k, v in form.items()}, "query"
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0], {k: v[0] for k, v in query.items()}, "query"
    return None, {}, None


def _resources(service: str, op: str, p: dict[str, Any], region: str, account: str) -> list[str] | None:
    base = f"arn:aws:{service}:{region}:{account}"
    if service == "dynamodb":
        if "RequestItems" in p and isinstance(p["RequestItems"], dict):
            return [f"{base}:table/{t}" for t in p["RequestItems"]]
        if "TransactItems" in p:
            return None
        if p.get("TableName"):
            name = str(p["TableName"])
            return [name if name.startswith("arn:") else f"{base}:table/{name}"]
        if op in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
            return ["*"]
        return None
    if service == "kinesis":
        if p.get("StreamARN"):
            return [str(p["StreamARN"])]
        if p.get("StreamName"):
            return [f"{base}:stream/{p['StreamName']}"]
        if op in ("ListStreams",):
            return ["*"]
        return None
    if service == "firehose":
        if p.get("DeliveryStreamName"):
            return [f"{base}:deliverystream/{p['DeliveryStreamName']}"]
        return ["*"] if op == "ListDeliveryStreams" else None
    if service == "glue":
        catalog = f"{base}:catalog"
        if op.endswith("Crawler") or op in ("GetCrawlerMetrics",):
            name = p.get("Name") or p.get("CrawlerName")
            return [f"{base}:crawler/{name}"] if name else None
        database = p.get("DatabaseName") or (p.get("Name") if "Database" in op else None)
        if database is None and isinstance(p.get("DatabaseInput"), dict):
            database = p["DatabaseInput"].get("Name")
        table = p.get("TableName") or (p.get("Name") if "Table" in op else None)
        if table is None and isinstance(p.get("TableInput"), dict):
            table = p["TableInput"].get("Name")
        if op in ("GetDatabases",):
            return [catalog]
        if database and table:
            return [catalog, f"{base}:database/{database}", f"{base}:table/{database}/{table}"]
        if database:
            if op in ("GetTables", "SearchTables", "BatchDeleteTable"):
                return [catalog, f"{base}:database/{database}", f"{base}:table/{database}/*"]
            return [catalog, f"{base}:database/{database}"]
        return None
    if service == "states":
        for key in ("stateMachineArn", "executionArn", "activityArn"):
            if p.get(key):
                return [str(p[key])]
        return ["*"] if op.startswith("List") else None
    if service == "logs":
        group = p.get("logGroupName")
        if group and p.get("logStreamName"):
            return [f"{base}:log-group:{group}:log-stream:{p['logStreamName']}"]
        if group:
            return [f"{base}:log-group:{group}"]
        return None
    if service == "monitoring":
        return ["*"]  # CloudWatch metric APIs have no resource-level permissions
    if service == "sts" and op == "GetCallerIdentity":
        return ["*"]
    return None


_S3_SUBRESOURCE_ACTIONS = {
    ("GET", "policy"): "GetBucketPolicy",
    ("PUT", "policy"): "PutBucketPolicy",
    ("DELETE", "policy"): "DeleteBucketPolicy",
    ("GET", "location"): "GetBucketLocation",
    ("GET", "versioning"): "GetBucketVersioning",
    ("GET", "uploads"): "ListBucketMultipartUploads",
    ("GET", "tagging"): "GetBucketTagging",
    ("GET", "acl"): "GetBucketAcl",
    ("GET", "versions"): "ListBucketVersions",
    ("GET", "notification"): "GetBucketNotification",
}


_S3_LIST_PARAMETERS = {"list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after", "marker",
                       "encoding-type", "fetch-owner", "x-id"}


def _s3(call: Call, environ: Mapping[str, Any], account: str) -> None:
    method = environ.get("REQUEST_METHOD", "GET")
    path = unquote(environ.get("PATH_INFO", "/"))
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        call.action, call.resources = "s3:ListAllMyBuckets", ["*"]
        return
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not key:
        for (verb, sub), action in _S3_SUBRESOURCE_ACTIONS.items():
            if method == verb and sub in query:
                call.action, call.resources = f"s3:{action}", [bucket_arn]
                return
        if method in ("GET", "HEAD") and set(query) <= _S3_LIST_PARAMETERS:
            call.action, call.resources = "s3:ListBucket", [bucket_arn]
            call.context = {"s3:prefix": (query.get("prefix") or [""])[0]}
            if "max-keys" in query:
                call.context["s3:max-keys"] = query["max-keys"][0]
            return
        if method == "POST" and "delete" in query:
            call.action, call.resources = "s3:DeleteObject", [f"{bucket_arn}/*"]
            return
        return  # other bucket operations: not derived
    object_arn = f"{bucket_arn}/{key}"
    if method == "DELETE":
        action = "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    elif method in ("GET", "HEAD"):
        action = "ListMultipartUploadParts" if "uploadId" in query else (
            "GetObjectTagging" if "tagging" in query else "GetObject")
    elif method in ("PUT", "POST"):
        if "tagging" in query:
            action = "PutObjectTagging"
        elif "HTTP_X_AMZ_COPY_SOURCE" in environ:
            action = "PutObject"  # plus s3:GetObject on the source, checked below
            source = unquote(environ["HTTP_X_AMZ_COPY_SOURCE"]).lstrip("/").split("?", 1)[0]
            call.context = {"copy_source": f"arn:aws:s3:::{source}"}
        else:
            action = "PutObject"
    else:
        return
    call.action, call.resources = f"s3:{action}", [object_arn]


def _lambda(call: Call, environ: Mapping[str, Any], region: str, account: str) -> None:
    method = environ.get("REQUEST_METHOD", "GET")
    path = unquote(environ.get("PATH_INFO", ""))
    query = parse_qs(environ.get("QUERY_STRING", ""))
    found = re.match(r"^/[0-9-]+/functions/([^/]+)(/.*)?$", path)
    if found is None:
        if re.match(r"^/[0-9-]+/functions/?$", path) and method == "GET":
            call.action, call.resources = "lambda:ListFunctions", ["*"]
        return
    name, rest = found.group(1), found.group(2) or ""
    qualifier = (query.get("Qualifier") or [None])[0]
    if name.startswith("arn:"):
        arn = name
    else:
        if ":" in name:  # name:qualifier
            name, qualifier = name.split(":", 1)
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    if qualifier and arn.count(":") == 6:
        arn = f"{arn}:{qualifier}"
    operation = {
        ("POST", "/invocations"): "InvokeFunction",
        ("POST", "/invoke-async/"): "InvokeAsync",
        ("GET", "/configuration"): "GetFunctionConfiguration",
        ("GET", ""): "GetFunction",
        ("GET", "/policy"): "GetPolicy",
    }.get((method, rest))
    if operation is None:
        return
    call.action, call.resources = f"lambda:{operation}", [arn]
