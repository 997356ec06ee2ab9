"""Validation grids: the same prompts from one fixed seed at successive steps, each image labelled with
its prompt (the study's 'denoising process at epoch ...' figure)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def labelled_grid(images: list | np.ndarray, labels: list[str], title: str = "") -> Image.Image:
    """A row of grey images (mammograms: the VAE's three channels averaged) with their prompts under them."""
    arrays = [
        np.asarray(img, dtype=np.float32) / (255.0 if isinstance(img, Image.Image) else 1.0) for img in images
    ]
    tiles = [
        Image.fromarray((np.clip(a.mean(axis=-1) if a.ndim == 3 else a, 0, 1) * 255).astype(np.uint8))
        for a in arrays
    ]
    if tiles[0].width < 128:  # small demo images: enlarge so the grid and its labels stay readable
        factor = -(-128 // tiles[0].width)
        tiles = [t.resize((t.width * factor, t.height * factor), Image.Resampling.NEAREST) for t in tiles]
    width, height = tiles[0].size
    label_height = 36
    grid = Image.new("RGB", (width * len(tiles), height + label_height + 14), "white")
    draw = ImageDraw.Draw(grid)
    draw.text((4, 1), title, fill="black")
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=False)):
        grid.paste(tile.convert("RGB"), (i * width, 14))
        words, lines, line = label.split(), [], ""
        for word in words:
            if len(line) + len(word) + 1 > max(8, width // 6):
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        draw.multiline_text((i * width + 2, height + 15), "\n".join(lines[-3:]), fill="black", spacing=0)
    return grid
