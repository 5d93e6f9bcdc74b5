import pytest

from mcore.folders.paths import ancestor_ids, child_path, moved_path, sibling_key


def test_paths_nest_and_give_breadcrumbs() -> None:
    root = child_path(None, "a")
    deep = child_path(child_path(root, "b"), "c")
    assert root == "a/"
    assert deep == "a/b/c/"
    assert ancestor_ids(deep) == ["a", "b", "c"]


def test_moving_a_subtree_rewrites_its_prefix() -> None:
    assert moved_path("a/b/c/", old_prefix="a/b/", new_prefix="x/b/") == "x/b/c/"
    with pytest.raises(ValueError):
        moved_path("q/c/", old_prefix="a/b/", new_prefix="x/b/")


def test_bad_ids_are_refused_and_names_compare_without_case() -> None:
    with pytest.raises(ValueError):
        child_path(None, "a/b")
    assert sibling_key(" Proofs ") == sibling_key("proofs")
