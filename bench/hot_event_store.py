"""The DynamoDB stand-in of bench.hot_event: DynamoDB's published limits, in simulated time, over any store.

It decides, for each request at a simulated instant, what DynamoDB would do before the store itself is asked:
answer a throttle (a partition's or an index partition's token bucket is empty), cancel a transaction whose item
another in-flight transaction holds (TransactionConflict), or let the request through after its latency, holding
the items of a write transaction for that time. It knows requests only as DynamoDB's JSON bodies and items only
through `images` (what the store holds now), so it needs neither botocore nor moto and is tested alone.

Limits (DynamoDB developer guide, "Service quotas" and "Capacity units"): 1,000 WCU and 3,000 RCU per second per
partition, an index partition as well, and a write the index cannot take is throttled on the table; a write is
1 WCU per KB, transactional 2; a read 1 RCU per 4 KB strongly consistent, half eventually, transactional 2."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# (table, index or "", partition key value): one partition. Every key value is taken as its own partition, which
# is what a hot key gets (DynamoDB splits a busy partition down to a single key value); Limits.per_item goes
# further, one partition per item.
Partition = tuple[str, str, str]
ItemKey = tuple[str, str]  # (table, canonical key)
# What the store holds for a key now: (size in bytes, {attribute: scalar value as text}), or None.
Image = tuple[int, dict[str, str]] | None

KB = 1024
READ_UNIT_BYTES = 4 * KB
WRITES = ("PutItem", "UpdateItem", "DeleteItem")

LATENCY_MS = {
    "GetItem": 4.0,
    "Query": 6.0,
    "BatchGetItem": 6.0,
    "PutItem": 6.0,
    "UpdateItem": 6.0,
    "DeleteItem": 6.0,
    "TransactGetItems": 8.0,
    "TransactWriteItems": 15.0,
}


@dataclass(frozen=True)
class Limits:
    """DynamoDB's limits and the latencies of the simulation (milliseconds; each drawn as median x a
    log-normal jitter of `jitter` sigma)."""

    write_units: float = 1000.0
    read_units: float = 3000.0
    latency_ms: dict[str, float] = field(default_factory=lambda: dict(LATENCY_MS))
    jitter: float = 0.3
    refused_ms: float = 3.0  # a throttled request is answered at once (no work was done)
    # False: items sharing a partition key value share its partition's units (how DynamoDB places them, and
    # where they stay through a burst: splitting a hot partition by sort key takes minutes). True: each item has
    # a partition of its own (the best adaptive capacity can do once it has isolated the hot items).
    per_item: bool = False


@dataclass(frozen=True)
class TableSchema:
    """A table's key attributes and its global secondary indexes (name, hash attribute, range attribute)."""

    hash_key: str
    range_key: str | None = None
    indexes: tuple[tuple[str, str, str | None], ...] = ()


class TokenBucket:
    """`rate` units a second, at most `rate` saved: the 1,001st WCU of one second on one partition is refused."""

    def __init__(self, rate: float, now: float = 0.0) -> None:
        self.rate = rate
        self.tokens = rate
        self.at = now

    def available(self, now: float) -> float:
        """Units that may be taken at `now`."""
        if now > self.at:
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
        return self.tokens

    def take(self, now: float, units: float) -> bool:
        """Take `units` if all are there; False (nothing taken) otherwise."""
        if self.available(now) + 1e-9 < units:
            return False
        self.tokens -= units
        return True


@dataclass
class Decision:
    """What DynamoDB does with one request: `answer` is None to let it through to the store after `latency`
    seconds, else the error (`code`, message and, for a cancelled transaction, one reason per item)."""

    latency: float
    code: str | None = None
    message: str = ""
    reasons: list[str] | None = None
    units: float = 0.0
    # BatchGetItem: the keys left unprocessed (their partition out of units), by table, as DynamoDB returns them.
    unprocessed: dict[str, list[dict[str, Any]]] | None = None


@dataclass
class Written:
    """One item a write touches: its key, its partition charges and whether it is only checked."""

    key: ItemKey
    charges: list[tuple[Partition, float]]


