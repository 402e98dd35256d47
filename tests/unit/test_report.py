"""The run report, pure: the five-second summary of a RunReport and the self-contained HTML."""
from __future__ import annotations

from collections import Counter

import pandas as pd

from pipeline_lib import flow, lake, report


def _run_report(rows: int, errors: int, athena_rows: int) -> flow.RunReport:
    before = lake.Reconciliation(0, 0, 0)
    after = lake.Reconciliation(0, rows, errors, Counter({"2026-03-04": rows - 1, "2026-03-05": 1}),
                                Counter({"processing-failed": errors}) if errors else Counter())
    return flow.RunReport("local", {}, 10, before, after, 2, {"total": 1.0},
                          athena=flow.AthenaCount("SELECT count(*)", athena_rows, 2048, 0.5))


def test_summary_says_in_out_athena_and_verdict() -> None:
    good = _run_report(9, 1, 9)
    text = good.render()
    assert good.balanced
    assert "in           10  changes written to DynamoDB" in text
    assert "out           9  rows added to the lake, in 2 day partitions (2 in the Glue catalog)" in text
    assert "1  error records added (processing-failed: 1)" in text
    assert "(scanned 2.0 KiB, 0.5 s)" in text
    assert "OK    reconciled: every change is a row or an error record and Athena counts every row" in text


def test_a_lost_change_or_an_athena_difference_is_not_balanced() -> None:
    lost = _run_report(8, 1, 8)
    assert not lost.balanced and "LOST  reconciled: MISMATCH of 1 change(s)" in lost.render()
    unseen = _run_report(9, 1, 7)
    assert not unseen.balanced and "Athena sees 7 rows, the lake's files hold 9" in unseen.render()


def test_html_report_embeds_three_plots() -> None:
    written = pd.to_datetime(["2026-03-04T00:00:00Z", "2026-03-04T00:00:01Z"], utc=True)
    times = report.LandingTimes(pd.DataFrame({"written": written, "landed": written + pd.Timedelta(seconds=5),
                                              "queryable": written + pd.Timedelta(seconds=9), "key": ["a", "b"]}))
    document = report.render_html(_run_report(9, 1, 9), times)
    assert document.startswith("<!DOCTYPE html>")
    assert document.count('src="data:image/png;base64,') == 3
    assert "<strong>balanced</strong>" in document
