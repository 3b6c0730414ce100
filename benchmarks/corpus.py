"""Seeded, deterministic generator of a realistic ERP-domain SQL corpus for benchmarks.

The corpus models a bronze -> silver -> gold warehouse over an ERP domain (customers,
orders, order_items, products, locations, invoices, payments, suppliers, ...):

* bronze tables are raw extracts per source system (``bronze.erp_cust_az12``,
  ``bronze.crm_cust_info``, ...) with terse raw column names and mostly string types;
* silver holds one cleaned table per bronze table (same name, clean names and types) and
  one conformed table per entity (``silver.customers``);
* gold holds dimensions and facts (``gold.dim_customers``, ``gold.fact_orders``).

Statements cover dbt-like compiled staging models, CTE chains, wide selects, multi-way
joins, aggregates, window functions, UNION ALL, INSERT ... SELECT with column lists,
CREATE TABLE AS and MERGE. :func:`generate_corpus` also returns a schema (``{"db.schema.table":
{column: type}}``) covering every table a statement reads or writes into, so "with schema"
runs have full schemas.

Everything is derived from ``random.Random`` seeded with strings, so a seed gives the same
corpus on every run and platform.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

DEFAULT_SEED = 20240601
DEFAULT_DIALECT = "redshift"
DEFAULT_DATABASE = "dev"
DEFAULT_SCHEMA = "public"
SUPPORTED_DIALECTS = ("redshift", "postgres", "snowflake", "duckdb", "databricks", "bigquery")

STATEMENT_KINDS = (
    "dbt_staging",
    "cte_chain",
    "wide_select",
    "join_select",
    "aggregate",
    "window",
    "union_all",
    "insert_select",
    "ctas",
    "merge",
)

DEFAULT_MIX: dict[str, float] = {
    "dbt_staging": 0.15,
    "cte_chain": 0.14,
    "wide_select": 0.09,
    "join_select": 0.09,
    "aggregate": 0.12,
    "window": 0.08,
    "union_all": 0.06,
    "insert_select": 0.13,
    "ctas": 0.07,
    "merge": 0.07,
}

# --------------------------------------------------------------------------------------
# Domain model
# --------------------------------------------------------------------------------------

# kind: str | int | bigint | dec | date | ts | bool
# role: id | fk | key | attr | code | measure | date | flag | audit


@dataclass(frozen=True)
class Col:
    name: str
    kind: str
    role: str = "attr"
    size: int | None = None
    code_map: str | None = None


@dataclass(frozen=True)
class Entity:
    name: str
    singular: str
    alias: str
    abbr: str
    pk: str
    fks: tuple[str, ...]
    core: tuple[Col, ...]
    fact: bool


@dataclass(frozen=True)
class RawCol:
    """A bronze column and how the staging layer turns it into a clean silver column."""

    raw: Col
    clean: Col
    how: str


@dataclass
class Table:
    schema: str
    name: str
    cols: list[Col]
    entity: Entity
    system: str | None = None
    raw_cols: list[RawCol] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    def col(self, name: str) -> Col | None:
        for c in self.cols:
            if c.name == name:
                return c
        return None


CODE_MAPS: dict[str, tuple[tuple[str, str], ...]] = {
    "gender": (("M", "Male"), ("F", "Female")),
    "marital": (("S", "Single"), ("M", "Married"), ("D", "Divorced")),
    "segment": (("C", "Consumer"), ("B", "Business"), ("G", "Government")),
    "order_status": (("O", "Open"), ("S", "Shipped"), ("C", "Closed"), ("X", "Cancelled")),
    "product_line": (("M", "Mountain"), ("R", "Road"), ("S", "Other Sales"), ("T", "Touring")),
    "invoice_status": (("D", "Draft"), ("P", "Posted"), ("V", "Void")),
    "payment_method": (
        ("CC", "Credit Card"),
        ("WT", "Wire Transfer"),
        ("CH", "Cheque"),
        ("DD", "Direct Debit"),
    ),
    "supplier_type": (("MFG", "Manufacturer"), ("DST", "Distributor"), ("SVC", "Service")),
    "po_status": (("N", "New"), ("A", "Approved"), ("R", "Received"), ("X", "Cancelled")),
    "warehouse_type": (("DC", "Distribution Center"), ("ST", "Store"), ("3PL", "Third Party")),
    "shipment_status": (("P", "Pending"), ("T", "In Transit"), ("D", "Delivered")),
    "return_reason": (("DMG", "Damaged"), ("WRG", "Wrong Item"), ("LATE", "Late Delivery")),
    "entry_type": (("DR", "Debit"), ("CR", "Credit")),
    "account_type": (("A", "Asset"), ("L", "Liability"), ("E", "Expense"), ("R", "Revenue")),
}


def _cols(spec: str) -> tuple[Col, ...]:
    """Parse ``name:kind[:size|:code_map]`` items separated by whitespace."""
    out: list[Col] = []
    for item in spec.split():
        parts = item.split(":")
        name, kind = parts[0], parts[1]
        if kind == "code":
            out.append(Col(name, "str", "code", 30, parts[2]))
            continue
        size = int(parts[2]) if len(parts) > 2 else None
        role = {
            "dec": "measure",
            "int": "measure",
            "date": "date",
            "ts": "date",
            "bool": "flag",
        }.get(kind, "attr")
        out.append(Col(name, kind, role, size))
    return tuple(out)


# fmt: off
_ENTITY_SPECS: tuple[tuple[str, str, str, str, tuple[str, ...], str, bool], ...] = (
    (
        "customers", "customer", "c", "cust", ("location_id", "employee_id"),
        "customer_number:str:20 first_name:str:50 last_name:str:50 gender:code:gender "
        "marital_status:code:marital birth_date:date email:str:120 phone:str:30 "
        "customer_segment:code:segment credit_limit:dec country:str:50 created_date:date "
        "is_active:bool",
        False,
    ),
    (
        "orders", "order", "o", "ord", ("customer_id", "employee_id", "warehouse_id"),
        "order_number:str:20 order_date:date ship_date:date due_date:date "
        "order_status:code:order_status sales_channel:str:30 currency_code:str:3 "
        "order_total:dec discount_amount:dec tax_amount:dec freight_amount:dec",
        True,
    ),
    (
        "order_items", "order_item", "oi", "ord_itm", ("order_id", "product_id"),
        "line_number:int quantity:int unit_price:dec discount_pct:dec line_amount:dec "
        "cost_amount:dec promised_date:date",
        True,
    ),
    (
        "products", "product", "p", "prd", ("category_id", "supplier_id"),
        "product_key:str:30 product_name:str:100 product_line:code:product_line "
        "product_cost:dec list_price:dec start_date:date end_date:date subcategory:str:50 "
        "maintenance_flag:bool weight_kg:dec color:str:20",
        False,
    ),
    (
        "product_categories", "category", "pc", "px_cat", (),
        "category_name:str:50 subcategory_name:str:50 maintenance:bool",
        False,
    ),
    (
        "locations", "location", "l", "loc", (),
        "country:str:50 region:str:50 city:str:60 postal_code:str:20 address_line1:str:100 "
        "latitude:dec longitude:dec timezone:str:40",
        False,
    ),
    (
        "invoices", "invoice", "i", "inv", ("order_id", "customer_id"),
        "invoice_number:str:20 invoice_date:date due_date:date "
        "invoice_status:code:invoice_status amount_net:dec amount_tax:dec amount_gross:dec "
        "currency_code:str:3 payment_terms:str:20",
        True,
    ),
    (
        "invoice_lines", "invoice_line", "il", "inv_ln", ("invoice_id", "product_id", "account_id"),
        "line_number:int quantity:int unit_price:dec line_net:dec line_tax:dec",
        True,
    ),
    (
        "payments", "payment", "pay", "pmt", ("invoice_id", "customer_id"),
        "payment_date:date payment_method:code:payment_method amount:dec currency_code:str:3 "
        "bank_reference:str:40",
        True,
    ),
    (
        "suppliers", "supplier", "s", "sup", ("location_id",),
        "supplier_name:str:100 supplier_type:code:supplier_type payment_terms:str:20 "
        "rating:int is_preferred:bool onboarded_date:date",
        False,
    ),
    (
        "purchase_orders", "purchase_order", "po", "po", ("supplier_id", "warehouse_id"),
        "po_number:str:20 po_date:date expected_date:date po_status:code:po_status "
        "total_amount:dec",
        True,
    ),
    (
        "inventory", "inventory_snapshot", "inv", "stock", ("product_id", "warehouse_id"),
        "snapshot_date:date on_hand_qty:int reserved_qty:int reorder_point:int unit_cost:dec",
        True,
    ),
    (
        "warehouses", "warehouse", "w", "whs", ("location_id",),
        "warehouse_name:str:60 warehouse_type:code:warehouse_type capacity_units:int "
        "opened_date:date",
        False,
    ),
    (
        "shipments", "shipment", "sh", "shp", ("order_id", "warehouse_id"),
        "tracking_number:str:40 carrier:str:40 ship_date:date delivered_date:date "
        "shipment_status:code:shipment_status freight_cost:dec weight_kg:dec",
        True,
    ),
    (
        "employees", "employee", "e", "emp", ("department_id", "location_id"),
        "first_name:str:50 last_name:str:50 gender:code:gender hire_date:date job_title:str:80 "
        "salary:dec is_active:bool",
        False,
    ),
    (
        "departments", "department", "d", "dept", (),
        "department_name:str:60 cost_center:str:20",
        False,
    ),
    (
        "returns", "return", "r", "rtn", ("order_item_id", "customer_id"),
        "return_date:date return_reason:code:return_reason quantity:int refund_amount:dec",
        True,
    ),
    (
        "gl_entries", "gl_entry", "gl", "gl", ("invoice_id", "account_id"),
        "posting_date:date fiscal_period:int debit_amount:dec credit_amount:dec "
        "entry_type:code:entry_type",
        True,
    ),
    (
        "accounts", "account", "a", "acct", (),
        "account_number:str:20 account_name:str:100 account_type:code:account_type",
        False,
    ),
)
# fmt: on

ENTITIES: tuple[Entity, ...] = tuple(
    Entity(
        name=name,
        singular=singular,
        alias=alias,
        abbr=abbr,
        pk=f"{singular}_id",
        fks=fks,
        core=_cols(core),
        fact=fact,
    )
    for name, singular, alias, abbr, fks, core, fact in _ENTITY_SPECS
)
ENTITY_BY_PK: dict[str, Entity] = {e.pk: e for e in ENTITIES}

# fmt: off
_EXTRA_QUALIFIERS = (
    "billing", "shipping", "legal", "contact", "primary", "secondary", "last", "first",
    "prev", "net", "gross", "promo", "approved", "posted", "external", "internal",
    "partner", "budget", "forecast", "actual", "planned", "regional", "local", "group",
)
_EXTRA_BASES: tuple[tuple[str, str, int | None], ...] = (
    ("address_line1", "str", 100), ("address_line2", "str", 100), ("city", "str", 60),
    ("postal_code", "str", 20), ("country_code", "str", 3), ("region_code", "str", 10),
    ("phone", "str", 30), ("email", "str", 120), ("amount", "dec", None), ("qty", "int", None),
    ("date", "date", None), ("ts", "ts", None), ("status", "str", 20), ("code", "str", 10),
    ("name", "str", 100), ("flag", "bool", None), ("rate", "dec", None), ("pct", "dec", None),
    ("ref", "str", 40), ("note", "str", 255), ("count", "int", None), ("user", "str", 50),
)

_AUDIT_SILVER = (
    Col("dwh_load_ts", "ts", "audit"),
    Col("dwh_batch_id", "bigint", "audit"),
    Col("source_system", "str", "audit", 10),
)
_COMPANY = Col("company_code", "str", "key", 10)

_ABBR: dict[str, str] = {
    "customer": "cust", "number": "num", "first": "frst", "last": "lst", "name": "nm",
    "gender": "gndr", "marital": "mrtl", "status": "stat", "birth": "brth", "date": "dt",
    "email": "eml", "phone": "ph", "segment": "seg", "credit": "crd", "limit": "lmt",
    "country": "cntry", "created": "crt", "active": "actv", "order": "ord", "ship": "shp",
    "sales": "sls", "channel": "chnl", "currency": "cur", "code": "cd", "total": "tot",
    "discount": "disc", "tax": "tx", "freight": "frt", "amount": "amt", "item": "itm",
    "line": "ln", "quantity": "qty", "unit": "unt", "price": "prc", "cost": "cst",
    "promised": "prm", "product": "prd", "category": "cat", "subcategory": "subcat",
    "maintenance": "maint", "flag": "flg", "weight": "wt", "color": "clr", "location": "loc",
    "region": "rgn", "city": "cty", "postal": "pst", "address": "addr", "latitude": "lat",
    "longitude": "lon", "timezone": "tz", "invoice": "inv", "gross": "grs", "payment": "pmt",
    "terms": "trms", "method": "mthd", "bank": "bnk", "reference": "ref", "supplier": "sup",
    "type": "typ", "rating": "rtg", "preferred": "pref", "onboarded": "onb",
    "purchase": "pur", "expected": "exp", "inventory": "inv", "snapshot": "snap",
    "hand": "hnd", "reserved": "rsv", "reorder": "reord", "point": "pt", "warehouse": "whs",
    "capacity": "cap", "units": "un", "opened": "opn", "shipment": "shpmt",
    "tracking": "trk", "carrier": "carr", "delivered": "dlv", "employee": "emp",
    "title": "ttl", "salary": "sal", "department": "dept", "center": "ctr", "return": "ret",
    "reason": "rsn", "refund": "rfnd", "entry": "ent", "posting": "pstg", "fiscal": "fsc",
    "period": "per", "debit": "dr", "account": "acct", "company": "comp", "billing": "bill",
    "shipping": "shpg", "contact": "cntct", "primary": "prim", "secondary": "sec",
    "external": "ext", "internal": "int", "partner": "prtnr", "budget": "bdgt",
    "forecast": "fcst", "actual": "act", "planned": "pln", "regional": "rgnl", "group": "grp",
    "approved": "appr", "posted": "pstd", "previous": "prev", "note": "nt", "count": "cnt",
    "user": "usr", "rate": "rt", "legal": "lgl", "local": "lcl", "promo": "prmo",
    "net": "net", "qty": "qty", "pct": "pct", "ref": "ref",
}

_SQL_RESERVED = {
    "as", "at", "by", "do", "if", "in", "is", "of", "on", "or", "to", "all", "and", "any",
    "end", "for", "not", "set", "int", "key", "row", "use", "asc", "desc", "case", "cast",
    "date", "from", "into", "join", "left", "like", "null", "over", "then", "true", "when",
    "with", "false", "group", "inner", "order", "right", "table", "union", "where", "select",
    "limit", "offset", "values", "window", "user", "time", "timestamp", "current", "merge",
    "using", "update", "insert", "delete", "create", "between", "partition", "rows", "range",
    "primary", "default", "check", "unique", "foreign", "references", "else", "exists",
}

# fmt: on


def _abbr(word: str) -> str:
    return _ABBR.get(word, word[:4])


def _raw_name(clean: str, style: str, prefix: str) -> str:
    words = clean.split("_")
    if style == "plain":
        return clean
    if style == "prefixed":
        # crm_cust_info style: cst_firstname, cst_marital_status, cst_gndr
        body = "".join(words) if len(words) <= 2 else "_".join(words)
        return f"{prefix}_{body}"
    if style == "terse":
        # erp_cust_az12 style: cid, bdate, gen
        if len(words) == 1:
            return _abbr(words[0])
        last = words[-1] if len(words[-1]) <= 5 else _abbr(words[-1])
        return "".join(w[0] for w in words[:-1]) + last
    return "_".join(_abbr(w) for w in words)


# --------------------------------------------------------------------------------------
# Dialect rendering
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dialect:
    name: str

    @property
    def double_colon(self) -> bool:
        return self.name in ("redshift", "postgres", "snowflake", "duckdb")

    def type_of(self, col: Col) -> str:
        k, n = col.kind, self.name
        if n == "bigquery":
            return {
                "str": "string",
                "int": "int64",
                "bigint": "int64",
                "dec": "numeric",
                "date": "date",
                "ts": "timestamp",
                "bool": "bool",
            }[k]
        if n == "databricks":
            return {
                "str": "string",
                "int": "int",
                "bigint": "bigint",
                "dec": "decimal(18,2)",
                "date": "date",
                "ts": "timestamp",
                "bool": "boolean",
            }[k]
        if k == "str":
            return f"varchar({col.size or 256})" if n != "duckdb" else "varchar"
        return {
            "int": "integer",
            "bigint": "bigint",
            "dec": "decimal(18,2)" if n == "duckdb" else "numeric(18,2)",
            "date": "date",
            "ts": "timestamp_ntz" if n == "snowflake" else "timestamp",
            "bool": "boolean",
        }[k]

    def quote(self, ident: str) -> str:
        if self.name in ("bigquery", "databricks"):
            return f"`{ident}`"
        if self.name == "snowflake":
            return ident  # quoted lower-case would be case-sensitive in Snowflake
        return f'"{ident}"'

    def now(self, rng: random.Random) -> str:
        if self.name == "redshift" and rng.random() < 0.5:
            return "getdate()"
        if self.name in ("bigquery", "databricks"):
            return "current_timestamp()"
        return "current_timestamp"

    def length(self, expr: str, rng: random.Random) -> str:
        fn = "len" if self.name == "redshift" and rng.random() < 0.6 else "length"
        return f"{fn}({expr})"

    def substring(self, expr: str, start: int, length: str) -> str:
        fn = "substr" if self.name == "bigquery" else "substring"
        return f"{fn}({expr}, {start}, {length})"

    def try_cast(self, expr: str, typ: str) -> str:
        fn = "safe_cast" if self.name == "bigquery" else "try_cast"
        return f"{fn}({expr} as {typ})"

    def date_trunc(self, unit: str, expr: str) -> str:
        if self.name == "bigquery":
            return f"date_trunc({expr}, {unit})"
        return f"date_trunc('{unit}', {expr})"

    def date_diff_days(self, start: str, end: str) -> str:
        if self.name in ("redshift", "snowflake"):
            return f"datediff(day, {start}, {end})"
        if self.name == "databricks":
            return f"datediff({end}, {start})"
        if self.name == "duckdb":
            return f"date_diff('day', {start}, {end})"
        if self.name == "bigquery":
            return f"date_diff({end}, {start}, day)"
        return f"({end} - {start})"

    def days_ago(self, days: int, rng: random.Random) -> str:
        if self.name in ("redshift", "snowflake"):
            return f"dateadd(day, -{days}, {self.now(rng)})"
        if self.name == "bigquery":
            return f"timestamp_sub(current_timestamp(), interval {days} day)"
        if self.name == "databricks":
            return f"current_timestamp() - interval {days} days"
        return f"current_timestamp - interval '{days} days'"


# --------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sql: str
    kind: str


@dataclass(frozen=True)
class Corpus:
    dialect: str
    seed: int
    statements: tuple[Statement, ...]
    warmup: tuple[Statement, ...]
    schema: dict[str, dict[str, str]]
    default_database: str = DEFAULT_DATABASE
    default_schema: str = DEFAULT_SCHEMA

    @property
    def sqls(self) -> list[str]:
        return [s.sql for s in self.statements]

    @property
    def unique_count(self) -> int:
        return len({s.sql for s in self.statements})

    def kind_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATEMENT_KINDS, 0)
        for s in self.statements:
            counts[s.kind] += 1
        return counts


_KEYWORDS = (
    "select",
    "from",
    "where",
    "as",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "case",
    "when",
    "then",
    "else",
    "end",
    "left",
    "inner",
    "join",
    "on",
    "group",
    "by",
    "order",
    "having",
    "with",
    "union",
    "all",
    "insert",
    "into",
    "create",
    "table",
    "view",
    "merge",
    "using",
    "matched",
    "update",
    "set",
    "values",
    "over",
    "partition",
    "rows",
    "between",
    "unbounded",
    "preceding",
    "current",
    "row",
    "distinct",
    "cast",
    "desc",
    "asc",
    "like",
    "true",
    "false",
    "interval",
    "date",
    "limit",
    "extract",
    "replace",
    "or",
)
_KEYWORD_RE = re.compile(
    r"'(?:[^']|'')*'|\"[^\"]*\"|`[^`]*`|\b(" + "|".join(sorted(set(_KEYWORDS))) + r")\b"
)


def _required(col: Col) -> bool:
    return col.role in ("id", "key")


def _upper_keywords(sql: str) -> str:
    return _KEYWORD_RE.sub(lambda m: m.group(1).upper() if m.group(1) else m.group(0), sql)


class _Generator:
    def __init__(self, dialect: str, seed: int) -> None:
        if dialect not in SUPPORTED_DIALECTS:
            raise ValueError(f"unsupported dialect {dialect!r}; pick one of {SUPPORTED_DIALECTS}")
        self.d = _Dialect(dialect)
        self.db = DEFAULT_DATABASE
        self.tables: dict[str, Table] = {}
        self.conformed: dict[str, Table] = {}
        self.bronze_by_entity: dict[str, list[Table]] = {}
        self.silver_by_entity: dict[str, list[Table]] = {}
        self.gold: dict[str, Table] = {}
        self._build_catalog(random.Random(f"silverline-corpus-catalog-{seed}"))

    # ---------------------------------------------------------------- catalog
    def _build_catalog(self, rng: random.Random) -> None:
        quals = list(_EXTRA_QUALIFIERS)
        systems = ["erp", "crm", "wms", "fin", "hr", "pos", "sap", "ecom"]
        for ent in ENTITIES:
            core_names = {c.name for c in ent.core}
            extras: list[Col] = []
            want = rng.randint(20, 75)
            pairs = [(q, b) for q in quals for b in _EXTRA_BASES]
            rng.shuffle(pairs)
            for q, (base, kind, size) in pairs:
                if len(extras) >= want:
                    break
                name = f"{q}_{base}"
                if name in core_names:
                    continue
                role = {"dec": "measure", "int": "measure", "date": "date", "ts": "date"}.get(
                    kind, "flag" if kind == "bool" else "attr"
                )
                extras.append(Col(name, kind, role, size))
            canonical = [
                Col(ent.pk, "str", "id", 50),
                _COMPANY,
                *(Col(fk, "str", "fk", 50) for fk in ent.fks),
                *ent.core,
                *extras,
            ]
            conformed = Table("silver", ent.name, [*canonical, *_AUDIT_SILVER], ent)
            self._add(conformed)
            self.conformed[ent.name] = conformed

            # gold dimension / fact
            gname = f"fact_{ent.name}" if ent.fact else f"dim_{ent.name}"
            gold = Table(
                "gold",
                gname,
                [Col(f"{ent.singular}_key", "bigint", "key"), *canonical, _AUDIT_SILVER[0]],
                ent,
            )
            self._add(gold)
            self.gold[ent.name] = gold

            # bronze extracts + their cleaned silver copies
            forced = {
                "customers": ["erp", "crm"],
                "products": ["crm", "erp"],
                "orders": ["crm", "erp"],
                "locations": ["erp", "wms"],
                "product_categories": ["erp", "pos"],
            }.get(ent.name)
            if forced is None:
                chosen = rng.sample(systems, rng.randint(2, 3))
            else:
                chosen = forced + [s for s in rng.sample(systems, 3) if s not in forced][:1]
            self.bronze_by_entity[ent.name] = []
            self.silver_by_entity[ent.name] = []
            for system in chosen:
                bronze, silver = self._bronze_table(rng, ent, system, canonical)
                self._add(bronze)
                self._add(silver)
                self.bronze_by_entity[ent.name].append(bronze)
                self.silver_by_entity[ent.name].append(silver)

    def _add(self, table: Table) -> None:
        self.tables[table.key] = table

    def _bronze_table(
        self, rng: random.Random, ent: Entity, system: str, canonical: list[Col]
    ) -> tuple[Table, Table]:
        special = {
            ("customers", "erp"): ("erp_cust_az12", "terse"),
            ("customers", "crm"): ("crm_cust_info", "prefixed"),
            ("products", "crm"): ("crm_prd_info", "prefixed"),
            ("orders", "crm"): ("crm_sales_details", "prefixed"),
            ("locations", "erp"): ("erp_loc_a101", "terse"),
            ("product_categories", "erp"): ("erp_px_cat_g1v2", "terse"),
        }
        overrides = {
            "erp_cust_az12": {"customer_id": "cid", "birth_date": "bdate", "gender": "gen"},
            "erp_loc_a101": {"location_id": "cid", "country": "cntry"},
            "erp_px_cat_g1v2": {
                "category_id": "id",
                "category_name": "cat",
                "subcategory_name": "subcat",
            },
        }
        prefixes = {"customers": "cst", "products": "prd", "orders": "sls"}
        if (ent.name, system) in special:
            name, style = special[(ent.name, system)]
        else:
            code = rng.choice(
                [
                    f"{rng.choice('abcdefghkmnprstuvxz')}{rng.randint(100, 999)}",
                    f"{rng.choice('abcdefghkmnprstuvxz')}{rng.choice('abcdefghkmnprstuvxz')}"
                    f"{rng.randint(10, 99)}",
                    rng.choice(["info", "details", "master", "hdr", "dtl", "ext"]),
                ]
            )
            name = f"{system}_{ent.abbr}_{code}"
            style = rng.choice(["terse", "abbrev", "abbrev", "plain", "prefixed"])
        prefix = prefixes.get(ent.name, ent.abbr.split("_")[0][:3])
        keep = [c for c in canonical if c.role in ("id", "fk", "key") or c in ent.core]
        optional = [c for c in canonical if c not in keep]
        keep += [c for c in optional if rng.random() < rng.uniform(0.5, 1.0)]
        keep.sort(key=canonical.index)

        raw_cols: list[RawCol] = []
        used: set[str] = set()
        fixed = overrides.get(name, {})
        for clean in keep:
            rname = fixed.get(clean.name) or _raw_name(clean.name, style, prefix)
            if rname in _SQL_RESERVED or not rname[0].isalpha():
                rname = f"{prefix}_{rname}"
            base, i = rname, 2
            while rname in used:
                rname, i = f"{base}{i}", i + 1
            used.add(rname)
            raw_cols.append(self._raw_col(rng, clean, rname, name))
        meta = [
            Col("_ingested_at", "str", "audit", 40),
            Col("_source_file", "str", "audit", 255),
            Col("_batch_id", "bigint", "audit"),
        ]
        bronze = Table("bronze", name, [r.raw for r in raw_cols] + meta, ent, system, raw_cols)
        clean_cols = [r.clean for r in raw_cols] + list(_AUDIT_SILVER)
        silver = Table("silver", name, clean_cols, ent, system)
        return bronze, silver

    def _raw_col(self, rng: random.Random, clean: Col, rname: str, table: str) -> RawCol:
        def raw(kind: str, size: int | None = None) -> Col:
            return Col(rname, kind, clean.role, size)

        if clean.role in ("id", "fk"):
            if table == "erp_cust_az12" or (clean.role == "id" and rng.random() < 0.2):
                return RawCol(raw("str", 50), clean, "id_prefix")
            return RawCol(raw("str", 50), clean, rng.choice(["id_cast", "id_cast", "trim"]))
        if clean.role == "code":
            how = (
                "code_case_simple"
                if rname in ("gen", "cst_gndr")
                else rng.choice(["code_case", "code_case", "code_case_simple"])
            )
            return RawCol(raw("str", 10), clean, how)
        if clean.name == "country":
            return RawCol(raw("str", 50), clean, "country_case")
        k = clean.kind
        if k == "str":
            how = rng.choice(["pass", "trim", "trim", "trim_upper", "nullif_trim", "initcap"])
            return RawCol(raw("str", clean.size), clean, how)
        if k == "date":
            r = rng.random()
            if r < 0.15 and table.startswith("crm_"):
                return RawCol(raw("int"), clean, "int_date")
            if r < 0.6:
                return RawCol(raw("str", 20), clean, "try_cast")
            if r < 0.8:
                return RawCol(raw("str", 20), clean, "date_guard")
            return RawCol(raw("date"), clean, "pass")
        if k == "ts":
            if rng.random() < 0.6:
                return RawCol(raw("str", 40), clean, "try_cast")
            return RawCol(raw("ts"), clean, "pass")
        if k == "dec":
            r = rng.random()
            if r < 0.35:
                return RawCol(raw("str", 30), clean, "num_clean")
            if r < 0.7:
                return RawCol(raw("dec"), clean, "coalesce0")
            if r < 0.85:
                return RawCol(raw("dec"), clean, "abs")
            return RawCol(raw("dec"), clean, "pass")
        if k in ("int", "bigint"):
            if rng.random() < 0.3:
                return RawCol(raw("str", 20), clean, "cast")
            return RawCol(raw(k), clean, rng.choice(["pass", "coalesce0"]))
        if k == "bool":
            return RawCol(raw("str", 5), clean, "bool_yn")
        return RawCol(raw(k, clean.size), clean, "pass")

    # ---------------------------------------------------------------- rendering helpers
    def schema_dict(self) -> dict[str, dict[str, str]]:
        return {
            f"{self.db}.{t.key}": {c.name: self.d.type_of(c) for c in t.cols}
            for t in self.tables.values()
        }

    def ref(self, rng: random.Random, table: Table) -> str:
        if rng.random() < 0.1:
            return f"{self.db}.{table.key}"
        return table.key

    def cast(self, rng: random.Random, expr: str, col: Col) -> str:
        typ = self.d.type_of(col)
        if self.d.double_colon and rng.random() < 0.55:
            simple = re.fullmatch(r"[\w.]+", expr) is not None
            return f"{expr}::{typ}" if simple else f"({expr})::{typ}"
        return f"cast({expr} as {typ})"

    def code_case(self, rng: random.Random, expr: str, code_map: str, simple: bool) -> str:
        pairs = CODE_MAPS[code_map]
        default = rng.choice(["'n/a'", "'Unknown'", "null"])
        if simple:
            whens = " ".join(f"when '{k}' then '{v}'" for k, v in pairs)
            return f"case {expr} {whens} else {default} end"
        whens = " ".join(
            f"when upper(trim({expr})) in ('{k}', '{v.upper()}') then '{v}'" for k, v in pairs
        )
        return f"case {whens} else {default} end"

    def raw_transform(self, rng: random.Random, rc: RawCol, qual: str = "") -> str:
        x = f"{qual}{rc.raw.name}"
        c = rc.clean
        d = self.d
        how = rc.how
        if how == "pass":
            e = x
        elif how == "id_cast":
            e = self.cast(rng, x, c)
        elif how == "id_prefix":
            inner = (
                f"case when {x} like 'NAS%' then {d.substring(x, 4, d.length(x, rng))} else {x} end"
            )
            e = self.cast(rng, inner, c) if rng.random() < 0.5 else inner
        elif how == "trim":
            e = f"trim({x})"
        elif how == "trim_upper":
            e = f"upper(trim({x}))"
        elif how == "nullif_trim":
            e = f"nullif(trim({x}), '')"
        elif how == "initcap":
            e = f"initcap(trim({x}))"
        elif how in ("code_case", "code_case_simple"):
            e = self.code_case(rng, x, c.code_map or "gender", how == "code_case_simple")
        elif how == "country_case":
            e = (
                f"case when trim({x}) = 'DE' then 'Germany' "
                f"when trim({x}) in ('US', 'USA') then 'United States' "
                f"when trim({x}) = '' or {x} is null then 'n/a' else trim({x}) end"
            )
        elif how == "try_cast":
            e = d.try_cast(x, d.type_of(c))
        elif how == "date_guard":
            tc = d.try_cast(x, "date")
            e = f"case when {tc} > current_date then null else {tc} end"
        elif how == "int_date":
            as_str = self.cast(rng, x, Col("s", "str", size=8))
            e = (
                f"case when {x} = 0 or {d.length(as_str, rng)} != 8 then null "
                f"else {self.cast(rng, as_str, c)} end"
            )
        elif how == "num_clean":
            e = d.try_cast(f"replace({x}, ',', '')", d.type_of(c))
        elif how == "coalesce0":
            e = f"coalesce({x}, 0)"
        elif how == "abs":
            e = f"abs({x})"
        elif how == "cast":
            e = self.cast(rng, x, c)
        elif how == "bool_yn":
            e = f"case when upper(trim({x})) in ('Y', 'YES', '1', 'TRUE') then true else false end"
        else:  # pragma: no cover - guarded by _raw_col
            raise AssertionError(how)
        if e == x and rc.raw.name == c.name:
            return e
        return f"{e} as {c.name}"

    def col_expr(self, rng: random.Random, qual: str, col: Col) -> tuple[str, Col]:
        """A transformed projection of one column: (expression without alias, output col)."""
        x = f"{qual}{col.name}"
        d = self.d
        k = col.kind
        r = rng.random()
        if col.role == "code" and col.code_map and r < 0.5:
            pairs = CODE_MAPS[col.code_map]
            whens = " ".join(f"when '{v}' then '{key}'" for key, v in pairs)
            return f"case {x} {whens} else '?' end", replace(col, name=f"{col.name}_code")
        if k == "str":
            options = [
                f"upper({x})",
                f"coalesce({x}, 'n/a')",
                f"nullif(trim({x}), '')",
                f"case when {x} is null then 'Unknown' else {x} end",
                self.cast(rng, x, col),
                f"lower({x})",
            ]
            return rng.choice(options), col
        if k == "dec":
            options = [
                f"round({x}, 2)",
                f"coalesce({x}, 0)",
                self.cast(rng, x, col),
                f"case when {x} < 0 then 0 else {x} end",
                f"abs({x})",
            ]
            return rng.choice(options), col
        if k in ("int", "bigint"):
            if r < 0.5:
                return f"coalesce({x}, 0)", col
            return self.cast(rng, x, Col(col.name, "bigint", col.role)), col
        if k in ("date", "ts"):
            if r < 0.35:
                return d.date_trunc("month", x), Col(f"{col.name}_month", "date", "date")
            if r < 0.6:
                return f"extract(year from {x})", Col(f"{col.name}_year", "int", "attr")
            if r < 0.8:
                return self.cast(rng, x, Col(col.name, "date", "date")), col
            return d.date_diff_days(x, "current_date"), Col(f"{col.name}_age_days", "int")
        if k == "bool":
            if r < 0.5:
                return f"case when {x} then 'Y' else 'N' end", Col(f"{col.name}_yn", "str", size=1)
            return f"coalesce({x}, false)", col
        return x, col

    # ---------------------------------------------------------------- join planning
    def plan_joins(
        self, rng: random.Random, root: Entity, extra: int
    ) -> tuple[list[tuple[Table, str]], list[str]]:
        """Pick ``extra`` tables joined to ``root`` along foreign keys.

        Returns ``([(table, alias)], [join clause])`` with the root first.
        """
        root_t = self.conformed[root.name]
        picked: list[tuple[Table, str]] = [(root_t, root.alias)]
        aliases = {root.alias}
        clauses: list[str] = []
        for _ in range(extra):
            candidates: list[tuple[int, str, Entity]] = []  # (src index, key, target)
            present = {t.entity.name for t, _ in picked}
            for i, (t, _) in enumerate(picked):
                for fk in t.entity.fks:
                    tgt = ENTITY_BY_PK[fk]
                    if tgt.name not in present:
                        candidates.append((i, fk, tgt))
                # reverse edges: another entity points to this one
                for other in ENTITIES:
                    if t.entity.pk in other.fks and other.name not in present:
                        candidates.append((i, t.entity.pk, other))
            if not candidates:
                break
            i, key, tgt = rng.choice(candidates)
            alias = tgt.alias
            n = 2
            while alias in aliases:
                alias, n = f"{tgt.alias}{n}", n + 1
            aliases.add(alias)
            src_alias = picked[i][1]
            on = f"{src_alias}.{key} = {alias}.{key}"
            if rng.random() < 0.4:
                on += f" and {src_alias}.company_code = {alias}.company_code"
            jt = "left join" if rng.random() < 0.6 else rng.choice(["inner join", "join"])
            clauses.append(f"{jt} {self.ref(rng, self.conformed[tgt.name])} {alias}\n    on {on}")
            picked.append((self.conformed[tgt.name], alias))
        return picked, clauses

    def filter_clause(self, rng: random.Random, alias: str, table: Table) -> str:
        conds: list[str] = []
        dates = [c for c in table.cols if c.kind == "date" and c.role == "date"]
        if dates and rng.random() < 0.7:
            c = rng.choice(dates)
            year = rng.randint(2018, 2024)
            conds.append(f"{alias}.{c.name} >= date '{year}-{rng.randint(1, 12):02d}-01'")
        flags = [c for c in table.cols if c.kind == "bool"]
        if flags and rng.random() < 0.3:
            conds.append(f"{alias}.{rng.choice(flags).name} = true")
        codes = [c for c in table.cols if c.role == "code" and c.code_map]
        if codes and rng.random() < 0.35:
            c = rng.choice(codes)
            vals = [v for _, v in CODE_MAPS[c.code_map or "gender"]]
            pick = rng.sample(vals, rng.randint(1, min(2, len(vals))))
            conds.append(f"{alias}.{c.name} in ({', '.join(repr(v) for v in pick)})")
        if rng.random() < 0.3:
            conds.append(f"{alias}.company_code = '{rng.choice(['1000', '2000', 'US01', 'DE01'])}'")
        if not conds:
            return ""
        return "\nwhere " + "\n  and ".join(conds)

    def select_list(
        self,
        rng: random.Random,
        sources: Sequence[tuple[Table, str]],
        count: int,
        transform_p: float,
        *,
        unqualified_p: float = 0.0,
        reserved: Sequence[str] = (),
        skip_alias: str | None = None,
    ) -> tuple[list[str], list[Col]]:
        """Project ``count`` columns from the joined sources, naming collisions apart.

        A column whose name is unique among the sources is left unqualified with
        probability ``unqualified_p`` (only a schema tells which table it comes from).
        ``reserved`` output names are taken already (e.g. by ``alias.*``); columns of
        ``skip_alias`` are not projected.
        """
        name_count: dict[str, int] = {}
        for t, _ in sources:
            for c in t.cols:
                name_count[c.name] = name_count.get(c.name, 0) + 1
        pool: list[tuple[Table, str, Col]] = []
        for t, a in sources:
            if a != skip_alias:
                pool.extend((t, a, c) for c in t.cols if c.role != "audit")
        rng.shuffle(pool)
        # keep keys of the root first, like hand-written SQL
        pool.sort(key=lambda item: 0 if item[2].role == "id" else 1)
        items: list[str] = []
        out: list[Col] = []
        used: set[str] = set(reserved)
        for t, a, c in pool:
            if len(items) >= count:
                break
            unique = name_count[c.name] == 1 and unqualified_p > 0
            qual = "" if unique and rng.random() < unqualified_p else f"{a}."
            if rng.random() < transform_p:
                expr, oc = self.col_expr(rng, qual, c)
            else:
                expr, oc = f"{qual}{c.name}", c
            name = oc.name
            if name in used:
                name = f"{t.entity.singular}_{name}"
                if name in used:
                    continue
            used.add(name)
            oc = replace(oc, name=name)
            items.append(expr if expr == f"{qual}{name}" else f"{expr} as {name}")
            out.append(oc)
        # derived columns combining two inputs
        for _ in range(rng.randint(0, 3)):
            derived = self.derived(rng, sources, used)
            if derived:
                items.append(derived[0])
                out.append(derived[1])
        return items, out

    def derived(
        self, rng: random.Random, sources: Sequence[tuple[Table, str]], used: set[str]
    ) -> tuple[str, Col] | None:
        nums = [(a, c) for t, a in sources for c in t.cols if c.kind == "dec"]
        strs = [(a, c) for t, a in sources for c in t.cols if c.kind == "str" and c.role == "attr"]
        if rng.random() < 0.6 and len(nums) >= 2:
            (a1, c1), (a2, c2) = rng.sample(nums, 2)
            op, label = rng.choice([("-", "diff"), ("+", "sum"), ("*", "product")])
            expr = f"coalesce({a1}.{c1.name}, 0) {op} coalesce({a2}.{c2.name}, 0)"
            if rng.random() < 0.3:
                expr = f"{a1}.{c1.name} / nullif({a2}.{c2.name}, 0)"
                label = "ratio"
            name = f"{c1.name}_{label}_{rng.randint(1, 99)}"
            col = Col(name, "dec", "measure")
        elif len(strs) >= 2:
            (a1, c1), (a2, c2) = rng.sample(strs, 2)
            expr = f"{a1}.{c1.name} || ' ' || {a2}.{c2.name}"
            name = f"{c1.name}_label_{rng.randint(1, 99)}"
            col = Col(name, "str", "attr", 200)
        else:
            return None
        if name in used:
            return None
        used.add(name)
        return f"{expr} as {name}", col

    # ---------------------------------------------------------------- statement kinds
    def wrap_output(self, rng: random.Random, body: str, stem: str, allow_view: bool) -> str:
        """Either a bare query or a CTAS / CREATE VIEW around it."""
        r = rng.random()
        suffix = rng.choice(["", "_v2", "_daily", "_snapshot", f"_{rng.randint(2019, 2025)}"])
        target = f"gold.{stem}{suffix}"
        if r < 0.5:
            return body
        if r < 0.85 or not allow_view:
            if self.d.name == "databricks" and rng.random() < 0.5:
                return f"create or replace table {target} as\n{body}"
            return f"create table {target} as\n{body}"
        return f"create view {target.replace('gold.', 'gold.vw_')} as\n{body}"

    def gen_dbt_staging(self, rng: random.Random) -> str:
        ent = rng.choice(ENTITIES)
        bronze = rng.choice(self.bronze_by_entity[ent.name])
        q, db = self.d.quote, self.db
        model = f"stg_{bronze.system}__{ent.name}"
        model += rng.choice(["", "", "_v2", "_cleaned", "_daily", f"_{rng.randint(1, 40)}"])
        target = f"{q(db)}.{q('silver')}.{q(model + '__dbt_tmp')}"
        source = f"{q(db)}.{q('bronze')}.{q(bronze.name)}"
        cols = [rc for rc in bronze.raw_cols if _required(rc.clean) or rng.random() < 0.8]
        lines = [self.raw_transform(rng, rc) for rc in cols]
        system = bronze.system or "erp"
        lines += [
            f"'{system}' as source_system",
            f"{self.d.try_cast('_ingested_at', self.d.type_of(Col('t', 'ts')))} as ingested_at",
            f"{self.d.now(rng)} as dwh_load_ts",
        ]
        pk_raw = next(rc.raw.name for rc in bronze.raw_cols if rc.clean.role == "id")
        where = f"\n    where {pk_raw} is not null" if rng.random() < 0.6 else ""
        ctes = [
            f"source as (\n    select * from {source}\n)",
            "renamed as (\n    select\n        "
            + ",\n        ".join(lines)
            + f"\n    from source{where}\n)",
        ]
        final = "select * from renamed"
        if rng.random() < 0.6:
            ctes.append(
                "deduped as (\n    select\n        *,\n        row_number() over (partition by "
                f"{ent.pk} order by ingested_at desc) as rn\n    from renamed\n)"
            )
            final = "select * from deduped where rn = 1"
        if rng.random() < 0.3:
            src, cond = ("deduped", "rn = 1 and ") if final.endswith("rn = 1") else ("renamed", "")
            ctes.append(
                f"final as (\n    select * from {src}\n    where {cond}dwh_load_ts > "
                f"{self.d.days_ago(rng.randint(1, 30), rng)}\n)"
            )
            final = "select * from final"
        body = "with " + ",\n".join(ctes) + "\n" + final
        header = f'/* {{"app": "dbt", "node_id": "model.silverline.{model}"}} */\n'
        if self.d.name == "snowflake":
            return f"{header}create or replace transient table {target}\nas (\n{body}\n)"
        if self.d.name in ("databricks", "bigquery"):
            return f"{header}create or replace table {target}\nas (\n{body}\n)"
        kind = "view" if rng.random() < 0.15 else "table"
        return f"{header}create {kind} {target}\nas (\n{body}\n)"

    def gen_cte_chain(self, rng: random.Random) -> str:
        facts = [e for e in ENTITIES if e.fact and e.fks]
        root = rng.choice(facts)
        n_ctes = rng.randint(3, 6)
        dims = [ENTITY_BY_PK[fk] for fk in root.fks]
        rng.shuffle(dims)
        dims = dims[: max(1, min(len(dims), n_ctes - 2))]
        root_t = self.conformed[root.name]
        ctes: list[str] = []
        # base CTE for the fact
        fact_cols = [root_t.col(root.pk), root_t.col("company_code")]
        fact_cols += [root_t.col(d.pk) for d in dims]
        others = [c for c in root_t.cols if c.role in ("measure", "date", "code", "attr")]
        fact_cols += rng.sample(others, min(len(others), rng.randint(4, 12)))
        fcols = [c for c in fact_cols if c is not None]
        base = f"{root.name}_base"
        where = self.filter_clause(rng, root.alias, root_t).replace("\n", "\n    ")
        ctes.append(
            f"{base} as (\n    select\n        "
            + ",\n        ".join(f"{root.alias}.{c.name}" for c in fcols)
            + f"\n    from {self.ref(rng, root_t)} {root.alias}{where}\n)"
        )
        cur_cols: list[Col] = list(fcols)
        dim_ctes: list[tuple[Entity, str, list[Col]]] = []
        for d in dims:
            dt = self.conformed[d.name]
            attrs = [c for c in dt.cols if c.role in ("attr", "code", "flag")]
            picked = rng.sample(attrs, min(len(attrs), rng.randint(2, 6)))
            dcols = [Col(d.pk, "str", "id", 50), *picked]
            name = f"{d.name}_dim"
            proj = [f"{d.pk}"]
            for c in picked:
                if rng.random() < 0.4:
                    expr, _ = self.col_expr(rng, "", c)
                    proj.append(f"{expr} as {c.name}")
                else:
                    proj.append(c.name)
            where = ""
            flags = [c for c in dt.cols if c.kind == "bool"]
            if flags and rng.random() < 0.4:
                where = f"\n    where {rng.choice(flags).name} = true"
            ctes.append(
                f"{name} as (\n    select\n        "
                + ",\n        ".join(proj)
                + f"\n    from {self.ref(rng, dt)}{where}\n)"
            )
            dim_ctes.append((d, name, dcols))
        # enriched: join base with dims
        sel = [f"b.{c.name}" for c in cur_cols]
        joins: list[str] = []
        enriched_cols = list(cur_cols)
        names = {c.name for c in cur_cols}
        for i, (d, name, dcols) in enumerate(dim_ctes):
            al = f"d{i + 1}"
            jt = "left join" if rng.random() < 0.7 else "inner join"
            joins.append(f"{jt} {name} {al} on b.{d.pk} = {al}.{d.pk}")
            for c in dcols[1:]:
                out = c.name if c.name not in names else f"{d.singular}_{c.name}"
                if out in names:
                    continue
                names.add(out)
                sel.append(f"{al}.{c.name}" + (f" as {out}" if out != c.name else ""))
                enriched_cols.append(replace(c, name=out))
        ctes.append(
            "enriched as (\n    select\n        "
            + ",\n        ".join(sel)
            + f"\n    from {base} b\n    "
            + "\n    ".join(joins)
            + "\n)"
        )
        last = "enriched"
        last_cols = enriched_cols
        remaining = n_ctes - len(ctes)
        dims_avail = [c for c in last_cols if c.role in ("attr", "code") and c.kind == "str"]
        measures = [c for c in last_cols if c.kind in ("dec", "int") and c.role == "measure"]
        if remaining > 0 and dims_avail and measures:
            gb = rng.sample(dims_avail, min(len(dims_avail), rng.randint(1, 3)))
            ms = rng.sample(measures, min(len(measures), rng.randint(1, 4)))
            fns = ["sum", "avg", "max", "min"]
            aggs = [f"{rng.choice(fns)}({m.name}) as total_{m.name}" for m in ms]
            aggs.append(f"count(distinct {root.pk}) as {root.singular}_count")
            ctes.append(
                "aggregated as (\n    select\n        "
                + ",\n        ".join([c.name for c in gb] + aggs)
                + "\n    from enriched\n    group by "
                + ", ".join(c.name for c in gb)
                + "\n)"
            )
            last = "aggregated"
            last_cols = [*gb, *(Col(f"total_{m.name}", "dec", "measure") for m in ms)]
            last_cols.append(Col(f"{root.singular}_count", "int", "measure"))
            remaining -= 1
        if remaining > 0:
            part = next((c for c in last_cols if c.kind == "str"), last_cols[0])
            order = next((c for c in last_cols if c.role == "measure"), last_cols[-1])
            ctes.append(
                "ranked as (\n    select\n        *,\n        rank() over "
                f"(partition by {part.name} order by {order.name} desc) as rnk\n"
                f"    from {last}\n)"
            )
            last = "ranked"
            last_cols = [*last_cols, Col("rnk", "int", "measure")]
            remaining -= 1
        while remaining > 0:
            keep = rng.sample(last_cols, max(1, len(last_cols) - rng.randint(0, 2)))
            keep.sort(key=last_cols.index)
            nm = f"step_{len(ctes) + 1}"
            cond = "rnk <= 10" if any(c.name == "rnk" for c in keep) else "1 = 1"
            ctes.append(
                f"{nm} as (\n    select "
                + ", ".join(c.name for c in keep)
                + f"\n    from {last}\n    where {cond}\n)"
            )
            last, last_cols = nm, keep
            remaining -= 1
        final_cols = ", ".join(c.name for c in last_cols)
        body = "with " + ",\n".join(ctes) + f"\nselect {final_cols}\nfrom {last}"
        if rng.random() < 0.4:
            body += f"\norder by {last_cols[0].name}"
        stem = f"rpt_{root.name}_{rng.choice(['summary', 'kpis', 'ranked', 'enriched'])}"
        return self.wrap_output(rng, body, stem, True)

    def gen_wide_select(self, rng: random.Random) -> str:
        root = rng.choice([e for e in ENTITIES if e.fks])
        sources, joins = self.plan_joins(rng, root, rng.randint(1, 3))
        width = rng.randint(40, 120)
        root_t, ra = sources[0]
        if rng.random() < 0.25:
            # ``o.*, c.first_name, ...``: only a schema expands the star
            star = [c.name for c in root_t.cols]
            items, _ = self.select_list(
                rng,
                sources,
                max(5, width - len(star)),
                0.2,
                reserved=star,
                skip_alias=ra,
            )
            items.insert(0, f"{ra}.*")
        else:
            items, _ = self.select_list(rng, sources, width, 0.2, unqualified_p=0.3)
        body = (
            "select\n    "
            + ",\n    ".join(items)
            + f"\nfrom {self.ref(rng, sources[0][0])} {sources[0][1]}"
            + "".join(f"\n{j}" for j in joins)
            + self.filter_clause(rng, sources[0][1], sources[0][0])
        )
        return self.wrap_output(rng, body, f"wide_{root.name}", True)

    def gen_join_select(self, rng: random.Random) -> str:
        root = rng.choice([e for e in ENTITIES if e.fks])
        sources, joins = self.plan_joins(rng, root, rng.randint(2, 4))
        unq = 0.6 if rng.random() < 0.4 else 0.0
        items, _ = self.select_list(rng, sources, rng.randint(8, 25), 0.3, unqualified_p=unq)
        if not unq and rng.random() < 0.35:
            # join an aggregated subquery on the root key (its key column would make an
            # unqualified root key ambiguous, hence only with qualified columns)
            child = [e for e in ENTITIES if root.pk in e.fks]
            if child:
                ch = rng.choice(child)
                ct = self.conformed[ch.name]
                m = next((c for c in ct.cols if c.kind == "dec"), None)
                agg = f"sum({m.name}) as total_{m.name}" if m else "count(*) as n"
                joins.append(
                    f"left join (\n    select {root.pk}, count(*) as {ch.name}_count, {agg}\n"
                    f"    from {self.ref(rng, ct)}\n    group by {root.pk}\n) agg_{ch.alias}\n"
                    f"    on {root.alias}.{root.pk} = agg_{ch.alias}.{root.pk}"
                )
                items.append(f"coalesce(agg_{ch.alias}.{ch.name}_count, 0) as {ch.name}_count")
        body = (
            "select\n    "
            + ",\n    ".join(items)
            + f"\nfrom {self.ref(rng, sources[0][0])} {sources[0][1]}"
            + "".join(f"\n{j}" for j in joins)
            + self.filter_clause(rng, sources[0][1], sources[0][0])
        )
        return self.wrap_output(rng, body, f"{root.name}_joined", True)

    def gen_aggregate(self, rng: random.Random) -> str:
        root = rng.choice([e for e in ENTITIES if e.fact])
        sources, joins = self.plan_joins(rng, root, rng.randint(0, 2))
        dims: list[tuple[str, str]] = []  # (expr, name)
        used: set[str] = set()
        for t, a in sources:
            cands = [c for c in t.cols if c.role in ("attr", "code") and c.kind == "str"]
            for c in rng.sample(cands, min(len(cands), rng.randint(0, 2))):
                if c.name not in used:
                    used.add(c.name)
                    dims.append((f"{a}.{c.name}", c.name))
        root_t, ra = sources[0]
        dates = [c for c in root_t.cols if c.kind == "date" and c.role == "date"]
        if dates and (rng.random() < 0.6 or not dims):
            dc = rng.choice(dates)
            unit = rng.choice(["month", "quarter", "year", "week"])
            dims.append((self.d.date_trunc(unit, f"{ra}.{dc.name}"), f"{dc.name}_{unit}"))
        if not dims:
            dims.append((f"{ra}.company_code", "company_code"))
        measures = [(t, a, c) for t, a in sources for c in t.cols if c.role == "measure"]
        ms = rng.sample(measures, min(len(measures), rng.randint(2, 6)))
        aggs: list[str] = []
        for _, a, c in ms:
            fn = rng.choice(["sum", "sum", "avg", "max", "min"])
            e = f"{a}.{c.name}"
            if rng.random() < 0.25:
                e = f"coalesce({e}, 0)"
            aggs.append(f"{fn}({e}) as {fn}_{c.name}")
        aggs.append(f"count(distinct {ra}.{root.pk}) as {root.singular}_count")
        if rng.random() < 0.3:
            aggs.append("count(*) as row_count")
        if len(ms) >= 2 and rng.random() < 0.4:
            (_, a1, c1), (_, a2, c2) = ms[:2]
            aggs.append(
                f"sum({a1}.{c1.name}) / nullif(sum({a2}.{c2.name}), 0) as {c1.name}_per_{c2.name}"
            )
        ordinal = rng.random() < 0.4
        group = (
            ", ".join(str(i + 1) for i in range(len(dims)))
            if ordinal
            else ", ".join(e for e, _ in dims)
        )
        having = ""
        if rng.random() < 0.5:
            if ms and rng.random() < 0.6:
                _, a, c = ms[0]
                having = f"\nhaving sum({a}.{c.name}) > {rng.choice([0, 100, 1000, 50000])}"
            else:
                having = f"\nhaving count(*) > {rng.randint(1, 50)}"
        body = (
            "select\n    "
            + ",\n    ".join([f"{e} as {n}" if e != f"{ra}.{n}" else e for e, n in dims] + aggs)
            + f"\nfrom {self.ref(rng, root_t)} {ra}"
            + "".join(f"\n{j}" for j in joins)
            + self.filter_clause(rng, ra, root_t)
            + f"\ngroup by {group}{having}"
        )
        if rng.random() < 0.4:
            body += f"\norder by {len(dims) + 1} desc"
        return self.wrap_output(rng, body, f"agg_{root.name}_by_{dims[0][1]}", True)

    def gen_window(self, rng: random.Random) -> str:
        root = rng.choice([e for e in ENTITIES if e.fact])
        sources, joins = self.plan_joins(rng, root, rng.randint(0, 1))
        root_t, ra = sources[0]
        items, _ = self.select_list(rng, sources, rng.randint(5, 15), 0.15)
        part_cands = [f"{ra}.{fk}" for fk in root.fks] + [f"{ra}.company_code"]
        dates = [c for c in root_t.cols if c.kind == "date" and c.role == "date"]
        measures = [c for c in root_t.cols if c.kind == "dec"]
        order = f"{ra}.{rng.choice(dates).name}" if dates else f"{ra}.{root.pk}"
        wins: list[str] = []
        for i in range(rng.randint(2, 4)):
            part = rng.choice(part_cands)
            m = f"{ra}.{rng.choice(measures).name}" if measures else f"{ra}.{root.pk}"
            choice = rng.randint(0, 7)
            if choice == 0:
                w = f"row_number() over (partition by {part} order by {order} desc) as rn"
                if any(x.endswith(" as rn") for x in wins):
                    w = f"row_number() over (partition by {part} order by {order}) as rn_{i}"
            elif choice == 1:
                w = f"rank() over (partition by {part} order by {m} desc) as rank_{i}"
            elif choice == 2:
                w = (
                    f"sum({m}) over (partition by {part} order by {order} "
                    f"rows between unbounded preceding and current row) as running_total_{i}"
                )
            elif choice == 3:
                w = f"lag({m}, 1) over (partition by {part} order by {order}) as prev_value_{i}"
            elif choice == 4:
                w = f"lead({order}) over (partition by {part} order by {order}) as next_date_{i}"
            elif choice == 5:
                w = f"avg({m}) over (partition by {part}) as avg_by_group_{i}"
            elif choice == 6:
                w = f"ntile(4) over (order by {m}) as quartile_{i}"
            else:
                w = (
                    f"first_value({m}) over (partition by {part} order by {order} "
                    f"rows between unbounded preceding and unbounded following) as first_value_{i}"
                )
            wins.append(w)
        inner = (
            "select\n    "
            + ",\n    ".join(items + wins)
            + f"\nfrom {self.ref(rng, root_t)} {ra}"
            + "".join(f"\n{j}" for j in joins)
            + self.filter_clause(rng, ra, root_t)
        )
        rn = next((w.rsplit(" as ", 1)[1] for w in wins if w.startswith("row_number")), None)
        if rn and rng.random() < 0.6:
            body = f"select *\nfrom (\n{inner}\n) ranked\nwhere {rn} = 1"
        else:
            body = inner
        return self.wrap_output(rng, body, f"win_{root.name}", False)

    def _aligned_select(self, rng: random.Random, src: Table, cols: list[Col], alias: str) -> str:
        items: list[str] = []
        for c in cols:
            if src.col(c.name) is not None:
                if c.role == "code" and rng.random() < 0.2:
                    items.append(f"upper({alias}.{c.name}) as {c.name}")
                else:
                    items.append(f"{alias}.{c.name}")
            else:
                items.append(f"{self.cast(rng, 'null', c)} as {c.name}")
        items.append(f"'{src.system}' as source_system")
        return (
            "select\n    "
            + ",\n    ".join(items)
            + f"\nfrom {self.ref(rng, src)} {alias}"
            + self.filter_clause(rng, alias, src)
        )

    def gen_union_all(self, rng: random.Random) -> str:
        ent = rng.choice(ENTITIES)
        srcs = list(self.silver_by_entity[ent.name])
        rng.shuffle(srcs)
        conformed = self.conformed[ent.name]
        base = [c for c in conformed.cols if c.role in ("id", "key", "fk") or c in ent.core]
        optional = [c for c in conformed.cols if c.role not in ("audit",) and c not in base]
        cols = base + rng.sample(optional, min(len(optional), rng.randint(0, 25)))
        cols.sort(key=conformed.cols.index)
        parts = [self._aligned_select(rng, s, cols, f"s{i + 1}") for i, s in enumerate(srcs)]
        body = "\nunion all\n".join(parts)
        r = rng.random()
        if r < 0.5:
            col_list = ", ".join([c.name for c in cols] + ["source_system"])
            return f"insert into {self.ref(rng, conformed)} ({col_list})\n{body}"
        if r < 0.75:
            return f"select *\nfrom (\n{body}\n) unioned"
        return self.wrap_output(rng, body, f"{ent.name}_unioned", True)

    def gen_insert_select(self, rng: random.Random) -> str:
        r = rng.random()
        if r < 0.5:
            # bronze -> silver load with column list (Baraa style)
            ent = rng.choice(ENTITIES)
            bronze = rng.choice(self.bronze_by_entity[ent.name])
            rcs = [rc for rc in bronze.raw_cols if _required(rc.clean) or rng.random() < 0.75]
            names = [rc.clean.name for rc in rcs]
            exprs = [self.raw_transform(rng, rc) for rc in rcs]
            names.append("dwh_load_ts")
            exprs.append(self.d.now(rng))
            where = ""
            if rng.random() < 0.5:
                pk = next(rc.raw.name for rc in bronze.raw_cols if rc.clean.role == "id")
                where = f"\nwhere {pk} is not null"
            return (
                f"insert into silver.{bronze.name} (\n    "
                + ",\n    ".join(names)
                + "\n)\nselect\n    "
                + ",\n    ".join(exprs)
                + f"\nfrom {self.ref(rng, bronze)}{where}"
            )
        if r < 0.75:
            # conformed silver -> gold with surrogate key
            ent = rng.choice(ENTITIES)
            gold = self.gold[ent.name]
            src = self.conformed[ent.name]
            a = ent.alias
            cols = [c for c in gold.cols if c.role not in ("audit", "key") and rng.random() < 0.7]
            if src.col(ent.pk) not in cols:
                cols.insert(0, Col(ent.pk, "str", "id", 50))
            names = [f"{ent.singular}_key", *(c.name for c in cols), "dwh_load_ts"]
            exprs = [f"row_number() over (order by {a}.{ent.pk}) as {ent.singular}_key"]
            for c in cols:
                if rng.random() < 0.2 and c.role != "id":
                    e, _ = self.col_expr(rng, f"{a}.", c)
                    if c.kind in ("date", "ts", "bool") or c.role == "code":
                        e = f"{a}.{c.name}"  # keep target type
                    exprs.append(e)
                else:
                    exprs.append(f"{a}.{c.name}")
            exprs.append(self.d.now(rng))
            return (
                f"insert into {self.ref(rng, gold)} ("
                + ", ".join(names)
                + ")\nselect\n    "
                + ",\n    ".join(exprs)
                + f"\nfrom {self.ref(rng, src)} {a}"
                + self.filter_clause(rng, a, src)
            )
        # per-system silver -> conformed silver
        ent = rng.choice(ENTITIES)
        src = rng.choice(self.silver_by_entity[ent.name])
        tgt = self.conformed[ent.name]
        cols = [c for c in src.cols if c.role != "audit" and (_required(c) or rng.random() < 0.8)]
        names = [c.name for c in cols] + ["source_system", "dwh_load_ts"]
        exprs = [f"src.{c.name}" for c in cols] + [f"'{src.system}'", self.d.now(rng)]
        where = f"\nwhere src.dwh_load_ts > {self.d.days_ago(rng.randint(1, 7), rng)}"
        if rng.random() < 0.5:
            where += f"\n  and src.{ent.pk} not in (select {ent.pk} from {self.ref(rng, tgt)})"
        return (
            f"insert into {self.ref(rng, tgt)} ("
            + ", ".join(names)
            + ")\nselect\n    "
            + ",\n    ".join(exprs)
            + f"\nfrom {self.ref(rng, src)} src"
            + where
        )

    def gen_ctas(self, rng: random.Random) -> str:
        root = rng.choice([e for e in ENTITIES if e.fks])
        sources, joins = self.plan_joins(rng, root, rng.randint(1, 3))
        items, _ = self.select_list(rng, sources, rng.randint(10, 40), 0.45)
        stem = rng.choice(["mart", "rpt", "tmp", "ext", "snap"])
        target = f"gold.{stem}_{root.name}_{rng.randint(1, 500)}"
        create = "create table"
        if self.d.name in ("redshift", "postgres", "duckdb") and rng.random() < 0.2:
            create = "create temp table"
            target = target.split(".", 1)[1]
        if rng.random() < 0.15:
            # snapshot copy: ``select *`` needs the schema for column lineage
            table = rng.choice([*self.conformed.values(), *self.silver_by_entity[root.name]])
            where = self.filter_clause(rng, "s", table)
            target = f"gold.snap_{table.name}_{rng.randint(1, 500)}"
            return f"create table {target} as\nselect *\nfrom {self.ref(rng, table)} s{where}"
        body = (
            "select\n    "
            + ",\n    ".join(items)
            + f"\nfrom {self.ref(rng, sources[0][0])} {sources[0][1]}"
            + "".join(f"\n{j}" for j in joins)
            + self.filter_clause(rng, sources[0][1], sources[0][0])
        )
        return f"{create} {target} as\n{body}"

    def gen_merge(self, rng: random.Random) -> str:
        ent = rng.choice(ENTITIES)
        r = rng.random()
        if r < 0.5:
            tgt = self.conformed[ent.name]
            src = rng.choice(self.silver_by_entity[ent.name])
            src_cols = [c for c in src.cols if c.role != "audit"]
        else:
            tgt = self.gold[ent.name]
            src = self.conformed[ent.name]
            src_cols = [c for c in src.cols if c.role != "audit"]
        cols = [c for c in src_cols if tgt.col(c.name) is not None]
        keys = [c for c in cols if c.role in ("id", "key")]
        rest = [c for c in cols if c not in keys]
        upd = rng.sample(rest, min(len(rest), rng.randint(3, 20)))
        upd.sort(key=rest.index)
        ins = keys + upd
        if rng.random() < 0.5:
            using = f"{self.ref(rng, src)}"
        else:
            proj = []
            for c in ins:
                if c.kind == "str" and c.role == "attr" and rng.random() < 0.3:
                    proj.append(f"trim({c.name}) as {c.name}")
                else:
                    proj.append(c.name)
            using = (
                "(\n    select\n        "
                + ",\n        ".join(proj)
                + f"\n    from {self.ref(rng, src)}\n    where dwh_load_ts > "
                + self.d.days_ago(rng.randint(1, 3), rng)
                + "\n)"
            )
        on = " and ".join(f"tgt.{k.name} = src.{k.name}" for k in keys[: rng.randint(1, len(keys))])
        sets = ",\n    ".join(f"{c.name} = src.{c.name}" for c in upd)
        if tgt.col("dwh_load_ts") is not None:
            sets += f",\n    dwh_load_ts = {self.d.now(rng)}"
        ins_cols = ", ".join(c.name for c in ins)
        ins_vals = ", ".join(f"src.{c.name}" for c in ins)
        return (
            f"merge into {self.ref(rng, tgt)} as tgt\nusing {using} as src\non {on}\n"
            f"when matched then update set\n    {sets}\n"
            f"when not matched then insert ({ins_cols})\nvalues ({ins_vals})"
        )

    def statement(self, rng: random.Random, kind: str) -> str:
        sql: str = getattr(self, f"gen_{kind}")(rng)
        if rng.random() < 0.4:
            sql = _upper_keywords(sql)
        return sql


def _pick_kind(rng: random.Random, mix: dict[str, float]) -> str:
    kinds = list(mix)
    return rng.choices(kinds, weights=[mix[k] for k in kinds])[0]


def generate_corpus(
    n: int = 3000,
    dialect: str = DEFAULT_DIALECT,
    seed: int = DEFAULT_SEED,
    *,
    warmup: int = 20,
    repeat_fraction: float = 0.02,
    mix: dict[str, float] | None = None,
) -> Corpus:
    """Generate ``n`` statements (plus ``warmup`` distinct ones) and their schema.

    ``repeat_fraction`` of the statements are verbatim repeats of earlier ones, like a
    query log; everything else is unique. The warm-up statements come from a separate
    random stream and never occur in the corpus.
    """
    mix = mix or DEFAULT_MIX
    unknown = set(mix) - set(STATEMENT_KINDS)
    if unknown:
        raise ValueError(f"unknown statement kinds: {sorted(unknown)}")
    gen = _Generator(dialect, seed)
    rng = random.Random(f"silverline-corpus-statements-{seed}-{dialect}")
    seen: set[str] = set()
    out: list[Statement] = []
    while len(out) < n:
        if out and len(out) > 50 and rng.random() < repeat_fraction:
            out.append(rng.choice(out))
            continue
        kind = _pick_kind(rng, mix)
        for _ in range(20):
            sql = gen.statement(rng, kind)
            if sql not in seen:
                break
        seen.add(sql)
        out.append(Statement(sql, kind))
    wrng = random.Random(f"silverline-corpus-warmup-{seed}-{dialect}")
    warm: list[Statement] = []
    while len(warm) < warmup:
        kind = STATEMENT_KINDS[len(warm) % len(STATEMENT_KINDS)]
        sql = gen.statement(wrng, kind)
        if sql not in seen:
            seen.add(sql)
            warm.append(Statement(sql, kind))
    return Corpus(
        dialect=dialect,
        seed=seed,
        statements=tuple(out),
        warmup=tuple(warm),
        schema=gen.schema_dict(),
    )


def nested_schema(schema: dict[str, dict[str, str]]) -> dict[str, object]:
    """``{"db.schema.table": cols}`` -> ``{db: {schema: {table: cols}}}`` (sqlglot's shape)."""
    out: dict[str, object] = {}
    for key, cols in schema.items():
        db, sch, table = key.split(".")
        dbd = out.setdefault(db, {})
        assert isinstance(dbd, dict)
        dbd.setdefault(sch, {})[table] = cols
    return out


def main() -> None:  # pragma: no cover - manual inspection helper
    import argparse

    p = argparse.ArgumentParser(description="Print a sample of the benchmark corpus.")
    p.add_argument("--statements", type=int, default=10)
    p.add_argument("--dialect", default=DEFAULT_DIALECT, choices=SUPPORTED_DIALECTS)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args()
    corpus = generate_corpus(args.statements, args.dialect, args.seed, warmup=0)
    for s in corpus.statements:
        print(f"-- kind: {s.kind}\n{s.sql};\n")


if __name__ == "__main__":  # pragma: no cover
    main()
