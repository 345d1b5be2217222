"""Suite files: `expectations/<suite>.json`, read and checked without importing GX.

A file is a Great Expectations 1.x suite (`name`, `expectations`, `meta`) that GX loads as is;
LedgerLink reads its own settings from the `meta` blocks:

suite `meta`
    `asset`            Dagster asset key the check is attached to, e.g. ["staging", "sf_opportunity"]
    `source`           what is validated: {"table": "staging.sf_opportunity"} (live rows, i.e.
                       `_deleted` false when the table has that column) or
                       {"sql": "quality/invoice_line_totals.sql"} (a query under sql/)
    `key`              column(s) identifying a row of the source, shown with examples
    `blocking`         true: an ERROR from this check stops the assets downstream of `asset`
    `additional_deps`  other asset keys the source reads (cross-table suites)
    `description`      one line for people

expectation `meta`
    `name`             stable identity (results and quarantine rows refer to it)
    `description`      the reason a person reads in reports and in `sync.quarantine.reason`
    `quarantine`       present = row-level: {"table": "staging.sf_opportunity", "key": "id"}
                       holds back that table's record whose id is in column `key` of the
                       source; optional `max_percent` / `max_rows`: above either, the failure is
                       about the table, not single rows, and counts as table-level.

`{"$PARAMETER": "<name>"}` values come from `expectations/_parameters.json` (reference lists such
as the ISO 4217 codes) or from the run (`run_date`, the date of the run).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ledgerlink import paths
from ledgerlink.db import ConfigurationError

PARAMETERS_FILE = "_parameters.json"
RUNTIME_PARAMETERS = frozenset({"run_date"})
SEVERITIES = ("critical", "warning", "info")
DEFAULT_MAX_ROWS = 100_000

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RELATION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
# Expectations GX evaluates row by row and whose failing rows it names on SQL sources
# (unexpected_index_list). Multicolumn ones (compound uniqueness) count but do not name them.
_ROW_LEVEL_PREFIXES = ("expect_column_values_", "expect_column_value_", "expect_column_pair_values_")


@dataclass(frozen=True)
class QuarantineRule:
    table: str  # the table whose record is held back
    key: str  # the source column holding that record's id
    max_percent: float | None = None
    max_rows: int = DEFAULT_MAX_ROWS


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite."""

    name: str
    type: str
    kwargs: dict
    severity: str
    description: str
    quarantine: QuarantineRule | None
    config: dict  # the expectation's JSON, handed to GX

    @property
    def level(self) -> str:
        return "row" if self.quarantine else "table"

    @property
    def column(self) -> str | None:
        kw = self.kwargs
        if "column" in kw:
            return kw["column"]
        if "column_A" in kw:
            return f"{kw['column_A']}, {kw['column_B']}"
        if "column_list" in kw:
            return ", ".join(kw["column_list"])
        return None

    @property
    def columns(self) -> tuple[str, ...]:
        kw = self.kwargs
        if "column" in kw:
            return (kw["column"],)
        if "column_A" in kw:
            return (kw["column_A"], kw["column_B"])
        return tuple(kw.get("column_list", ()))


@dataclass(frozen=True)
class Source:
    table: str | None = None
    sql: str | None = None

    def describe(self) -> str:
        return self.table or f"sql/{self.sql}"


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    asset_key: tuple[str, ...]
    source: Source
    key: tuple[str, ...]
    blocking: bool
    description: str
    rules: tuple[Rule, ...]
    additional_deps: tuple[tuple[str, ...], ...] = ()
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def check_name(self) -> str:
        return f"gx_{self.name}"

    @property
    def asset_path(self) -> str:
        return "/".join(self.asset_key)

    @property
    def index_columns(self) -> tuple[str, ...]:
        """Columns GX reports for each failing row: the key, then every quarantine key."""
        cols = list(self.key)
        for rule in self.rules:
            if rule.quarantine and rule.quarantine.key not in cols:
                cols.append(rule.quarantine.key)
        return tuple(cols)

    @property
    def columns(self) -> set[str]:
        """Every column the suite names: keys, checked columns, columns in row conditions."""
        names = set(self.index_columns)
        for rule in self.rules:
            names |= set(rule.columns) | _condition_columns(rule.kwargs.get("row_condition"))
        return names

    def rule(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)

    def gx_json(self, rules: tuple[Rule, ...] | None = None) -> dict:
        """The suite as GX reads it, optionally with only some of its expectations."""
        chosen = self.rules if rules is None else rules
        return {"name": self.name, "meta": self.meta, "expectations": [r.config for r in chosen]}


