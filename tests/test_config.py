"""The one validator: schema defaults and every cross-key check, for the workflow and `mame check-config`."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mame.cli import main
from mame.config import ConfigError, check_config, load_config, schema_path

from conftest import REPO

DEMO = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _changed(change) -> dict:
    config = copy.deepcopy(DEMO)
    change(config)
    return config


# every cross-check the workflow applies, with the words its message must name
CROSS_CHECKS = {
    "fusion member unknown": (lambda c: c["fusion"].update(datasets=["omi", "inbreast"]), "fusion.datasets"),
    "fixed_max missing": (
        lambda c: (c["convert"].update(intensity="fixed_max"), c["datasets"]["vindr"].pop("fixed_max")),
        "datasets.vindr.fixed_max",
    ),
    "name used twice": (
        lambda c: c["models"]["inpaint"].update(hologic={"datasets": ["omi"]}),
        "both define 'hologic'",
    ),
    "model dataset unknown": (
        lambda c: c["models"]["finetune"]["hologic"].update(datasets=["cbis"]),
        "models.finetune.hologic.datasets",
    ),
    "inpainting from fusion": (
        lambda c: c["models"]["inpaint"]["lesions"].update(datasets=["fusion"]),
        "models.inpaint.lesions.datasets",
    ),
    "prompts of an unknown model": (
        lambda c: c["sampling"].update(prompts={"ge": [{"view": "CC"}]}),
        "sampling.prompts names 'ge'",
    ),
    "one model at another resolution": (
        lambda c: c["models"]["finetune"]["hologic"].update(train={"resolution": 128}),
        "models.finetune.hologic.train.resolution",
    ),
    "reader model unknown": (lambda c: c["reader_study"].update(model="lesions"), "reader_study.model"),
    "reader guidance off the sweep": (
        lambda c: c["reader_study"].update(guidance=5),
        "reader_study.guidance",
    ),
    "nobody rates": (lambda c: c["reader_study"].update(observer=False), "no observer and no rating files"),
    "grid utility task unknown": (
        lambda c: c.update(
            experiments={"steps": {"model": "siemens", "grid": {"steps": [9]}, "utility": ["area"]}}
        ),
        "experiments.steps.utility names 'area'",
    ),
    "grid utility task of another model": (
        lambda c: (
            c.update(
                experiments={"steps": {"model": "siemens", "grid": {"steps": [9]}, "utility": ["density"]}}
            ),
            c["utility"]["tasks"]["density"].update(model="hologic"),
        ),
        "utility.tasks.density learns from hologic's samples, not from siemens's",
    ),
    "early stopping without its metrics": (
        lambda c: c["models"]["finetune"]["hologic"].update(train={"early_stopping": {"metric": "fd"}}),
        "models.finetune.hologic: early_stopping reads the validation metrics",
    ),
    "utility model unknown": (
        lambda c: c["utility"]["tasks"]["density"].update(model="ge"),
        "utility.tasks.density.model names 'ge'",
    ),
    "utility dataset unknown": (
        lambda c: c["utility"]["cross_vendor"].update(test="inbreast"),
        "utility.cross_vendor.test names 'inbreast'",
    ),
    "utility guidance off the sweep": (lambda c: c["utility"].update(guidance=[5]), "utility.guidance has 5"),
    "lesion task without inpainting model": (
        lambda c: c["utility"]["tasks"]["density"].update(attribute="lesion"),
        "needs inpaint_model",
    ),
    "super-resolution factor the tiny twin cannot make": (
        lambda c: c["convert"]["full_field"].update(scale=3),
        "the tiny upscaler needs 2, 4, 8 or 16",
    ),
    "super-resolution patch off the UNet's grid": (
        lambda c: c["superres"].update(patch=36),
        "superres.patch is 36",
    ),
    "super-resolution tile off the factor": (lambda c: c["superres"].update(tile=30), "superres.tile is 30"),
    "upscaled samples of an unknown model": (
        lambda c: c["superres"].update(models=["ge"]),
        "superres.models names 'ge'",
    ),
    "a full-field distribution patch larger than the full field": (
        lambda c: c["evaluation"]["full_field_distribution"].update(patch=512),
        "evaluation.full_field_distribution.patch is 512",
    ),
    "the random x4 upscaler at another factor": (
        lambda c: c["superres"].update(base="x4-upscaler-random", factor=2),
        "x4-upscaler-random is SD's x4 upscaler, but the factor is 2",
    ),
    "a model named as the upscaler": (
        lambda c: c["models"]["finetune"].update(upscaler={"datasets": ["omi"]}),
        "named 'upscaler'",
    ),
    "super-resolution factor unknown for a hub base": (
        lambda c: c["models"].update(base="runwayml/stable-diffusion-v1-5"),
        "set superres.factor",
    ),
}


def test_the_demo_and_the_study_settings_are_valid():
    assert check_config(copy.deepcopy(DEMO))["sampling"]["seed"] == 1000  # a schema default, filled in
    load_config(REPO / "config" / "thesis.yaml")


def _overlaid(base: dict, overlay: dict) -> dict:
    """Snakemake's --configfile A B: B's keys merged into A's, mapping by mapping."""
    for key, value in overlay.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        base[key] = _overlaid(base[key], value) if nested else value
    return base


@pytest.mark.parametrize(
    "overlay",
    [
        "thesis-sdxl.yaml",
        "thesis-sana.yaml",
        "rehearsal-sd2.yaml",
        "rehearsal-sdxl.yaml",
        "rehearsal-sana.yaml",
    ],
)
def test_every_base_family_overlay_is_valid_over_its_config(overlay):
    under = "thesis.yaml" if overlay.startswith("thesis") else "rehearsal.yaml"
    config = _overlaid(*(yaml.safe_load((REPO / "config" / name).read_text()) for name in (under, overlay)))
    checked = check_config(config)
    assert checked["models"]["train"].get("resolution", 512) == checked["convert"]["size"]


