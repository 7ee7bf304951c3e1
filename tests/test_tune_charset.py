"""The character set learned from the tuning labels (pipeline.tuning.charset)."""

from __future__ import annotations

import random
import string

from pipeline.tuning.charset import LOOKALIKES, TWINS, learned_whitelist


def codes(alphabet: str, n: int = 8, length: int = 5, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(n)]


def test_capitals_and_digits_only_keep_out_every_small_letter_and_punctuation() -> None:
    allowed = learned_whitelist(codes(string.ascii_uppercase + string.digits))
    assert set(allowed) == set(string.ascii_uppercase + string.digits)


def test_digit_readings_keep_only_digits() -> None:
    assert learned_whitelist(["0417", "2389", "5562", "1190", "7034", "6628"]) == string.digits


def test_a_captcha_alphabet_without_small_twins_keeps_them_out_but_keeps_the_other_small_letters() -> None:
    alphabet = "ACDEFGHJKLMNPQRTUVWXYabdefghmnqrt2345678"  # no small c k o p s u v w x z
    labels = codes(alphabet, seed=3)
    allowed = learned_whitelist(labels)
    assert not set(TWINS) & set(allowed)
    assert set("abdefghmnqrt") <= set(allowed) and set(TWINS.upper()) - set(LOOKALIKES) <= set(allowed)
    assert set("23456789") <= set(allowed) and not set(string.punctuation) & set(allowed)


def test_look_alikes_no_label_uses_are_left_out_as_a_group() -> None:
    alphabet = "ACDEFGHJKLMNPQRTUVWXYabdefghkmnqrt2345678"  # no 0 O 1 I l, as in many captchas
    allowed = learned_whitelist(codes(alphabet, seed=5))
    assert not set(LOOKALIKES) & set(allowed)
    assert set("23456789") <= set(allowed) and {"L", "J", "T", "f", "r"} <= set(allowed)


def test_one_look_alike_in_the_labels_keeps_the_whole_group() -> None:
    labels = [*codes("ACDEFGHJKLMNPQRTUVWXY2345678", n=7, seed=6), "K1T4Q"]
    allowed = learned_whitelist(labels)
    assert {"0", "1", "I", "O"} <= set(allowed)


def test_too_few_characters_do_not_rule_out_the_look_alikes() -> None:
    # 12 capitals and digits: the 4 look-alikes among 36 would have supplied 1.3 of them
    labels = ["ABCD", "EFGH", "2345"]
    assert {"0", "1", "I", "O"} <= set(learned_whitelist(labels))


def test_k_and_p_are_not_twins_their_small_forms_stay_with_the_other_small_letters() -> None:
    # Labels of a generated captcha set whose alphabet has a small k: these 8 write K six times
    # and k never, which is luck, not evidence (the engine tells k from K by its shape).
    labels = ["tLDXQ", "KKqUL5", "7U3dC", "eq7KWX", "AAMe", "2t6GFd", "KNmDK", "WP8HKY"]
    allowed = learned_whitelist(labels)
    assert {"k", "p"} <= set(allowed) and {"K", "P"} <= set(allowed)
    assert not {"w", "x", "u", "c"} & set(allowed)  # the size-only twins stay out


def test_a_small_twin_the_labels_use_stays_allowed() -> None:
    labels = ["XVx4W", "CWUa7", "PVXd2", "KWCe5", "UXVf8", "WCPg3", "VKXh6", "CUWm2"]
    allowed = learned_whitelist(labels)
    assert "x" in allowed and "v" not in allowed and "w" not in allowed


def test_ignore_case_learns_no_case() -> None:
    labels = ["XVx4W", "CWUa7", "PVXd2", "KWCe5", "UXVf8", "WCPg3", "VKXh6", "CUWm2"]
    assert {"v", "w"} <= set(learned_whitelist(labels, ignore_case=True))


def test_every_letter_and_digit_in_use_keeps_them_all() -> None:
    allowed = learned_whitelist(codes(string.ascii_letters + string.digits, n=16, seed=1))
    assert set(allowed) == set(string.ascii_letters + string.digits)  # only punctuation is out


def test_too_few_characters_to_tell_keep_the_classes_they_cannot_rule_out() -> None:
    # 6 capitals: digits or small letters would have supplied fewer than 3 of them; punctuation 4
    assert set(learned_whitelist(["AB", "CD", "EF"])) == set(string.ascii_letters + string.digits)


def test_sentences_and_non_ascii_labels_restrict_nothing() -> None:
    assert learned_whitelist(["the quick brown fox", "jumps over"]) == ""
    assert learned_whitelist(["ÄÖÜ12", "ABCDE", "FGHIJ", "KLMNO", "PQRST", "UVWXY"]) == ""
    assert learned_whitelist(["ABCDEFGHIJKLMNOP"] * 4) == ""  # longer than a code
    assert learned_whitelist([None, "", "  "]) == ""


def test_punctuation_the_labels_use_keeps_the_whole_class() -> None:
    allowed = learned_whitelist(["12.50", "3.75", "100.0", "8.25", "66.60", "0.99"])
    assert set(allowed) == set(string.digits + string.punctuation)
