"""moto's server as the local AWS (DynamoDB and S3), one request at a time, with its data kept on disk.

moto's transaction code is not thread-safe (under threads it has oversold and crashed), so the server is
single-threaded. moto keeps everything in memory: tables, buckets and objects are written to the data folder
after changes (at most every few seconds) and on shutdown, and loaded back on start. In between, each request
that may change them is appended to a journal (devstack/journal.py) before it runs and made durable before a
success is answered; on start the journal is replayed after the snapshot, so a killed local AWS (`kill -9`, a
crash, a power cut) keeps every write it acknowledged.

The public port accepts connections only once the data is loaded: until then it is bound (so a second stack
fails at once) but not listening (so clients are refused and retry, instead of racing the restore, as
`createtables` once did). Loading and saving go through a second server in this process on a private port:
moto's backends are per process, so both servers see the same data. A snapshot holds the lock the public
server takes for every request, so it is one point in time: a transaction is in every table or in none.

Browsers post uploads to this server: S3's CORS is answered from the buckets' rules (devstack/s3_cors.py),
in place of moto's own, which allows every origin; and S3 refuses what S3 would (devstack/s3_guard.py: SigV4
signatures, POST policies, x-amz-copy-source-if-*), where moto stores anything.
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
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, unquote_to_bytes

import boto3
from botocore.exceptions import ClientError
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import create_environ

from devstack.files import DATA_IN_USE_EXIT, PORT_IN_USE_EXIT, STOP_POLL_SECONDS, private_dir, write_private
from devstack.journal import Journal, fsync_dir
from devstack.s3_cors import Rules, S3Cors
from devstack.s3_guard import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Guard, copy_refusal

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


# What a request may change: the kind of journal record it makes.
DYNAMODB, S3, RESET, MOTO_API = "dynamodb", "s3", "reset", "moto-api"
# The owner's credentials, which moto's S3 takes for the account's (it checks no signature): the gate's own
# reads of an object (copy_refusal) see it as the account does, not as an anonymous reader under the policy.
OWNER_AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20000101/{REGION}/s3/aws4_request, SignedHeaders=host, Signature=0"
)


def _kind(environ: dict[str, Any]) -> tuple[str | None, str]:
    """The kind of change a request may make (None: it changes nothing kept), and its DynamoDB action."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        action = target.rsplit(".", 1)[-1] if target.startswith("DynamoDB_") else ""
        return (DYNAMODB if action in DYNAMODB_MUTATING else None), action
    if environ.get("REQUEST_METHOD") not in S3_MUTATING_METHODS:
        return None, ""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api/"):
        return (RESET if path.rstrip("/") == "/moto-api/reset" else MOTO_API), ""
    return S3, ""


