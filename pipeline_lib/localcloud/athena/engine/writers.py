"""Writing query results as data files: CTAS, INSERT INTO and UNLOAD.

Formats as Athena writes them: Parquet (write_compression SNAPPY by default; GZIP, ZSTD, NONE),
JSON lines (Hive JSON SerDe; GZIP by default), TEXTFILE (delimited, `\\N` for NULL; GZIP by
default). Partitioned output goes to `key=value/` folders, partition columns last.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import not_supported, user_error
from .render import render_value

__all__ = ["FORMATS", "write_files", "partition_folder", "format_descriptor", "normalise_format"]

PARQUET_SD = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                  "Parameters": {"serialization.format": "1"}},
}
JSON_SD = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hive.hcatalog.data.JsonSerDe", "Parameters": {}},
}
TEXT_SD = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", "Parameters": {}},
}
FORMATS = {"PARQUET": PARQUET_SD, "JSON": JSON_SD, "TEXTFILE": TEXT_SD}
DEFAULT_COMPRESSION = {"PARQUET": "SNAPPY", "JSON": "GZIP", "TEXTFILE": "GZIP"}
_PARQUET_CODECS = {"SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd", "NONE": "none", "UNCOMPRESSED": "none",
                   "LZ4": "lz4"}


def normalise_format(fmt: str | None) -> str:
    f = (fmt or "PARQUET").upper()
    if f in ("ORC", "AVRO", "ION"):
        raise not_supported(f"Writing format {f}")
    if f not in FORMATS:
        raise user_error("INVALID_TABLE_PROPERTY", f"Unsupported format: {fmt}")
    return f


def format_descriptor(fmt: str, field_delimiter: str | None = None) -> dict:
    sd = json.loads(json.dumps(FORMATS[fmt]))
    if fmt == "TEXTFILE":
        sd["SerdeInfo"]["Parameters"]["field.delim"] = field_delimiter or "\x01"
    return sd


def partition_folder(keys: list[str], values: list[str | None]) -> str:
    from urllib.parse import quote
    parts = []
    for k, v in zip(keys, values):
        text = "__HIVE_DEFAULT_PARTITION__" if v is None else quote(v, safe=" -_.~!$&'()*+,;=:@")
        parts.append(f"{k}={text}")
    return "/".join(parts)


def _json_value(v, t: pa.DataType):
    if v is None:
        return None
    if pa.types.is_decimal(t):
        return _DECIMAL_MARK + format(v, "f") + _DECIMAL_MARK  # written as a bare JSON number, exactly
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return render_value(v, t)
    if pa.types.is_map(t):
        return {str(render_value(k, t.key_type)): _json_value(x, t.item_type) for k, x in v}
    if pa.types.is_list(t):
        return [_json_value(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {f.name: _json_value(v.get(f.name), f.type) for f in t}
    if pa.types.is_binary(t):
        import base64
        return base64.b64encode(v).decode()
    if pa.types.is_floating(t):
        return float(v)
    return v


_DECIMAL_MARK = "\u0000dec\u0000"
_DECIMAL_TOKEN = re.compile('"' + re.escape(json.dumps(_DECIMAL_MARK)[1:-1]) + r'(-?[0-9.]+)' +
                            re.escape(json.dumps(_DECIMAL_MARK)[1:-1]) + '"')


def _json_line(obj: dict) -> str:
    return _DECIMAL_TOKEN.sub(r"\1", json.dumps(obj, separators=(",", ":"), default=str, ensure_ascii=False))


def _encode(table: pa.Table, fmt: str, compression: str, field_delimiter: str | None) -> bytes:
    if fmt == "PARQUET":
        codec = _PARQUET_CODECS.get(compression.upper())
        if codec is None:
            raise user_error("INVALID_TABLE_PROPERTY", f"Unsupported compression for Parquet: {compression}")
        buf = io.BytesIO()
        pq.write_table(table, buf, compression=codec)
        return buf.getvalue()
    lines = []
    types = [f.type for f in table.schema]
    names = table.schema.names
    rows = table.to_pylist()
    if fmt == "JSON":
        for row in rows:
            obj = {n: _json_value(row[n], t) for n, t in zip(names, types) if row[n] is not None}
            lines.append(_json_line(obj))
    else:
        delim = field_delimiter or "\x01"
        for row in rows:
            lines.append(delim.join("\\N" if row[n] is None else render_value(row[n], t) for n, t in zip(names, types)))
    body = "".join(line + "\n" for line in lines).encode()
    comp = compression.upper()
    if comp == "GZIP":
        return gzip.compress(body)
    if comp in ("NONE", "UNCOMPRESSED"):
        return body
    raise not_supported(f"Compression {compression} for {fmt}")


def _extension(fmt: str, compression: str) -> str:
    if fmt == "PARQUET":
        return ""
    return ".gz" if compression.upper() == "GZIP" else ""


def _groups(table: pa.Table, keys: list[str]) -> Iterator[tuple[list[str | None], pa.Table]]:
    if not keys:
        yield [], table
        return
    rendered = {k: [render_value(v, table.schema.field(k).type) for v in table.column(k).to_pylist()] for k in keys}
    combos: dict[tuple, list[int]] = {}
    for i in range(table.num_rows):
        combos.setdefault(tuple(rendered[k][i] for k in keys), []).append(i)
    data = table.drop_columns(keys)
    for combo in sorted(combos, key=lambda c: tuple("" if v is None else v for v in c)):
        yield list(combo), data.take(pa.array(combos[combo]))


def write_files(changes, table: pa.Table, location: str, *, fmt: str, compression: str | None,
                partition_keys: list[str], query_id: str, field_delimiter: str | None = None
                ) -> tuple[list[str], list[tuple[list[str | None], str]]]:
    """Write `table` under `location`; (file URIs, [(partition values, partition location)])."""
    compression = compression or DEFAULT_COMPRESSION[fmt]
    bucket, _, prefix = location[5:].partition("/")
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    files, partitions = [], []
    for n, (values, part) in enumerate(_groups(table, partition_keys)):
        if part.num_rows == 0:
            continue  # no rows, no file (WITH NO DATA, empty results)
        folder = prefix + (partition_folder(partition_keys, values) + "/" if partition_keys else "")
        key = f"{folder}{query_id}_{n:05d}{_extension(fmt, compression)}"
        changes.put_object(bucket, key, _encode(part, fmt, compression, field_delimiter))
        files.append(f"s3://{bucket}/{key}")
        if partition_keys:
            partitions.append((values, f"s3://{bucket}/{folder}"))
    return files, partitions


def cast_timestamps_naive(table: pa.Table) -> pa.Table:
    """Hive tables hold zone-less timestamps: a timestamp with time zone is written as its UTC time."""
    cols = []
    for f, col in zip(table.schema, table.columns):
        if pa.types.is_timestamp(f.type) and f.type.tz:
            col = pc.cast(col, pa.timestamp(f.type.unit, tz="UTC")).cast(pa.timestamp(f.type.unit))
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.schema.names)

