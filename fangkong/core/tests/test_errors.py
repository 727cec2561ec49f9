"""An error's words on a page: the field problems, never the detail as Python prints it."""

from fangkong.core.errors import InvalidInput


def test_field_problems_are_joined_and_an_imports_rows_are_not():
    by_field = InvalidInput("请检查。", detail={"to": ["结束日期早于开始日期。"], "from": ["x"]})
    assert by_field.as_text() == "结束日期早于开始日期。；x"
    rows = InvalidInput(
        "1 行有错误，未导入。",
        detail={"rows": [{"row": 4, "column": "事项名称", "value": "", "message": "必填"}]},
    )
    assert rows.field_messages() == []
    assert rows.as_text() == "1 行有错误，未导入。"
