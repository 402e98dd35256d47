"""DDL: CREATE/DROP DATABASE, CREATE EXTERNAL TABLE, DROP TABLE, CREATE/DROP VIEW, MSCK REPAIR
TABLE, ALTER TABLE ADD/DROP PARTITION — as Glue catalog changes, the way Athena makes them."""

from __future__ import annotations

import re

from sqlglot import exp

from pipeline_lib import schema

from .catalog import TableName, lookup_table, position, require_database, table_name
from .errors import not_supported, user_error
from .results import ddl_outcome
from .resolve_views import encode_view
from .scan import list_data_objects, partition_keys
from .types import arrow_to_glue
from .writers import JSON_SD, PARQUET_SD, TEXT_SD

__all__ = ["create_database", "drop", "create_table", "create_view", "msck_repair", "alter_table"]


def _name(stmt_table: exp.Table, query) -> TableName:
    return table_name(stmt_table, query.database, query.catalog_name)


def create_database(query, changes, stmt: exp.Create):
    name = stmt.this.name.lower()
    if query.catalog.get_database(name) is not None:
        if stmt.args.get("exists"):
            return ddl_outcome()
        raise user_error("SCHEMA_ALREADY_EXISTS", f"{position(stmt.this)}: Schema '{query.catalog_name}.{name}' already exists")
    db_input: dict = {"Name": name}
    for prop in (stmt.args.get("properties") or exp.Properties(expressions=[])).expressions:
        if isinstance(prop, exp.SchemaCommentProperty):
            db_input["Description"] = prop.this.this
        elif isinstance(prop, exp.LocationProperty):
            db_input["LocationUri"] = prop.this.this
        elif isinstance(prop, exp.Property):
            db_input.setdefault("Parameters", {})[prop.name] = prop.args["value"].name
    changes.create_database(db_input)
    return ddl_outcome()


def drop(query, changes, stmt: exp.Drop):
    kind = (stmt.args.get("kind") or "TABLE").upper()
    target = stmt.args["tables"][0] if stmt.args.get("tables") else stmt.this
    exists = bool(stmt.args.get("exists"))
    if kind in ("DATABASE", "SCHEMA"):
        name = target.name.lower()
        if query.catalog.get_database(name) is None:
            if exists:
                return ddl_outcome()
            raise user_error("SCHEMA_NOT_FOUND", f"{position(target)}: Schema '{name}' does not exist")
        tables = query.catalog.get_tables(name)
        if tables and not stmt.args.get("cascade"):
            raise user_error("SCHEMA_NOT_EMPTY", f"{position(target)}: Cannot drop non-empty schema '{name}'")
        for t in tables:
            changes.delete_table(name, t["Name"])
        changes.delete_database(name)
        return ddl_outcome()
    name = _name(target, query)
    require_database(query.catalog, name.database, target)
    table = query.catalog.get_table(name.database, name.name)
    is_view = table is not None and table.get("TableType") == "VIRTUAL_VIEW"
    if table is None or (kind == "VIEW") != is_view:
        if exists:
            return ddl_outcome()
        if kind == "VIEW":
            raise user_error("TABLE_NOT_FOUND", f"{position(target)}: View '{name}' does not exist")
        raise user_error("TABLE_NOT_FOUND", f"{position(target)}: Table '{name}' does not exist")
    # Dropping an external table leaves its data in S3, as in Athena.
    changes.delete_table(name.database, name.name)
    return ddl_outcome()


def _hive_type(kind: exp.DataType) -> str:
    text = kind.sql(dialect="hive")
    try:
        return schema.canonical_type(text.replace("TEXT", "STRING"))
    except schema.TypeStringError as exc:
        raise user_error("NOT_SUPPORTED", f"Unsupported Hive type: {text} ({exc})") from None


