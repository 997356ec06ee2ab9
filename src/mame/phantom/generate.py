"""Phantom mammography datasets in the two real layouts (VinDr-Mammo and OMI-DB), as delivered.

OMI-DB is written in the structure its maintainers' parser `omidb` reads (imagedb with series and
image UIDs as keys and marks keyed by mark id, lesion kinds as flags, NBSS episodes with biopsy
opinions, per-image DICOM JSON headers; some names in capitals, some coordinates as strings or drawn
corner to corner the other way); VinDr's headers are de-identified the way VinDr released them (no
PatientID, SOPClassUID or BreastImplantPresent; md5 hashes for UIDs).

The demo and the tests run the real adapters on these trees, so the headers vary the way real
ones do (12/14 bit, MONOCHROME1/2, VOI LUT Sequence vs windows with LINEAR/LINEAR_EXACT/SIGMOID,
JPEG 2000, FOR PROCESSING, extra views, implants) and a few files are broken on purpose. Patient
names, IDs, dates and UIDs are filled in so that de-identification can be checked downstream.
Everything is drawn from one seeded generator: the same settings give the same bytes.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.uid import JPEG2000Lossless, generate_uid
from tqdm import tqdm

from mame.logs import library_messages
from mame.phantom.anatomy import Anatomy, mirror, synthesize
from mame.prompts import VIEWS

log = logging.getLogger(__name__)

LAYOUTS = ("vindr", "omi")
MG_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"
MG_FOR_PROCESSING = "1.2.840.10008.5.1.4.1.1.1.2.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
MPEG2_SYNTAX = "1.2.840.10008.1.2.4.100"  # valid DICOM, but no decoder for a still image here
VENDOR_HEADERS = {
    "vindr": ("SIEMENS", "Mammomat Inspiration"),
    "omi": ("HOLOGIC, Inc.", "Selenia Dimensions"),
}
BROKEN_KINDS = ("truncated", "not_dicom", "wrong_modality", "no_laterality")
NO_FINDING = {
    "finding_categories": "['No Finding']",
    "finding_birads": "",
    "xmin": "",
    "ymin": "",
    "xmax": "",
    "ymax": "",
}  # VinDr's finding row for an image without findings


DENSITY_MIXES = ("prevalence", "balanced")
PREVALENCE = [0.15, 0.35, 0.35, 0.15]  # BI-RADS A-D
# a woman's breast elongation (depth / height against the size-only outline), log-uniform: with it the
# processed breast area spans small to big in both views (the demo's OMI-like 120 images: CC 5 small /
# 30 medium / 25 big, MLO 23 / 33 / 4). 0.65-2.0 spread it wider and the density models stopped
# following their prompts (bench/README.md, 2026-12-03)
ELONGATION_RANGE = (0.75, 1.4)


@dataclass(frozen=True)
class PhantomSettings:
    """What to generate. rows x cols is the detector size (3328 x 2560 for the real one)."""

    layout: str
    images: int = 120
    rows: int = 320
    cols: int = 256
    seed: int = 0
    lesion_share: float = 0.25
    jpeg2000_share: float = 0.3
    broken: bool = True
    extras: bool = True  # FOR PROCESSING, extra views, implant: files the index must filter
    # "prevalence": each study's density drawn at 15/35/35/15 % (A-D), as in screening; "balanced": each
    # density gets a quarter of the studies in a seeded order, so the extremes the prompts ask for have
    # training images (at prevalence, 30 studies left 2-3 women per extreme)
    density_mix: str = "prevalence"

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"phantom layout {self.layout!r} unknown; expected one of {LAYOUTS}")
        if self.images < 4:
            raise ValueError(f"phantom needs at least 4 images (one study), got {self.images}")
        if self.density_mix not in DENSITY_MIXES:
            raise ValueError(
                f"phantom density_mix {self.density_mix!r} unknown; expected one of {DENSITY_MIXES}"
            )


@dataclass
class Case:
    """One image to write: its anatomy choices and its header variant."""

    study: int
    laterality: str
    view: str
    density: str
    size: float
    masses: int
    calcifications: int
    bits: int
    photometric: str
    voi: str  # "window:LINEAR", "window:LINEAR_EXACT", "window:SIGMOID", "sequence"
    jpeg2000: bool
    special: str = ""  # "", "for_processing", "implant", "view:ML", one of BROKEN_KINDS, ...
    elongation: float = 1.0  # the woman's breast shape: depth x this, height / this (anatomy._outline)

    @property
    def inverted(self) -> bool:
        """Stored values run dark-to-bright reversed: MONOCHROME1, or Presentation LUT Shape INVERSE."""
        return self.photometric == "MONOCHROME1" or self.presentation_inverse

    @property
    def presentation_inverse(self) -> bool:
        """A few MONOCHROME2 files that ask for inversion through Presentation LUT Shape instead."""
        return self.photometric == "MONOCHROME2" and self.study % 7 == 3 and not self.special


def _uid(seed: int, *parts: object) -> str:
    return generate_uid(entropy_srcs=[str(seed), *map(str, parts)])


def _hex_id(seed: int, *parts: object) -> str:
    return hashlib.md5("/".join(map(str, (seed, *parts))).encode()).hexdigest()


def plan_cases(settings: PhantomSettings) -> list[Case]:
    """Studies of four images (L/R x CC/MLO) sharing one density, then the files to be filtered."""
    rng = np.random.default_rng([settings.seed, LAYOUTS.index(settings.layout)])
    cases: list[Case] = []
    studies = int(np.ceil(settings.images / 4))
    voi_choices = ["window:LINEAR", "window:LINEAR_EXACT", "window:SIGMOID", "sequence"]
    balanced = np.random.default_rng([settings.seed, LAYOUTS.index(settings.layout), 4]).permutation(
        np.arange(studies) % 4
    )
    # breast shape, from its own stream so that every other draw is unchanged
    elongations = np.exp(
        np.random.default_rng([settings.seed, LAYOUTS.index(settings.layout), 5]).uniform(
            np.log(ELONGATION_RANGE[0]), np.log(ELONGATION_RANGE[1]), studies
        )
    )
    for study in range(studies):
        drawn = int(rng.choice(4, p=PREVALENCE))  # drawn in both mixes: every later draw stays the same
        density = "ABCD"[int(balanced[study]) if settings.density_mix == "balanced" else drawn]
        size = float(rng.uniform(0, 1))
        for laterality in ("L", "R"):
            for view in VIEWS:
                if len(cases) == settings.images:
                    break
                lesion = rng.random() < settings.lesion_share
                kind = rng.random()
                cases.append(
                    Case(
                        study=study,
                        laterality=laterality,
                        view=view,
                        density=density,
                        size=float(np.clip(size + rng.normal(0, 0.08), 0, 1)),
                        masses=int(lesion and kind < 0.7),
                        calcifications=int(lesion and kind >= 0.5),
                        bits=int(rng.choice([12, 14])),
                        photometric="MONOCHROME1" if rng.random() < 0.2 else "MONOCHROME2",
                        voi=str(rng.choice(voi_choices, p=[0.4, 0.1, 0.2, 0.3])),
                        jpeg2000=bool(rng.random() < settings.jpeg2000_share),
                        elongation=float(elongations[study]),
                    )
                )
    specials: list[str] = []
    if settings.extras:
        specials += ["for_processing", "for_processing", "view:ML", "view:LM"]
        if settings.layout == "omi":
            specials += ["implant", "view:SPECIMEN", "unsupported_syntax", "spot", "magnified"]
            specials += ["unlisted", "listed_not_delivered"]
    if settings.broken:
        specials += list(BROKEN_KINDS)
    for index, special in enumerate(specials):
        cases.append(
            Case(
                study=studies + index,
                laterality="L" if index % 2 else "R",
                view=special.split(":")[1] if special.startswith("view:") else "CC",
                density="B",
                size=0.5,
                masses=0,
                calcifications=0,
                bits=12,
                photometric="MONOCHROME2",
                voi="window:LINEAR",
                jpeg2000=False,
                special=special,
            )
        )
    return cases


def _stored_pixels(anatomy: Anatomy, case: Case) -> np.ndarray:
    """Attenuation map -> stored detector values; MONOCHROME1 stores the complement."""
    top = 2**case.bits - 1
    values = np.round((0.05 + 0.9 * anatomy.signal) * top)
    if case.inverted:
        values = top - values
    return values.astype(np.uint16)


def _set_voi(ds: Dataset, case: Case) -> None:
    """A VOI that stretches breast tissue (attenuation 0.25..0.85) over the display range."""
    top = 2**case.bits - 1
    low, high = (0.05 + 0.9 * 0.25) * top, (0.05 + 0.9 * 0.85) * top
    if case.inverted:
        low, high = top - high, top - low
    if case.voi == "sequence":
        values = np.arange(top + 1, dtype=np.float64)
        unit = np.clip((values - low) / (high - low), 0, 1)
        # a gentle gamma, as vendor LUTs have (mirrored for MONOCHROME1, whose LUT runs the other way)
        unit = 1 - (1 - unit) ** 0.8 if case.inverted else unit**0.8
        item = Dataset()
        item.LUTDescriptor = [top + 1, 0, 16]
        item.LUTExplanation = "PHANTOM GAMMA"
        item.add_new(0x00283006, "OW", np.round(unit * 65535).astype("<u2").tobytes())  # LUT Data
        ds.VOILUTSequence = Sequence([item])
    else:
        function = case.voi.split(":")[1]
        ds.WindowCenter = [f"{(low + high) / 2:.1f}", f"{top / 2:.1f}"]  # default preset first
        ds.WindowWidth = [f"{high - low:.1f}", f"{top:.1f}"]
        ds.VOILUTFunction = function


def study_date(case: Case) -> str:
    """The study's (fake) date, the same in the DICOM header and in OMI-DB's imagedb."""
    return f"20{10 + case.study % 12:02d}0{1 + case.study % 9}2{case.study % 9}"


def build_dataset(settings: PhantomSettings, case: Case, index: int, pixels: np.ndarray) -> Dataset:
    """A DICOM dataset with Hologic- or Siemens-like headers and identifying fields filled in."""
    seed = settings.seed
    manufacturer, model = VENDOR_HEADERS[settings.layout]
    processing = case.special == "for_processing"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MG_FOR_PROCESSING if processing else MG_FOR_PRESENTATION
    if settings.layout == "vindr":  # VinDr's de-identification replaced every UID by an md5 hash
        study, series, image = _vindr_ids(settings, case, index)
    else:
        study = _uid(seed, settings.layout, "study", case.study)
        series = _uid(seed, settings.layout, "series", case.study, case.view)
        image = _uid(seed, settings.layout, "image", index)
    ds.SOPInstanceUID = image
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = EXPLICIT_LE
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.PatientName = f"PHANTOM^{settings.layout.upper()}{case.study:04d}"
    ds.PatientID = f"PID{seed}{case.study:06d}"
    ds.PatientBirthDate = f"19{50 + case.study % 40:02d}0{1 + case.study % 9}15"
    ds.StudyDate = study_date(case)
    ds.StudyTime = "101500"
    ds.AccessionNumber = f"ACC{seed}{case.study:06d}"
    ds.InstitutionName = "Phantom General Hospital"
    ds.ReferringPhysicianName = "DOE^JANE"
    ds.Modality = "CT" if case.special == "wrong_modality" else "MG"
    ds.Manufacturer = manufacturer
    ds.ManufacturerModelName = model
    ds.BodyPartExamined = "BREAST"
    ds.PresentationIntentType = "FOR PROCESSING" if processing else "FOR PRESENTATION"
    ds.ViewPosition = case.view
    if case.special != "no_laterality":
        ds.ImageLaterality = case.laterality
    ds.BreastImplantPresent = "YES" if case.special == "implant" else "NO"
    if case.special in ("spot", "magnified"):
        meaning, code = (
            ("Spot Compression", "399055006") if case.special == "spot" else ("Magnification", "399163009")
        )
        modifier = Dataset()
        modifier.CodeValue, modifier.CodingSchemeDesignator, modifier.CodeMeaning = code, "SCT", meaning
        view_code = Dataset()
        view_code.CodeValue, view_code.CodingSchemeDesignator = "399162004", "SCT"
        view_code.CodeMeaning = "cranio-caudal"
        view_code.ViewModifierCodeSequence = Sequence([modifier])
        ds.ViewCodeSequence = Sequence([view_code])
    spacing = 0.07 * 2560 / settings.cols if settings.layout == "omi" else 0.085 * 2560 / settings.cols
    ds.PixelSpacing = [f"{spacing:.4f}", f"{spacing:.4f}"]
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = case.photometric
    ds.PresentationLUTShape = "INVERSE" if case.inverted else "IDENTITY"
    ds.BitsAllocated = 16
    ds.BitsStored = case.bits
    ds.HighBit = case.bits - 1
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    _set_voi(ds, case)
    ds.PixelData = pixels.tobytes()
    if case.jpeg2000:
        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg", generate_instance_uid=False)
    if case.special == "unsupported_syntax":
        ds.file_meta.TransferSyntaxUID = MPEG2_SYNTAX
        ds.PixelData = encapsulate([pixels.tobytes()])
        ds["PixelData"].VR = "OB"
    if settings.layout == "vindr":  # removed by VinDr's de-identification (its tags.csv)
        for keyword in (
            "PatientID",
            "PatientName",
            "PatientBirthDate",
            "SOPClassUID",
            "BreastImplantPresent",
        ):
            delattr(ds, keyword)
    return ds


def render_case(settings: PhantomSettings, case: Case, index: int) -> tuple[Dataset, Anatomy]:
    rng = np.random.default_rng([settings.seed, LAYOUTS.index(settings.layout), index])
    anatomy = synthesize(
        rng,
        settings.rows,
        settings.cols,
        case.view,
        case.density,
        case.size,
        case.masses,
        case.calcifications,
        case.elongation,
    )
    if case.laterality == "R":
        anatomy = mirror(anatomy)
    return build_dataset(settings, case, index, _stored_pixels(anatomy, case)), anatomy


def _write(ds: Dataset, path: Path, case: Case) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if case.special == "not_dicom":
        path.write_text("this file was exported by a spreadsheet and is not DICOM\n")
        return
    ds.save_as(path, enforce_file_format=True)
    if case.special == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - ds.Rows * ds.Columns])  # cut half the pixel data


def write_phantom(root: str | Path, settings: PhantomSettings, workers: int = 1) -> dict:
    """Write a dataset tree under `root`; returns a summary (counts per kind).

    `workers` processes render and write images at once (each image has its own seeded generator, so
    the bytes do not depend on it): at the real detector size an image takes seconds."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cases = plan_cases(settings)
    writer = _write_vindr if settings.layout == "vindr" else _write_omi
    summary = writer(root, settings, _rendered(root, settings, cases, workers))
    summary.update(layout=settings.layout, files=len(cases), seed=settings.seed)
    (root / "phantom.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


@dataclass(frozen=True)
class Written:
    """What the annotation tables need of one written image."""

    index: int
    case: Case
    study_uid: str
    series_uid: str
    image_uid: str
    findings: list


def _vindr_ids(settings: PhantomSettings, case: Case, index: int) -> tuple[str, str, str]:
    return (
        _hex_id(settings.seed, "vindr-study", case.study),
        _hex_id(settings.seed, "vindr-series", case.study, case.view),
        _hex_id(settings.seed, "vindr-image", index),
    )


def _render_and_write(root: Path, settings: PhantomSettings, index: int, case: Case) -> Written:
    with library_messages():  # pydicom warns on VinDr's md5 "UIDs", as it does on the real files
        ds, anatomy = render_case(settings, case, index)
        return _write_case(root, settings, index, case, ds, anatomy)


def _write_case(
    root: Path, settings: PhantomSettings, index: int, case: Case, ds: Dataset, anatomy
) -> Written:
    study, series, image = str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)
    if settings.layout == "vindr":
        path = root / "images" / study / f"{image}.dicom"
    else:
        client = omi_client(case)
        path = root / "images" / client / study / f"{image}.dcm"
        header = root / "data" / client / study / f"{image}.json"  # omidb's per-image DICOM JSON
        header.parent.mkdir(parents=True, exist_ok=True)
        header.write_text(
            json.dumps(ds.to_json_dict(bulk_data_threshold=64, bulk_data_element_handler=_no_bulk))
        )
    if case.special != "listed_not_delivered":
        _write(ds, path, case)
    return Written(index, case, study, series, image, list(anatomy.findings))