def _condition_columns(value: Any) -> set[str]:
    """Columns a GX 1.x row condition refers to ({"column": {"name": ...}} at any depth)."""
    if isinstance(value, dict):
        found = {value["column"]["name"]} if isinstance(value.get("column"), dict) else set()
        return found.union(*(_condition_columns(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_condition_columns(v) for v in value)) if value else set()
    return set()


def _fail(path: Path, where: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{path}: {where}: {problem}")


def _asset_key(path: Path, where: str, value: Any) -> tuple[str, ...]:
    if not (isinstance(value, list) and value and all(isinstance(p, str) and _NAME.match(p) for p in value)):
        raise _fail(path, where, f"expected an asset key such as [\"staging\", \"sf_opportunity\"], got {value!r}")
    return tuple(value)


def _parameter_refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {value["$PARAMETER"]}
        return set().union(*(_parameter_refs(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_parameter_refs(v) for v in value)) if value else set()
    return set()


def _quarantine(path: Path, where: str, value: Any) -> QuarantineRule:
    if not isinstance(value, dict) or not {"table", "key"} <= set(value):
        raise _fail(path, where, 'expected {"table": "<schema>.<table>", "key": "<column>"}')
    unknown = set(value) - {"table", "key", "max_percent", "max_rows"}
    if unknown:
        raise _fail(path, where, f"unknown setting(s) {sorted(unknown)}")
    if not _RELATION.match(str(value["table"])):
        raise _fail(path, f"{where}.table", f"expected <schema>.<table>, got {value['table']!r}")
    max_percent = value.get("max_percent")
    if max_percent is not None and not (isinstance(max_percent, int | float) and 0 <= max_percent <= 100):
        raise _fail(path, f"{where}.max_percent", f"expected a number from 0 to 100, got {max_percent!r}")
    max_rows = value.get("max_rows", DEFAULT_MAX_ROWS)
    if not (isinstance(max_rows, int) and max_rows >= 1):
        raise _fail(path, f"{where}.max_rows", f"expected a positive integer, got {max_rows!r}")
    return QuarantineRule(str(value["table"]), str(value["key"]), max_percent, max_rows)


def _default_name(etype: str, kwargs: dict) -> str:
    label = Rule("", etype, kwargs, "", "", None, {}).column
    return f"{etype.removeprefix('expect_')}({label})" if label else etype.removeprefix("expect_")


def _rule(path: Path, index: int, raw: Any) -> Rule:
    where = f"expectations[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise _fail(path, where, 'expected {"type": "expect_...", "kwargs": {...}}')
    etype = raw["type"]
    kwargs = raw.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise _fail(path, f"{where}.kwargs", "expected an object")
    severity = raw.get("severity", "critical")  # GX's own default
    if severity not in SEVERITIES:
        raise _fail(path, f"{where}.severity", f"expected one of {', '.join(SEVERITIES)}, got {severity!r}")
    meta = raw.get("meta") or {}
    if not isinstance(meta, dict):
        raise _fail(path, f"{where}.meta", "expected an object")
    name = meta.get("name") or _default_name(etype, kwargs)
    quarantine = None
    if "quarantine" in meta:
        if not etype.startswith(_ROW_LEVEL_PREFIXES):
            raise _fail(
                path, f"{where}.meta.quarantine",
                f"{etype} judges the table as a whole, so it has no failing rows to quarantine",
            )
        quarantine = _quarantine(path, f"{where}.meta.quarantine", meta["quarantine"])
    description = meta.get("description") or name
    config = {**raw, "kwargs": kwargs, "severity": severity, "meta": {**meta, "name": name}}
    return Rule(name, etype, kwargs, severity, description, quarantine, config)


def load_suite(path: Path, parameters: dict | None = None) -> Suite:
    """Read and check one suite file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{path}: not a readable JSON suite: {exc}") from None
    if not isinstance(data, dict):
        raise _fail(path, "top level", "expected an object with name, expectations and meta")
    name = data.get("name")
    if name != path.stem or not _NAME.match(str(name)):
        raise _fail(path, "name", f"must equal the file name {path.stem!r} and be lower_snake_case, got {name!r}")
    meta = data.get("meta") or {}
    asset_key = _asset_key(path, "meta.asset", meta.get("asset"))
    raw_source = meta.get("source")
    if not isinstance(raw_source, dict) or len(raw_source) != 1 or not ({"table", "sql"} & set(raw_source)):
        raise _fail(path, "meta.source", 'expected {"table": "<schema>.<table>"} or {"sql": "quality/<file>.sql"}')
    if "table" in raw_source:
        if not _RELATION.match(str(raw_source["table"])):
            raise _fail(path, "meta.source.table", f"expected <schema>.<table>, got {raw_source['table']!r}")
        source = Source(table=raw_source["table"])
    else:
        sql_path = paths.SQL_DIR / str(raw_source["sql"])
        if not sql_path.is_file():
            raise _fail(path, "meta.source.sql", f"{sql_path} does not exist")
        source = Source(sql=str(raw_source["sql"]))
    key = meta.get("key", "id")
    key = (key,) if isinstance(key, str) else tuple(key) if isinstance(key, list) else ()
    if not key or not all(isinstance(k, str) and k for k in key):
        raise _fail(path, "meta.key", "expected a column name or a list of column names")
    blocking = meta.get("blocking", False)
    if not isinstance(blocking, bool):
        raise _fail(path, "meta.blocking", f"expected true or false, got {blocking!r}")
    deps = tuple(_asset_key(path, f"meta.additional_deps[{i}]", d) for i, d in enumerate(meta.get("additional_deps", [])))
    raw_rules = data.get("expectations")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise _fail(path, "expectations", "expected a non-empty list")
    rules = tuple(_rule(path, i, r) for i, r in enumerate(raw_rules))
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(path, "expectations", f"names {duplicates} are used twice; give each a distinct meta.name")
    known = RUNTIME_PARAMETERS | set(parameters or {})
    for index, rule in enumerate(rules):
        missing = _parameter_refs(rule.kwargs) - known
        if missing:
            raise _fail(
                path, f"expectations[{index}].kwargs",
                f"unknown $PARAMETER {sorted(missing)}; define it in expectations/{PARAMETERS_FILE}",
            )
    return Suite(
        name=name,
        path=path,
        asset_key=asset_key,
        source=source,
        key=key,
        blocking=blocking,
        description=str(meta.get("description") or f"Great Expectations suite {name}"),
        rules=rules,
        additional_deps=deps,
        meta=meta,
    )


def load_parameters(directory: Path = paths.EXPECTATIONS_DIR) -> dict:
    path = directory / PARAMETERS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"{path}: not readable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected an object of parameter name -> value")
    reserved = RUNTIME_PARAMETERS & set(data)
    if reserved:
        raise ConfigurationError(f"{path}: {sorted(reserved)} are set by the run; remove them from the file")
    return data


def load_suites(directory: Path = paths.EXPECTATIONS_DIR) -> list[Suite]:
    """Every suite in the folder (files starting with `_` are not suites), sorted by name."""
    parameters = load_parameters(directory)
    return [load_suite(p, parameters) for p in sorted(directory.glob("*.json")) if not p.name.startswith("_")]


@lru_cache(maxsize=1)
def default_suites() -> tuple[Suite, ...]:
    return tuple(load_suites())


def suite_by_name(name: str, directory: Path = paths.EXPECTATIONS_DIR) -> Suite:
    path = directory / f"{name}.json"
    if not path.exists():
        known = ", ".join(s.name for s in load_suites(directory))
        raise ConfigurationError(f"No suite {name!r} in {directory} (known: {known})")
    return load_suite(path, load_parameters(directory))