class StandIn:
    """DynamoDB's limits over `schemas` (table name -> TableSchema); `images(table, key JSON)` reads the store."""

    def __init__(
        self,
        schemas: dict[str, TableSchema],
        images: Callable[[str, dict[str, Any]], Image],
        limits: Limits | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.schemas = schemas
        self.images = images
        self.limits = limits or Limits()
        self.rng = rng or random.Random(0)
        self._writes: dict[Partition, TokenBucket] = {}
        self._reads: dict[Partition, TokenBucket] = {}
        self._held: dict[ItemKey, float] = {}  # item -> end of the transaction that holds it
        self.calls: Counter[str] = Counter()
        self.conflicts = 0
        self.throttles = 0
        self.write_units = 0.0
        self.read_units = 0.0
        self.throttled: Counter[str] = Counter()  # "<operation> <table>": requests or keys refused for units

    # -- primitives --------------------------------------------------------------------------------------------

    def latency(self, operation: str) -> float:
        """Seconds one `operation` takes, jittered."""
        median = self.limits.latency_ms.get(operation, 5.0) / 1000
        return median * self.rng.lognormvariate(0.0, self.limits.jitter) if self.limits.jitter else median

    def _bucket(
        self, buckets: dict[Partition, TokenBucket], partition: Partition, rate: float, now: float
    ) -> TokenBucket:
        bucket = buckets.get(partition)
        if bucket is None:
            bucket = buckets[partition] = TokenBucket(rate, now)
        return bucket

    def take_writes(self, charges: list[tuple[Partition, float]], now: float) -> bool:
        """Take every charge, or none when one partition lacks the units."""
        return self._take(self._writes, self.limits.write_units, charges, now)

    def take_reads(self, charges: list[tuple[Partition, float]], now: float) -> bool:
        """Take every read charge, or none when one partition lacks the units."""
        return self._take(self._reads, self.limits.read_units, charges, now)

    def _take(
        self, buckets: dict[Partition, TokenBucket], rate: float, charges: list[tuple[Partition, float]], now: float
    ) -> bool:
        needed: Counter[Partition] = Counter()
        for partition, units in charges:
            needed[partition] += units
        chosen = [(self._bucket(buckets, p, rate, now), units) for p, units in needed.items()]
        if any(bucket.available(now) + 1e-9 < units for bucket, units in chosen):
            return False
        for bucket, units in chosen:
            bucket.tokens -= units
        return True

    def held(self, key: ItemKey, now: float) -> bool:
        """True while a transaction that started before `now` and ends after it holds `key`."""
        return self._held.get(key, -math.inf) > now

    def hold(self, keys: list[ItemKey], until: float) -> None:
        """Hold `keys` until `until` (the end of the transaction writing them)."""
        for key in keys:
            self._held[key] = max(until, self._held.get(key, -math.inf))

    # -- requests ----------------------------------------------------------------------------------------------

    def decide(self, operation: str, body: dict[str, Any], now: float) -> Decision:
        """What DynamoDB does with `operation` (its JSON `body`) arriving at `now` (seconds)."""
        self.calls[operation] += 1
        latency = self.latency(operation)
        if operation == "TransactWriteItems":
            return self._transact_write(body, now, latency)
        if operation in WRITES:
            return self._single_write(operation, body, now, latency)
        if operation == "TransactGetItems":
            return self._transact_get(body, now, latency)
        if operation == "GetItem":
            return self._get(body, now, latency)
        if operation == "Query":
            return self._query(body, now, latency)
        if operation == "BatchGetItem":
            return self._batch_get(body, now, latency)
        return Decision(latency)

    def _transact_write(self, body: dict[str, Any], now: float, latency: float) -> Decision:
        items = []
        for entry in body["TransactItems"]:
            ((kind, spec),) = entry.items()
            items.append(self._written(kind, spec, transactional=True))
        held = [self.held(item.key, now) for item in items]
        if any(held):
            self.conflicts += 1
            reasons = ["TransactionConflict" if h else "None" for h in held]
            return self._cancelled(reasons, latency)
        charges = [charge for item in items for charge in item.charges]
        if not self.take_writes(charges, now):
            # DynamoDB cancels a transaction one of whose items (or their indexes) it cannot write now.
            self.throttles += 1
            needed: Counter[Partition] = Counter()
            for partition, units in charges:
                needed[partition] += units
            for (table, index, _), units in needed.items():
                if not self._fits([((table, index, _), units)], now):
                    self.throttled[f"TransactWriteItems {table}" + (f"/{index}" if index else "")] += 1
            reasons = ["ThrottlingError" if not self._fits(item.charges, now) else "None" for item in items]
            return self._cancelled(reasons, self.limits.refused_ms / 1000)
        units = sum(units for _, units in charges)
        self.write_units += units
        self.hold([item.key for item in items], now + latency)
        return Decision(latency, units=units)

    def _fits(self, charges: list[tuple[Partition, float]], now: float) -> bool:
        return all(self._bucket(self._writes, p, self.limits.write_units, now).available(now) >= u for p, u in charges)

    def _cancelled(self, reasons: list[str], latency: float) -> Decision:
        text = ", ".join(reasons)
        return Decision(
            latency,
            code="TransactionCanceledException",
            message=f"Transaction cancelled, please refer cancellation reasons for specific reasons [{text}]",
            reasons=reasons,
        )

    def _single_write(self, operation: str, body: dict[str, Any], now: float, latency: float) -> Decision:
        kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation]
        item = self._written(kind, body, transactional=False)
        if self.held(item.key, now):
            self.conflicts += 1
            return Decision(
                latency,
                code="TransactionConflictException",
                message="Transaction is ongoing for the item",
            )
        if not self.take_writes(item.charges, now):
            self.throttled[f"{operation} {item.key[0]}"] += 1
            return self._throttled()
        units = sum(units for _, units in item.charges)
        self.write_units += units
        return Decision(latency, units=units)

    def _throttled(self) -> Decision:
        self.throttles += 1
        return Decision(
            self.limits.refused_ms / 1000,
            code="ProvisionedThroughputExceededException",
            message="Throughput exceeds the current capacity of your table or index.",
        )

    def _transact_get(self, body: dict[str, Any], now: float, latency: float) -> Decision:
        keys, charges = [], []
        for entry in body["TransactItems"]:
            spec = entry["Get"]
            key = self._key(spec["TableName"], spec["Key"])
            keys.append(key)
            charges.append((self._partition(spec["TableName"], spec["Key"]), 2 * self._read_units(spec)))
        held = [self.held(key, now) for key in keys]
        if any(held):
            self.conflicts += 1
            return self._cancelled(["TransactionConflict" if h else "None" for h in held], latency)
        if not self.take_reads(charges, now):
            self.throttled["TransactGetItems"] += 1
            return self._throttled()
        self.read_units += sum(units for _, units in charges)
        return Decision(latency)

    def _get(self, body: dict[str, Any], now: float, latency: float) -> Decision:
        units = self._read_units(body) * (1.0 if body.get("ConsistentRead") else 0.5)
        if not self.take_reads([(self._partition(body["TableName"], body["Key"]), units)], now):
            self.throttled[f"GetItem {body['TableName']}"] += 1
            return self._throttled()
        self.read_units += units
        return Decision(latency)

    def _batch_get(self, body: dict[str, Any], now: float, latency: float) -> Decision:
        # DynamoDB reads the keys whose partitions have the units and returns the others as UnprocessedKeys; only
        # when it can read none is the request throttled.
        unprocessed: dict[str, list[dict[str, Any]]] = {}
        read = False
        for table, spec in body["RequestItems"].items():
            share = 1.0 if spec.get("ConsistentRead") else 0.5
            for key in spec["Keys"]:
                units = self._read_units({"TableName": table, "Key": key}) * share
                if self.take_reads([(self._partition(table, key), units)], now):
                    self.read_units += units
                    read = True
                else:
                    self.throttled[f"BatchGetItem {table}"] += 1
                    unprocessed.setdefault(table, []).append(key)
        if not read:
            return self._throttled()
        return Decision(latency, unprocessed=unprocessed or None)

    def _query(self, body: dict[str, Any], now: float, latency: float) -> Decision:
        # The units a Query reads depend on its answer: one read unit is taken before, the rest is not charged
        # (the booking path's queries read one small item).
        table, index = body["TableName"], body.get("IndexName", "")
        value = _query_partition_value(body, self._index_hash(table, index))
        units = 1.0 if body.get("ConsistentRead") else 0.5
        if not self.take_reads([((table, index, value), units)], now):
            self.throttled[f"Query {table}"] += 1
            return self._throttled()
        self.read_units += units
        return Decision(latency)

    # -- items -------------------------------------------------------------------------------------------------

    def _index_hash(self, table: str, index: str) -> str:
        schema = self.schemas[table]
        if not index:
            return schema.hash_key
        return next(hash_key for name, hash_key, _ in schema.indexes if name == index)

    def _key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        schema = self.schemas[table]
        names = [schema.hash_key] + ([schema.range_key] if schema.range_key else [])
        return {name: item[name] for name in names}

    def _key(self, table: str, key: dict[str, Any]) -> ItemKey:
        return (table, "|".join(f"{name}={_scalar(key[name])}" for name in sorted(key)))

    def _partition(self, table: str, key: dict[str, Any]) -> Partition:
        if self.limits.per_item:
            return (table, "", self._key(table, key)[1])
        return (table, "", _scalar(key[self.schemas[table].hash_key]))

    def _read_units(self, spec: dict[str, Any]) -> float:
        image = self.images(spec["TableName"], spec["Key"])
        size = image[0] if image else 1
        return float(math.ceil(size / READ_UNIT_BYTES))

    def _written(self, kind: str, spec: dict[str, Any], *, transactional: bool) -> Written:
        table = spec["TableName"]
        key = spec["Key"] if kind != "Put" else self._key_of(table, spec["Item"])
        image = self.images(table, key)
        before = image[1] if image else {}
        if kind == "Put":
            after = {name: _scalar(value) for name, value in spec["Item"].items()}
            size = max(item_size(spec["Item"]), image[0] if image else 0)
        elif kind == "Delete":
            after = {}
            size = image[0] if image else 1
        else:
            after = dict(before)
            size = image[0] if image else 1
        kb = max(1, math.ceil(size / KB))
        charges: list[tuple[Partition, float]] = [(self._partition(table, key), kb * (2.0 if transactional else 1.0))]
        if kind != "ConditionCheck":
            changed = _updated_attributes(spec) if kind == "Update" else None
            charges += self._index_charges(table, before, after, kb, changed)
        return Written(self._key(table, key), charges)

    def _index_charges(
        self, table: str, before: dict[str, str], after: dict[str, str], kb: int, changed: set[str] | None
    ) -> list[tuple[Partition, float]]:
        """An index copy costs 1 WCU per KB on the index partition of its key value; moving an item to another
        key value there deletes the old copy (1 more, on the old value's partition)."""
        charges: list[tuple[Partition, float]] = []
        for name, hash_key, range_key in self.schemas[table].indexes:
            keys = [hash_key] + ([range_key] if range_key else [])
            old = before if all(k in before for k in keys) else None
            new = after if all(k in after for k in keys) else None
            if changed is not None and new is None and old is not None:
                new = old  # an update leaves the item in the index unless it removes a key (not modelled)
            moved = changed is not None and any(k in changed for k in keys)
            if new is not None:
                charges.append(((table, name, new[hash_key]), float(kb)))
            if old is not None and (new is None or moved or old[hash_key] != new[hash_key]):
                charges.append(((table, name, old[hash_key]), float(kb)))
        return charges


def _updated_attributes(spec: dict[str, Any]) -> set[str]:
    """The attributes an UpdateExpression sets or removes (by their #name placeholders)."""
    names = spec.get("ExpressionAttributeNames", {})
    expression = spec.get("UpdateExpression", "")
    return {names.get(token, token) for token in re.findall(r"#[\w]+|\b[a-zA-Z_][\w]*\b", expression)}


def _query_partition_value(body: dict[str, Any], hash_key: str) -> str:
    names = body.get("ExpressionAttributeNames", {})
    values = body.get("ExpressionAttributeValues", {})
    for name, value in re.findall(r"(#?[\w]+)\s*=\s*(:[\w]+)", body.get("KeyConditionExpression", "")):
        if names.get(name, name) == hash_key and value in values:
            return _scalar(values[value])
    return "?"


def _scalar(value: dict[str, Any]) -> str:
    ((_, inner),) = value.items()
    return str(inner)


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, near enough: attribute names plus values (numbers as their text)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind in ("S", "N", "B"):
        return len(str(inner).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    return 3 + sum(len(str(v).encode()) for v in inner)
