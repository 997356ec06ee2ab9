"""Every codec of real mammography archives decodes: JPEG Lossless (Process 14 and SV1), JPEG-LS
(lossless and near-lossless), 12-bit JPEG Extended, RLE and JPEG 2000.

Each file is made from one synthetic 12-bit mammogram by GDCM's transcoder, so the expected values are
known: lossless syntaxes must give back every stored value."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from mame.data.dicom import IntensitySettings, decode_pixels, load_display_image
from mame.data.rejections import Rejection

from conftest import make_mammogram_dataset

gdcm = pytest.importorskip("gdcm")

LOSSLESS = {
    "JPEGLosslessProcess14": "1.2.840.10008.1.2.4.57",
    "JPEGLosslessProcess14_1": "1.2.840.10008.1.2.4.70",
    "JPEGLSLossless": "1.2.840.10008.1.2.4.80",
    "RLELossless": "1.2.840.10008.1.2.5",
    "JPEG2000Lossless": "1.2.840.10008.1.2.4.90",
}


def _mammogram() -> np.ndarray:
    yy, xx = np.mgrid[0:96, 0:80]
    rng = np.random.default_rng(3)
    return (800 + 25 * xx + 8 * yy + rng.integers(0, 40, (96, 80))).astype(np.uint16)


def _transcode(tmp_path, pixels: np.ndarray, syntax: str):
    source, target = tmp_path / "source.dcm", tmp_path / f"{syntax}.dcm"
    make_mammogram_dataset(pixels, bits=12).save_as(source, enforce_file_format=True)
    reader = gdcm.ImageReader()
    reader.SetFileName(str(source))
    assert reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, syntax)))
    change.SetInput(reader.GetImage())
    assert change.Change()
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(target))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    assert writer.Write()
    return target


@pytest.mark.parametrize("syntax", sorted(LOSSLESS))
def test_lossless_syntaxes_give_back_every_stored_value(syntax, tmp_path):
    pixels = _mammogram()
    path = _transcode(tmp_path, pixels, syntax)
    ds = pydicom.dcmread(path)
    assert str(ds.file_meta.TransferSyntaxUID) == LOSSLESS[syntax]
    np.testing.assert_array_equal(decode_pixels(ds), pixels)
    display, _ = load_display_image(path, IntensitySettings(mode="fixed_max", fixed_max=4095))
    assert display.dtype == np.uint8 and display.shape == pixels.shape


def test_near_lossless_jpeg_ls_and_12_bit_jpeg_extended_decode_close_to_the_original(tmp_path):
    pixels = _mammogram()
    for syntax, tolerance in (("JPEGLSNearLossless", 0), ("JPEGExtendedProcess2_4", 40)):
        decoded = decode_pixels(pydicom.dcmread(_transcode(tmp_path, pixels, syntax)))
        assert decoded.dtype == np.uint16 and decoded.max() < 4096
        assert np.abs(decoded.astype(int) - pixels).max() <= tolerance, syntax


def test_pydicoms_12_bit_jpeg_extended_file_matches_its_reference_value():
    """pydicom's GDCM plugin refuses this syntax; GDCM itself decodes it (pydicom's reference: 244)."""
    from pydicom.data import get_testdata_file

    decoded = decode_pixels(pydicom.dcmread(get_testdata_file("JPGExtended.dcm")))
    assert decoded.shape == (1024, 256) and decoded[420, 140] == 244


def test_an_undecodable_codestream_is_one_line_naming_each_decoders_reason(tmp_path):
    path = _transcode(tmp_path, _mammogram(), "JPEGLSLossless")
    ds = pydicom.dcmread(path)
    ds.PixelData = ds.PixelData[:40] + b"\x00" * 8 + ds.PixelData[-8:]
    broken = tmp_path / "broken.dcm"
    ds.save_as(broken)
    with pytest.raises(Rejection) as caught:
        decode_pixels(pydicom.dcmread(broken))
    assert caught.value.reason == "decode_failed"
    assert "\n" not in caught.value.detail and "gdcm" in caught.value.detail.lower()


@pytest.mark.parametrize("name", ["JPEG-lossy.dcm", "JPGExtended.dcm"])
def test_12_bit_jpeg_extended_converts_without_a_decoder_traceback(name, capfd, caplog):
    """pydicom's plugins refuse 12-bit JPEG Extended and log a traceback each before GDCM reads it."""
    from pydicom.data import get_testdata_file

    from mame.cli import main

    path = get_testdata_file(name)
    with caplog.at_level("DEBUG"):
        assert main(["convert", "--laterality", "L", "--size", "96,64", path, "/dev/null"]) == 0
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "ERROR" not in out + err
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
