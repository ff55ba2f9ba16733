"""`mjplan ddl --engine athena|trino|spark --data s3://bucket/prefix`: the dataset as a table.

    mjplan ddl --engine athena --data s3://metrics/attempts --database analytics
    mjplan ddl --engine spark --data s3a://metrics/attempts --views-only

Prints the CREATE TABLE (columns and types from collectors/schema.py; job_type and dt as
partitions, with partition projection on Athena) and the views of the planner's core
aggregates (deduplicated attempts, the summary per job type x instance type, the hourly demand):
planner/ddl.py; then the views of the sizing inputs over `--window` (planner/sizing_views.py),
whose results `mjplan size --inputs FOLDER` sizes from (docs/sizing-inputs.md).
"""

from __future__ import annotations

import argparse

HELP = "print the table definition and aggregate views for Athena, Trino or Spark"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from planner.ddl import DEFAULT_TABLE, ENGINES

    parser.add_argument("--engine", required=True, choices=ENGINES)
    parser.add_argument("--data", required=True, metavar="URL",
                        help="where the dataset is: s3://bucket/prefix (Spark: any URL it reads)")
    parser.add_argument("--table", default=DEFAULT_TABLE, help="table name (default: %(default)s)")
    parser.add_argument("--database", default="", help="database (Trino: schema) of the table")
    parser.add_argument("--since", default=None, metavar="YYYY-MM-DD",
                        help="Athena: first day of the dt projection (default 2020-01-01)")
    parser.add_argument("--job-types", default=None, metavar="A,B",
                        help="Athena: the job types of the projection (default: the four known)")
    parser.add_argument("--window", default=None, metavar="DURATION",
                        help="the sizing views' window, as `mjplan size --window` "
                             "(whole hours: 14d, 36h, 2w; default 14d)")
    parser.add_argument("--views-only", action="store_true", help="print the views alone")


def run(args: argparse.Namespace) -> int:
    from planner.ddl import check_target, script, views_sql

    target = check_target(args.engine, args.data, args.table, args.database, args.since,
                          args.job_types, args.window)
    if args.views_only:
        print(";\n\n".join(views_sql(target)) + ";")
    else:
        print(script(target), end="")
    return 0