def _no_bulk(_element) -> str:
    return ""  # pixel data stays out of the JSON header, as in OMI-DB's


def omi_client(case: Case) -> str:
    """Two studies per client (one woman); every fifth client delivered with capitalised names."""
    number = 100 + case.study // 2
    return f"DEMD{number}" if number % 5 == 2 else f"demd{number}"


def _rendered(root: Path, settings: PhantomSettings, cases: list[Case], workers: int) -> Iterator[Written]:
    """Each case rendered and written, in case order, by `workers` processes (with a progress bar)."""
    indices = list(range(len(cases)))
    work = functools.partial(_render_and_write, root, settings)
    progress = tqdm(
        total=len(cases), desc=f"phantom {settings.layout}", unit="img", mininterval=2, disable=None
    )
    if workers <= 1:
        for written in map(work, indices, cases):
            progress.update(1)
            yield written
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for written in pool.map(work, indices, cases, chunksize=1):
                progress.update(1)
                yield written
    progress.close()


def _write_vindr(root: Path, settings: PhantomSettings, images: Iterable[Written]) -> dict:
    breast_rows, finding_rows = [], []
    lesions = 0
    for written in images:
        case, findings = written.case, written.findings
        study_id, series_id, image_id = written.study_uid, written.series_uid, written.image_uid
        laterality = "" if case.special == "no_laterality" else case.laterality
        common = {
            "study_id": study_id,
            "series_id": series_id,
            "image_id": image_id,
            "laterality": laterality,
            "view_position": case.view,
            "height": settings.rows,
            "width": settings.cols,
        }
        birads = "BI-RADS 4" if findings else "BI-RADS 1"
        split = "test" if case.study % 5 == 4 else "training"
        extra = {"breast_birads": birads, "breast_density": f"DENSITY {case.density}", "split": split}
        breast_rows.append({**common, **extra})
        lesions += bool(findings)
        if not findings:
            finding_rows.append({**common, **extra, **NO_FINDING})
        for finding in findings:
            x1, y1, x2, y2 = finding.box
            finding_rows.append(
                {
                    **common,
                    **extra,
                    "finding_categories": str([finding.category]),
                    "finding_birads": "BI-RADS 4",
                    "xmin": x1,
                    "ymin": y1,
                    "xmax": x2,
                    "ymax": y2,
                }
            )
    # the table also names a file that was never delivered, and one delivered file is not in it
    ghost = dict(breast_rows[0], image_id=_hex_id(settings.seed, "vindr-ghost"))
    breast_rows.append(ghost)
    finding_rows.append({**ghost, **NO_FINDING})
    stray = breast_rows.pop(1)
    finding_rows = [r for r in finding_rows if r["image_id"] != stray["image_id"]]
    breast_cols = [
        "study_id",
        "series_id",
        "image_id",
        "laterality",
        "view_position",
        "height",
        "width",
        "breast_birads",
        "breast_density",
        "split",
    ]
    finding_cols = breast_cols[:-1] + [
        "finding_categories",
        "finding_birads",
        "xmin",
        "ymin",
        "xmax",
        "ymax",
        "split",
    ]
    _write_csv(root / "breast-level_annotations.csv", breast_cols, breast_rows)
    _write_csv(root / "finding_annotations.csv", finding_cols, finding_rows)
    return {"with_lesion_written": lesions}


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _omi_mark(number: int, finding, case: Case) -> dict:
    """A mark as OMI-DB's imagedb holds it: flags for the lesion kind, corners often as strings."""
    x1, y1, x2, y2 = (int(round(v)) for v in finding.box)
    if (number + case.study) % 2:  # some annotators drew from the lower-right corner
        x1, y1, x2, y2 = x2, y2, x1, y1
    corners = {"X1": x1, "Y1": y1, "X2": x2, "Y2": y2}
    if (number + case.study) % 3:
        corners = {k: str(v) for k, v in corners.items()}
    kind = {"Mass": "1"} if finding.category == "Mass" else {"SuspiciousCalcifications": "1"}
    if finding.category != "Mass" and case.study % 3 == 0:
        kind["WithCalcification"] = "1"
    return {
        "MarkID": str(number + 1),
        **corners,
        **kind,
        "Conspicuity": "Obvious",
        "LinkedNBSSLesionNumber": str(number + 1),
    }


