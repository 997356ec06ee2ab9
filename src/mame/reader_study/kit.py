"""Blinded reader-study kit: real and synthetic cases, shuffled, neutral ids, a separate key.

The study showed one radiologist 53 images and took the truth from the question order. Here the
cases are drawn with a seed, shuffled, and renamed `case-001` ... in shown order, so nothing a
reader gets (name, order, size, format, metadata) depends on the truth. Every image is written
at one size, as 8-bit grey PNG with no text chunks; real images are box-reduced to the generated
images' resolution, because a sharper real image would give the answer away. The key (case id
-> truth, source, model, prompt) is written apart from the kit.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from PIL import Image

from mame.io import in_split, read_grey
from mame.reader_study.ratings import RATING_LABELS
from mame.shapes import as_shape, compact, describe

log = logging.getLogger(__name__)

TRUTHS = ("real", "synthetic")
KEY_COLUMNS = ["case_id", "truth", "source", "model", "guidance", "prompt"]


@dataclass(frozen=True)
class KitSettings:
    real: int = 28  # the study's design: 28 real, 25 synthetic
    synthetic: int = 25
    seed: int = 0
    size: int = 0  # 0: the smaller of the real and generated sizes
    title: str = "Mammogram reader study"


def image_shape(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image file."""
    with Image.open(path) as image:
        return image.height, image.width


def kit_side(key: pd.DataFrame, size: int = 0) -> int | tuple[int, int]:
    """The size every kit image is shown at (a side when square, else (height, width)): the smaller of
    the real and the generated images (so sharpness gives nothing away), with its height set to `size`
    if given and its aspect ratio kept."""
    shapes = [image_shape(key.loc[key["truth"] == t, "source"].iloc[0]) for t in ("real", "synthetic")]
    height, width = min(shapes)
    if size:
        height, width = size, max(1, round(size * width / height))
    return compact(height, width)


def _draw(frame: pd.DataFrame, count: int, what: str, rng: np.random.Generator) -> pd.DataFrame:
    if count > len(frame):
        raise ValueError(
            f"reader_study asks for {count} {what} images but only {len(frame)} are available; "
            f"lower reader_study.{'real' if what.startswith('held') else 'synthetic'}"
        )
    return frame.iloc[np.sort(rng.choice(len(frame), count, replace=False))]


def fewest_seeds(samples: pd.DataFrame, count: int, rng: np.random.Generator) -> pd.DataFrame:
    """The samples of as few randomly chosen seeds as give `count` images. The sweep reuses each seed
    for every prompt, so the kit's seeds are spent: the automated observer learns only from the other
    seeds' images, never from a kit case's same-noise siblings."""
    if "seed" not in samples.columns:
        return samples
    seeds = rng.permutation(np.unique(samples["seed"].to_numpy()))
    sizes = samples.groupby("seed").size()
    enough = int(np.searchsorted(np.cumsum(sizes.loc[seeds].to_numpy()), count)) + 1
    return samples[samples["seed"].isin(seeds[:enough])]


def draw_cases(
    real: pd.DataFrame, samples: pd.DataFrame, guidance: float, settings: KitSettings
) -> pd.DataFrame:
    """The key: real held-out images and samples at one guidance, shuffled, with neutral case ids.

    `real` needs columns image, prompt, split; `samples` the sweep's samples.csv columns.
    """
    rng = np.random.default_rng(settings.seed)
    holdout = in_split(real, "holdout").sort_values("image")
    at_guidance = samples[np.isclose(samples["guidance"].astype(float), float(guidance))].sort_values("file")
    if at_guidance.empty:
        raise ValueError(
            f"no samples at guidance {guidance}; the sweep has {sorted(set(samples['guidance']))}"
        )
    real_cases = _draw(holdout, settings.real, "held-out real", rng)
    synthetic_cases = _draw(
        fewest_seeds(at_guidance, settings.synthetic, rng), settings.synthetic, "synthetic", rng
    )
    cases = pd.concat(
        [
            pd.DataFrame(
                {
                    "truth": "real",
                    "source": real_cases["image"].to_numpy(),
                    "model": "",
                    "guidance": np.nan,
                    "prompt": real_cases["prompt"].to_numpy(),
                }
            ),
            pd.DataFrame(
                {
                    "truth": "synthetic",
                    "source": synthetic_cases["file"].to_numpy(),
                    "model": synthetic_cases["model"].to_numpy(),
                    "guidance": synthetic_cases["guidance"].astype(float).to_numpy(),
                    "prompt": synthetic_cases["prompt"].to_numpy(),
                }
            ),
        ],
        ignore_index=True,
    )
    cases = cases.iloc[rng.permutation(len(cases))].reset_index(drop=True)
    width = max(3, len(str(len(cases))))
    cases.insert(0, "case_id", [f"case-{i + 1:0{width}d}" for i in range(len(cases))])
    return cases[KEY_COLUMNS]


def png_bytes(grey: np.ndarray) -> bytes:
    """8-bit grey PNG without text chunks or timestamps, so the bytes carry only pixels."""
    buffer = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def kit_id(key: pd.DataFrame) -> str:
    """A short id of the case list: the page keeps progress per kit, so two kits never mix."""
    text = "\n".join(key["case_id"] + "," + key["source"])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mame.reader_study", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    return environment.get_template("reader_kit.html")


def write_kit(
    key: pd.DataFrame, side: int | tuple[int, int], kit_dir: str | Path, title: str = KitSettings.title
) -> Path:
    """Write kit_dir/images/<case>.png, kit_dir/index.html (images embedded; works offline from
    one file) and kit_dir/README.txt. Returns the page's path."""
    kit_dir = Path(kit_dir)
    (kit_dir / "images").mkdir(parents=True, exist_ok=True)
    cases = []
    for case_id, source in zip(key["case_id"], key["source"], strict=True):
        data = png_bytes(read_grey(source, side))  # as every reader sees it
        (kit_dir / "images" / f"{case_id}.png").write_bytes(data)
        cases.append({"id": case_id, "src": "data:image/png;base64," + base64.b64encode(data).decode()})
    page = _template().render(
        title=title,
        kit_id=kit_id(key),
        cases_json=json.dumps(cases),
        labels_json=json.dumps(list(RATING_LABELS)),
        labels=RATING_LABELS,
        count=len(cases),
        height=as_shape(side)[0],
        width=as_shape(side)[1],
    )
    index = kit_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    (kit_dir / "README.txt").write_text(
        f"{title}\n\nOpen index.html in a web browser (it works offline). It shows {len(cases)} mammograms\n"
        "one at a time; rate each from 'Definitely real' to 'Definitely synthetic'. Progress is kept in\n"
        "this browser. When done, press 'Export ratings' and send the CSV file back.\n"
        "The images are also in images/ should the page not open.\n",
        encoding="utf-8",
    )
    log.info("reader kit: %d cases (%s), %s px, in %s", len(cases), _counts(key), describe(side), kit_dir)
    return index


def _counts(key: pd.DataFrame) -> str:
    counts = key["truth"].value_counts()
    return ", ".join(f"{counts.get(truth, 0)} {truth}" for truth in TRUTHS)
