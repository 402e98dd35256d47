"""Table formats: which one a Glue table is, and reading one text object into Arrow with Glue's
column types imposed: JSON lines (OpenX / Hive JSON SerDe) and text (LazySimpleSerDe: delimited,
`\\N` is NULL; OpenCSVSerde: quoted CSV). Bytes come from memory. Parquet objects are read by
DuckDB (scan.py), matched by name and cast to the declared types.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import gzip
import io
import json

import pyarrow as pa

from pipeline_lib import schema

from .errors import AthenaQueryError, not_supported

__all__ = ["table_format", "read_object"]

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
OPENX_JSON = "org.openx.data.jsonserde.JsonSerDe"
HIVE_JSON = "org.apache.hive.hcatalog.data.JsonSerDe"
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"


def table_format(table: dict) -> tuple[str, dict]:
    """("parquet" | "json" | "text" | "csv", serde parameters) for a Glue table."""
    sd = table.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {}
    lib = serde.get("SerializationLibrary") or ""
    params = dict(serde.get("Parameters") or {})
    input_format = (sd.get("InputFormat") or "").lower()
    classification = ((table.get("Parameters") or {}).get("classification") or "").lower()
    if lib == PARQUET_SERDE or "parquet" in input_format or classification == "parquet":
        return "parquet", params
    if lib in (OPENX_JSON, HIVE_JSON) or classification == "json":
        return "json", params
    if lib == OPEN_CSV:
        return "csv", params
    if lib == LAZY_SIMPLE or classification == "csv" or "textinputformat" in input_format:
        return "text", params
    if "orc" in input_format or "orc" in lib.lower():
        raise not_supported("Reading ORC tables")
    raise not_supported(f"Reading tables with SerDe {lib or input_format or '(none)'}")


def _bad_data(msg: str) -> AthenaQueryError:
    return AthenaQueryError("HIVE_BAD_DATA", msg)


def read_object(body: bytes, fmt: str, serde_params: dict, columns: list[tuple[str, str]],
                table_params: dict, uri: str) -> pa.Table:
    """A text object's rows (JSON, CSV) as an Arrow table with exactly `columns` [(name, glue type)],
    typed. (Parquet objects are read by DuckDB itself: scan.py.)"""
    if body[:2] == b"\x1f\x8b":  # gzip (Athena picks the codec from the content/extension of text files)
        body = gzip.decompress(body)
    elif uri.endswith(".bz2") or uri.endswith(".zst") or uri.endswith(".snappy"):
        raise not_supported(f"Reading compressed text file {uri.rsplit('.', 1)[-1]}")
    if fmt == "json":
        return _read_json(body, columns, uri, serde_params.get("ignore.malformed.json", "").lower() == "true")
    return _read_text(body, fmt, serde_params, columns, table_params, uri)


def _arrow(glue: str) -> pa.DataType:
    from .types import glue_to_arrow
    return glue_to_arrow(glue)


# ---------------------------------------------------------------------------------------------
# Value conversion for the text formats (JSON, CSV): Hive's SerDe rules, per declared type.

def _converter(t: schema.HiveType):
    if isinstance(t, schema.PrimitiveType):
        n = t.name
        if n in ("tinyint", "smallint", "int", "bigint"):
            def conv_int(v):
                if isinstance(v, bool):
                    return int(v)
                if isinstance(v, int):
                    return v
                if isinstance(v, (float, decimal.Decimal)) and v == int(v):
                    return int(v)
                s = str(v).strip()
                try:
                    return int(s)
                except ValueError:
                    return None  # Hive SerDes read an unparsable number as NULL
            return conv_int
        if n in ("float", "double"):
            def conv_float(v):
                try:
                    return float(v)
                except (TypeError, ValueError):
                    return None
            return conv_float
        if n == "boolean":
            def conv_bool(v):
                if isinstance(v, bool):
                    return v
                s = str(v).strip().lower()
                return True if s == "true" else False if s == "false" else None
            return conv_bool
        if n == "string":
            def conv_str(v):
                if isinstance(v, str):
                    return v
                if isinstance(v, bool):
                    return str(v).lower()
                if isinstance(v, (dict, list)):
                    return json.dumps(v, separators=(",", ":"), default=str)
                return str(v)
            return conv_str
        if n == "date":
            def conv_date(v):
                try:
                    return dt.date.fromisoformat(str(v).strip()[:10])
                except ValueError:
                    return None
            return conv_date
        if n == "timestamp":
            def conv_ts(v):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=v)
                s = str(v).strip().replace("T", " ").rstrip("Z")
                try:
                    return dt.datetime.fromisoformat(s).replace(tzinfo=None)
                except ValueError:
                    return None
            return conv_ts
        if n == "binary":
            return lambda v: v.encode() if isinstance(v, str) else v
    if isinstance(t, schema.DecimalType):
        def conv_dec(v):
            try:
                return decimal.Decimal(str(v)).quantize(decimal.Decimal(1).scaleb(-t.scale))
            except decimal.InvalidOperation:
                return None
        return conv_dec
    if isinstance(t, schema.CharType):
        return lambda v: str(v)
    if isinstance(t, schema.ArrayType):
        elem = _converter(t.element)
        return lambda v: [None if x is None else elem(x) for x in v] if isinstance(v, list) else None
    if isinstance(t, schema.MapType):
        kc, vc = _converter(t.key), _converter(t.value)
        return lambda v: [(kc(k), None if x is None else vc(x)) for k, x in v.items()] if isinstance(v, dict) else None
    if isinstance(t, schema.StructType):
        convs = [(f.name, _converter(f.type)) for f in t.fields]

        def conv_struct(v):
            if not isinstance(v, dict):
                return None
            lower = {k.lower(): x for k, x in v.items()}
            return {name: (None if lower.get(name.lower()) is None else c(lower[name.lower()])) for name, c in convs}
        return conv_struct
    raise not_supported(f"Reading type {t}")


def _build(rows_by_col: list[list], columns: list[tuple[str, str]]) -> pa.Table:
    fields = [pa.field(n, _arrow(g)) for n, g in columns]
    arrays = []
    for values, f in zip(rows_by_col, fields):
        arrays.append(pa.array(values, type=f.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _read_json(body: bytes, columns: list[tuple[str, str]], uri: str, ignore_malformed: bool = False) -> pa.Table:
    convs = [_converter(schema.parse_type(g, catalog=True)) for _, g in columns]
    lowered = [n.lower() for n, _ in columns]
    out: list[list] = [[] for _ in columns]
    for lineno, line in enumerate(body.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_float=decimal.Decimal)  # decimals exactly as written
        except json.JSONDecodeError as exc:
            if ignore_malformed:  # OpenX SerDe 'ignore.malformed.json': the row reads as all NULL
                obj = {}
            else:
                raise _bad_data(f"Row is not a valid JSON Object - JSONException: {exc} (line {lineno} of {uri})") from None
        if not isinstance(obj, dict):
            if not ignore_malformed:
                raise _bad_data(f"Row is not a valid JSON Object (line {lineno} of {uri})")
            obj = {}
        keys = {k.lower(): v for k, v in obj.items()}  # OpenX matches keys case-insensitively
        for i, name in enumerate(lowered):
            v = keys.get(name)
            out[i].append(None if v is None else convs[i](v))
    return _build(out, columns)


def _read_text(body: bytes, fmt: str, params: dict, columns: list[tuple[str, str]],
               table_params: dict, uri: str) -> pa.Table:
    text = body.decode("utf-8")
    skip = int(table_params.get("skip.header.line.count", "0") or 0)
    if fmt == "csv":
        reader = csv.reader(io.StringIO(text), delimiter=params.get("separatorChar", ","),
                            quotechar=params.get("quoteChar", '"'), escapechar=params.get("escapeChar", "\\"))
        rows = list(reader)
        null_token = None
    else:
        delim = params.get("field.delim", params.get("serialization.format", "\x01"))
        if delim == "1":
            delim = "\x01"
        rows = [line.split(delim) for line in text.split(params.get("line.delim", "\n")) if line != ""]
        null_token = params.get("serialization.null.format", "\\N")
    rows = rows[skip:]
    convs = [_converter(schema.parse_type(g, catalog=True)) for _, g in columns]
    is_string = [schema.parse_type(g, catalog=True) == schema.PrimitiveType("string") for _, g in columns]
    out: list[list] = [[] for _ in columns]
    for row in rows:
        for i in range(len(columns)):
            v = row[i] if i < len(row) else None
            if v is None or v == null_token or (v == "" and not is_string[i]):
                out[i].append(None)
            else:
                out[i].append(convs[i](v))
    return _build(out, columns)
