"""The one geometry transform: pixels and boxes through crop, flip, resize and pad."""

from __future__ import annotations

import numpy as np
import pytest

from mame.data.geometry import Geometry, plan_geometry


def raw_right_breast(rows: int = 300, cols: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """A right breast (chest wall on the right edge) with a bright lesion at a known raw box."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    breast = ((cols - xx) / 150.0) ** 2 + ((yy - 150) / 110.0) ** 2 <= 1
    image = np.where(breast, 120, 3).astype(np.uint8)
    box = np.array([[150.0, 100.0, 180.0, 130.0]])
    image[100:130, 150:180] = 250
    return image, box


def test_flip_swaps_x1_and_x2_without_resizing():
    geometry = Geometry(crop=(0, 0, 100, 50), flip=True, resized=(100, 50), offset=(0, 0), size=100)
    assert geometry.apply_boxes(np.array([[10, 5, 20, 15]])).tolist() == [[80, 5, 90, 15]]


def test_box_follows_pixels_through_breast_crop_flip_and_resize():
    image, box = raw_right_breast()
    geometry = plan_geometry(image, "breast", 128, flip=True)
    processed = geometry.apply_image(image)
    x1, y1, x2, y2 = geometry.apply_boxes(box)[0]
    lesion = processed > 200
    rows, cols = np.nonzero(lesion)
    assert lesion.sum() > 20
    # every lesion pixel lies inside the mapped box, and the box is no more than a pixel larger
    assert cols.min() >= np.floor(x1) and cols.max() < np.ceil(x2)
    assert rows.min() >= np.floor(y1) and rows.max() < np.ceil(y2)
    assert abs((cols.max() + 1 - cols.min()) - (x2 - x1)) <= 1.5
    assert abs((rows.max() + 1 - rows.min()) - (y2 - y1)) <= 1.5


def test_right_breast_is_flipped_so_the_chest_wall_is_on_the_left():
    image, _ = raw_right_breast()
    processed = plan_geometry(image, "breast", 128, flip=True).apply_image(image)
    assert processed[:, :5].mean() > processed[:, -5:].mean()
    assert processed.shape == (128, 128)


def test_breast_crop_keeps_aspect_and_pads_away_from_the_chest_wall():
    image, _ = raw_right_breast()
    geometry = plan_geometry(image, "breast", 128, flip=True)
    width, height = geometry.resized
    assert height == 128 and width < 128
    assert geometry.offset == (0, 0)
    crop_w = geometry.crop[2] - geometry.crop[0]
    crop_h = geometry.crop[3] - geometry.crop[1]
    assert width / height == pytest.approx(crop_w / crop_h, abs=0.02)


def test_center_crop_is_the_studys_square_from_the_short_side():
    image = np.zeros((200, 100), dtype=np.uint8)
    geometry = plan_geometry(image, "center", 50, flip=False)
    assert geometry.crop == (0, 50, 100, 150)
    assert geometry.apply_boxes(np.array([[0, 40, 10, 60]])).tolist() == [[0, 0, 5, 5]]


def test_box_cut_away_by_the_crop_has_zero_area():
    image = np.zeros((200, 100), dtype=np.uint8)
    x1, y1, x2, y2 = plan_geometry(image, "center", 50, flip=False).apply_boxes(np.array([[0, 0, 10, 20]]))[0]
    assert (x2 - x1) * (y2 - y1) == 0


def test_unknown_crop_mode_is_named():
    with pytest.raises(ValueError, match="middle"):
        plan_geometry(np.zeros((10, 10), np.uint8), "middle", 8, flip=False)


def test_sixteen_bit_images_keep_their_dtype():
    image, _ = raw_right_breast()
    image16 = image.astype(np.uint16) * 257
    processed = plan_geometry(image16, "breast", 64, flip=True).apply_image(image16)
    assert processed.dtype == np.uint16 and processed.max() > 255


def test_a_non_square_canvas_keeps_the_aspect_ratio_and_never_cuts_the_breast():
    image, box = raw_right_breast(rows=320, cols=250)
    geometry = plan_geometry(image, "breast", (80, 64), flip=True)
    processed = geometry.apply_image(image)
    assert processed.shape == (80, 64)
    breast_rows, breast_cols = np.nonzero(image > 50)
    assert geometry.crop[0] <= breast_cols.min() and breast_cols.max() < geometry.crop[2]  # nothing cut
    assert geometry.crop[1] <= breast_rows.min() and breast_rows.max() < geometry.crop[3]
    width, height = geometry.resized
    crop_w, crop_h = geometry.crop[2] - geometry.crop[0], geometry.crop[3] - geometry.crop[1]
    assert width / height == pytest.approx(crop_w / crop_h, abs=0.03) and width <= 64 and height <= 80
    x1, y1, x2, y2 = geometry.apply_boxes(box)[0]
    rows, cols = np.nonzero(processed > 200)
    assert len(rows) > 5  # the lesion survives, inside its moved box
    assert cols.min() >= np.floor(x1) and cols.max() < np.ceil(x2)
    assert rows.min() >= np.floor(y1) and rows.max() < np.ceil(y2)


def test_a_non_square_center_crop_takes_the_canvas_aspect_from_the_middle():
    image = np.zeros((300, 300), dtype=np.uint8)
    geometry = plan_geometry(image, "center", (80, 64), flip=False)
    x0, y0, x1, y1 = geometry.crop
    assert (y1 - y0, x1 - x0) == (300, 240) and x0 == 30
    assert geometry.apply_image(image).shape == (80, 64)
