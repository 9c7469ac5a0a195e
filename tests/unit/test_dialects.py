"""Threads get a whole SQLGlot dialect: SQLGlot registers a dialect's class before it sets its
quote characters, so a node thread asking for "mysql" while another loads it could quote MySQL
names with `"` (seen in the suite: `SELECT * FROM "shop"."orders"` sent to MariaDB)."""

from __future__ import annotations

import subprocess
import sys

#: Two threads take the MySQL connector and write a quoted name, the second while the first is
#: inside the race's window: the MySQL class registered, its quote characters not yet set
#: (held there by a slowed step of SQLGlot's class building).
RACE = """
import threading, time
import sqlglot.expressions as exp
import sqlglot.dialects.dialect as dialect
from dvt import connectors

registered = threading.Event()
slow = dialect.new_trie
def new_trie(*args, **kwargs):
    if "mysql" in dialect.Dialect._classes and not registered.is_set():
        registered.set()
        time.sleep(0.2)
    return slow(*args, **kwargs)
dialect.new_trie = new_trie

written = []
def write() -> None:
    name = connectors.for_type("mysql").dialect
    written.append(exp.table_("orders", db="shop", quoted=True).sql(dialect=name))

first = threading.Thread(target=write)
first.start()
registered.wait(10)
write()
first.join()
print(sorted(set(written)))
"""


def test_a_dialect_a_thread_is_loading_is_whole_for_every_other_thread() -> None:
    done = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['`shop`.`orders`']", done.stdout + done.stderr
