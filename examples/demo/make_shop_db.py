"""Creates shop.sqlite, the demo's SQLite source: an app database DVT reads but never writes."""

import sqlite3
from pathlib import Path

path = Path(__file__).with_name("shop.sqlite")
path.unlink(missing_ok=True)
with sqlite3.connect(path) as conn:
    conn.execute("create table payments (payment_id integer, order_id integer, method text, paid real)")
    conn.executemany(
        "insert into payments values (?, ?, ?, ?)",
        [(1, 100, "card", 20.0), (2, 101, "card", 35.5), (3, 102, "cash", 12.0),
         (4, 103, "card", 99.99), (5, 105, "voucher", 42.0)],
    )
