"""The one prompt builder: manifests, sampling and the GUI all call `build_prompt`.

Templates follow the study: "a mammogram in {view} view with {area} area",
"a mammogram in {view} view with {density} density", and the fusion model inserts the
vendor ("a hologic mammogram ..."). When both area and density are given (only at sampling
time: training captions never hold both), `priority` decides the order or drops one.
"""

from __future__ import annotations

VIEWS = ("CC", "MLO")  # the study's views; the index may keep more (index.views)
AREA_WORDS = ("small", "medium", "big")
DENSITY_WORDS = {"A": "very low", "B": "low", "C": "high", "D": "very high"}
ATTRIBUTE_WORDS = {"area": AREA_WORDS, "density": tuple(DENSITY_WORDS.values())}
PRIORITIES = ("area", "density", "only area", "only density")
LESION_PROMPT = "a mammogram with a lesion"


def density_word(density: str) -> str:
    """Map a BI-RADS density letter ("A".."D", "DENSITY C", "c") to the study's word."""
    letter = str(density).strip().upper().replace("DENSITY", "").strip()
    if letter not in DENSITY_WORDS:
        raise ValueError(f"unknown breast density {density!r}; expected one of A, B, C, D")
    return DENSITY_WORDS[letter]


def area_word(fraction: float, thresholds: tuple[float, float] = (0.4, 0.6)) -> str:
    """Bin a breast-area fraction: small < t0 <= medium < t1 <= big (the study's 0.4 / 0.6)."""
    low, high = thresholds
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"area fraction must lie in [0, 1], got {fraction}")
    if not low < high:
        raise ValueError(f"area thresholds must increase, got {thresholds}")
    if fraction < low:
        return "small"
    return "medium" if fraction < high else "big"


def build_prompt(
    view: str,
    area: str | None = None,
    density: str | None = None,
    vendor: str | None = None,
    priority: str = "area",
) -> str:
    """Compose a caption from attribute words (area/density are words, not letters or fractions).

    `priority` only matters when both area and density are given: "area" puts area first,
    "density" puts density first, "only area"/"only density" drop the other attribute.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; expected one of {', '.join(PRIORITIES)}")
    if area is not None and area not in AREA_WORDS:
        raise ValueError(f"unknown area {area!r}; expected one of {', '.join(AREA_WORDS)}")
    if density is not None and density not in DENSITY_WORDS.values():
        raise ValueError(f"unknown density {density!r}; expected one of {', '.join(DENSITY_WORDS.values())}")
    if priority == "only area":
        density = None
    elif priority == "only density":
        area = None
    parts = []
    if area is not None:
        parts.append(f"{area} area")
    if density is not None:
        parts.append(f"{density} density")
    if priority == "density":
        parts.reverse()
    subject = f"a {vendor.lower()} mammogram" if vendor else "a mammogram"
    prompt = f"{subject} in {view.upper()} view"
    if parts:
        prompt += " with " + " and ".join(parts)
    return prompt


def extremes(attribute: str) -> tuple[str, str]:
    """The two ends of an attribute's scale ("small"/"big", "very low"/"very high"): what a sweep asks for."""
    words = ATTRIBUTE_WORDS[attribute]
    return words[0], words[-1]


def parse_prompt(prompt: str) -> dict[str, str]:
    """What a caption built by `build_prompt` asks for (view, vendor, area, density; absent keys are
    not asked): its inverse, so a validation prompt can be read back as the conditions it names. A
    caption of another shape gives {}."""
    import re

    match = re.fullmatch(r"a (?:(\w+) )?mammogram in (\w+) view(?: with (.+))?", prompt.strip())
    if not match:
        return {}
    asked = {"view": match.group(2).upper()}
    if match.group(1):
        asked["vendor"] = match.group(1)
    for part in match.group(3).split(" and ") if match.group(3) else []:
        for attribute, words in ATTRIBUTE_WORDS.items():
            for word in words:
                if part == f"{word} {attribute}":
                    asked[attribute] = word
    return asked
