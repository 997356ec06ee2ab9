"""Data stage: DICOM headers -> index, pixels -> processed images, manifests of image-prompt and
image-mask pairs."""
