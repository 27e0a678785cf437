from chalicelib.security.passwords import check_password, fits_bcrypt, hash_password
from chalicelib.services.password_rules import password_problems


def test_password_matches_its_hash_and_nothing_else():
    hashed = hash_password("correct horse", 4)
    assert check_password("correct horse", hashed, 4)
    assert not check_password("wrong horse", hashed, 4)


def test_unknown_user_check_answers_false_without_a_hash():
    assert not check_password("anything", None, 4)


def test_password_over_72_bytes_never_matches_and_never_raises():
    hashed = hash_password("a" * 72, 4)
    assert not check_password("a" * 73, hashed, 4)
    assert not fits_bcrypt("é" * 37)
    assert fits_bcrypt("é" * 36)


def test_short_common_numeric_passwords_get_all_of_djangos_messages():
    assert password_problems("1234567", username="bob", email="") == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]


def test_password_like_the_username_is_too_similar():
    assert password_problems("alicealice1", username="alicealice", email="") == [
        "The password is too similar to the username."
    ]


def test_password_like_the_email_is_too_similar():
    assert "The password is too similar to the email address." in password_problems(
        "margaret.hamilton", username="mh", email="margaret.hamilton@example.com"
    )


def test_strong_password_has_no_problems():
    assert password_problems("vivid-otter-92-lamp", username="bob", email="bob@example.com") == []


def test_a_password_like_one_part_of_the_email_is_too_similar_though_unlike_the_whole():
    assert password_problems("hamiltonx", username="x", email="margaret.hamilton@example.com") == [
        "The password is too similar to the email address."
    ]


def test_an_unknown_user_and_an_overlong_password_still_cost_one_bcrypt_check(monkeypatch):
    import bcrypt

    checks = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, hashed: checks.append(pw) or real(pw, hashed))
    assert not check_password("anything", None, 4)
    assert not check_password("x" * 100, hash_password("x" * 72, 4), 4)
    assert checks == [b"anything", b"x" * 72]


def test_a_part_too_short_to_compare_does_not_end_the_comparison():
    # "a" is skipped as too short for a 12-character password; the parts after it are still compared.
    assert password_problems("hamiltonian1", username="x", email="a@hamiltonian.com") == [
        "The password is too similar to the email address."
    ]


def test_a_similarity_of_exactly_the_bound_is_too_similar():
    # quick_ratio = 2 * 7 matches / (13 + 7) characters = 0.7, Django's bound, which it refuses.
    assert password_problems("abcdefgpqrstu", username="abcdefg", email="") == [
        "The password is too similar to the username."
    ]
