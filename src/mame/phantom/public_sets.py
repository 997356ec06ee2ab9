"""Small phantom trees in the delivered formats of five more public mammography datasets.

Each writer lays files out exactly as the dataset ships them (folder names, table columns, annotation
files), so the adapters are tested on the real structure, with one row whose file is missing and one
file without a row. Pixels come from the same anatomy model as the demo phantoms.

- CBIS-DDSM (TCIA): `CBIS-DDSM/<Mass-Training_P_00001_LEFT_CC>/<study>/<series>/1-1.dcm`, ROI folders
  `<case>_<abnormality id>` holding the cropped image and the binary mask; four description CSVs.
- RSNA Screening Mammography: `train.csv`, `train_images/<patient_id>/<image_id>.dcm`.
- INbreast: `AllDICOMs/<file name>_<patient>_MG_<side>_<view>_ANON.dcm`, `AllXML/<file name>.xml`
  (Apple plist with ROIs and their `Point_px` contours), `INbreast.csv` (the xls sheet as text).
- EMBED: `tables/EMBED_OpenData_metadata.csv`, `tables/EMBED_OpenData_clinical.csv`,
  `images/cohort_1/<empi_anon>/<acc_anon>/<sop uid>.dcm` (the table's `anon_dicom_path` points there
  from another machine's mount).
- CMMD (TCIA): `CMMD/<ID1>/<study>/<series>/1-<n>.dcm`, `CMMD_clinicaldata_revision.xlsx`.
"""

from __future__ import annotations

import csv
import plistlib
from pathlib import Path

import numpy as np
import pandas as pd
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from mame.phantom.anatomy import Anatomy, mirror, synthesize

PUBLIC_SETS = ("cbis_ddsm", "rsna", "inbreast", "embed", "cmmd")
MG_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
VIEW_CODES = {"CC": ("399162004", "cranio-caudal"), "MLO": ("399368009", "medio-lateral oblique")}


def _anatomy(
    seed: int, laterality: str, view: str, density: str, lesion: bool, rows: int, cols: int
) -> Anatomy:
    rng = np.random.default_rng(seed)
    anatomy = synthesize(rng, rows, cols, view, density, 0.6, masses=int(lesion), calcification_clusters=0)
    return mirror(anatomy) if laterality == "R" else anatomy


def _stored(anatomy: Anatomy, bits: int = 12) -> np.ndarray:
    return np.round((0.05 + 0.9 * anatomy.signal) * (2**bits - 1)).astype(np.uint16)


