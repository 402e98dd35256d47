"""Statements that run a query and write its rows: CREATE TABLE AS, INSERT INTO, UNLOAD; and EXPLAIN."""

from __future__ import annotations

import re

import pyarrow as pa
from sqlglot import exp

from .catalog import lookup_table, position, require_database, table_name
from .errors import not_supported, user_error
from .formats import table_format
from .outcome import QueryOutcome
from .parse import parse
from .results import text_outcome
from .scan import partition_keys, split_uri, table_columns
from .compile_query import compile_select, require_column_names, run_query
from .transpile import substitute_parameters
from .types import arrow_to_glue, glue_to_arrow
from .writers import cast_timestamps_naive, format_descriptor, normalise_format, write_files

__all__ = ["ctas", "insert", "unload", "explain"]


def _require_empty(storage, location: str, message: str) -> None:
    bucket, prefix = split_uri(location)
    if storage.list_objects(bucket, prefix if prefix.endswith("/") or not prefix else prefix + "/"):
        raise user_error("HIVE_PATH_ALREADY_EXISTS", message)


def _prop_value(node: exp.Expression):
    if isinstance(node, exp.Array):
        return [e.name for e in node.expressions]
    return node.name if not isinstance(node, exp.Literal) else node.this


def ctas(query, changes, con, stmt: exp.Create) -> QueryOutcome:
    target = stmt.this
    name = table_name(target, query.database, query.catalog_name)
    require_database(query.catalog, name.database, target)
    if query.catalog.get_table(name.database, name.name) is not None:
        if stmt.args.get("exists"):
            return QueryOutcome(statement_type="DML", result_format="none", update_count=0)
        raise user_error("TABLE_ALREADY_EXISTS", f"{position(target)}: Table '{name}' already exists")
    props: dict = {}
    with_data = True
    for p in (stmt.args.get("properties") or exp.Properties(expressions=[])).expressions:
        if isinstance(p, exp.FileFormatProperty):
            props["format"] = _prop_value(p.this)
        elif isinstance(p, exp.PartitionedByProperty):
            props["partitioned_by"] = _prop_value(p.this)
        elif isinstance(p, exp.WithDataProperty):
            with_data = not p.args.get("no")
        elif type(p) is exp.Property:
            props[p.name.lower()] = _prop_value(p.args["value"])
        elif isinstance(p, exp.LocationProperty):
            props["external_location"] = p.this.this
        else:
            raise not_supported(f"CTAS property {p.sql(dialect='athena')}")
    for unsupported in ("bucketed_by", "bucket_count", "vacuum_min_snapshots_to_keep"):
        if unsupported in props:
            raise not_supported(f"CTAS property {unsupported}")
    if str(props.get("table_type", "HIVE")).upper() != "HIVE":
        raise not_supported(f"CTAS table_type {props['table_type']}")
    fmt = normalise_format(props.get("format"))
    location = props.get("external_location") or f"{(query.output_location or '').rstrip('/')}/tables/{query.query_id}/"
    if not location.startswith("s3://"):
        raise user_error("INVALID_TABLE_PROPERTY", "CTAS needs external_location or a query result location")
    _require_empty(query.storage, location,
                   f"Target directory for table '{name.database}.{name.name}' already exists: {location}. You may need "
                   f"to manually clean the data at location '{location}' before retrying. Athena will not delete "
                   "data in your account.")
    require_column_names(stmt.expression)
    table, infos, binder = run_query(query, con, stmt.expression)
    keys = [k.lower() for k in props.get("partitioned_by") or []]
    names = [n.lower() for n in table.schema.names]
    if keys and names[-len(keys):] != keys:
        raise user_error("HIVE_COLUMN_ORDER_MISMATCH",
                         "Partition keys must be the last columns in the table and in the same order as the table properties: "
                         + str(keys))
    if len(set(names)) != len(names):
        raise user_error("DUPLICATE_COLUMN_NAME", "Column name specified more than once")
    table = cast_timestamps_naive(table.rename_columns(names))
    if not with_data:
        table = table.slice(0, 0)
    files, parts = write_files(changes, table, location, fmt=fmt, compression=props.get("write_compression"),
                               partition_keys=keys, query_id=query.query_id,
                               field_delimiter=props.get("field_delimiter"))
    sd = format_descriptor(fmt, props.get("field_delimiter"))
    sd["Columns"] = [{"Name": f.name, "Type": arrow_to_glue(f.type)} for f in table.schema if f.name not in keys]
    sd["Location"] = location.rstrip("/")
    params = {"has_encrypted_data": "false"}
    if fmt == "PARQUET":
        params["parquet.compression"] = (props.get("write_compression") or "SNAPPY").upper()
    changes.create_table(name.database, {
        "Name": name.name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": sd, "Parameters": params,
        "PartitionKeys": [{"Name": k, "Type": arrow_to_glue(table.schema.field(k).type)} for k in keys]})
    _add_partitions(changes, name.database, name.name, sd, parts, set())
    return QueryOutcome(statement_type="DML", result_format="none", data_scanned_bytes=binder.bytes_read,
                        written_files=files, update_count=table.num_rows)


