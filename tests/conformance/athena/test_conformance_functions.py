"""Conformance: functions and the Trino-vs-DuckDB semantic differences, each expected answer
written from the Trino documentation (https://trino.io/docs/current/functions/...) that Athena
engine v3 follows, or from Athena's documentation; rendered as Athena's varchar results."""

from __future__ import annotations

import pytest

from pipeline_lib.localcloud.athena.engine import AthenaQueryError

CASES = [
    # --- semantic differences (issue 8) --------------------------------------------------------
    # math.html: "/" on integers is integer division, truncating toward zero.
    ("int_division", "SELECT 7 / 2, -7 / 2, 7 % 3", [["3", "-3", "1"]]),
    # Athena: a bare decimal literal is a DOUBLE; DECIMAL '0.1' is a decimal (literals, Athena DML docs).
    ("decimal_literal_is_double", "SELECT 0.1 + 0.2, DECIMAL '0.1' + DECIMAL '0.2'", [["0.30000000000000004", "0.3"]]),
    # regexp.html regexp_extract: NULL when the pattern does not match.
    ("regexp_extract_no_match", "SELECT regexp_extract('abc', 'x'), regexp_extract('a1b22', '[a-z](\\d+)', 1)",
     [[None, "1"]]),
    # datetime.html date_diff: whole units between the two values (23h is 0 days).
    ("date_diff_whole_units", "SELECT date_diff('day', TIMESTAMP '2024-01-01 10:00:00', TIMESTAMP '2024-01-02 09:00:00'), "
     "date_diff('hour', TIMESTAMP '2024-01-01 10:59:00', TIMESTAMP '2024-01-01 12:58:00'), "
     "date_diff('day', DATE '2024-01-01', DATE '2024-03-01')", [["0", "1", "60"]]),
    # json.html json_extract_scalar: NULL unless the value is a scalar (boolean, number, string).
    ("json_extract_scalar_non_scalar", "SELECT json_extract_scalar('{\"a\":[1,2]}', '$.a'), "
     "json_extract_scalar('{\"a\":{\"b\":1}}', '$.a'), json_extract_scalar('{\"a\":{\"b\":1}}', '$.a.b')",
     [[None, None, "1"]]),
    # conditional.html try: NULL instead of the error (division by zero, invalid cast).
    ("try_returns_null", "SELECT try(1 / 0), try(CAST('1.9' AS integer)), try(CAST('12' AS integer))",
     [[None, None, "12"]]),
    # datetime.html format_datetime uses Joda-Time patterns.
    ("format_datetime_joda", "SELECT format_datetime(TIMESTAMP '2024-03-05 07:08:09.123', 'yyyy-MM-dd HH:mm:ss.SSS'), "
     "format_datetime(TIMESTAMP '2024-03-05 17:08:09', 'dd/MM/yy hh a EEE MMM')",
     [["2024-03-05 07:08:09.123", "05/03/24 05 PM Tue Mar"]]),
    # datetime.html parse_datetime returns timestamp with time zone (session zone UTC in Athena).
    ("parse_datetime_joda", "SELECT parse_datetime('2024-03-05 07:08', 'yyyy-MM-dd HH:mm')",
     [["2024-03-05 07:08:00.000 UTC"]]),
    # datetime.html to_iso8601.
    ("to_iso8601", "SELECT to_iso8601(TIMESTAMP '2024-03-05 07:08:09.123'), to_iso8601(DATE '2024-03-05'), "
     "to_iso8601(from_unixtime(0))", [["2024-03-05T07:08:09.123", "2024-03-05", "1970-01-01T00:00:00.000Z"]]),
    # datetime.html at_timezone / AT TIME ZONE: the same instant in another zone.
    ("at_timezone", "SELECT at_timezone(TIMESTAMP '2024-01-01 12:00:00', 'Asia/Tokyo'), "
     "TIMESTAMP '2024-07-01 12:00:00' AT TIME ZONE 'America/New_York'",
     [["2024-01-01 21:00:00.000 Asia/Tokyo", "2024-07-01 08:00:00.000 America/New_York"]]),
    # datetime.html: a timestamp with time zone is an instant: comparisons and to_unixtime use the
    # instant, field extraction (hour, date) the zone's local time.
    ("time_zone_instants", "SELECT TIMESTAMP '2024-01-01 12:00:00' AT TIME ZONE 'America/New_York' = "
     "TIMESTAMP '2024-01-01 12:00:00', to_unixtime(from_unixtime(100, 'Asia/Tokyo')), "
     "hour(from_unixtime(0, 'Asia/Tokyo')), date(TIMESTAMP '2024-01-01 23:00:00' AT TIME ZONE 'Asia/Tokyo')",
     [["true", "100.0", "9", "2024-01-02"]]),
    # datetime.html from_unixtime(unixtime, zone).
    ("from_unixtime_zone", "SELECT from_unixtime(0, 'Europe/Paris'), from_unixtime(86400)",
     [["1970-01-01 01:00:00.000 Europe/Paris", "1970-01-02 00:00:00.000 UTC"]]),
    # url.html url_extract_*.
    ("url_extract", "SELECT url_extract_host(url), url_extract_port(url), url_extract_path(url), url_extract_query(url), "
     "url_extract_fragment(url), url_extract_protocol(url), url_extract_parameter(url, 'qty') FROM events WHERE id = 1",
     [["shop.example.com", "8443", "/cart/view", "item=A1&qty=2", "top", "https", "2"]]),
    # aggregate.html map_agg: a map from key to value.
    ("map_agg", "SELECT element_at(map_agg(customer, qty), 'carol'), cardinality(map_agg(order_id, qty)) FROM orders",
     [["10", "6"]]),
    # array.html zip: rows of the i-th elements, shorter arrays padded with NULL; anonymous row fields
    # render as field0, field1 in Athena's results.
    ("zip", "SELECT zip(ARRAY[1, 2], ARRAY['1b', null, '3b'])",
     [["[{field0=1, field1=1b}, {field0=2, field1=null}, {field0=null, field1=3b}]"]]),
    # select.html UNNEST: several arrays pad the shorter with NULL.
    ("unnest_several_arrays", "SELECT a, b FROM UNNEST(ARRAY[2, 5], ARRAY[7, 8, 9]) AS t(a, b) ORDER BY b",
     [["2", "7"], ["5", "8"], [None, "9"]]),
    # select.html UNNEST of a map: key and value columns.
    ("unnest_map", "SELECT o.order_id, k, v FROM orders o CROSS JOIN UNNEST(attrs) AS t(k, v) "
     "WHERE o.order_id = 2 ORDER BY k", [["2", "channel", "app"], ["2", "coupon", "X"]]),
    # select.html UNNEST ... WITH ORDINALITY.
    ("unnest_ordinality", "SELECT x, n FROM UNNEST(ARRAY['a', 'b']) WITH ORDINALITY AS t(x, n) ORDER BY n",
     [["a", "1"], ["b", "2"]]),
    # select.html UNNEST of an array of rows: one column per field.
    ("unnest_array_of_rows", "SELECT a, b FROM UNNEST(ARRAY[ROW(1, 'x'), ROW(2, 'y')]) AS t(a, b) ORDER BY a",
     [["1", "x"], ["2", "y"]]),
    # select.html: LEFT JOIN UNNEST ... ON TRUE keeps rows whose array is NULL or empty.
    ("left_join_unnest", "SELECT o.order_id, t.tag FROM orders o LEFT JOIN UNNEST(o.tags) AS t(tag) ON TRUE "
     "WHERE o.order_id IN (3, 5) ORDER BY o.order_id", [["3", None], ["5", None]]),
    # Double rendering is Java's Double.toString: 1.0E20, 1.0E-5; CAST(double AS varchar) too.
    ("double_rendering", "SELECT 1e20, CAST(1e20 AS varchar), CAST(0.00001 AS varchar), 2.0, 123456.5",
     [["1.0E20", "1.0E20", "1.0E-5", "2.0", "123456.5"]]),
    # Arrays, maps and rows in results render as [a, b], {k=v}, {x=1, y=2}.
    ("structured_rendering", "SELECT ARRAY[1, 2], ARRAY['a', NULL], MAP(ARRAY['k'], ARRAY[1]), "
     "CAST(ROW(1, 'a') AS ROW(x integer, y varchar))", [["[1, 2]", "[a, null]", "{k=1}", "{x=1, y=a}"]]),
    # conversion.html: casting a double to an integer rounds half away from zero.
    ("cast_double_to_int_rounds", "SELECT CAST(2.5 AS integer), CAST(-2.5 AS integer), CAST(1.4 AS bigint)",
     [["3", "-3", "1"]]),
    # math.html round(x, d) and MathFunctions: doubles round half up on |x| * 10^d; a decimal keeps
    # its scale (decimal(p+1, s)); avg(decimal(p,s)) is decimal(p,s); sign keeps the argument's type.
    ("round_and_avg_types", "SELECT round(-2.5), round(2.345, 2), round(DECIMAL '2.345', 2), round(DECIMAL '2.5'), "
     "sign(-2.5), sign(3)", [["-3.0", "2.35", "2.350", "3", "-1.0", "1"]]),
    ("avg_decimal", "SELECT avg(amount) FROM orders WHERE dt = '2024-01-01'", [["15.25"]]),
    # decimal.html: decimal division is exact with scale max(s1, s2), rounded half up; integers take
    # part as decimal(10,0); a double operand makes it double division.
    ("decimal_division", "SELECT DECIMAL '10.00' / 3, DECIMAL '1.01' / 2, DECIMAL '-1.01' / 2, 7 / DECIMAL '2.0', "
     "DECIMAL '1.00' / 8.0", [["3.33", "0.51", "-0.51", "3.5", "0.125"]]),
    # --- date/time -----------------------------------------------------------------------------
    ("date_trunc", "SELECT date_trunc('month', DATE '2024-03-05'), date_trunc('hour', TIMESTAMP '2024-03-05 07:08:09')",
     [["2024-03-01", "2024-03-05 07:00:00.000"]]),
    ("date_add", "SELECT date_add('day', 3, DATE '2024-02-27'), date_add('month', 1, DATE '2024-01-31'), "
     "DATE '2024-01-01' + INTERVAL '1' DAY", [["2024-03-01", "2024-02-29", "2024-01-02"]]),
    ("extract_parts", "SELECT year(ts), month(ts), day(ts), hour(ts), day_of_week(ts), day_of_year(ts) "
     "FROM orders WHERE order_id = 5", [["2024", "1", "3", "6", "3", "3"]]),
    # datetime.html: day_of_week / EXTRACT(DOW ...) are ISO (Monday 1 .. Sunday 7).
    ("iso_day_of_week", "SELECT extract(dow FROM DATE '2024-03-10'), day_of_week(DATE '2024-03-10'), "
     "year_of_week(DATE '2024-12-30')", [["7", "7", "2025"]]),
    # datetime.html date_format uses MySQL-style specifiers.
    ("date_format_mysql", "SELECT date_format(TIMESTAMP '2024-03-05 07:08:09', '%Y-%m-%d %H:%i:%s'), "
     "date_parse('2024-03-05 07:08', '%Y-%m-%d %H:%i')", [["2024-03-05 07:08:09", "2024-03-05 07:08:00.000"]]),
    ("to_unixtime_and_last_day", "SELECT to_unixtime(TIMESTAMP '1970-01-02 00:00:00'), last_day_of_month(DATE '2024-02-10')",
     [["86400.0", "2024-02-29"]]),
    ("timestamp_column_render", "SELECT ts, CAST(ts AS date) FROM orders WHERE order_id = 5",
     [["2024-01-03 06:15:30.250", "2024-01-03"]]),
    # --- JSON ------------------------------------------------------------------------------------
    ("json_extract", "SELECT json_extract(payload, '$.user'), json_extract_scalar(payload, '$.user.id'), "
     "json_array_length(json_extract(payload, '$.user.tags')) FROM events WHERE id = 1",
     [["{\"id\":7,\"tags\":[\"a\",\"b\"]}", "7", "2"]]),
    ("json_parse_format_cast", "SELECT json_format(json_parse('[1, 2]')), CAST(json_parse('[1,2]') AS array(integer)), "
     "json_extract_scalar(payload, '$.ok') FROM events WHERE id = 2", [["[1,2]", "[1, 2]", "false"]]),
    # --- regex -----------------------------------------------------------------------------------
    ("regexp_like_replace", "SELECT regexp_like('abc', 'b'), regexp_replace('abc-123', '([a-z]+)-(\\d+)', '$2:$1'), "
     "regexp_replace('a1b2', '\\d')", [["true", "123:abc", "ab"]]),
    ("regexp_extract_all", "SELECT regexp_extract_all('a1b22c333', '\\d+'), regexp_extract_all('x', '\\d')",
     [["[1, 22, 333]", "[]"]]),
    # --- arrays and maps -------------------------------------------------------------------------
    ("array_basics", "SELECT cardinality(tags), element_at(tags, 1), contains(tags, 'promo'), array_join(tags, '+') "
     "FROM orders WHERE order_id = 1", [["2", "new", "true", "new+promo"]]),
    ("array_lambdas", "SELECT transform(ARRAY[1, 2, 3], x -> x * 10), filter(ARRAY[1, 2, 3], x -> x > 1), "
     "reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s * 2), any_match(ARRAY[1, 2], x -> x = 2)",
     [["[10, 20, 30]", "[2, 3]", "12", "true"]]),
    ("array_builders", "SELECT sequence(1, 5, 2), array_sort(ARRAY[3, 1, 2]), flatten(ARRAY[ARRAY[1], ARRAY[2, 3]]), "
     "array_distinct(ARRAY[1, 1, 2]), split('a,b,,c', ',')", [["[1, 3, 5]", "[1, 2, 3]", "[1, 2, 3]", "[1, 2]", "[a, b, , c]"]]),
    ("map_functions", "SELECT map_keys(MAP(ARRAY['a'], ARRAY[1])), map_values(MAP(ARRAY['a'], ARRAY[1])), "
     "element_at(MAP(ARRAY['a', 'b'], ARRAY[1, 2]), 'b'), cardinality(MAP(ARRAY['a', 'b'], ARRAY[1, 2]))",
     [["[a]", "[1]", "2", "2"]]),
    ("unnest_array_column", "SELECT o.order_id, t.tag FROM orders o CROSS JOIN UNNEST(o.tags) AS t(tag) "
     "ORDER BY o.order_id, t.tag", [["1", "new"], ["1", "promo"], ["2", "new"], ["4", "bulk"], ["6", "promo"]]),
    # --- approximate aggregates (aggregate.html: standard error 2.3%; exact on tiny inputs) -----
    ("approx_distinct", "SELECT approx_distinct(customer) FROM orders", [["4"]]),
    ("approx_percentile", "SELECT approx_percentile(qty, 0.5) FROM orders", [["2"]]),
    # string.html split(string, delimiter, limit): the last piece holds the rest; length(varbinary)
    # counts bytes (binary.html); json.html: casting a JSON string to varchar gives its value.
    ("split_limit_bytes_json_cast", "SELECT split('a,b,c', ',', 2), length(to_utf8('é')), "
     "CAST(json_parse('\"abc\"') AS varchar), CAST(json_parse('123') AS varchar)", [["[a, b,c]", "2", "abc", "123"]]),
    # string.html format: Java format specifiers.
    ("format", "SELECT format('%s-%d', 'a', 5), format('%.2f', 3.14159)", [["a-5", "3.14"]]),
    ("tablesample_bounds", "SELECT (SELECT count(*) FROM orders TABLESAMPLE BERNOULLI (0)), "
     "(SELECT count(*) FROM orders TABLESAMPLE BERNOULLI (100))", [["0", "6"]]),
    # --- strings and conditionals ----------------------------------------------------------------
    ("string_functions", "SELECT substr('hello', 2, 3), strpos('hello', 'l'), length('héllo'), upper('ab'), "
     "lpad('7', 3, '0'), concat('a', 'b', 'c'), 'x' || 'y', reverse('abc'), trim('  a ')",
     [["ell", "3", "5", "AB", "007", "abc", "xy", "cba", "a"]]),
    ("conditionals", "SELECT if(1 > 0, 'y', 'n'), coalesce(NULL, 2), nullif(1, 1), greatest(1, 5, 3), "
     "CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", [["y", "2", None, "5", "two"]]),
    ("decimal_arithmetic", "SELECT DECIMAL '1.10' * 2, CAST(DECIMAL '12.345' AS decimal(10,2)), sum(amount) "
     "FROM orders WHERE dt = '2024-01-01'", [["2.20", "12.35", "30.50"]]),
]