def _recorded(environ: dict[str, Any]) -> dict[str, Any]:
    """What of the request's environ moto reads (the body apart), as JSON: the CGI and HTTP_* variables, and
    moto's note of metadata header names spelled with underscores."""
    kept: dict[str, Any] = {}
    for name, value in environ.items():
        if name.startswith(("wsgi.", "werkzeug.")):
            continue
        if isinstance(value, str) or (
            isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            kept[name] = value
    return kept


def _completes_upload(environ: dict[str, Any]) -> bool:
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return environ.get("REQUEST_METHOD") == "POST" and "uploadId" in query


def _succeeded(status: list[str]) -> bool:
    return bool(status) and status[0][:1] in ("2", "3")


class _Gate:
    """WSGI middleware of the public server: each request holds the state lock, is journaled if it may change
    what is kept, and notes what it may change for the next snapshot.

    A record is appended before the request runs (a journal that cannot take it refuses the request, nothing
    done) and synced before a success is answered: werkzeug sends nothing until this returns. Notes are taken
    under the lock, so a snapshot (which takes them under the lock too) never misses a change it did not see.
    """

    def __init__(self, app: Any, tables: Tables, buckets: Buckets, journal: Journal) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.tables = tables
        self.buckets = buckets
        self.journal = journal
        self.checkpoint: Any = lambda: None  # a snapshot, the lock held (LocalAws sets it)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        kind, action = _kind(environ)
        body = b""
        if kind in (DYNAMODB, S3):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        status: list[str] = []

        def start(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(line)
            return start_response(line, headers, exc_info)

        with self.lock:
            if kind == S3:
                # Under the lock: the source cannot change between this check and moto's copy.
                refusal = copy_refusal(environ, self.head)
                if refusal is not None:
                    return refusal.answer(start_response, resource=environ.get("PATH_INFO", ""))
            if kind in (DYNAMODB, S3):
                try:
                    self.journal.append({"kind": kind, "environ": _recorded(environ)}, body)
                except OSError as exc:
                    return _unavailable(start_response, exc)
            try:
                response = self.app(environ, start)
            finally:
                self.note(kind, action, body)
            if _succeeded(status):
                if kind == RESET:
                    self.journal.append({"kind": RESET}, b"")
                if kind == S3 and _completes_upload(environ):
                    # Snapshots keep objects, not multipart uploads in progress: replaying this request after
                    # one would find no upload. The object it made is written before it is answered instead.
                    self.checkpoint()
                if kind is not None:
                    self.journal.sync()
        return response

    def note(self, kind: str | None, action: str, body: bytes) -> None:
        """Mark what a request (or its replay) may have changed, for the next snapshot."""
        if kind == DYNAMODB:
            self.tables.note(action, body)
        elif kind is not None:
            self.buckets.changed = True
            if kind in (RESET, MOTO_API):
                self.tables.everything = True  # anything may have changed

    def head(self, path: str, query: str) -> tuple[str, datetime] | None:
        """ETag and Last-Modified of the object at `path` (URL-encoded, as a copy source names it), from moto."""
        # The object moto's copy reads (it unquotes the source once), asked for as botocore would ask.
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        raw = f"/{quote(bucket)}/{quote(key, safe='/~')}"
        uri = f"{raw}?{query}" if query else raw
        environ = create_environ(method="HEAD", headers={"Authorization": OWNER_AUTHORIZATION})
        environ.update(
            PATH_INFO=unquote_to_bytes(raw).decode("latin-1"),  # as werkzeug's server decodes a path
            QUERY_STRING=query,
            RAW_URI=uri,
            REQUEST_URI=uri,
        )
        status: list[str] = []
        headers: dict[str, str] = {}

        def start(line: str, answered: list[tuple[str, str]], exc_info: Any = None) -> None:
            status.append(line)
            headers.update((name.lower(), value) for name, value in answered)

        result = self.app(environ, start)
        try:
            for _ in result:
                pass
        finally:
            getattr(result, "close", lambda: None)()
        if not status or not status[0].startswith("200") or "etag" not in headers:
            return None  # moto answers the copy of a missing source itself
        return headers["etag"], parsedate_to_datetime(headers["last-modified"])


def _unavailable(start_response: Any, exc: OSError) -> list[bytes]:
    body = f"local AWS: the journal cannot record this request ({exc}); nothing was changed\n".encode()
    start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _client(service: str, port: int) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
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
        elif action == "UpdateTable" and set(body) <= {"TableName", "StreamSpecification"}:
            # A stream turned on changes no item and is not part of the copy (tables are loaded without their
            # streams; `manage.py createtables` turns them on): no re-read of a large table while others wait.
            pass
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

    def dump(self, journal: int) -> bytes:
        """The copy as the JSON of `dynamodb.json`, holding the journal's segments before `journal`."""
        tables = [
            {"spec": t["spec"], "items": list(t["items"].values()), "ttl": t["ttl"]} for t in self.tables.values()
        ]
        return json.dumps({"tables": tables, "journal": journal}).encode()


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
        self,
        manifest: dict[str, Any],
        new: dict[str, bytes],
        saved: dict[tuple[str, str], dict[str, Any]],
        journal: int,
    ) -> None:
        """Write new object bytes, then the manifest (holding the journal's segments before `journal`), then
        drop bytes no object uses (a crash leaves extra files at worst, never a manifest naming a missing one)."""
        private_dir(self.blobs)
        for digest, body in new.items():
            if not (self.blobs / digest).exists():
                write_private(self.blobs / digest, body)
        fsync_dir(self.blobs)
        write_private(self.path, json.dumps({**manifest, "journal": journal}).encode())
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
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS}, daemon=True)
    thread.start()
    return thread


