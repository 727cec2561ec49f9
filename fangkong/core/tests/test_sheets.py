"""The shared reader of every import: headers found and matched, every line a row."""

import pytest

from fangkong.core.errors import InvalidInput
from fangkong.core.sheets import MAX_LINES_PER_CELL, Columns, read_table

COLUMNS = Columns(
    fields={"name": ("姓名", "名字"), "phone": ("手机号码", "手机", "电话")},
    required=(("name",),),
)


def rows_of(tmp_path, text, *, encoding="utf-8"):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    table = read_table(path, COLUMNS)
    return table, [(row.number, row.cells, row.problem) for row in table.rows]


def test_headers_match_without_marks_notes_or_full_width_letters(tmp_path):
    table, rows = rows_of(tmp_path, "＊姓名,手机号码（必填）,电话,岗位\n王芳,138,139,电工\n")
    assert table.positions == {"name": 0, "phone": 1}
    assert table.ignored == ["电话", "岗位"]  # a second phone column is not read either
    assert rows == [(2, ["王芳", "138", "139", "电工"], None)]


def test_a_quoted_cell_may_span_lines_up_to_the_limit(tmp_path):
    inside = "\n".join(["x"] * MAX_LINES_PER_CELL)
    text = f'姓名,手机\n"{inside}",1\n王芳,2\n'
    _table, rows = rows_of(tmp_path, text)
    assert [(number, problem) for number, _cells, problem in rows] == [
        (2, None),
        (2 + MAX_LINES_PER_CELL, None),
    ]


def test_a_quote_open_for_longer_costs_one_line_and_the_rest_are_read(tmp_path):
    inside = "\n".join(["x"] * (MAX_LINES_PER_CELL + 1))
    _table, rows = rows_of(tmp_path, f'姓名,手机\n"{inside}",1\n')
    assert rows[0][0] == 2 and rows[0][2] is not None
    assert [number for number, _cells, problem in rows[1:]] == list(range(3, 13))
    assert rows[-1][1] == ['x"', "1"]  # read as it stands, for the import to judge


def test_text_straight_after_a_closing_quote_is_an_unreadable_line(tmp_path):
    _table, rows = rows_of(tmp_path, '姓名,手机\n"王"芳,1\n赵强,2\n')
    assert rows[0][2] is not None and rows[0][1] == ['"王"芳,1']
    assert rows[1] == (3, ["赵强", "2"], None)


def test_no_header_in_the_first_ten_rows_names_the_missing_columns(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("\n".join(["标题"] * 10 + ["姓名,手机", "王芳,1"]))
    with pytest.raises(InvalidInput) as caught:
        read_table(path, COLUMNS)
    assert "姓名" in str(caught.value.message)