@pytest.mark.parametrize(("sql", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_function(lake, sql: str, want: list) -> None:
    assert lake.rows(sql) == want


def test_result_types_are_athena_base_types(lake) -> None:
    # GetQueryResults ColumnInfo.Type: Trino base type names; real is reported as float.
    out = lake.query("SELECT 1, CAST(1 AS bigint), 1e0, REAL '1.5', DECIMAL '1.50', 'a', true, DATE '2024-01-01', "
                     "ts, ARRAY[1], MAP(ARRAY['a'], ARRAY[1]), item, to_utf8('a') FROM orders LIMIT 1")
    assert [(c.type, c.precision, c.scale) for c in out.columns] == [
        ("integer", 10, 0), ("bigint", 19, 0), ("double", 17, 0), ("float", 17, 0), ("decimal", 3, 2),
        ("varchar", 2147483647, 0), ("boolean", 0, 0), ("date", 0, 0), ("timestamp", 3, 0), ("array", 0, 0),
        ("map", 0, 0), ("row", 0, 0), ("varbinary", 1073741824, 0)]
    assert list(out.render_rows())[0][-1] == "61"


ERRORS = [
    # Athena's error texts (StateChangeReason = "<NAME>: <message>").
    ("SELECT * FROM x", "TABLE_NOT_FOUND", "line 1:15: Table 'awsdatacatalog.shop.x' does not exist"),
    ("SELECT x FROM orders", "COLUMN_NOT_FOUND", "line 1:8: Column 'x' cannot be resolved"),
    ("SELECT * FROM nowhere.t", "SCHEMA_NOT_FOUND", "line 1:15: Schema 'nowhere' does not exist"),
    ("SELECT foo(1)", "FUNCTION_NOT_FOUND", "line 1:8: Function 'foo' not registered"),
    ("SELECT o.x FROM orders o", "COLUMN_NOT_FOUND", "line 1:8: Column 'o.x' cannot be resolved"),
    ("SELECT customer FROM orders o JOIN customers c ON o.customer = c.customer", "AMBIGUOUS_NAME",
     "line 1:8: Column 'customer' is ambiguous"),
    ("SELECT 1 / 0", "DIVISION_BY_ZERO", "Division by zero"),
    ("SELECT CAST('1.9' AS integer)", "INVALID_CAST_ARGUMENT", "Cannot cast '1.9' to INT"),
    ("SELECT CAST('abc' AS double)", "INVALID_CAST_ARGUMENT", "Cannot cast 'abc' to DOUBLE"),
    # array.html / map.html: the subscript operator fails out of range (element_at returns NULL).
    ("SELECT tags[5] FROM orders WHERE order_id = 1", "INVALID_FUNCTION_ARGUMENT",
     "Array subscript must be less than or equal to array length: 5 > 2"),
    ("SELECT tags[0] FROM orders WHERE order_id = 1", "INVALID_FUNCTION_ARGUMENT", "SQL array indices start at 1"),
    ("SELECT attrs['nope'] FROM orders WHERE order_id = 1", "INVALID_FUNCTION_ARGUMENT", "Key not present in map: nope"),
]


@pytest.mark.parametrize(("sql", "name", "message"), ERRORS, ids=[e[1] + ":" + e[0] for e in ERRORS])
def test_error(lake, sql: str, name: str, message: str) -> None:
    with pytest.raises(AthenaQueryError) as err:
        lake.query(sql)
    assert (err.value.error_name, err.value.message, err.value.error_category) == (name, message, 2)
    assert str(err.value) == f"{name}: {message}"


@pytest.mark.parametrize("sql", [
    "SELECT 'a' + 1", "SELECT DATE '2024-01-02' - DATE '2024-01-01'",
    # No implicit varchar <-> number/date coercion in Trino (DuckDB would compare these).
    "SELECT count(*) FROM orders WHERE order_id = '1'", "SELECT count(*) FROM orders WHERE customer = 1",
    "SELECT count(*) FROM customers WHERE signup = '2023-05-01'", "SELECT count(*) FROM orders WHERE dt = 2024",
    "SELECT 'a' || 1", "SELECT CASE WHEN true THEN 1 ELSE 'a' END", "SELECT coalesce(1, 'a')", "SELECT 1 UNION SELECT 'a'",
])
def test_type_mismatch(lake, sql: str) -> None:
    # Trino has no varchar + integer and no date - date operator (use date_diff).
    with pytest.raises(AthenaQueryError) as err:
        lake.query(sql)
    assert err.value.error_name == "TYPE_MISMATCH"


def test_function_argument_types_are_checked(lake) -> None:
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT concat('a', 1)")
    assert str(err.value) == ("FUNCTION_NOT_FOUND: line 1:15: Unexpected parameters (varchar(1), integer) "
                              "for function concat")


def test_unreproducible_fails_loudly_with_not_supported(lake) -> None:
    # Java regex named-group replacement has no RE2 equivalent here: refused, not approximated.
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT regexp_replace('ab', '(?<x>a)', '${x}')")
    assert err.value.error_name == "NOT_SUPPORTED"
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT format_datetime(ts, customer) FROM orders")
    assert err.value.error_name == "NOT_SUPPORTED"
