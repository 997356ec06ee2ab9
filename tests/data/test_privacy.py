"""Pseudonymous keys and scrubbed messages: no UID or path leaves the pipeline."""

from __future__ import annotations

from mame.data.privacy import KEY_LENGTH, pseudonym, scrub


def test_a_key_is_stable_salted_and_not_the_identifier():
    key = pseudonym("salt", "1.2.3.4.5", "image.dcm")
    assert key == pseudonym("salt", "1.2.3.4.5", "image.dcm") and len(key) == KEY_LENGTH
    assert key != pseudonym("other salt", "1.2.3.4.5", "image.dcm")
    assert pseudonym("salt", "ab", "c") != pseudonym("salt", "a", "bc")  # parts are separated
    assert "1.2.3" not in key


def test_scrub_removes_paths_and_site_uids_but_keeps_the_standards_uids():
    message = (
        "/data/p1/1.3.6.1.4.1.9590.100.1.2.555.dcm: transfer syntax 1.2.840.10008.1.2.4.90 "
        "of 2.25.1234.5678.91011 unsupported"
    )
    cleaned = scrub(message, "/data/p1/1.3.6.1.4.1.9590.100.1.2.555.dcm")
    assert cleaned == "<file>: transfer syntax 1.2.840.10008.1.2.4.90 of <uid> unsupported"
    assert len(scrub("x " * 400)) == 300