def create_table(query, changes, stmt: exp.Create):
    target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
    name = _name(target, query)
    require_database(query.catalog, name.database, target)
    if query.catalog.get_table(name.database, name.name) is not None:
        if stmt.args.get("exists"):
            return ddl_outcome()
        raise user_error("ALREADY_EXISTS", f"Table {name.database}.{name.name} already exists")
    props = (stmt.args.get("properties") or exp.Properties(expressions=[])).expressions
    if not any(isinstance(p, exp.ExternalProperty) for p in props):
        # Athena's CREATE TABLE without EXTERNAL makes Iceberg tables only.
        if not any(isinstance(p, exp.Property) and p.name.lower() == "table_type" for p in props):
            raise user_error("NOT_SUPPORTED", "Non-external table creation is not supported; use CREATE EXTERNAL TABLE")
        raise not_supported("Iceberg tables")
    columns = [{"Name": c.name.lower(), "Type": _hive_type(c.args["kind"]),
                **({"Comment": _comment(c)} if _comment(c) else {})}
               for c in (stmt.this.expressions if isinstance(stmt.this, exp.Schema) else [])
               if isinstance(c, exp.ColumnDef)]
    sd: dict = {"Columns": columns, **TEXT_SD, "SerdeInfo": {"SerializationLibrary": TEXT_SD["SerdeInfo"]["SerializationLibrary"],
                                                           "Parameters": {"serialization.format": "1"}}}
    keys: list[dict] = []
    params: dict = {"EXTERNAL": "TRUE"}
    description = None
    for p in props:
        if isinstance(p, exp.PartitionedByProperty):
            keys = [{"Name": c.name.lower(), "Type": _hive_type(c.args["kind"])} for c in p.this.expressions]
        elif isinstance(p, exp.LocationProperty):
            sd["Location"] = p.this.this
        elif isinstance(p, exp.RowFormatSerdeProperty):
            sd["SerdeInfo"] = {"SerializationLibrary": p.this.this, "Parameters": {
                q.this.this: q.args["value"].this for q in (p.args.get("serde_properties").expressions
                                                            if p.args.get("serde_properties") else [])}}
        elif isinstance(p, exp.RowFormatDelimitedProperty):
            sp = sd["SerdeInfo"]["Parameters"]
            if p.args.get("fields"):
                sp["field.delim"] = p.args["fields"].this
                sp["serialization.format"] = p.args["fields"].this
            if p.args.get("lines"):
                sp["line.delim"] = p.args["lines"].this
            if p.args.get("null"):
                sp["serialization.null.format"] = p.args["null"].this
        elif isinstance(p, exp.FileFormatProperty):
            f = p.this
            if isinstance(f, exp.InputOutputFormat):
                sd["InputFormat"] = f.args["input_format"].this
                sd["OutputFormat"] = f.args["output_format"].this
            else:
                kind = f.name.upper()
                base = {"PARQUET": PARQUET_SD, "TEXTFILE": TEXT_SD, "JSON": JSON_SD}.get(kind)
                if base is None:
                    raise not_supported(f"STORED AS {kind}")
                serde = sd["SerdeInfo"] if kind == "TEXTFILE" else base["SerdeInfo"]
                sd.update({**base, "SerdeInfo": serde})
        elif isinstance(p, exp.SchemaCommentProperty):
            description = p.this.this
        elif type(p) is exp.Property:
            params[p.name] = p.args["value"].name
    if "Location" not in sd:
        raise user_error("SYNTAX_ERROR", "line 1:8: External location must be specified (LOCATION 's3://...')")
    table_input = {"Name": name.name, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": sd,
                   "PartitionKeys": keys, "Parameters": params}
    if description:
        table_input["Description"] = description
    changes.create_table(name.database, table_input)
    return ddl_outcome()


def _comment(col: exp.ColumnDef) -> str | None:
    for c in col.args.get("constraints") or []:
        if isinstance(c.args.get("kind"), exp.CommentColumnConstraint):
            return c.args["kind"].this.this
    return None


_VIEW_BODY = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:\"[^\"]+\"|[\w.`\"]+)+\s+(?:COMMENT\s+'(?:[^']|'')*'\s+)?"
                        r"(?:SECURITY\s+\w+\s+)?AS\s+(.*?)\s*;?\s*$", re.S | re.I)


