"""The intensity chain: every header variant maps stored values to the expected 8/16-bit values."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_voi_lut
from pydicom.sequence import Sequence

from mame.data.dicom import IntensitySettings, intensity_lut, load_display_image, window
from mame.data.rejections import Rejection

from conftest import make_mammogram_dataset

STORED = np.array([[0, 1536, 1792, 2048], [2304, 2560, 4095, 0]], dtype=np.uint16)


def convert(ds: Dataset, **settings) -> np.ndarray:
    pixels = ds.pixel_array.view(np.uint16)
    return intensity_lut(ds, IntensitySettings(**settings), pixels)[pixels]


def test_linear_window_follows_the_dicom_formula():
    ds = make_mammogram_dataset(STORED, WindowCenter="2048", WindowWidth="1025", VOILUTFunction="LINEAR")
    assert convert(ds).tolist() == [[0, 0, 64, 128], [191, 255, 255, 0]]


def test_monochrome1_is_inverted_after_the_window():
    ds = make_mammogram_dataset(STORED, photometric="MONOCHROME1", WindowCenter="2048", WindowWidth="1025")
    assert convert(ds).tolist() == [[255, 255, 191, 127], [64, 0, 0, 255]]


def test_linear_exact_window():
    ds = make_mammogram_dataset(
        STORED, WindowCenter="2048", WindowWidth="1024", VOILUTFunction="LINEAR_EXACT"
    )
    assert convert(ds).tolist() == [[0, 0, 64, 128], [191, 255, 255, 0]]


def test_sigmoid_window():
    ds = make_mammogram_dataset(STORED, WindowCenter="2048", WindowWidth="1024", VOILUTFunction="SIGMOID")
    assert convert(ds).tolist() == [[0, 30, 69, 128], [186, 225, 255, 0]]


def test_first_of_several_window_presets_is_used():
    ds = make_mammogram_dataset(
        STORED, WindowCenter=["2048", "100"], WindowWidth=["1024", "50"], VOILUTFunction="LINEAR_EXACT"
    )
    assert convert(ds)[0, 2] == 64


def _with_voi_sequence(ds: Dataset) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [4, 1000, 8]
    item.add_new(0x00283006, "OW", np.array([0, 100, 200, 255], dtype="<u2").tobytes())
    ds.VOILUTSequence = Sequence([item])
    return ds


def test_voi_lut_sequence_applies_and_is_preferred_over_a_window():
    stored = np.array([[0, 1000, 1001, 1002, 1003, 4095]], dtype=np.uint16)
    ds = _with_voi_sequence(make_mammogram_dataset(stored, WindowCenter="2048", WindowWidth="1024"))
    assert convert(ds).tolist() == [[0, 0, 100, 200, 255, 255]]
    assert convert(ds, prefer_voi_sequence=False).tolist() != [[0, 0, 100, 200, 255, 255]]


def test_rescale_slope_and_intercept_come_before_the_window():
    stored = np.array([[50, 300, 550, 1050]], dtype=np.uint16)
    ds = make_mammogram_dataset(
        stored,
        RescaleSlope="2",
        RescaleIntercept="-100",
        WindowCenter="1000",
        WindowWidth="2000",
        VOILUTFunction="LINEAR_EXACT",
    )
    assert convert(ds).tolist() == [[0, 64, 128, 255]]


def test_fixed_max_divides_the_voi_output_like_the_study():
    stored = np.array([[1024, 2048, 4095]], dtype=np.uint16)
    ds = make_mammogram_dataset(
        stored, WindowCenter="2048", WindowWidth="4096", VOILUTFunction="LINEAR_EXACT"
    )
    # unit x/4096, in pydicom's window range (x 4095), divided by 3500 and clipped
    assert convert(ds, mode="fixed_max", fixed_max=3500).tolist() == [[75, 149, 255]]


def test_sixteen_bit_output():
    ds = make_mammogram_dataset(
        STORED, WindowCenter="2048", WindowWidth="1024", VOILUTFunction="LINEAR_EXACT"
    )
    out = convert(ds, bit_depth=16)
    assert out.dtype == np.uint16
    assert out[0, 2] == 16384 and out[1, 2] == 65535


def test_without_any_voi_the_image_range_is_stretched():
    ds = make_mammogram_dataset(np.array([[100, 200], [300, 500]], dtype=np.uint16))
    assert convert(ds).tolist() == [[0, 64], [128, 255]]


def test_signed_pixels_index_the_table_in_twos_complement():
    stored = np.array([[-2048, -1, 0, 2047]], dtype=np.int16)
    ds = make_mammogram_dataset(
        stored, PixelRepresentation=1, WindowCenter="0", WindowWidth="4096", VOILUTFunction="LINEAR_EXACT"
    )
    assert convert(ds).tolist() == [[0, 127, 128, 255]]


@pytest.mark.parametrize("function", ["LINEAR", "SIGMOID"])
def test_window_matches_pydicom_reference(function):
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 4096, size=(32, 32)).astype(np.uint16)
    ds = make_mammogram_dataset(stored, WindowCenter="1700.5", WindowWidth="1301", VOILUTFunction=function)
    ours = window(stored.astype(float), 1700.5, 1301, function)
    reference = apply_voi_lut(stored, ds) / 4095.0
    np.testing.assert_allclose(ours, reference, atol=1e-9)


def test_unknown_window_function_is_named():
    with pytest.raises(ValueError, match="GAMMA"):
        window(np.arange(3.0), 1, 2, "GAMMA")


def test_load_display_image_rejects_a_non_dicom_file(tmp_path):
    path = tmp_path / "notes.dcm"
    path.write_text("not dicom")
    with pytest.raises(Rejection) as caught:
        load_display_image(path, IntensitySettings())
    assert caught.value.reason == "unreadable"


def test_load_display_image_reads_jpeg2000(tmp_path):
    rng = np.random.default_rng(1)
    stored = rng.integers(0, 4096, size=(64, 48)).astype(np.uint16)
    ds = make_mammogram_dataset(
        stored, WindowCenter="2048", WindowWidth="4096", VOILUTFunction="LINEAR_EXACT"
    )
    ds.compress(pydicom.uid.JPEG2000Lossless, encoding_plugin="pylibjpeg")
    ds.save_as(tmp_path / "j2k.dcm", enforce_file_format=True)
    image, _ = load_display_image(tmp_path / "j2k.dcm", IntensitySettings())
    np.testing.assert_array_equal(image, np.round(stored / 4096 * 255).astype(np.uint8))


def test_presentation_lut_shape_inverse_inverts_once():
    from mame.data.dicom import displays_inverted

    from conftest import make_mammogram_dataset

    pixels = np.arange(16, dtype=np.uint16).reshape(4, 4)
    settings = IntensitySettings()
    plain = intensity_lut(make_mammogram_dataset(pixels, WindowCenter="2047.5", WindowWidth="4096"), settings)
    inverse2 = make_mammogram_dataset(
        pixels, PresentationLUTShape="INVERSE", WindowCenter="2047.5", WindowWidth="4096"
    )
    inverse1 = make_mammogram_dataset(
        pixels,
        photometric="MONOCHROME1",
        PresentationLUTShape="INVERSE",
        WindowCenter="2047.5",
        WindowWidth="4096",
    )
    assert displays_inverted(inverse2) and displays_inverted(inverse1)
    flipped = 255 - plain.astype(int)  # equal up to rounding at exact halves
    np.testing.assert_allclose(intensity_lut(inverse2, settings), flipped, atol=1)
    # the IOD pairs INVERSE with MONOCHROME1: the two say one thing, applied once
    np.testing.assert_allclose(intensity_lut(inverse1, settings), flipped, atol=1)
