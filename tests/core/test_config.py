"""Settings read from the environment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.config import random_page_cost
from core.extensions import db


def test_the_planner_cost_of_random_reads_is_read_as_a_number():
    assert random_page_cost("1.1") == 1.1
    assert random_page_cost(" ") is None  # the server's own setting


@pytest.mark.parametrize("raw", ["fast", "0", "-2", "1e9"])
def test_a_nonsense_planner_cost_stops_start_up_with_its_name(raw):
    with pytest.raises(ValueError, match="PG_RANDOM_PAGE_COST"):
        random_page_cost(raw)


def test_the_running_database_uses_it(app, db_session):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting; this run is on SQLite")
    assert db.session.execute(sa.text("SHOW random_page_cost")).scalar_one() == "1.1"
