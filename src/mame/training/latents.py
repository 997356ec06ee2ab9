"""The latent stage: every training image encoded once, by the frozen base VAE, on the accelerator.

Fine-tuning never changes the VAE, so its posterior (mean and std) of an image never changes either. The
workflow encodes each dataset once per base (rule `encode_latents`) and every fine-tuning job that uses
the dataset streams from that store; a training job never runs the encoder. A store is a folder of
memory-mappable `.npy` arrays, one row per image, plus `keys.csv` (image key -> row) and `latents.json`
(shape, resolution, and the fingerprints of the VAE and of the conversion that made the images). Only
the rows of the current batch are read and moved to the device, so neither host nor device memory grows
with the dataset.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from mame.data.examples import read_image, read_mask
from mame.io import split_rows
from mame.models.families import encode_posterior
from mame.shapes import as_shape, compact

log = logging.getLogger(__name__)

ARRAYS = ("mean", "std")
INPAINT_ARRAYS = ("masked", "mask")  # masked-image latents (x scaling factor) and latent-size masks
PRECISIONS = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def accelerator_device() -> torch.device:
    """Where encoding and training run: the GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def vae_fingerprint(vae) -> str:
    """What a store was encoded with: the VAE's config and weights (a new base re-encodes)."""
    digest = hashlib.sha256(json.dumps(dict(vae.config), sort_keys=True, default=str).encode())
    for name, tensor in sorted(vae.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).numpy().tobytes())
    return digest.hexdigest()[:16]


def image_keys(frame: pd.DataFrame) -> list[str]:
    """Each manifest row's key: the pipeline's pseudonymous key, else its image path (hand-made manifests)."""
    return (
        frame["key"].astype(str).tolist() if "key" in frame.columns else frame["image"].astype(str).tolist()
    )


@dataclass
class LatentStore:
    """One encoded dataset, opened read-only and memory-mapped."""

    folder: Path
    info: dict
    rows: dict[str, int]
    arrays: dict[str, np.ndarray]

    @classmethod
    def open(cls, folder: str | Path) -> LatentStore:
        folder = Path(folder)
        info_path = folder / "latents.json"
        if not info_path.exists():
            raise FileNotFoundError(f"no latent store at {folder} (latents.json missing): run encode_latents")
        info = json.loads(info_path.read_text())
        keys = pd.read_csv(folder / "keys.csv", dtype=str, keep_default_na=False)["key"].tolist()
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in info["arrays"]}
        return cls(folder, info, {key: row for row, key in enumerate(keys)}, arrays)

    def __len__(self) -> int:
        return len(self.rows)


@torch.no_grad()
def _encode_batch(vae, frame: pd.DataFrame, resolution, inpainting: bool, device, dtype) -> dict:
    images = torch.from_numpy(np.stack([read_image(p, resolution) for p in frame["image"]])).to(device)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype != torch.float32 else nullcontext()
    with autocast:
        mean, std = encode_posterior(vae, images)
        out = {"mean": mean.float(), "std": std.float()}
        if inpainting:
            masks = torch.from_numpy(np.stack([read_mask(p, resolution) for p in frame["mask"]])).to(device)
            masked = encode_posterior(vae, images * (masks < 0.5))[0].float()
            out["masked"] = masked * vae.config.scaling_factor
            out["mask"] = F.interpolate(masks, size=out["mean"].shape[-2:])
    return {name: value.cpu().numpy() for name, value in out.items()}


