"""Units in tree order: a parent before its children, siblings by id, not as text."""

from fangkong.core.paths import tree_order


def test_siblings_sort_by_id_and_children_follow_their_parent():
    paths = ["/1/10/", "/1/2/", "/1/2/30/", "/1/", "/1/2/4/"]
    assert sorted(paths, key=tree_order) == ["/1/", "/1/2/", "/1/2/4/", "/1/2/30/", "/1/10/"]
