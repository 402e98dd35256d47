"""The run's HTML report: one self-contained file (plots as embedded PNGs) a person opens after
`demo` — rows per partition, records over time, and the latency from a DynamoDB write to the row
being queryable — with the run's counts.

    path = report.write_html_report(run_report, "reports", boto3_session=session)

What is plotted comes from the lake itself: each row's `cdc_event_time` (when DynamoDB made the
change) and the LastModified of the object holding it (when Firehose delivered it). A row is
queryable once its object is in S3 and its partition is in the catalog, i.e. at the later of the
object's LastModified and the end of the flow's crawl (`RunReport.flow_finished_at`).
"""
from __future__ import annotations

import base64
import html
import io
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pandas as pd

from .backend import session as default_session

__all__ = ["LandingTimes", "landing_times", "render_html", "write_html_report"]


@dataclass
class LandingTimes:
    """Per lake row: when the change happened (`written`), when its object landed (`landed`),
    and when it was queryable (`queryable`); all UTC."""

    frame: pd.DataFrame


def landing_times(bucket: str, prefix: str = "data/", queryable_from: datetime | None = None,
                  written_since: datetime | None = None, *,
                  boto3_session: boto3.Session | None = None) -> LandingTimes:
    """Read `cdc_event_time` of every row under `prefix` (changes made since `written_since`,
    if given: one run's) with its object's LastModified."""
    import pyarrow.parquet as pq

    s3 = (boto3_session or default_session()).client("s3")
    parts = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if written_since is not None and obj["LastModified"] < written_since - timedelta(seconds=1):
                continue  # delivered before the run began: none of its rows is the run's
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            table = pq.read_table(io.BytesIO(body), columns=["cdc_event_time"])
            written = pd.to_datetime(table.column("cdc_event_time").to_pandas(), utc=True)
            part = pd.DataFrame({"written": written, "landed": pd.Timestamp(obj["LastModified"]).tz_convert("UTC"),
                                 "key": obj["Key"]})
            if written_since is not None:
                part = part[part["written"] >= pd.Timestamp(written_since)]
            parts.append(part)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["written", "landed", "key"])
    if queryable_from is not None and len(frame):
        frame["queryable"] = frame["landed"].where(frame["landed"] > pd.Timestamp(queryable_from), pd.Timestamp(queryable_from))
    else:
        frame["queryable"] = frame["landed"]
    return LandingTimes(frame)


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(report: Any, times: LandingTimes) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")  # no display needed: the figures go into the file
    import matplotlib.pyplot as plt

    out = []
    days = sorted(report.after.rows_by_day.items())
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar([d for d, _ in days], [n for _, n in days], color="#4c72b0")
    ax.set_ylabel("rows")
    ax.set_title("Rows per year/month/day partition")
    ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    out.append(("Rows per partition", _png(fig)))

    frame = times.frame
    fig, ax = plt.subplots(figsize=(8, 3))
    if len(frame):
        start = frame["written"].min()
        for column, label in (("written", "written to DynamoDB"), ("landed", "landed in S3"),
                              ("queryable", "queryable with Athena")):
            seconds = sorted((frame[column] - start).dt.total_seconds())
            ax.step(seconds, range(1, len(seconds) + 1), where="post", label=label)
        ax.legend()
    ax.set_xlabel("seconds since the first change")
    ax.set_ylabel("records (cumulative)")
    ax.set_title("Records of this run over time")
    out.append(("Records over time", _png(fig)))

    fig, ax = plt.subplots(figsize=(8, 3))
    if len(frame):
        latency = (frame["queryable"] - frame["written"]).dt.total_seconds()
        ax.hist(latency, bins=30, color="#55a868")
        ax.axvline(latency.median(), color="black", linestyle="--", label=f"median {latency.median():.1f} s")
        ax.legend()
    ax.set_xlabel("seconds from the DynamoDB write to queryable")
    ax.set_ylabel("rows")
    ax.set_title("Write -> queryable latency")
    out.append(("Write to queryable latency", _png(fig)))
    return out


def render_html(report: Any, times: LandingTimes, title: str = "CDC workbench run") -> str:
    """The report as one HTML document (pure: the plots are drawn here, nothing is read)."""
    summary = html.escape(report.render())
    figures = "\n".join(
        f'<h2>{html.escape(name)}</h2>\n<img alt="{html.escape(name)}" src="data:image/png;base64,{png}">'
        for name, png in _plots(report, times)
    )
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    verdict = "balanced" if report.balanced else "NOT balanced: something was lost"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}pre{background:#f4f4f4;padding:1em}"
        "img{max-width:100%}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{made} &middot; backend {html.escape(report.backend)} &middot; "
        f"<strong>{verdict}</strong></p>\n<pre>{summary}</pre>\n{figures}\n</body></html>\n"
    )


def write_html_report(report: Any, out_dir: str | Path = "reports", *,
                      boto3_session: boto3.Session | None = None) -> Path:
    """Write `run-<UTC time>.html` for a flow.RunReport into `out_dir`; its path. Written to a
    temporary name and renamed, so a report file that exists is complete."""
    outputs = report.outputs
    finished, started = report.flow_finished_at, report.flow_started_at
    times = landing_times(outputs["LakeBucketName"], outputs.get("LakePrefix", "data/"),
                          datetime.fromtimestamp(finished, timezone.utc) if finished else None,
                          datetime.fromtimestamp(started, timezone.utc) if started else None,
                          boto3_session=boto3_session)
    document = render_html(report, times)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"run-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.html"
    partial = path.with_suffix(".html.partial")
    partial.write_text(document, encoding="utf-8")
    partial.replace(path)
    return path