def _omi_episode(date: str, lesion_sides: set[str], benign_sides: set[str]) -> dict:
    """An NBSS episode: a routine screen, plus a wide-bore biopsy with its opinion where assessed."""
    episode = {
        "EpisodeType": "R",
        "EpisodeIsClosed": "Y",
        "EpisodeOpenedDate": date,
        "SCREENING": {side: {"DateTaken": date} for side in ("L", "R")},
    }
    if lesion_sides or benign_sides:
        opinion = {side: "OM" for side in lesion_sides} | {side: "OB" for side in benign_sides - lesion_sides}
        episode["ASSESSMENT"] = {"dateperformed": date, "left_opinion": "", "right_opinion": ""}
        episode["BIOPSYWIDE"] = {
            "dateperformed": date,
            "left_opinion": opinion.get("L", "ON"),
            "right_opinion": opinion.get("R", "ON"),
        }
        episode["ASSESSMENT"].update(
            left_opinion=opinion.get("L", "ON"), right_opinion=opinion.get("R", "ON")
        )
    return episode


def _write_omi(root: Path, settings: PhantomSettings, images: Iterable[Written]) -> dict:
    """imagedb, NBSS and the per-image headers' folders for every client, as `omidb` reads them."""
    imagedbs: dict[str, dict] = {}
    episodes: dict[str, dict[str, dict]] = {}
    lesion_sides: dict[tuple[str, str], set[str]] = {}
    dates: dict[tuple[str, str], str] = {}
    lesions = 0
    for written in images:
        case, study_uid, image_uid = written.case, written.study_uid, written.image_uid
        client = omi_client(case)
        db = imagedbs.setdefault(client, {"ClientID": client, "Site": "adde", "STUDIES": {}})
        episode_id = str(case.study % 2 + 1)
        date = study_date(case)
        study = db["STUDIES"].setdefault(study_uid, {"StudyDate": date, "EpisodeID": episode_id})
        dates[(client, episode_id)] = date
        series = study.setdefault(written.series_uid, {})
        marks = {str(n + 1): _omi_mark(n, finding, case) for n, finding in enumerate(written.findings)}
        lesions += bool(marks)
        if marks:
            lesion_sides.setdefault((client, episode_id), set()).add(case.laterality)
        if case.special != "unlisted":
            series[image_uid] = marks or None
    for client, db in imagedbs.items():
        number = int(client[4:])
        for episode_id in sorted({study["EpisodeID"] for study in db["STUDIES"].values()}):
            sides = lesion_sides.get((client, episode_id), set())
            benign = {"L"} if number % 4 == 3 and not sides else set()  # a benign biopsy, no marks
            episodes.setdefault(client, {})[episode_id] = _omi_episode(
                dates[(client, episode_id)], sides, benign
            )
        folder = root / "data" / client
        folder.mkdir(parents=True, exist_ok=True)
        prefix = ("IMAGEDB_", "NBSS_") if client.isupper() else ("imagedb_", "nbss_")
        (folder / f"{prefix[0]}{client}.json").write_text(json.dumps(db, indent=1, sort_keys=True) + "\n")
        nbss = json.dumps(episodes[client], indent=1, sort_keys=True) + "\n"
        (folder / f"{prefix[1]}{client}.json").write_text(nbss)
    return {"with_lesion_written": lesions}
