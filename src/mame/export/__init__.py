"""Export: synthetic mammograms as DICOM Secondary Capture objects, and their validation."""
