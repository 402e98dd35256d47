"""`python -m pipeline_lib bench` at a small size: the JSON line's keys and the reconciliation
(no timings are checked: they are the benchmark's output, not its correctness)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

ITEMS = 300
REQUIRED = {
    "items", "write_items_per_s", "write_rate_last_over_first", "e2e_over_write", "e2e_items_per_s",
    "engine_records_per_s", "engine_over_pyarrow", "athena_over_duckdb", "seeder_over_batch_writer",
    "peak_rss_mb", "objects_per_partition", "moto_write_items_per_s",
}


def test_bench_json_line_and_reconciliation(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}  # it starts a cloud of its own
    done = subprocess.run([sys.executable, "-m", "pipeline_lib", "bench", "--items", str(ITEMS), "--json"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert REQUIRED <= set(figures), REQUIRED - set(figures)
    assert figures["items"] == ITEMS
    # The generator spoils max(1, items // 2000) createdAt values: those are error records, the rest rows.
    assert figures["error_records"] == 1
    assert figures["rows_in_lake"] == ITEMS - 1
    assert figures["balanced"] is True
    for key in REQUIRED - {"items"}:
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, (key, figures[key])
