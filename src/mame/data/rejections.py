"""Why an image left the pipeline: one exception type and the fixed list of reasons.

Every excluded file gets a row in a rejects table with one of these codes, so a user can count
and look up what was dropped instead of losing data silently.
"""

from __future__ import annotations

REASONS = {
    "unreadable": "not a readable DICOM file",
    "truncated": "file shorter than its pixel data says",
    "not_mammogram": "Modality is not MG",
    "for_processing": "PresentationIntentType is FOR PROCESSING (raw detector data)",
    "view_not_selected": "ViewPosition not in the configured views",
    "no_laterality": "no ImageLaterality, Laterality or table laterality",
    "unsupported_transfer_syntax": "pixel data encoding cannot be decoded",
    "manufacturer_not_selected": "Manufacturer not in the configured manufacturers",
    "implant": "BreastImplantPresent is YES and implants are excluded",
    "not_in_table": "file has no row in the dataset's label table",
    "file_missing": "the label table names a file that does not exist",
    "header_table_mismatch": "the DICOM header and the label table disagree on laterality or view",
    "spot_or_magnified": "a spot-compression or magnification view (View Modifier Code Sequence)",
    "marks_unreadable": "the dataset's parser could not read a lesion mark of this image",
    "not_full_field_2d": "not a full-field 2D mammogram (e.g. a C-view synthesised from tomosynthesis)",
    "lesion_without_box": "a lesion label (e.g. cancer) without a location: neither healthy nor a mask",
    "not_normal_status": "no marks, but the patient's screening status is not Normal (healthy: nbss_normal)",
    "no_pixel_data": "DICOM file holds no pixel data",
    "decode_failed": "pixel data could not be decoded",
    "no_breast": "no breast region found in the image",
    "missing_density": "the dataset's prompts need a breast density and the image has none",
    "category_not_selected": "findings, none of a selected category (neither healthy nor lesion)",
    "lesion_outside_crop": "every lesion box fell outside the processed image",
}


class Rejection(Exception):
    """Raised for an image the pipeline must skip; `reason` is a key of REASONS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail or REASONS[reason]}")

    def __reduce__(self):  # survive the trip back from a worker process
        return (Rejection, (self.reason, self.detail))
