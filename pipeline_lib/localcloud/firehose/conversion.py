"""Record format conversion: JSON records -> rows typed by a Glue table -> Parquet, as Firehose
does it with the OpenX JSON SerDe (default) or the Hive JSON SerDe, and the Parquet SerDe.

Input: one Firehose record may hold several concatenated JSON objects (`{"a":1}{"a":2}`, with
or without whitespace/newlines between them); each becomes a row. A record that cannot be
converted fails as a whole, alone (the rest of the batch converts):
- not JSON -> DataFormatConversion.ParseError "Encountered malformed JSON. ...";
- empty -> DataFormatConversion.MalformedData "The record was empty or contained only whitespace.";
- a top-level primitive, or a value that does not fit its column ->
  DataFormatConversion.MalformedData "Data does not match the schema. ...".

OpenX semantics: keys match columns case-insensitively by default (keys are lowercased at every
depth, map keys and the JSON text of nested values put in string columns included), optionally
with dots in keys turned into underscores and ColumnToJsonKeyMappings; unknown keys are dropped
and missing ones are null; numbers in strings are accepted for numeric columns; a non-array
value in an array column is wrapped into a one-element array; a JSON array fills a struct by
position; a number or boolean in a string column becomes its text.
Timestamps: `yyyy-MM-dd'T'HH:mm:ss[.S{1,9}]` with `Z` or an offset (strict ISO),
`yyyy-[M]M-[d]d [H]H:[m]m:[s]s[.S{1,9}]` (lenient), and epoch numbers (as numbers or strings):
below 1e12 in absolute value seconds (fraction kept), else milliseconds. TimestampFormats
(Joda patterns, and `millis`) are tried first when given.
The Hive JSON SerDe differs (as documented): strings in numeric columns fail, nested JSON is not
turned into strings, scalars are not wrapped into arrays, map keys keep their case, and
timestamps are TimestampFormats then `java.sql.Timestamp.valueOf` only.

Our choices where AWS documents nothing: integral columns reject fractional numbers and values
out of the type's range; decimals round half-up to the scale and fail when the precision
overflows; `float` fails beyond its range; timestamps beyond what the writer's int64
nanoseconds hold fail (AWS's writer wraps them); booleans accept true/false (any case) only.

Output: Parquet with the table's columns (partition columns are the caller's to leave out), the
compression of ParquetSerDe.Compression (SNAPPY default, GZIP, UNCOMPRESSED), and timestamps
as INT96, as Hive's Parquet writer stores them (read back as timestamp[ns]).

The Glue type strings are parsed by pipeline_lib.schema (the project's single parser); values
are coerced to column types by coercion.py.
"""
from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Sequence

from pipeline_lib.schema import HiveType, PrimitiveType, TypeStringError, parse_type, to_arrow

from . import error_records as codes
from .coercion import EPOCH_MILLIS_FLOOR, Coercion, ConversionError, Mismatch, SchemaConversionError

OPENX = "OpenXJsonSerDe"
HIVE = "HiveJsonSerDe"
PARQUET_COMPRESSIONS = {"SNAPPY": "snappy", "GZIP": "gzip", "UNCOMPRESSED": "none"}
_JSON_SPACE = re.compile(r"[ \t\n\r]*")

__all__ = ["EPOCH_MILLIS_FLOOR", "HIVE", "OPENX", "PARQUET_COMPRESSIONS", "ConversionError", "Converter",
           "SchemaConversionError"]


