from chalicelib.ids import is_valid_id, new_id


def test_new_ids_are_valid_unique_and_sort_by_creation():
    ids = [new_id() for _ in range(200)]
    assert all(is_valid_id(i) for i in ids)
    assert len(set(ids)) == 200
    assert [i[:10] for i in ids] == sorted(i[:10] for i in ids)


def test_strings_that_are_not_ids_are_refused():
    for value in ["", "1", "../etc/passwd", "01M8DJKSQ4WJA7GH71FHCTVASd", "01M8DJKSQ4WJA7GH71FHCTVAS", "U" * 26]:
        assert not is_valid_id(value)
