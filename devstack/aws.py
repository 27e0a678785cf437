"""moto's server as the local AWS (DynamoDB and S3), one request at a time, with its data kept on disk.

moto's transaction code is not thread-safe (under threads it has oversold and crashed), so the server is
single-threaded. moto keeps everything in memory: tables, buckets and objects are written to the data folder
after changes (at most every few seconds) and on shutdown, and loaded back on start.

The public port accepts connections only once the data is loaded: until then it is bound (so a second stack
fails at once) but not listening (so clients are refused and retry, instead of racing the restore, as
`createtables` once did). Loading and saving go through a second server in this process on a private port:
moto's backends are per process, so both servers see the same data. A snapshot holds the lock the public
server takes for every request, so it is one point in time: a transaction is in every table or in none.

Browsers post uploads to this server: S3's CORS is answered from the buckets' rules (devstack/s3_cors.py),
in place of moto's own, which allows every origin.
"""

from __future__ import annotations

import argparse
import base64
import errno
import fcntl
import hashlib
import io
import json
import logging
import os
import signal
import socket
import sys
import threading
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from werkzeug.serving import BaseWSGIServer, make_server

from devstack.s3_cors import Rules, S3Cors
from devstack.stack import DATA_IN_USE_EXIT, PORT_IN_USE_EXIT, private_dir, write_private

SNAPSHOT_EVERY_SECONDS = 2.0
DYNAMODB_MUTATING = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "CreateTable",
        "UpdateTable",
        "DeleteTable",
        "UpdateTimeToLive",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    }
)
# S3 is the only service here without an X-Amz-Target header; these methods are the ones that change it.
S3_MUTATING_METHODS = frozenset({"PUT", "POST", "DELETE"})
TABLE_FIELDS = ("TableName", "KeySchema", "AttributeDefinitions")
OBJECT_HEADERS = ("ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")


class _Gate:
    """WSGI middleware of the public server: each request holds the state lock and notes what it may change.

    The note is taken after the request ran, under the lock, so a snapshot (which takes the notes under the
    lock too) never misses a change it did not see.
    """

    def __init__(self, app: Any, tables: Tables, buckets: Buckets) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.tables = tables
        self.buckets = buckets

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target.rsplit(".", 1)[-1] if target.startswith("DynamoDB_") else ""
        body = None
        if action in DYNAMODB_MUTATING:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            response = self.app(environ, start_response)
            if body is not None:
                self.tables.note(action, body)
            elif not target and environ.get("REQUEST_METHOD") in S3_MUTATING_METHODS:
                self.buckets.changed = True
                if environ.get("PATH_INFO", "").startswith("/moto-api/"):
                    self.tables.everything = True  # e.g. /moto-api/reset: anything may have changed
        return response


def _client(service: str, port: int) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


