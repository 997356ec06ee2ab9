"""Pseudonymous keys: every output names an image by a salted hash, never by a DICOM UID or path."""

from __future__ import annotations

import hashlib
import re

KEY_LENGTH = 16


def pseudonym(salt: str, *parts: str) -> str:
    """A stable 16-hex-digit key for an image; without the salt it cannot be traced to its source.

    Keep the salt secret for real data (set `privacy.salt` in the config): anyone with the salt and
    the source identifiers could recompute the mapping.
    """
    digest = hashlib.sha256()
    digest.update(salt.encode())
    for part in parts:
        digest.update(b"\x1f")
        digest.update(str(part).encode())
    return digest.hexdigest()[:KEY_LENGTH]


# UIDs minted by sites; the standard's own (1.2.840.10008.*: transfer syntaxes, SOP classes) stay readable
_UID_PATTERN = re.compile(r"(?<![\d.])(?!1\.2\.840\.10008\.)\d+(?:\.\d+){3,}")


def scrub(text: str, *secrets: str) -> str:
    """Remove paths and UID-like strings from a message before it goes into a public table."""
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), "<file>")
    text = _UID_PATTERN.sub("<uid>", text)
    return " ".join(text.split())[:300]
