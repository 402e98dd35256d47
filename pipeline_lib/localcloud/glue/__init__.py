"""The local Glue: Data Catalog resources in stacks, and a crawler where StartCrawler runs a real
crawl of the crawler's targets.

S3 targets become tables (columns from Parquet footers or JSON records, ``key=value`` folders as
string partition keys, partitions with their locations, the crawler's table parameters); catalog
targets get the partitions found under their location. SchemaChangePolicy, RecrawlPolicy and the
Configuration JSON apply; the crawler goes RUNNING → STOPPING → READY with LastCrawl set;
GetCrawlerMetrics and StopCrawler work. Modules: `planner` (pure planning, with `discover`: tables
in S3 listings, `table_inputs`: what is written, `model`: inputs and the plan), `classify` and
`schema` (formats and types), `config` (the crawler definition), `engine` (runs a crawl),
`crawl` (the crawl object moto holds), `catalog` (reads and writes moto's state), `seams` (the
moto patches, and the declaration of everything read), `cloudformation`
(AWS::Glue::Database/Table/Crawler).
"""
from __future__ import annotations

from .extension import GlueExtension, extension

__all__ = ["GlueExtension", "extension"]