def encode_manifest(
    vae,
    frame: pd.DataFrame,
    folder: str | Path,
    resolution: int | tuple[int, int],
    inpainting: bool = False,
    batch_size: int = 32,
    precision: str = "fp16",
    fingerprints: dict | None = None,
    device: torch.device | None = None,
) -> LatentStore:
    """Encode every row of `frame` (columns image [, mask], key) into a store at `folder`.

    Runs on `device` (default: the accelerator), under fp16/bf16 autocast there (`precision`; a CPU
    encodes in fp32). A batch that runs out of device memory is halved and retried. Arrays are written
    row by row into memory-mapped files: encoding 56k images holds one batch in memory, not 7 GB.
    """
    if frame.empty:
        raise ValueError(f"nothing to encode into {folder}: the manifest has no rows")
    if precision not in PRECISIONS:
        raise ValueError(f"latent precision {precision!r} unknown; expected one of {', '.join(PRECISIONS)}")
    device = device or accelerator_device()
    dtype = PRECISIONS[precision] if device.type == "cuda" else torch.float32
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vae = vae.to(device).eval()
    names = ARRAYS + (INPAINT_ARRAYS if inpainting else ())
    files: dict[str, np.ndarray] = {}
    started, done, size = time.perf_counter(), 0, batch_size
    from tqdm import tqdm

    progress = tqdm(total=len(frame), desc="encode", unit="img", mininterval=5, disable=None)
    while done < len(frame):
        part = frame.iloc[done : done + size]
        try:
            encoded = _encode_batch(vae, part, resolution, inpainting, device, dtype)
        except torch.cuda.OutOfMemoryError:
            if size == 1:
                raise
            size = max(1, size // 2)
            torch.cuda.empty_cache()
            log.warning("out of device memory: encoding %d images a batch", size)
            continue
        if not files:
            files = {
                name: np.lib.format.open_memmap(
                    folder / f"{name}.npy",
                    mode="w+",
                    dtype=np.float32,
                    shape=(len(frame), *encoded[name].shape[1:]),
                )
                for name in names
            }
        for name in names:
            files[name][done : done + len(part)] = encoded[name]
        done += len(part)
        progress.update(len(part))
    progress.close()
    for array in files.values():
        array.flush()
    seconds = time.perf_counter() - started
    pd.DataFrame({"key": image_keys(frame)}).to_csv(folder / "keys.csv", index=False)
    info = {
        "arrays": list(names),
        "rows": len(frame),
        "latent_shape": list(files["mean"].shape[1:]),
        "resolution": resolution if isinstance(resolution, int) else list(as_shape(resolution)),
        "inpainting": inpainting,
        "scaling_factor": float(vae.config.scaling_factor),
        "device": str(device),
        "precision": str(dtype).replace("torch.", ""),
        "seconds": round(seconds, 2),
        "fingerprints": {"vae": vae_fingerprint(vae), **(fingerprints or {})},
    }
    (folder / "latents.json").write_text(json.dumps(info, indent=2) + "\n")
    log.info(
        "encoded %d images in %.1f s (%.1f images/s) on %s", len(frame), seconds, len(frame) / seconds, device
    )
    return LatentStore.open(folder)


class StreamedLatents:
    """The rows a run trains on, gathered batch by batch from one or several stores (fusion reads each
    dataset's). `gather(index)` returns the batch's arrays as tensors on `device`."""

    def __init__(self, stores: list[LatentStore], keys: list[str], device: torch.device) -> None:
        where = {}
        for number, store in enumerate(stores):
            for key, row in store.rows.items():
                where.setdefault(key, (number, row))
        missing = [key for key in keys if key not in where]
        if missing:
            folders = ", ".join(str(s.folder) for s in stores)
            raise ValueError(
                f"{len(missing)} training image(s) have no latents in {folders} (first: {missing[0]}); "
                "re-encode after the data changed (rule encode_latents)"
            )
        self.stores, self.device = stores, device
        self.store_of = np.array([where[key][0] for key in keys])
        self.row_of = np.array([where[key][1] for key in keys])
        self.names = list(stores[0].info["arrays"])

    def __len__(self) -> int:
        return len(self.row_of)

    def gather(self, index: torch.Tensor | np.ndarray | list[int]) -> dict[str, torch.Tensor]:
        index = np.asarray(index.cpu() if isinstance(index, torch.Tensor) else index)
        out = {}
        for name in self.names:
            parts = np.empty((len(index), *self.stores[0].arrays[name].shape[1:]), np.float32)
            for number, store in enumerate(self.stores):
                mine = self.store_of[index] == number
                if mine.any():  # a memmap reads just these rows
                    parts[mine] = store.arrays[name][self.row_of[index][mine]]
            out[name] = torch.from_numpy(parts).to(self.device)
        return out


def check_store(store: LatentStore, resolution, vae_tag: str, inpainting: bool) -> None:
    """Refuse a store made at another resolution, by another VAE, or without the inpainting arrays."""
    if as_shape(store.info["resolution"]) != as_shape(resolution):
        raise ValueError(
            f"latents in {store.folder} were encoded at {store.info['resolution']} px but this run trains at "
            f"{resolution} px; set one resolution (models.train.resolution) for all models of a dataset"
        )
    if store.info["fingerprints"]["vae"] != vae_tag:
        raise ValueError(
            f"latents in {store.folder} come from another VAE than this run's base; re-encode them"
        )
    if inpainting and not store.info["inpainting"]:
        raise ValueError(
            f"latents in {store.folder} hold no masked-image latents; encode the lesion manifest"
        )


def native_resolution(base: str) -> int | tuple[int, int]:
    """The resolution a base generates at: its denoiser's sample size (a side, or [h, w]) times the
    autoencoder's downsampling; a side for square bases, (height, width) otherwise."""
    from mame.models.components import config_shape
    from mame.models.families import family_of

    family = family_of(base)
    read = lambda folder: json.loads((Path(base) / folder / "config.json").read_text())  # noqa: E731
    height, width = config_shape(read(family.denoiser), read("vae"))
    return compact(height, width)


def base_autoencoder(base: str):
    """The base's autoencoder alone (a KL VAE, or Sana's DC-AE), by the class its pipeline names."""
    import diffusers

    index = Path(base) / "model_index.json"
    name = (
        json.loads(index.read_text()).get("vae", ["diffusers", "AutoencoderKL"])[1] if index.exists() else ""
    )
    return getattr(diffusers, name or "AutoencoderKL").from_pretrained(base, subfolder="vae")


def encode_base_latents(
    base: str,
    manifests: list[str],
    folder: str | Path,
    inpainting: bool = False,
    resolution: int | tuple[int, int] | None = None,
    batch_size: int = 32,
    precision: str = "fp16",
    fingerprints: dict | None = None,
) -> LatentStore:
    """The latent stage of one dataset: the train rows of `manifests` encoded by `base`'s autoencoder (only
    it is loaded) at `resolution` (default: the base's own)."""
    from mame.models.families import family_of

    frame = split_rows(manifests, "train")
    vae = base_autoencoder(base)
    if family_of(base).name == "sdxl" and precision == "fp16" and vae.config.force_upcast:
        # SDXL's VAE overflows in fp16 (its pipelines upcast it too); an fp16-fixed VAE clears the flag
        log.warning("the SDXL VAE needs fp32 (force_upcast): encoding in fp32 instead of fp16")
        precision = "fp32"
    return encode_manifest(
        vae,
        frame,
        folder,
        resolution or native_resolution(base),
        inpainting=inpainting,
        batch_size=batch_size,
        precision=precision,
        fingerprints=fingerprints,
    )