# botocore gives binary attributes as bytes, which JSON cannot hold: the copy keeps them in base64, as they
# travel on the wire (so keys read from requests and from answers compare equal).
def _encode(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in inner]}
    if kind == "M":
        return {"M": {k: _encode(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_encode(v) for v in inner]}
    return value


def _decode(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: _decode(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_decode(v) for v in inner]}
    return value


def _item(item: dict[str, Any], encode: Any = _encode) -> dict[str, Any]:
    return {name: encode(value) for name, value in item.items()}


def _table_name(name: str) -> str:
    return name.rsplit("table/", 1)[-1] if name.startswith("arn:") else name  # requests may name a table by ARN


class Tables:
    """A copy of every table (schema, TTL attribute, items), written whole as `dynamodb.json`.

    moto answers a Scan slowly (about 1 ms per item), so the copy is not re-read whole for each snapshot:
    the gate hands over each write request, and only the items they name are read again (BatchGetItem).
    Requests that change tables themselves, or that cannot be read, make the table (or all tables) re-read.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tables: dict[str, dict[str, Any]] = {}  # name -> {"spec", "ttl", "items": {key: item}}
        self.pending: list[tuple[str, bytes]] = []
        self.everything = False
        self.unwritten = False  # the copy is newer than the file (writing it failed)

    @property
    def changed(self) -> bool:
        return bool(self.pending) or self.everything or self.unwritten

    def note(self, action: str, body: bytes) -> None:
        self.pending.append((action, body))

    def load(self, snapshot: dict[str, Any]) -> None:
        """Create the tables of a snapshot in moto, with their items."""
        for table in snapshot["tables"]:
            spec, items = table["spec"], table["items"]
            self.client.create_table(BillingMode="PAY_PER_REQUEST", **spec)
            name = spec["TableName"]
            if table.get("ttl"):
                self.client.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table["ttl"]}
                )
            for start in range(0, len(items), 25):
                batch = [{"PutRequest": {"Item": _item(item, _decode)}} for item in items[start : start + 25]]
                self.client.batch_write_item(RequestItems={name: batch})
            self.tables[name] = {"spec": spec, "ttl": table.get("ttl"), "items": {_key(spec, i): i for i in items}}

    def refresh(self) -> None:
        """Bring the copy up to date with moto (while the public server waits)."""
        pending, everything = self.pending, self.everything
        self.pending, self.everything = [], False
        whole: set[str] = set()
        keys: dict[str, set[str]] = {}
        for action, body in [] if everything else pending:
            request = None
            try:
                request = json.loads(body)
                self._changes(action, request, whole, keys)
            except (ValueError, KeyError, TypeError, AttributeError):
                # Shaped in a way not foreseen (moto refused it, most likely): re-read rather than guess.
                table = request.get("TableName") if isinstance(request, dict) else None
                if isinstance(table, str):
                    whole.add(_table_name(table))
                else:
                    everything = True
        try:
            if everything:
                names = [n for page in self.client.get_paginator("list_tables").paginate() for n in page["TableNames"]]
                whole = set(names) | set(self.tables)
            for name in whole:
                self._reread(name)
            for name, changed in keys.items():
                if name not in whole and name in self.tables:
                    self._fetch(name, sorted(changed))
        except BaseException:
            self.everything = True  # interrupted half-way: the next snapshot re-reads everything
            raise

    def _changes(self, action: str, body: dict[str, Any], whole: set[str], keys: dict[str, set[str]]) -> None:
        def touched(table: str, item: dict[str, Any]) -> None:
            name = _table_name(table)
            if name in self.tables:
                keys.setdefault(name, set()).add(_key(self.tables[name]["spec"], item))
            else:
                whole.add(name)

        if action == "PutItem":
            touched(body["TableName"], body["Item"])
        elif action in ("UpdateItem", "DeleteItem"):
            touched(body["TableName"], body["Key"])
        elif action == "BatchWriteItem":
            for table, requests in body["RequestItems"].items():
                for request in requests:
                    put = request.get("PutRequest")
                    touched(table, put["Item"] if put else request["DeleteRequest"]["Key"])
        elif action == "TransactWriteItems":
            for request in body["TransactItems"]:
                for kind in ("Put", "Update", "Delete"):
                    if kind in request:
                        op = request[kind]
                        touched(op["TableName"], op.get("Item") or op["Key"])
        elif "TableName" in body:  # CreateTable, UpdateTable, DeleteTable, UpdateTimeToLive
            whole.add(_table_name(body["TableName"]))
        else:  # PartiQL statements
            raise ValueError(action)

    def _reread(self, name: str) -> None:
        try:
            table = self.client.describe_table(TableName=name)["Table"]
            ttl = self.client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        except self.client.exceptions.ResourceNotFoundException:
            self.tables.pop(name, None)
            return
        spec = {key: table[key] for key in TABLE_FIELDS}
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = [
                {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                for i in table.get(kind, [])
            ]
            if indexes:
                spec[kind] = indexes
        items = [
            _item(item)
            for page in self.client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
            for item in page["Items"]
        ]
        self.tables[name] = {
            "spec": spec,
            "ttl": ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None,
            "items": {_key(spec, item): item for item in items},
        }

    def _fetch(self, name: str, changed: list[str]) -> None:
        table = self.tables[name]
        for start in range(0, len(changed), 100):
            chunk = changed[start : start + 100]
            found: dict[str, dict[str, Any]] = {}
            request: dict[str, Any] = {
                name: {"Keys": [_item(json.loads(k), _decode) for k in chunk], "ConsistentRead": True}
            }
            while request:
                answer = self.client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(name, []):
                    item = _item(item)
                    found[_key(table["spec"], item)] = item
                request = answer.get("UnprocessedKeys") or {}
            for key in chunk:
                if key in found:
                    table["items"][key] = found[key]
                else:
                    table["items"].pop(key, None)

    def dump(self) -> bytes:
        """The copy as the JSON of `dynamodb.json`."""
        tables = [
            {"spec": t["spec"], "items": list(t["items"].values()), "ttl": t["ttl"]} for t in self.tables.values()
        ]
        return json.dumps({"tables": tables}).encode()


def _key(spec: dict[str, Any], item: dict[str, Any]) -> str:
    """The item's primary key as text, the same however the request spelled its numbers."""
    key = {}
    for part in spec["KeySchema"]:
        value = item[part["AttributeName"]]
        if "N" in value:
            value = {"N": format(Decimal(value["N"]).normalize(), "f")}
        key[part["AttributeName"]] = value
    return json.dumps(key, sort_keys=True)


class Buckets:
    """Buckets and objects: `s3.json` (buckets, their CORS rules, each object's key, headers, metadata) and
    `s3/` (object bytes, one file per distinct content, named by its SHA-256). Objects are read again only
    when their ETag or modification time changed."""

    def __init__(self, client: Any, data_dir: Path) -> None:
        self.client = client
        self.path = data_dir / "s3.json"
        self.blobs = data_dir / "s3"
        self.changed = False
        # (bucket, key) -> the manifest entry of the object as last written.
        self.saved: dict[tuple[str, str], dict[str, Any]] = {}

    def load(self, snapshot: dict[str, Any]) -> None:
        """Create the buckets and objects of a snapshot in moto."""
        for bucket in snapshot["buckets"]:
            name = bucket["name"]
            self.client.create_bucket(Bucket=name)
            if bucket.get("cors"):
                self.client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": bucket["cors"]})
            for entry in bucket["objects"]:
                try:
                    body = (self.blobs / entry["blob"]).read_bytes()
                except FileNotFoundError:
                    raise SystemExit(
                        f"local AWS: {self.blobs / entry['blob']} is missing (s3://{name}/{entry['key']})"
                    ) from None
                self.client.put_object(
                    Bucket=name, Key=entry["key"], Body=body, Metadata=entry["metadata"], **entry["headers"]
                )
        # The objects now have new modification times: note them, so that the next snapshot copies nothing.
        entries = {(b["name"], e["key"]): e for b in snapshot["buckets"] for e in b["objects"]}
        for name, summary in self._listing():
            entry = entries.get((name, summary["Key"]))
            if entry is not None:
                self.saved[(name, summary["Key"])] = {**entry, "version": _version(summary)}

    def read(self) -> tuple[dict[str, Any], dict[str, bytes], dict[tuple[str, str], dict[str, Any]]]:
        """The manifest, the bytes of objects new or changed since the last snapshot, and the entries to
        remember once written (while the public server waits)."""
        self.changed = False
        try:
            return self._read()
        except BaseException:
            self.changed = True
            raise

    def _read(self) -> tuple[dict[str, Any], dict[str, bytes], dict[tuple[str, str], dict[str, Any]]]:
        buckets: dict[str, dict[str, Any]] = {}
        for bucket in self.client.list_buckets()["Buckets"]:
            name = bucket["Name"]
            try:
                cors = self.client.get_bucket_cors(Bucket=name)["CORSRules"]
            except ClientError:
                cors = None  # NoSuchCORSConfiguration
            buckets[name] = {"name": name, "cors": cors, "objects": []}
        new: dict[str, bytes] = {}
        saved: dict[tuple[str, str], dict[str, Any]] = {}
        for name, summary in self._listing():
            key = summary["Key"]
            entry = self.saved.get((name, key))
            if entry is None or entry["version"] != _version(summary):
                got = self.client.get_object(Bucket=name, Key=key)
                body = got["Body"].read()
                digest = hashlib.sha256(body).hexdigest()
                new[digest] = body
                entry = {
                    "key": key,
                    "blob": digest,
                    "version": _version(summary),
                    "metadata": got.get("Metadata", {}),
                    "headers": {h: got[h] for h in OBJECT_HEADERS if got.get(h)},
                }
            buckets[name]["objects"].append(entry)
            saved[(name, key)] = entry
        return {"buckets": list(buckets.values())}, new, saved

    def _listing(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (bucket["Name"], summary)
            for bucket in self.client.list_buckets()["Buckets"]
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"])
            for summary in page.get("Contents", [])
        ]

    def write(
        self, manifest: dict[str, Any], new: dict[str, bytes], saved: dict[tuple[str, str], dict[str, Any]]
    ) -> None:
        """Write new object bytes, then the manifest, then drop bytes no object uses (a crash leaves extra
        files at worst, never a manifest naming a missing one)."""
        private_dir(self.blobs)
        for digest, body in new.items():
            if not (self.blobs / digest).exists():
                write_private(self.blobs / digest, body)
        write_private(self.path, json.dumps(manifest).encode())
        self.saved = saved
        used = {entry["blob"] for bucket in manifest["buckets"] for entry in bucket["objects"]}
        for blob in self.blobs.iterdir():
            if blob.name not in used:
                blob.unlink()


def _version(summary: dict[str, Any]) -> str:
    return f"{summary['ETag']} {summary['LastModified'].isoformat()}"


def _read_snapshot(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    path.chmod(0o600)  # written 0644 by earlier versions
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except ValueError as exc:
        raise SystemExit(f"local AWS: cannot read {path} ({exc}); move it away to start without it") from None
    return data


def _claim(data_dir: Path) -> int:
    """Lock the data folder for this process's lifetime: two stacks on one folder would overwrite each other."""
    fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"local AWS: {data_dir} is used by another local stack", file=sys.stderr, flush=True)
        sys.exit(DATA_IN_USE_EXIT)
    return fd


def _bind(port: int) -> socket.socket:
    """The public socket, bound at once (a busy port fails now, before a long restore) but not listening yet."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does: TIME_WAIT is not busy
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"local AWS: port {port} is already in use", file=sys.stderr, flush=True)
        sys.exit(PORT_IN_USE_EXIT)
    return sock


def _start(server: BaseWSGIServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


class LocalAws:
    """The two servers, the copies of tables and buckets, and the snapshots of one local AWS process."""

    def __init__(self, port: int, data_dir: Path) -> None:
        private_dir(data_dir)
        self.lock_fd = _claim(data_dir)
        self.listener = _bind(port)
        self.data_dir = data_dir
        # moto's flask-cors would allow every origin on every answer; S3Cors answers from the buckets' rules.
        os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
        # Imported once the folder and port are ours: moto takes seconds to import, a refusal should not.
        from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        app = DomainDispatcherApplication(create_backend_app)
        # MotoRequestHandler keeps S3 metadata names with underscores, as moto's own server does.
        self.private = make_server("127.0.0.1", 0, app, threaded=False, request_handler=MotoRequestHandler)
        self.tables = Tables(_client("dynamodb", self.private.port))
        self.buckets = Buckets(_client("s3", self.private.port), data_dir)
        self.gate = _Gate(app, self.tables, self.buckets)
        self.public = make_server(
            "127.0.0.1",
            port,
            S3Cors(self.gate, self._cors_rules),
            threaded=False,
            request_handler=MotoRequestHandler,
            fd=self.listener.fileno(),
        )
        self.listener.close()  # werkzeug serves a duplicate of it
        self.threads: list[threading.Thread] = []

    def _cors_rules(self, bucket: str) -> Rules | None:
        try:
            rules: Rules = self.buckets.client.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except ClientError:
            return None  # no such bucket, or no CORS configuration: S3 refuses every cross-origin request
        return rules

    def open(self) -> None:
        """Load the last snapshot through the private server, then accept connections on the public port."""
        self.threads.append(_start(self.private))
        tables = _read_snapshot(self.data_dir / "dynamodb.json")
        if tables is not None:
            self.tables.load(tables)
        buckets = _read_snapshot(self.buckets.path)
        if buckets is not None:
            if self.buckets.blobs.exists():
                private_dir(self.buckets.blobs)
                for blob in self.buckets.blobs.iterdir():
                    blob.chmod(0o600)
            self.buckets.load(buckets)
        self.public.server_activate()  # listen(): from now on clients connect
        self.threads.insert(0, _start(self.public))

    def snapshot(self) -> None:
        """Write what changed since the last snapshot; the public server waits while it is read."""
        tables = buckets = None
        with self.gate.lock:
            if self.tables.changed:
                self.tables.refresh()
                self.tables.unwritten = True
                tables = self.tables.dump()
            if self.buckets.changed:
                buckets = self.buckets.read()
        if tables is not None:
            write_private(self.data_dir / "dynamodb.json", tables)
            self.tables.unwritten = False
        try:
            if buckets is not None:
                self.buckets.write(*buckets)
        except BaseException:
            self.buckets.changed = True
            raise

    def close(self) -> None:
        """Stop accepting requests, save what changed (nothing when stopped while loading), release the ports."""
        if len(self.threads) == 2:
            self.public.shutdown()  # the request in progress completes first
            self.snapshot()
        if self.threads:
            self.private.shutdown()
        self.public.server_close()
        self.private.server_close()


def serve(port: int, data_dir: Path) -> None:
    """Run until SIGTERM or SIGINT, then write a final snapshot."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stop = threading.Event()
    # Until the data is loaded, a signal ends the process at once: nothing has changed, nothing is saved.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.default_int_handler)
    try:
        aws = LocalAws(port, data_dir)
    except KeyboardInterrupt:
        return
    try:
        aws.open()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    except KeyboardInterrupt:
        stop.set()
    if not stop.is_set():
        print(f"local AWS (moto) on http://127.0.0.1:{port}, data in {data_dir}", flush=True)
    while not stop.wait(SNAPSHOT_EVERY_SECONDS):
        try:
            aws.snapshot()
        except Exception:  # noqa: BLE001 - keep serving; the change stays marked and is saved on a later try
            traceback.print_exc()
    aws.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.port, args.data_dir)
    sys.exit(0)


if __name__ == "__main__":
    main()