class Converter:
    """Converts Firehose records to rows of a Glue table and rows to Parquet.

    `columns`: the table's data columns as Glue returns them ([{"Name", "Type"}, ...]).
    Deserializer options are those of OpenXJsonSerDe / HiveJsonSerDe in the API.
    """

    def __init__(
        self,
        columns: Sequence[Mapping[str, Any]],
        *,
        case_insensitive: bool = True,
        column_to_json_key_mappings: Mapping[str, str] | None = None,
        convert_dots_in_json_keys_to_underscores: bool = False,
        timestamp_formats: Iterable[str] | None = None,
        compression: str = "SNAPPY",
        deserializer: str = OPENX,
    ):
        if deserializer not in (OPENX, HIVE):
            raise SchemaConversionError(f"deserializer must be {OPENX} or {HIVE}, got {deserializer!r}")
        if compression not in PARQUET_COMPRESSIONS:
            raise SchemaConversionError(
                f"ParquetSerDe.Compression {compression!r} is not valid; use {', '.join(PARQUET_COMPRESSIONS)}"
            )
        if not columns:
            raise SchemaConversionError("The schema is invalid. The specified table has no columns.")
        self.hive = deserializer == HIVE
        self.compression = compression
        # What rebuilds this converter in another process (conversion_workers.py): plain data.
        self.spec: dict[str, Any] = {
            "columns": [dict(c) for c in columns] if all(isinstance(c, Mapping) for c in columns) else list(columns),
            "case_insensitive": case_insensitive,
            "column_to_json_key_mappings": dict(column_to_json_key_mappings or {}) or None,
            "convert_dots_in_json_keys_to_underscores": convert_dots_in_json_keys_to_underscores,
            "timestamp_formats": list(timestamp_formats) if timestamp_formats is not None else None,
            "compression": compression,
            "deserializer": deserializer,
        }
        self._coercion = Coercion(hive=self.hive, case_insensitive=bool(case_insensitive),
                                  dots_to_underscores=bool(convert_dots_in_json_keys_to_underscores),
                                  timestamp_formats=timestamp_formats)
        self._decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=self._reject_constant)
        mappings = dict(column_to_json_key_mappings or {})

        self.column_names: list[str] = []
        self.column_types: list[HiveType] = []
        self._columns: list[tuple[str, str, Callable[[Any], Any]]] = []
        seen: set[str] = set()
        for i, column in enumerate(columns):
            name = column.get("Name", column.get("name")) if isinstance(column, Mapping) else None
            type_text = column.get("Type", column.get("type")) if isinstance(column, Mapping) else None
            if not isinstance(name, str) or not name or not isinstance(type_text, str):
                raise SchemaConversionError(f"The schema is invalid. Column {i} needs a Name and a Type, got {column!r}.")
            if name.lower() in seen:
                raise SchemaConversionError(f"The schema is invalid. Column {name!r} appears twice.")
            seen.add(name.lower())
            try:
                hive_type = parse_type(type_text)
            except TypeStringError as exc:
                raise SchemaConversionError(f"The schema is invalid. Column {name!r}: {exc}") from None
            if hive_type == PrimitiveType("binary"):
                raise SchemaConversionError(f"Column {name!r} has type binary, which JSON records cannot fill.")
            self.column_names.append(name)
            self.column_types.append(hive_type)
            key = self._coercion.normalize(mappings.get(name, name))
            self._columns.append((name, key, self._coercion.coercer(hive_type, name)))
        self._project_row = self._coercion.projector(self._columns)

        import pyarrow as pa

        self.arrow_schema = pa.schema(
            [pa.field(n, to_arrow(t, timestamp_unit="ns")) for n, t in zip(self.column_names, self.column_types)]
        )
        self._row_type = pa.struct(list(self.arrow_schema))

    # -- parsing --------------------------------------------------------------------------------
    @staticmethod
    def _reject_constant(name: str) -> Any:
        raise ValueError(f"Non-standard token '{name}'")

    def _documents(self, record: bytes) -> list[Any]:
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConversionError(codes.CONVERSION_PARSE_ERROR.code,
                                  f"{codes.CONVERSION_PARSE_ERROR.message} Invalid UTF-8 at byte {exc.start}.") from None
        end = len(text)
        pos = _JSON_SPACE.match(text, 0).end()  # type: ignore[union-attr]
        if pos == end:
            raise ConversionError(codes.CONVERSION_EMPTY_RECORD.code, codes.CONVERSION_EMPTY_RECORD.message)
        documents = []
        while pos < end:
            try:
                value, pos = self._decoder.raw_decode(text, pos)
            except ValueError as exc:
                detail = f"{exc.msg} at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
                raise ConversionError(codes.CONVERSION_PARSE_ERROR.code,
                                      f"{codes.CONVERSION_PARSE_ERROR.message} {detail}") from None
            documents.append(value)
            pos = _JSON_SPACE.match(text, pos).end()  # type: ignore[union-attr]
        return documents

    # -- public ---------------------------------------------------------------------------------
    def convert(self, record_bytes: bytes) -> list[dict[str, Any]]:
        """The rows of one Firehose record (one per JSON object), or ConversionError."""
        rows = []
        for document in self._documents(record_bytes):
            if isinstance(document, dict):
                row = self._row(document)
            elif isinstance(document, list) and not self.hive:
                row = self._positional_row(document)
            elif isinstance(document, list):
                raise ConversionError(codes.CONVERSION_MALFORMED_DATA.code,
                                      "Data does not match the schema. java.io.IOException: Start of Object expected")
            else:
                raise ConversionError(codes.CONVERSION_TOP_LEVEL_PRIMITIVE.code, codes.CONVERSION_TOP_LEVEL_PRIMITIVE.message)
            rows.append(row)
        return rows

    def check(self) -> None:
        """Whether the schema may be used now (a role-checked converter raises if not)."""

    def to_table(self, rows: Sequence[Mapping[str, Any]]) -> Any:
        """`rows` (as `convert` returns them) as an Arrow table of the table's columns."""
        import pyarrow as pa

        if not len(rows):
            return self.arrow_schema.empty_table()
        # One struct array built from the row dicts is several times faster than per-column arrays.
        return pa.Table.from_struct_array(pa.array(rows, type=self._row_type))

    def to_parquet(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """One Parquet file holding `rows` (as `convert` returns them)."""
        return self.tables_to_parquet([self.to_table(rows)])

    def tables_to_parquet(self, tables: Sequence[Any]) -> bytes:
        """One Parquet file holding the rows of `tables` (as `to_table` makes them), in order.
        A table of another schema (converted before the Glue table changed, then saved and
        restored) is matched to this one by column name: missing columns are null."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        pieces = [t if t.schema.equals(self.arrow_schema) else self._conform(t) for t in tables]
        table = pa.concat_tables(pieces).combine_chunks() if pieces else self.arrow_schema.empty_table()
        sink = io.BytesIO()
        pq.write_table(
            table,
            sink,
            compression=PARQUET_COMPRESSIONS[self.compression],
            use_deprecated_int96_timestamps=True,
        )
        return sink.getvalue()

    def _conform(self, table: Any) -> Any:
        import pyarrow as pa

        by_name = {name.lower(): name for name in table.column_names}
        arrays = []
        for field in self.arrow_schema:
            name = by_name.get(field.name.lower())
            arrays.append(table.column(name).cast(field.type) if name is not None
                          else pa.nulls(table.num_rows, type=field.type))
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema)

    # -- rows -----------------------------------------------------------------------------------
    def _row(self, obj: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._project_row(obj)
        except (Mismatch, ValueError, ArithmeticError) as exc:
            raise ConversionError(codes.CONVERSION_MALFORMED_DATA.code,
                                  f"{codes.CONVERSION_MALFORMED_DATA.message} {exc}") from None

    def _positional_row(self, values: list[Any]) -> dict[str, Any]:
        try:
            return {
                name: (None if i >= len(values) or values[i] is None else coerce(values[i]))
                for i, (name, _key, coerce) in enumerate(self._columns)
            }
        except (Mismatch, ValueError, ArithmeticError) as exc:
            raise ConversionError(codes.CONVERSION_MALFORMED_DATA.code,
                                  f"{codes.CONVERSION_MALFORMED_DATA.message} {exc}") from None