def _add_partitions(changes, database, table_name_, sd, parts, existing: set) -> None:
    inputs = []
    for values, loc in parts:
        if tuple(values) in existing:
            continue
        existing.add(tuple(values))
        inputs.append({"Values": ["__HIVE_DEFAULT_PARTITION__" if v is None else v for v in values],
                       "StorageDescriptor": {**{k: v for k, v in sd.items() if k != "Location"}, "Location": loc}})
    changes.create_partitions(database, table_name_, inputs)


_INT_RANK = {"tinyint": 1, "smallint": 2, "integer": 3, "int": 3, "bigint": 4}


def _athena_name(glue: str) -> str:
    g = glue.lower()
    return {"string": "varchar", "int": "integer", "float": "real"}.get(g, g)


def _coercible(source: str, target_glue: str) -> bool:
    """Trino's implicit coercions for INSERT: integers widen, numbers to real/double/decimal,
    otherwise the same type family (no varchar -> number, no double -> integer)."""
    target = _athena_name(target_glue).split("(")[0].split("<")[0]
    source = {"float": "real"}.get(source, source)
    if source == "unknown":  # NULL literal
        return True
    if source in _INT_RANK:
        return (target in _INT_RANK and _INT_RANK[target] >= _INT_RANK[source]) or target in ("real", "double", "decimal")
    if source == "decimal":
        return target in ("decimal", "real", "double")
    if source == "real":
        return target in ("real", "double")
    if source in ("varchar", "char"):
        return target in ("varchar", "char")
    if source == "row":
        return target == "struct"
    return source == target or (source, target) in {("timestamp with time zone", "timestamp")}


