"""moto's server as the local AWS, one request at a time, with its DynamoDB data kept on disk.

moto's transaction code is not thread-safe (under threads it has oversold and crashed), so the server is
single-threaded. moto keeps everything in memory: tables are written to a JSON snapshot after changes
(at most every few seconds) and on shutdown, and loaded back on start.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import boto3
from werkzeug.serving import make_server

SNAPSHOT_EVERY_SECONDS = 2.0
MUTATING = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "CreateTable", "DeleteTable")
TABLE_FIELDS = ("TableName", "KeySchema", "AttributeDefinitions")


class _DirtyTracker:
    """WSGI middleware noting DynamoDB writes, so snapshots are taken only when something changed."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.dirty = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB") and target.split(".")[-1] in MUTATING:
            self.dirty.set()
        return self.app(environ, start_response)


def _client(port: int) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _describe(client: Any, name: str) -> dict[str, Any]:
    table = client.describe_table(TableName=name)["Table"]
    spec = {key: table[key] for key in TABLE_FIELDS}
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in table.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        spec["GlobalSecondaryIndexes"] = indexes
    return spec


def snapshot(port: int, path: Path) -> None:
    """Write every table (schema and items) to `path`, atomically."""
    client = _client(port)
    tables = []
    for name in client.list_tables()["TableNames"]:
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=name):
            items.extend(page["Items"])
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        ttl_attribute = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None
        tables.append({"spec": _describe(client, name), "items": items, "ttl": ttl_attribute})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"tables": tables}))
    tmp.replace(path)


def restore(port: int, path: Path) -> None:
    """Recreate the tables of a snapshot, if there is one."""
    if not path.exists():
        return
    client = _client(port)
    for table in json.loads(path.read_text())["tables"]:
        client.create_table(BillingMode="PAY_PER_REQUEST", **table["spec"])
        name = table["spec"]["TableName"]
        if table.get("ttl"):
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table["ttl"]}
            )
        items = table["items"]
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            client.batch_write_item(RequestItems={name: batch})


def serve(port: int, data_dir: Path) -> None:
    """Run until SIGTERM or SIGINT, then write a final snapshot."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    snapshot_path = data_dir / "dynamodb.json"
    tracker = _DirtyTracker(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, tracker, threaded=False)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    restore(port, snapshot_path)
    tracker.dirty.clear()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"local AWS (moto) on http://127.0.0.1:{port}, data in {data_dir}", flush=True)
    while not stop.wait(SNAPSHOT_EVERY_SECONDS):
        if tracker.dirty.is_set():
            tracker.dirty.clear()
            snapshot(port, snapshot_path)
    snapshot(port, snapshot_path)
    server.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.port, args.data_dir)
    sys.exit(0)


if __name__ == "__main__":
    main()
