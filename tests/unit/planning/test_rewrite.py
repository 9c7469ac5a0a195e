"""Relation names replaced in a model's compiled SQL where they are written, nothing else."""

from __future__ import annotations

import pytest
import sqlglot.expressions as exp

from dvt.exceptions import UnsupportedFederationError
from dvt.planning.models import RelationKey
from dvt.planning.planner import parse_model_sql
from dvt.planning.rewrite import relation_spans, rename_relations

SQL = """\
select o.id, /* orders */ c.name
from "db"."lake"."Orders" as o
join lake.customers c on c.id = o.customer_id
where o.id in (select id from "db"."lake"."Orders" where id > 1) -- keep this
"""


def test_every_reference_is_renamed_and_the_text_between_kept() -> None:
    tree = parse_model_sql(SQL, "postgres", "model.p.m")
    spans = relation_spans(tree)
    orders = RelationKey("db", "lake", "Orders")
    renamed = rename_relations(SQL, spans, {orders: '"stage"."orders_in0"'}, model="model.p.m")
    assert renamed == SQL.replace('"db"."lake"."Orders"', '"stage"."orders_in0"')
    assert len(spans[orders]) == 2
    assert rename_relations(SQL, spans, {}, model="model.p.m") == SQL


def test_the_spans_are_read_before_planning_changes_the_tree() -> None:
    """Planning qualifies and renames the tree in place; the spans of the text stay."""
    tree = parse_model_sql(SQL, "postgres", "model.p.m")
    spans = relation_spans(tree)
    for table in tree.find_all(exp.Table):
        table.set("this", exp.to_identifier("dvt_in_0"))
    customers = RelationKey("", "lake", "customers")
    renamed = rename_relations(SQL, spans, {customers: "imp"}, model="model.p.m")
    assert "join imp c on" in renamed and '"db"."lake"."Orders"' in renamed


def test_a_reference_without_a_position_fails_the_model_by_name() -> None:
    key = RelationKey("", "lake", "t")
    with pytest.raises(UnsupportedFederationError, match=r"model\.p\.m.*lake\.t"):
        rename_relations("select 1", {key: [None]}, {key: "x"}, model="model.p.m")


def test_the_spans_survive_planning_the_same_tree() -> None:
    """The session reads the spans, then plans the very tree (which planning rewrites)."""
    from dvt.planning.models import PlanInput
    from dvt.planning.planner import plan_federation

    sql = 'select u.name from "lake"."main"."users" u where u.id in (select 1)'
    users = PlanInput(RelationKey("lake", "main", "users"), "duck", "model.p.users")
    tree = parse_model_sql(sql, "postgres", "model.p.m")
    spans = relation_spans(tree)
    plan_federation(
        tree, "postgres", [users], {users.key: [("id", "int"), ("name", "text")]}, model="model.p.m"
    )
    assert tree.sql() != sql  # planned in place
    renamed = rename_relations(sql, spans, {users.key: '"s"."users_in0"'}, model="model.p.m")
    assert renamed == sql.replace('"lake"."main"."users"', '"s"."users_in0"')