def insert(query, changes, con, stmt: exp.Insert) -> QueryOutcome:
    target = stmt.this
    listed = None
    if isinstance(target, exp.Schema):
        listed = [i.name.lower() for i in target.expressions]
        target = target.this
    name = table_name(target, query.database, query.catalog_name)
    glue = lookup_table(query.catalog, name, target)
    if glue.get("TableType") == "VIRTUAL_VIEW":
        raise user_error("NOT_SUPPORTED", f"{position(target)}: Inserting into views is not supported")
    data_cols, keys = table_columns(glue), partition_keys(glue)
    all_cols = data_cols + keys
    table, infos, binder = run_query(query, con, stmt.expression)
    listed = listed or [c for c, _ in all_cols]
    if len(listed) != table.num_columns:
        raise user_error("TYPE_MISMATCH", f"{position(target)}: Insert query has mismatched column types: Table: ["
                         + ", ".join(t for c, t in all_cols if c in listed) + "], Query: ["
                         + ", ".join(i.type for i in infos) + "]")
    arrays = []
    by_name = dict(zip(listed, table.columns))
    table = cast_timestamps_naive(table)
    by_name = dict(zip(listed, table.columns))
    source_types = dict(zip(listed, [i.type for i in infos]))
    for c, t in all_cols:
        target_type = glue_to_arrow(t)
        if c in by_name and not _coercible(source_types[c], t):
            raise user_error("TYPE_MISMATCH", f"{position(target)}: Insert query has mismatched column types: Table: ["
                             + ", ".join(_athena_name(t) for c2, t in all_cols if c2 in listed) + "], Query: ["
                             + ", ".join(i.type for i in infos) + "]")
        if c in by_name:
            try:
                arrays.append(by_name[c].cast(target_type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise user_error("TYPE_MISMATCH", f"{position(target)}: Insert query has mismatched column types: "
                                 f"column {c} is {t}, query gives {by_name[c].type}") from None
        else:
            arrays.append(pa.nulls(table.num_rows, target_type))
    out = pa.Table.from_arrays(arrays, names=[c for c, _ in all_cols])
    kind, serde = table_format(glue)
    fmt = {"parquet": "PARQUET", "json": "JSON", "text": "TEXTFILE"}.get(kind)
    if fmt is None:
        raise not_supported(f"INSERT INTO a {kind} table")
    params = glue.get("Parameters") or {}
    compression = params.get("parquet.compression") or params.get("write.compression") or None
    location = (glue.get("StorageDescriptor") or {}).get("Location") or ""
    files, parts = write_files(changes, out, location, fmt=fmt, compression=compression,
                               partition_keys=[k for k, _ in keys], query_id=query.query_id,
                               field_delimiter=serde.get("field.delim"))
    if keys and (params.get("projection.enabled", "").lower() != "true"):
        existing = {tuple(p["Values"]) for p in query.catalog.get_partitions(name.database, name.name)}
        _add_partitions(changes, name.database, name.name, glue.get("StorageDescriptor") or {}, parts, existing)
    return QueryOutcome(statement_type="DML", result_format="none", data_scanned_bytes=binder.bytes_read,
                        written_files=files, update_count=out.num_rows)


_UNLOAD = re.compile(r"^\s*UNLOAD\s*\((.*)\)\s*TO\s*'([^']+)'\s*WITH\s*\((.*)\)\s*;?\s*$", re.S | re.I)


def _with_properties(text: str) -> dict:
    props = {}
    for m in re.finditer(r"(\w+)\s*=\s*(ARRAY\s*\[[^\]]*\]|'(?:[^']|'')*')", text, re.I):
        v = m.group(2)
        props[m.group(1).lower()] = re.findall(r"'((?:[^']|'')*)'", v) if v.upper().startswith("ARRAY") else v[1:-1]
    return props


def unload(query, changes, con, params) -> QueryOutcome:
    m = _UNLOAD.match(query.sql)
    if not m:
        raise user_error("SYNTAX_ERROR", "line 1:1: expected UNLOAD (<query>) TO 's3://...' WITH (format = '...')")
    (inner,) = parse(m.group(1))
    inner = substitute_parameters(inner, params)
    location, props = m.group(2), _with_properties(m.group(3))
    fmt = normalise_format(props.get("format"))
    _require_empty(query.storage, location, f"Target directory for UNLOAD is not empty: {location}. UNLOAD "
                   "requires an empty destination")
    table, infos, binder = run_query(query, con, inner)
    keys = [k.lower() for k in props.get("partitioned_by") or []]
    table = cast_timestamps_naive(table.rename_columns([n.lower() for n in table.schema.names]))
    files, _ = write_files(changes, table, location, fmt=fmt, compression=props.get("compression"),
                           partition_keys=keys, query_id=query.query_id, field_delimiter=props.get("field_delimiter"))
    return QueryOutcome(statement_type="DML", result_format="none", data_scanned_bytes=binder.bytes_read,
                        written_files=files, update_count=table.num_rows)


def explain(query, con, params) -> QueryOutcome:
    m = re.match(r"^\s*EXPLAIN\s+(ANALYZE\s+)?(?:\([^)]*\)\s*)?(.*?)\s*;?\s*$", query.sql, re.S | re.I)
    (inner,) = parse(m.group(2))
    inner = substitute_parameters(inner, params)
    if not isinstance(inner, exp.Query):
        raise not_supported("EXPLAIN of a statement other than a query")
    binder = query.binder(con)
    sql, _, _ = compile_select(inner, binder, query.database)
    rows = con.sql(("EXPLAIN ANALYZE " if m.group(1) else "EXPLAIN ") + sql).fetchall()
    plan = "\n".join(r[1] for r in rows)
    return text_outcome("UTILITY", "Query Plan", [plan], result_format="csv")

