"""Arrow schemas of every source table: the generator's side of docs/sources.md."""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
LOCAL_TS = pa.timestamp("us")  # naive wall-clock time in the store's timezone
S = pa.string()


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, typ) for name, typ in fields] + [pa.field("_loaded_at", TS)])


TABLES: dict[tuple[str, str], pa.Schema] = {
    ("stores", "stores"): _schema(
        ("store_id", S), ("store_name", S), ("region", S), ("country", S), ("timezone", S),
        ("opens_at", S), ("closes_at", S), ("latitude", pa.float64()), ("longitude", pa.float64()),
        ("opened_on", pa.date32()), ("is_online", pa.bool_())),
    ("products", "products"): _schema(
        ("product_id", S), ("product_name", S), ("category", S), ("brand", S), ("price", pa.float64()),
        ("unit_cost", pa.float64()), ("is_active", pa.bool_())),
    ("products", "inventory"): _schema(
        ("store_id", S), ("product_id", S), ("on_hand", pa.int32()), ("last_restocked_at", TS), ("updated_at", TS)),
    ("crm", "customers"): _schema(
        ("crm_id", S), ("first_name", S), ("last_name", S), ("email", S), ("phone", S), ("country", S),
        ("birth_date", pa.date32()), ("created_at", TS), ("updated_at", TS), ("do_not_contact", pa.bool_())),
    ("loyalty", "members"): _schema(
        ("loyalty_id", S), ("crm_id", S), ("first_name", S), ("last_name", S), ("email", S), ("phone", S),
        ("tier", S), ("points_balance", pa.int32()), ("home_store_id", S), ("enrolled_at", TS), ("status", S),
        ("updated_at", TS)),
    ("web", "accounts"): _schema(
        ("user_id", S), ("email", S), ("phone", S), ("crm_id", S), ("created_at", TS)),
    ("web", "events"): _schema(
        ("event_id", S), ("platform", S), ("anonymous_id", S), ("device_id", S), ("user_id", S),
        ("event_type", S), ("occurred_at", TS), ("product_id", S), ("order_id", S), ("revenue", pa.float64()),
        ("search_term", S), ("page_url", S)),
    ("pos", "transactions"): _schema(
        ("transaction_id", S), ("store_id", S), ("occurred_at_local", LOCAL_TS), ("loyalty_id", S),
        ("card_token", S), ("total_amount", pa.float64()), ("currency", S), ("is_return", pa.bool_())),
    ("pos", "transaction_lines"): _schema(
        ("transaction_id", S), ("line_number", pa.int32()), ("product_id", S), ("quantity", pa.int32()),
        ("unit_price", pa.float64()), ("discount_amount", pa.float64())),
    ("email", "events"): _schema(
        ("event_id", S), ("message_id", S), ("campaign_id", S), ("email", S), ("event_type", S),
        ("bounce_type", S), ("occurred_at", TS)),
    ("sms", "events"): _schema(
        ("event_id", S), ("message_id", S), ("phone", S), ("event_type", S), ("reply_text", S), ("occurred_at", TS)),
    ("events", "badge_scans"): _schema(
        ("scan_id", S), ("event_code", S), ("event_name", S), ("venue_store_id", S), ("badge_id", S),
        ("first_name", S), ("last_name", S), ("email", S), ("phone", S), ("scanned_at", TS)),
    ("consent", "consent_log"): _schema(
        ("consent_event_id", S), ("identifier_type", S), ("identifier_value", S), ("channel", S), ("action", S),
        ("source", S), ("occurred_at", TS)),
}

# Written as a folder of part files, one per chunk of people: <source>/<entity>/part-NNNNN.parquet.
PARTITIONED = frozenset({
    ("web", "events"), ("pos", "transactions"), ("pos", "transaction_lines"), ("email", "events"), ("sms", "events"),
})

# Counted as "events" in the summary (lines are items of a transaction, not events).
EVENT_TABLES = (("web", "events"), ("pos", "transactions"), ("email", "events"), ("sms", "events"))

# Columns with (nearly) unique values: dictionary encoding would only waste time on them.
HIGH_CARDINALITY = frozenset({
    "event_id", "anonymous_id", "device_id", "transaction_id", "message_id", "scan_id", "consent_event_id",
    "crm_id", "loyalty_id", "user_id", "email", "phone", "identifier_value", "order_id", "card_token",
    "badge_id", "occurred_at", "_loaded_at", "created_at", "updated_at", "occurred_at_local", "scanned_at",
    "enrolled_at", "page_url", "person_id", "reference_at",
})

TRUTH_IDENTITY = pa.schema([("identifier_type", S), ("identifier_value", S), ("person_id", S)])
TRUTH_BEHAVIOURS = pa.schema([("person_id", S), ("behaviour", S), ("reference_at", TS), ("detail", S)])

IDENTIFIER_TYPES = ("email", "phone", "crm_id", "loyalty_id", "cookie_id", "device_id", "user_id", "card_token",
                    "badge_id")
BEHAVIOURS = ("cart_abandoner", "repeat_product_viewer", "lapsed_buyer", "store_to_online", "online_to_store",
              "event_attendee", "new_loyalty_member", "high_intent", "wishlist_back_in_stock")


def relative_path(source: str, entity: str) -> str:
    """Where a table lives under the dataset folder (file, or folder of part files)."""
    return f"{source}/{entity}" if (source, entity) in PARTITIONED else f"{source}/{entity}.parquet"