def mammogram_dicom(
    pixels: np.ndarray, uid_seed: str, sop_class: str = MG_FOR_PRESENTATION, **header
) -> Dataset:
    """A DICOM dataset around stored values; `header` sets (or, with None, leaves out) attributes."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid(entropy_srcs=[uid_seed, "image"])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[uid_seed, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[uid_seed, "series"])
    ds.Modality = "MG"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    bits = int(header.pop("BitsStored", 12))
    ds.BitsStored, ds.HighBit = bits, bits - 1
    ds.PixelRepresentation = 0
    for keyword, value in header.items():
        if value is not None:
            setattr(ds, keyword, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    return ds


def _save(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _cases(count: int) -> list[tuple[int, str, str, str, bool]]:
    """(patient, laterality, view, density, lesion): two views of one breast per case."""
    cases = []
    for number in range(count):
        patient, side = number // 4, "LR"[(number // 2) % 2]
        cases.append((patient, side, ("CC", "MLO")[number % 2], "ABCD"[patient % 4], (number // 2) % 3 == 0))
    return cases


def _write_stray(path: Path, seed: int, rows: int, cols: int) -> None:
    """A delivered file that no table row names (every format's phantom has one)."""
    stray = _anatomy(seed + 99, "L", "CC", "B", False, rows, cols)
    _save(mammogram_dicom(_stored(stray), "stray", ImageLaterality="L"), path)


def _box(anatomy: Anatomy) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = anatomy.findings[0].box
    return int(np.floor(x1)), int(np.floor(y1)), int(np.ceil(x2)), int(np.ceil(y2))


# --- CBIS-DDSM --------------------------------------------------------------------------------------


CBIS_MASS_COLUMNS = [
    "patient_id", "breast_density", "left or right breast", "image view", "abnormality id",
    "abnormality type", "mass shape", "mass margins", "assessment", "pathology", "subtlety",
    "image file path", "cropped image file path", "ROI mask file path",
]  # fmt: skip
CBIS_CALC_COLUMNS = [
    "patient_id", "breast density", "left or right breast", "image view", "abnormality id",
    "abnormality type", "calc type", "calc distribution", "assessment", "pathology", "subtlety",
    "image file path", "cropped image file path", "ROI mask file path",
]  # fmt: skip


def write_cbis_ddsm(root: Path, images: int = 8, rows: int = 160, cols: int = 128, seed: int = 0) -> None:
    """Every CBIS-DDSM image has an abnormality; masses and calcifications alternate by case."""
    tcia = root / "CBIS-DDSM"
    tables: dict[str, list[dict]] = {}
    for number, (patient, side, view, density, _) in enumerate(_cases(images)):
        kind = "Mass" if patient % 2 == 0 else "Calc"
        split = "Test" if patient == 1 else "Training"
        case = f"{kind}-{split}_P_{patient + 1:05d}_{'LEFT' if side == 'L' else 'RIGHT'}_{view}"
        anatomy = _anatomy(seed + number, side, view, density, True, rows, cols)
        full = mammogram_dicom(
            _stored(anatomy, 16), case, BitsStored=16, PatientID=case, BodyPartExamined="BREAST"
        )
        study, series = full.StudyInstanceUID, full.SeriesInstanceUID
        if number != 3:  # the row of image 3 names a file that was never downloaded
            _save(full, tcia / case / "07-20-2016-DDSM-1" / "1.000000-full mammogram images-1" / "1-1.dcm")
        x1, y1, x2, y2 = _box(anatomy)
        mask = np.zeros((rows, cols), np.uint16)
        mask[y1:y2, x1:x2] = 255
        roi = f"{case}_1"
        crop = _stored(anatomy, 16)[y1:y2, x1:x2]
        roi_series = tcia / roi / "08-29-2017-DDSM-1" / "1.000000-ROI mask images-1"
        if number != 3:
            _save(
                mammogram_dicom(crop, roi + "crop", SECONDARY_CAPTURE, BitsStored=16, PatientID=roi),
                roi_series / "1-1.dcm",
            )
            _save(
                mammogram_dicom(mask, roi + "mask", SECONDARY_CAPTURE, BitsStored=8, PatientID=roi),
                roi_series / "1-2.dcm",
            )
        row = {
            "patient_id": f"P_{patient + 1:05d}",
            "breast_density" if kind == "Mass" else "breast density": str(1 + "ABCD".index(density)),
            "left or right breast": "LEFT" if side == "L" else "RIGHT",
            "image view": view,
            "abnormality id": "1",
            "abnormality type": "mass" if kind == "Mass" else "calcification",
            "assessment": "4",
            "pathology": "MALIGNANT" if number % 2 else "BENIGN",
            "subtlety": "3",
            "image file path": f"{case}/{study}/{series}/000000.dcm",
            "cropped image file path": f"{roi}/{study}/{series}/000000.dcm",
            "ROI mask file path": f"{roi}/{study}/{series}/000001.dcm\n",  # the release has stray newlines
        }
        tables.setdefault(
            f"{kind.lower()}_case_description_{'test' if split == 'Test' else 'train'}_set.csv", []
        ).append(row)
    # a delivered case no table lists
    _write_stray(tcia / "Mass-Training_P_09999_LEFT_CC" / "s" / "f" / "1-1.dcm", seed, rows, cols)
    for name in ("mass_case_description_train_set.csv", "mass_case_description_test_set.csv",
                 "calc_case_description_train_set.csv", "calc_case_description_test_set.csv"):  # fmt: skip
        columns = CBIS_MASS_COLUMNS if name.startswith("mass") else CBIS_CALC_COLUMNS
        _write_csv(root / name, columns, tables.get(name, []))


def _write_csv(path: Path, columns: list[str], rows: list[dict], delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


# --- RSNA Screening Mammography -----------------------------------------------------------------------


RSNA_COLUMNS = [
    "site_id", "patient_id", "image_id", "laterality", "view", "age", "cancer", "biopsy", "invasive",
    "BIRADS", "implant", "density", "machine_id", "difficult_negative_case",
]  # fmt: skip


def write_rsna(root: Path, images: int = 12, rows: int = 160, cols: int = 128, seed: int = 0) -> None:
    """Cancer is a label per image without a location; some densities are blank, one breast has an implant."""
    rows_out = []
    for number, (patient, side, view, density, lesion) in enumerate(_cases(images)):
        patient_id, image_id = str(10006 + patient * 7), str(462822612 + number * 1013)
        anatomy = _anatomy(seed + number, side, view, density, lesion, rows, cols)
        ds = mammogram_dicom(
            _stored(anatomy), image_id, PatientID=patient_id, ImageLaterality=side, BodyPartExamined="BREAST"
        )
        if number != 5:
            _save(ds, root / "train_images" / patient_id / f"{image_id}.dcm")
        rows_out.append(
            {
                "site_id": "2",
                "patient_id": patient_id,
                "image_id": image_id,
                "laterality": side,
                "view": view,
                "age": "61.0",
                "cancer": int(lesion),
                "biopsy": int(lesion),
                "invasive": int(lesion),
                "BIRADS": "" if lesion else "1",
                "implant": int(patient == 2),
                "density": "" if patient == 1 else density,
                "machine_id": "49",
                "difficult_negative_case": "False",
            }  # fmt: skip
        )
    _write_stray(root / "train_images" / "99999" / "1.dcm", seed, rows, cols)
    _write_csv(root / "train.csv", RSNA_COLUMNS, rows_out)


# --- INbreast -----------------------------------------------------------------------------------------


INBREAST_COLUMNS = [
    "Patient ID",
    "Patient age",
    "Laterality",
    "View",
    "Acquisition date",
    "File Name",
    "ACR",
    "Bi-Rads",
]


def _roi(name: str, points: list[tuple[float, float]]) -> dict:
    return {
        "Name": name, "NumberOfPoints": len(points), "Point_px": [f"({x:.3f}, {y:.3f})" for x, y in points],
        "Point_mm": [f"({x * 0.07:.3f}, {y * 0.07:.3f}, 0.000)" for x, y in points], "Type": 15, "Area": 0.0,
    }  # fmt: skip


def write_inbreast(root: Path, images: int = 8, rows: int = 160, cols: int = 128, seed: int = 0) -> None:
    """Mass contours as polygons, single calcifications as one point, ACR density 1-4."""
    sheet = []
    for number, (patient, side, view, density, lesion) in enumerate(_cases(images)):
        file_name, patient_hash = str(20586908 + number * 17), f"{0x6C613A14B80A8591 + patient:016x}"
        table_view = "MLO" if view == "MLO" else "CC"
        anatomy = _anatomy(seed + number, side, view, density, lesion, rows, cols)
        ds = mammogram_dicom(
            _stored(anatomy, 14), file_name, BitsStored=14, ImageLaterality=side, ViewPosition=view
        )
        name = f"{file_name}_{patient_hash}_MG_{side}_{'ML' if view == 'MLO' else 'CC'}_ANON.dcm"
        if number != 6:
            _save(ds, root / "AllDICOMs" / name)
        if lesion:
            x1, y1, x2, y2 = _box(anatomy)
            contour = [
                (x1, (y1 + y2) / 2),
                ((x1 + x2) / 2, y1),
                (x2 - 1, (y1 + y2) / 2),
                ((x1 + x2) / 2, y2 - 1),
            ]
            rois = [_roi("Mass", contour), _roi("Calcification", [(x1 + 2.0, y1 + 2.0)])]
            plist = {"Images": [{"ImageIndexInStudy": 0, "NumberOfROIs": len(rois), "ROIs": rois}]}
            (root / "AllXML").mkdir(parents=True, exist_ok=True)
            (root / "AllXML" / f"{file_name}.xml").write_bytes(plistlib.dumps(plist))
        sheet.append(
            {
                "Patient ID": "removed",
                "Patient age": "removed",
                "Laterality": side,
                "View": table_view,
                "Acquisition date": "201001",
                "File Name": file_name,
                "ACR": str(1 + "ABCD".index(density)),
                "Bi-Rads": "4a" if lesion else "1",
            }  # fmt: skip
        )
    _write_stray(root / "AllDICOMs" / "99999999_0000_MG_L_CC_ANON.dcm", seed, rows, cols)
    _write_csv(root / "INbreast.csv", INBREAST_COLUMNS, sheet, delimiter=";")


# --- EMBED --------------------------------------------------------------------------------------------


EMBED_METADATA_COLUMNS = [
    "empi_anon", "acc_anon", "anon_dicom_path", "study_date_anon", "StudyDescription", "SeriesDescription",
    "FinalImageType", "ImageLateralityFinal", "ViewPosition", "spot_mag", "num_roi", "ROI_coords", "SRC_DST",
    "match_level", "Manufacturer",
]  # fmt: skip
EMBED_CLINICAL_COLUMNS = [
    "empi_anon", "acc_anon", "study_date_anon", "desc", "tissueden", "asses", "numfind", "side",
    "massshape", "massmargin", "calcfind", "calcdistri", "path_severity",
]  # fmt: skip


def write_embed(root: Path, images: int = 12, rows: int = 160, cols: int = 128, seed: int = 0) -> None:
    """Findings per exam and side in the clinical table; ROIs as (ymin, xmin, ymax, xmax) per image."""
    metadata, clinical = [], []
    for number, (patient, side, view, density, lesion) in enumerate(_cases(images)):
        empi, acc = str(10000000 + patient), str(60000000 + patient)
        anatomy = _anatomy(seed + number, side, view, density, lesion, rows, cols)
        ds = mammogram_dicom(
            _stored(anatomy),
            f"embed{number}",
            ImageLaterality=side,
            ViewPosition=view,
            Manufacturer="HOLOGIC, Inc.",
        )
        relative = Path("cohort_1") / empi / str(ds.StudyInstanceUID) / f"{ds.SOPInstanceUID}.dcm"
        if number != 7:
            _save(ds, root / "images" / relative)
        roi = ""
        if lesion:
            x1, y1, x2, y2 = _box(anatomy)
            roi = f"(({y1}, {x1}, {y2}, {x2}),)"
        metadata.append(
            {
                "empi_anon": empi,
                "acc_anon": acc,
                "anon_dicom_path": f"/mnt/NAS2/mammo/anon_dicom/{relative.as_posix()}",
                "study_date_anon": "2016-01-05",
                "StudyDescription": "MG Screening Bilateral",
                "SeriesDescription": f"{side} {view}",
                "FinalImageType": "C-view" if number == 9 else "2D",
                "ImageLateralityFinal": side,
                "ViewPosition": view,
                "spot_mag": "1.0" if number == 10 else "",
                "num_roi": int(lesion),
                "ROI_coords": roi,
                "SRC_DST": "",
                "match_level": "[1]" if lesion else "",
                "Manufacturer": "HOLOGIC, Inc.",
            }  # fmt: skip
        )
    for patient in sorted({c[0] for c in _cases(images)}):
        empi, acc = str(10000000 + patient), str(60000000 + patient)
        sides = {side for (p, side, _, _, lesion) in _cases(images) if p == patient and lesion}
        density = str(1 + patient % 4)
        findings = [
            (side, "X" if patient % 2 == 0 else "", "" if patient % 2 == 0 else "K") for side in sorted(sides)
        ]
        for number, (side, mass, calc) in enumerate(findings or [("", "", "")], start=1):
            clinical.append(
                {
                    "empi_anon": empi,
                    "acc_anon": acc,
                    "study_date_anon": "2016-01-05",
                    "desc": "MG Screening Bilateral",
                    "tissueden": density,
                    "asses": "A" if side else "N",
                    "numfind": number,
                    "side": side,
                    "massshape": mass,
                    "massmargin": "",
                    "calcfind": calc,
                    "calcdistri": "",
                    "path_severity": "",
                }  # fmt: skip
            )
    _write_stray(root / "images" / "cohort_1" / "1" / "2" / "3.dcm", seed, rows, cols)
    _write_csv(root / "tables" / "EMBED_OpenData_metadata.csv", EMBED_METADATA_COLUMNS, metadata)
    _write_csv(root / "tables" / "EMBED_OpenData_clinical.csv", EMBED_CLINICAL_COLUMNS, clinical)


# --- CMMD ---------------------------------------------------------------------------------------------


CMMD_COLUMNS = ["ID1", "LeftRight", "Age", "number", "abnormality", "classification", "subtype"]


def write_cmmd(root: Path, images: int = 8, rows: int = 160, cols: int = 128, seed: int = 0) -> None:
    """A benign or malignant label per patient and side, without a location; side and view in the headers."""
    sheet = []
    for number, (patient, side, view, density, lesion) in enumerate(_cases(images)):
        patient_id = f"D1-{patient + 1:04d}"
        anatomy = _anatomy(seed + number, side, view, density, True, rows, cols)
        code, meaning = VIEW_CODES[view]
        view_code = Dataset()
        view_code.CodeValue, view_code.CodingSchemeDesignator, view_code.CodeMeaning = code, "SCT", meaning
        ds = mammogram_dicom(
            _stored(anatomy),
            f"cmmd{number}",
            PatientID=patient_id,
            ImageLaterality=side,
            BodyPartExamined="BREAST",
        )
        ds.ViewCodeSequence = Sequence([view_code])
        folder = (
            root / "CMMD" / patient_id / "07-18-2010-NA-NA-1" / f"{number % 4 // 2 + 1}.000000-NA-{number}"
        )
        _save(ds, folder / f"1-{number % 2 + 1}.dcm")
        if number % 2 == 0 and patient != 1:  # the second patient has no sheet row: her files are unlisted
            sheet.append(
                {
                    "ID1": patient_id,
                    "LeftRight": side,
                    "Age": "44",
                    "number": "2",
                    "abnormality": "mass" if patient % 2 == 0 else "calcification",
                    "classification": "Malignant" if lesion else "Benign",
                    "subtype": "",
                }  # fmt: skip
            )
    sheet.append(dict(sheet[0], ID1="D1-0999"))  # a row whose files were never downloaded
    pd.DataFrame(sheet, columns=CMMD_COLUMNS).to_excel(root / "CMMD_clinicaldata_revision.xlsx", index=False)


WRITERS = {
    "cbis_ddsm": write_cbis_ddsm,
    "rsna": write_rsna,
    "inbreast": write_inbreast,
    "embed": write_embed,
    "cmmd": write_cmmd,
}


def write_public_set(name: str, root: str | Path, **settings) -> Path:
    """Write the phantom tree of one public dataset under `root`; returns `root`."""
    if name not in WRITERS:
        raise ValueError(f"public dataset {name!r} unknown; expected one of {PUBLIC_SETS}")
    root = Path(root)
    WRITERS[name](root, **settings)
    return root