def create_view(query, changes, stmt: exp.Create, describe_columns):
    name = _name(stmt.this, query)
    require_database(query.catalog, name.database, stmt.this)
    existing = query.catalog.get_table(name.database, name.name)
    if existing is not None and not stmt.args.get("replace"):
        raise user_error("ALREADY_EXISTS", f"{position(stmt.this)}: View '{name}' already exists")
    if existing is not None and existing.get("TableType") != "VIRTUAL_VIEW":
        raise user_error("ALREADY_EXISTS", f"{position(stmt.this)}: Table '{name}' already exists")
    m = _VIEW_BODY.match(query.sql)
    original = m.group(1) if m else stmt.expression.sql(dialect="athena")
    from .dml import _require_column_names
    _require_column_names(stmt.expression)
    columns = describe_columns(stmt.expression)  # [(name, athena sql type, arrow type)]
    view = {"originalSql": original, "catalog": "awsdatacatalog", "schema": name.database,
            "columns": [{"name": n, "type": t} for n, t, _ in columns], "owner": "local", "runAsInvoker": False,
            "properties": {}}
    table_input = {
        "Name": name.name, "TableType": "VIRTUAL_VIEW",
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": encode_view(view), "ViewExpandedText": "/* Presto View */",
        "PartitionKeys": [],
        "StorageDescriptor": {"Columns": [{"Name": n, "Type": arrow_to_glue(a)} for n, _, a in columns],
                              "Location": "", "SerdeInfo": {}},
    }
    if existing is not None:
        changes.update_table(name.database, table_input)
    else:
        changes.create_table(name.database, table_input)
    return ddl_outcome()


def _partition_spec(text: str) -> list[tuple[str, str]]:
    out = []
    for m in re.finditer(r"`?(\w+)`?\s*=\s*('(?:[^']|'')*'|[^,\s)]+)", text):
        v = m.group(2)
        out.append((m.group(1).lower(), v[1:-1].replace("''", "'") if v.startswith("'") else v))
    return out


def _partition_values(keys: list[str], spec: list[tuple[str, str]], where: str) -> list[str]:
    given = dict(spec)
    if set(given) != set(keys):
        raise user_error("HIVE_METASTORE_ERROR", f"{where}: partition spec {spec} does not match the partition keys {keys}")
    return [given[k] for k in keys]


def msck_repair(query, changes, sql: str):
    m = re.match(r"\s*MSCK\s+REPAIR\s+TABLE\s+([\w.`\"]+)\s*;?\s*$", sql, re.I)
    if not m:
        raise user_error("SYNTAX_ERROR", "line 1:1: expected MSCK REPAIR TABLE <table>")
    parts = [p.strip('`"').lower() for p in m.group(1).split(".")]
    name = TableName("awsdatacatalog", parts[-2] if len(parts) > 1 else (query.database or ""), parts[-1])
    table = lookup_table(query.catalog, name, None)
    keys = [k for k, _ in partition_keys(table)]
    if not keys:
        return ddl_outcome()
    location = (table.get("StorageDescriptor") or {}).get("Location", "")
    base = location if location.endswith("/") else location + "/"
    known = {tuple(p["Values"]) for p in query.catalog.get_partitions(name.database, name.name)}
    found: dict[tuple, str] = {}
    for uri, _ in list_data_objects(query.storage, base):
        rel = uri[len(base):].split("/")[:-1]
        if len(rel) < len(keys):
            continue
        pairs = [seg.split("=", 1) for seg in rel[:len(keys)]]
        if any(len(p) != 2 or p[0].lower() != k for p, k in zip(pairs, keys)):
            continue
        from urllib.parse import unquote
        values = tuple(unquote(v) for _, v in pairs)
        found.setdefault(values, base + "/".join(rel[:len(keys)]) + "/")
    new = [v for v in sorted(found) if v not in known]
    sd = table.get("StorageDescriptor") or {}
    changes.create_partitions(name.database, name.name, [
        {"Values": list(v), "StorageDescriptor": {**{k: sd[k] for k in ("Columns", "InputFormat", "OutputFormat", "SerdeInfo") if k in sd},
                                                  "Location": found[v]}} for v in new])
    lines = []
    if new:
        lines.append("Partitions not in metastore:\t" + "\t".join(
            f"{name.name}:" + "/".join(f"{k}={x}" for k, x in zip(keys, v)) for v in new))
        lines += [f"Repair: Added partition to metastore {name.name}:" + "/".join(f"{k}={x}" for k, x in zip(keys, v))
                  for v in new]
    return ddl_outcome(text=lines) if lines else ddl_outcome()


def _table_input(table: dict) -> dict:
    keys = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys", "ViewOriginalText",
            "ViewExpandedText", "TableType", "Parameters")
    return {k: table[k] for k in keys if k in table}


