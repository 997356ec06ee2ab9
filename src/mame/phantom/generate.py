"""Phantom mammography datasets in the two real layouts (VinDr-Mammo-like and OMI-DB-like).

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

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"phantom layout {self.layout!r} unknown; expected one of {LAYOUTS}")
        if self.images < 4:
            raise ValueError(f"phantom needs at least 4 images (one study), got {self.images}")


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
    for study in range(studies):
        density = "ABCD"[int(rng.choice(4, p=[0.15, 0.35, 0.35, 0.15]))]
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
                    )
                )
    specials: list[str] = []
    if settings.extras:
        specials += ["for_processing", "for_processing", "view:ML", "view:LM"]
        if settings.layout == "omi":
            specials += ["implant", "view:SPECIMEN", "unsupported_syntax"]
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
    if case.photometric == "MONOCHROME1":
        values = top - values
    return values.astype(np.uint16)


def _set_voi(ds: Dataset, case: Case) -> None:
    """A VOI that stretches breast tissue (attenuation 0.25..0.85) over the display range."""
    top = 2**case.bits - 1
    low, high = (0.05 + 0.9 * 0.25) * top, (0.05 + 0.9 * 0.85) * top
    if case.photometric == "MONOCHROME1":
        low, high = top - high, top - low
    if case.voi == "sequence":
        values = np.arange(top + 1, dtype=np.float64)
        unit = np.clip((values - low) / (high - low), 0, 1)
        # a gentle gamma, as vendor LUTs have (mirrored for MONOCHROME1, whose LUT runs the other way)
        unit = 1 - (1 - unit) ** 0.8 if case.photometric == "MONOCHROME1" else unit**0.8
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


def build_dataset(settings: PhantomSettings, case: Case, index: int, pixels: np.ndarray) -> Dataset:
    """A DICOM dataset with Hologic- or Siemens-like headers and identifying fields filled in."""
    seed = settings.seed
    manufacturer, model = VENDOR_HEADERS[settings.layout]
    processing = case.special == "for_processing"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MG_FOR_PROCESSING if processing else MG_FOR_PRESENTATION
    ds.SOPInstanceUID = _uid(seed, settings.layout, "image", index)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = EXPLICIT_LE
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.StudyInstanceUID = _uid(seed, settings.layout, "study", case.study)
    ds.SeriesInstanceUID = _uid(seed, settings.layout, "series", case.study, case.view)
    ds.PatientName = f"PHANTOM^{settings.layout.upper()}{case.study:04d}"
    ds.PatientID = f"PID{seed}{case.study:06d}"
    ds.PatientBirthDate = f"19{50 + case.study % 40:02d}0{1 + case.study % 9}15"
    ds.StudyDate = f"20{10 + case.study % 12:02d}0{1 + case.study % 9}2{case.study % 9}"
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
    spacing = 0.07 * 2560 / settings.cols if settings.layout == "omi" else 0.085 * 2560 / settings.cols
    ds.PixelSpacing = [f"{spacing:.4f}", f"{spacing:.4f}"]
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = case.photometric
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
    ds, anatomy = render_case(settings, case, index)
    if settings.layout == "vindr":
        study, series, image = _vindr_ids(settings, case, index)
        path = root / "images" / study / f"{image}.dicom"
    else:
        study, series, image = str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)
        client = f"demd{100 + case.study // 2}"  # two studies per client
        path = root / "images" / client / study / f"{image}.dcm"
    _write(ds, path, case)
    return Written(index, case, study, series, image, list(anatomy.findings))


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


def _write_omi(root: Path, settings: PhantomSettings, images: Iterable[Written]) -> dict:
    databases: dict[str, dict] = {}
    lesions = 0
    for written in images:
        case, study_uid, image_uid = written.case, written.study_uid, written.image_uid
        client = f"demd{100 + case.study // 2}"  # two studies per client
        db = databases.setdefault(client, {"ClientID": client, "STUDIES": {}})
        study = db["STUDIES"].setdefault(study_uid, {"SERIES": {}})
        series = study["SERIES"].setdefault(written.series_uid, {})
        marks = []
        for number, finding in enumerate(written.findings):
            x1, y1, x2, y2 = finding.box
            marks.append(
                {
                    "MarkID": number,
                    "X1": x1,
                    "Y1": y1,
                    "X2": x2,
                    "Y2": y2,
                    "LesionType": "mass" if finding.category == "Mass" else "calcification",
                }
            )
        lesions += bool(marks)
        series[image_uid] = {"ViewPosition": case.view, "marks": marks}
    for client, db in databases.items():
        folder = root / "data" / client
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"imagedb_{client}.json").write_text(json.dumps(db, indent=1, sort_keys=True) + "\n")
    return {"with_lesion_written": lesions}