@pytest.mark.parametrize("case", sorted(CROSS_CHECKS))
def test_every_cross_check_names_the_key(case):
    change, words = CROSS_CHECKS[case]
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        check_config(_changed(change))


@pytest.mark.parametrize("case", sorted(CROSS_CHECKS))
def test_check_config_command_rejects_what_the_workflow_rejects(case, tmp_path, capsys):
    change, words = CROSS_CHECKS[case]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(_changed(change)))
    assert main(["check-config", str(path)]) == 1
    assert words in capsys.readouterr().err


def test_the_workflow_runs_the_same_validator(tmp_path):
    """One case through Snakemake itself: the Snakefile stops before any job with the validator's words."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(_changed(CROSS_CHECKS["reader guidance off the sweep"][0])))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", str(path), "-s", str(REPO / "Snakefile")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "reader_study.guidance is 5" in result.stdout + result.stderr


def test_the_schema_ships_inside_the_package():
    import mame

    assert schema_path().is_relative_to(Path(mame.__file__).parent)
    assert (REPO / "workflow" / "schemas" / "config.schema.yaml").resolve() == schema_path().resolve()


def test_a_schema_error_names_the_key():
    with pytest.raises(ConfigError, match="steps"):
        check_config(_changed(lambda c: c["sampling"].update(steps=0)))


def test_non_square_sizes_must_fit_the_unet_and_share_the_images_aspect_ratio():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["convert"]["size"] = [256, 192]
    config["models"]["tiny"]["resolution"] = [128, 96]
    check_config(config)  # 128 x 96 keeps 256 x 192's aspect and is a multiple of 32
    stretched = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    stretched["convert"]["size"] = [160, 128]
    with pytest.raises(ConfigError, match="same aspect ratio"):
        check_config(stretched)  # the tiny model's square 64 would stretch every image
    odd = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    odd["convert"]["size"] = [100, 80]
    odd["models"]["tiny"]["resolution"] = [40, 32]
    with pytest.raises(ConfigError, match="multiple of 32"):
        check_config(odd)
    wrong = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    wrong["convert"]["size"] = [160, 128, 3]
    with pytest.raises(ConfigError):
        check_config(wrong)


def test_the_schema_and_the_settings_dataclasses_agree_on_every_shared_default():
    """A default lives in the settings dataclass (the library and `mame`'s options read it there); the
    schema repeats it for the workflow, and this keeps the two from drifting apart."""
    from mame.data.convert import ConvertSettings
    from mame.data.dicom import IntensitySettings
    from mame.data.index import IndexFilters
    from mame.data.manifest import ManifestSettings
    from mame.phantom.generate import PhantomSettings

    schema = yaml.safe_load(schema_path().read_text())["properties"]

    def default(block: str, key: str):
        return schema[block]["properties"][key]["default"]

    phantom = PhantomSettings(layout="omi")
    for key in ("rows", "cols", "lesion_share", "jpeg2000_share", "broken", "extras", "density_mix"):
        assert default("phantom", key) == getattr(phantom, key), key
    manifest = ManifestSettings(vendor="x")
    for key in ("area_thresholds", "lesion_categories", "holdout_fraction", "healthy"):
        value = getattr(manifest, key)
        assert default("manifest", key) == (list(value) if isinstance(value, tuple) else value), key
    filters = IndexFilters()
    assert default("index", "views") == list(filters.views)
    assert default("index", "exclude_implants") == filters.exclude_implants
    assert default("index", "exclude_spot_magnified") == filters.exclude_spot_magnified
    convert, intensity = ConvertSettings(), IntensitySettings()
    assert default("convert", "crop") == convert.crop and default("convert", "channels") == convert.channels
    assert (
        default("convert", "intensity") == intensity.mode
        and default("convert", "bit_depth") == intensity.bit_depth
    )


def test_a_tiny_sana_twin_needs_sides_of_32_and_another_base_for_lesions():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["models"]["tiny"]["family"] = "sana"
    with pytest.raises(ConfigError, match="no inpainting pipeline: set models.inpaint_base"):
        check_config(config)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["models"]["tiny"]["family"] = "sana"
    config["models"]["inpaint"] = {}
    check_config(config)  # 64 px text-to-image models only: accepted
    config["convert"]["size"] = [96, 96]
    config["models"]["tiny"]["resolution"] = 48
    config["models"]["tiny"]["unet_channels"] = [64, 128]  # a UNet would take 48 (16 x 3); Sana does not
    with pytest.raises(ConfigError, match="SanaPipeline needs each side a multiple of 32"):
        check_config(config)
    rehearsal = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    rehearsal["models"]["inpaint_base"] = "sana-random"
    with pytest.raises(ConfigError, match="inpaint_base is sana-random"):
        check_config(rehearsal)


def test_the_super_resolution_factor_is_the_full_field_over_the_training_resolution():
    from mame.config import superres_enabled, superres_factor

    demo = check_config(copy.deepcopy(DEMO))
    assert superres_factor(demo) == 4  # 128 px x 2 = 256 over the tiny model's 64
    study = load_config(REPO / "config" / "thesis.yaml")
    assert superres_factor(study) == 4 and study["superres"]["base"].endswith("x4-upscaler")
    off = check_config(_changed(lambda c: c["convert"]["full_field"].update(scale=0)))
    assert not superres_enabled(off)
    non_square = _changed(
        lambda c: (c["convert"].update(size=[320, 256]), c["models"]["tiny"].update(resolution=[160, 128]))
    )
    assert superres_factor(check_config(non_square)) == 4