class LocalAws:
    """The two servers, the copies of tables and buckets, the journal and the snapshots of one local AWS."""

    def __init__(self, port: int, data_dir: Path) -> None:
        private_dir(data_dir)
        self.lock_fd = _claim(data_dir)
        self.listener = _bind(port)
        self.data_dir = data_dir
        # moto's flask-cors would allow every origin on every answer; S3Cors answers from the buckets' rules.
        os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
        # Imported once the folder and port are ours: moto takes seconds to import, a refusal should not.
        from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        self.app = DomainDispatcherApplication(create_backend_app)
        # MotoRequestHandler keeps S3 metadata names with underscores, as moto's own server does.
        self.private = make_server("127.0.0.1", 0, self.app, threaded=False, request_handler=MotoRequestHandler)
        self.tables = Tables(_client("dynamodb", self.private.port))
        self.buckets = Buckets(_client("s3", self.private.port), data_dir)
        self.journal = Journal(data_dir)
        self.writing = threading.Lock()  # one snapshot written at a time
        self.gate = _Gate(self.app, self.tables, self.buckets, self.journal)
        self.gate.checkpoint = self._checkpoint
        self.public = make_server(
            "127.0.0.1",
            port,
            S3Cors(S3Guard(self.gate), self._cors_rules),
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
        """Load the last snapshot and replay the journal through the private server, then accept connections
        on the public port."""
        self.threads.append(_start(self.private))
        positions = {DYNAMODB: 0, S3: 0}
        tables = _read_snapshot(self.data_dir / "dynamodb.json")
        if tables is not None:
            self.tables.load(tables)
            positions[DYNAMODB] = int(tables.get("journal", 0))
        buckets = _read_snapshot(self.buckets.path)
        if buckets is not None:
            if self.buckets.blobs.exists():
                private_dir(self.buckets.blobs)
                for blob in self.buckets.blobs.iterdir():
                    blob.chmod(0o600)
            self.buckets.load(buckets)
            positions[S3] = int(buckets.get("journal", 0))
        self._replay(positions)
        self.journal.start(max(positions.values()))
        self.public.server_activate()  # listen(): from now on clients connect
        self.threads.insert(0, _start(self.public))

    def _replay(self, positions: dict[str, int]) -> None:
        """Apply each journaled request its service's snapshot does not hold yet, in order (see journal.py)."""
        replayed = 0
        for record in self.journal.records():
            kind = record.header.get("kind")
            if kind == RESET:
                for service in (DYNAMODB, S3):
                    if record.segment >= positions[service]:
                        self._clear(service)
                self.gate.note(RESET, "", b"")
            elif kind in positions and record.segment >= positions[kind]:
                environ = create_environ()
                environ.update(record.header["environ"])
                environ["wsgi.input"] = io.BytesIO(record.body)
                environ["CONTENT_LENGTH"] = str(len(record.body))
                self._run(environ)
                action = str(environ.get("HTTP_X_AMZ_TARGET", "")).rsplit(".", 1)[-1]
                self.gate.note(kind, action, record.body)
                replayed += 1
        if replayed:
            print(f"local AWS: replayed {replayed} journaled requests", flush=True)

    def _run(self, environ: dict[str, Any]) -> None:
        try:
            result = self.app(environ, lambda *_: None)
            try:
                for _ in result:
                    pass
            finally:
                getattr(result, "close", lambda: None)()
        except Exception:  # noqa: BLE001 - it failed the same way when it was first run
            traceback.print_exc()

    def _clear(self, service: str) -> None:
        """What /moto-api/reset did to one service (the other's snapshot may already hold the reset)."""
        if service == DYNAMODB:
            client = self.tables.client
            for page in client.get_paginator("list_tables").paginate():
                for name in page["TableNames"]:
                    client.delete_table(TableName=name)
            return
        client = self.buckets.client
        for bucket in client.list_buckets()["Buckets"]:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket["Name"], Delete={"Objects": keys, "Quiet": True})
            client.delete_bucket(Bucket=bucket["Name"])

    def snapshot(self) -> None:
        """Write what changed since the last snapshot, then drop the journal it now holds; the public server
        waits while the state is read (and the journal moves to a new segment at that very point)."""
        with self.gate.lock:
            state = self._read_state()
            # Taken before the lock is let go: a checkpoint (which holds the lock) then waits for this write, so
            # snapshots are written in the order they were read and none drops a segment another still needs.
            self.writing.acquire()
        try:
            if state is not None:
                self._write_state(*state)
        finally:
            self.writing.release()

    def _checkpoint(self) -> None:
        """A snapshot while the gate holds the lock for a request, before it is answered."""
        with self.writing:
            state = self._read_state()
            if state is not None:
                self._write_state(*state)

    def _read_state(self) -> tuple[int, bytes | None, Any] | None:
        if not (self.tables.changed or self.buckets.changed):
            return None
        position = self.journal.rotate()
        tables = buckets = None
        if self.tables.changed:
            self.tables.refresh()
            self.tables.unwritten = True
            tables = self.tables.dump(position)
        if self.buckets.changed:
            buckets = self.buckets.read()
        return position, tables, buckets

    def _write_state(self, position: int, tables: bytes | None, buckets: Any) -> None:
        written = buckets is None
        try:
            if tables is not None:
                write_private(self.data_dir / "dynamodb.json", tables)
                self.tables.unwritten = False
            if buckets is not None:
                self.buckets.write(*buckets, journal=position)
                written = True
            fsync_dir(self.data_dir)  # the new files, before the segments they replace go
            self.journal.drop_before(position)
        finally:
            if not written:
                self.buckets.changed = True

    def close(self) -> None:
        """Stop accepting requests, save what changed (nothing when stopped while loading), release the ports."""
        if len(self.threads) == 2:
            self.public.shutdown()  # the request in progress completes first
            self.snapshot()
        self.journal.close()
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
