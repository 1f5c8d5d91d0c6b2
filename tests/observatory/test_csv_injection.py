"""The observatory CSV never carries a formula cell (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db.engine import create_db_engine
from bot.observatory.report import COLUMNS, safe_cell, write_csv


@pytest.mark.parametrize("bad", ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_formula_cells_are_quoted(bad: str) -> None:
    row = dict.fromkeys(COLUMNS, 7) | {"comune": bad}
    out = io.StringIO()
    write_csv(out, [row], suppressed="<5")
    cells = list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1]
    assert cells[COLUMNS.index("comune")] == "'" + bad
    assert safe_cell("Tradate") == "Tradate" and safe_cell(-1) == -1
    assert safe_cell("\rx") == "'\rx"


def test_errors_never_print_bound_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (a TEXT UNIQUE)"))
        conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": "whatsapp:+393331234567"})
    with pytest.raises(IntegrityError) as err, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (:a)"), {"a": "whatsapp:+393331234567"})
    assert "3331234567" not in str(err.value)
    engine.dispose()