def _alter_properties(query, changes, sql: str):
    """ALTER TABLE t SET TBLPROPERTIES (...) | ADD COLUMNS (...) | SET LOCATION '...'; None if another form."""
    m = re.match(r"\s*ALTER\s+TABLE\s+([\w.`\"]+)\s+(SET\s+TBLPROPERTIES|ADD\s+COLUMNS|SET\s+LOCATION)\s*(.*?)\s*;?\s*$",
                 sql, re.I | re.S)
    if not m:
        return None
    parts = [p.strip('`"').lower() for p in m.group(1).split(".")]
    name = TableName("awsdatacatalog", parts[-2] if len(parts) > 1 else (query.database or ""), parts[-1])
    table = lookup_table(query.catalog, name, None)
    new = _table_input(table)
    action, rest = " ".join(m.group(2).upper().split()), m.group(3)
    if action == "SET TBLPROPERTIES":
        props = dict(re.findall(r"'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'", rest))
        new["Parameters"] = {**(new.get("Parameters") or {}), **props}
    elif action == "SET LOCATION":
        loc = re.fullmatch(r"'([^']*)'", rest.strip())
        if not loc:
            raise user_error("SYNTAX_ERROR", "line 1:1: expected SET LOCATION 's3://...'")
        new["StorageDescriptor"] = {**new.get("StorageDescriptor", {}), "Location": loc.group(1)}
    else:
        body = rest.strip()
        if not (body.startswith("(") and body.endswith(")")):
            raise user_error("SYNTAX_ERROR", "line 1:1: expected ADD COLUMNS (name type, ...)")
        import sqlglot
        schema_expr = sqlglot.parse_one(f"CREATE EXTERNAL TABLE _x {body} LOCATION 's3://x/'", read="athena")
        existing = {c["Name"].lower() for c in new["StorageDescriptor"].get("Columns", [])}
        cols = list(new["StorageDescriptor"].get("Columns", []))
        for c in schema_expr.this.expressions:
            if c.name.lower() in existing:
                raise user_error("DUPLICATE_COLUMN_NAME", f"Column '{c.name.lower()}' already exists")
            cols.append({"Name": c.name.lower(), "Type": _hive_type(c.args["kind"])})
        new["StorageDescriptor"] = {**new["StorageDescriptor"], "Columns": cols}
    changes.update_table(name.database, new)
    return ddl_outcome()


def alter_table(query, changes, sql: str):
    other = _alter_properties(query, changes, sql)
    if other is not None:
        return other
    m = re.match(r"\s*ALTER\s+TABLE\s+([\w.`\"]+)\s+(ADD|DROP)\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?(.*?)\s*;?\s*$", sql, re.I | re.S)
    if not m:
        raise not_supported("This ALTER TABLE form")
    parts = [p.strip('`"').lower() for p in m.group(1).split(".")]
    name = TableName("awsdatacatalog", parts[-2] if len(parts) > 1 else (query.database or ""), parts[-1])
    table = lookup_table(query.catalog, name, None)
    keys = [k for k, _ in partition_keys(table)]
    action, if_clause, rest = m.group(2).upper(), m.group(3), m.group(4)
    specs = list(re.finditer(r"PARTITION\s*\(([^)]*)\)(?:\s*LOCATION\s*'([^']*)')?", rest, re.I))
    if not specs:
        raise not_supported("ALTER TABLE without PARTITION clauses (only ADD/DROP PARTITION are supported)")
    existing = {tuple(p["Values"]) for p in query.catalog.get_partitions(name.database, name.name)}
    location = (table.get("StorageDescriptor") or {}).get("Location", "").rstrip("/")
    sd = table.get("StorageDescriptor") or {}
    if action == "ADD":
        inputs = []
        for s in specs:
            spec = _partition_spec(s.group(1))
            values = _partition_values(keys, spec, "line 1:1")
            if tuple(values) in existing:
                if if_clause:
                    continue
                raise user_error("ALREADY_EXISTS", f"Partition already exists: {dict(spec)}")
            loc = s.group(2) or location + "/" + "/".join(f"{k}={v}" for k, v in zip(keys, values)) + "/"
            inputs.append({"Values": values, "StorageDescriptor": {
                **{k: sd[k] for k in ("Columns", "InputFormat", "OutputFormat", "SerdeInfo") if k in sd}, "Location": loc}})
        changes.create_partitions(name.database, name.name, inputs)
    else:
        drop = []
        for s in specs:
            values = _partition_values(keys, _partition_spec(s.group(1)), "line 1:1")
            if tuple(values) not in existing and not if_clause:
                raise user_error("HIVE_METASTORE_ERROR", f"Partition not found: {values}")
            drop.append(values)
        changes.delete_partitions(name.database, name.name, drop)
    return ddl_outcome()
