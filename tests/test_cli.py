"""The `mame` command: stages outside Snakemake, one-line reasons instead of tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from mame.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mame.cli", *args], capture_output=True, text=True, check=False
    )


def test_convert_one_file_with_defaults(write_dicom, tmp_path, capsys):
    stored = np.zeros((120, 100), dtype=np.uint16)
    stored[20:100, :60] = 3000
    path = write_dicom(stored, WindowCenter="2048", WindowWidth="4096", VOILUTFunction="LINEAR_EXACT")
    assert (
        main(["convert", str(path), str(tmp_path / "out.png"), "--size", "64", "--box", "0,20,60,100"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["laterality"] == "L"
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == (64, 64)
        bright = np.asarray(image) > 128
    rows, cols = np.nonzero(bright)
    x1, y1, x2, y2 = result["boxes"][0]
    # the box drawn around the bright block on the raw image frames the block in the output
    assert abs(x1 - cols.min()) <= 1 and abs(x2 - (cols.max() + 1)) <= 1
    assert abs(y1 - rows.min()) <= 1 and abs(y2 - (rows.max() + 1)) <= 1


def test_convert_takes_a_non_square_size_as_height_comma_width(write_dicom, tmp_path, capsys):
    stored = np.zeros((120, 100), dtype=np.uint16)
    stored[20:100, :60] = 3000
    path = write_dicom(stored, WindowCenter="2048", WindowWidth="4096")
    assert main(["convert", str(path), str(tmp_path / "out.png"), "--size", "80,64"]) == 0
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == (64, 80)  # PIL says (width, height)


def test_convert_refuses_a_non_dicom_file_in_one_line(tmp_path):
    bad = tmp_path / "scan.dcm"
    bad.write_text("hello")
    result = run_cli("convert", str(bad), str(tmp_path / "out.png"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "unreadable" in result.stderr


def test_convert_without_laterality_says_how_to_fix_it(write_dicom, tmp_path):
    path = write_dicom(np.arange(100, dtype=np.uint16).reshape(10, 10) * 40, ImageLaterality="")
    result = run_cli("convert", str(path), str(tmp_path / "out.png"))
    assert result.returncode == 1 and "--laterality" in result.stderr and "Traceback" not in result.stderr


def test_prompt_subcommand_uses_the_prompt_builder(capsys):
    assert main(["prompt", "--view", "CC", "--area", "big", "--density", "low", "--priority", "density"]) == 0
    assert capsys.readouterr().out.strip() == "a mammogram in CC view with low density and big area"


def test_phantom_index_convert_manifest_chain(tmp_path, capsys):
    raw = tmp_path / "raw"
    assert (
        main(["phantom", str(raw), "--layout", "omi", "--images", "8", "--rows", "128", "--cols", "96"]) == 0
    )
    assert (
        main(
            [
                "index",
                str(raw),
                "--adapter",
                "omi",
                "--vendor",
                "hologic",
                "--out",
                str(tmp_path / "i.csv"),
                "--rejects",
                str(tmp_path / "r.csv"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "convert-shard",
                str(tmp_path / "i.csv"),
                "--size",
                "48",
                "--images",
                str(tmp_path / "png"),
                "--out",
                str(tmp_path / "c.csv"),
                "--rejects",
                str(tmp_path / "cr.csv"),
            ]
        )
        == 0
    )
    assert (
        main(["manifest", str(tmp_path / "c.csv"), "--vendor", "hologic", "--out-dir", str(tmp_path / "m")])
        == 0
    )
    out = capsys.readouterr().out
    assert "8 images indexed" in out and "8 converted" in out
    assert (tmp_path / "m" / "healthy.csv").exists() and (tmp_path / "m" / "metadata.jsonl").exists()


def test_check_config_names_the_bad_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(
        "datasets:\n  a:\n    adapter: omi\n    vendor: x\n    root: /x\nconvert:\n  crop: middle\n"
    )
    result = run_cli("check-config", str(config))
    assert result.returncode == 1 and "crop" in result.stderr and "middle" in result.stderr


def test_encode_latents_writes_a_store_that_training_reads(tiny, tmp_path):
    """The CLI the workflow's encode_latents jobs run, on the tiny base."""
    import json

    from mame.training.latents import LatentStore

    result = run_cli("encode-latents", tiny["healthy"], "--base", tiny["base"], "--out", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["rows"] == 16 and summary["resolution"] == 32 and summary["device"] == "cpu"
    assert len(LatentStore.open(tmp_path / "s")) == 16
