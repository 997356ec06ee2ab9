"""Distribution metrics: FD against its closed form, KID's unbiasedness, PRDC on a hand-made case, the
table's shared n and floor, and a domain encoder that learns the real images' labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mame.evaluation.distribution import (
    distribution_table,
    frechet_distance,
    kernel_inception_distance,
    prdc,
)

torch.set_num_threads(1)


def _exact(rng, count: int, dimension: int) -> np.ndarray:
    """Rows whose sample mean is exactly 0 and sample covariance exactly the identity."""
    x = rng.standard_normal((count, dimension))
    x -= x.mean(axis=0)
    covariance = np.cov(x, rowvar=False)
    return x @ np.linalg.inv(np.linalg.cholesky(covariance)).T


def test_frechet_distance_is_zero_for_identical_sets_and_matches_the_gaussian_closed_form():
    rng = np.random.default_rng(0)
    a = _exact(rng, 200, 4)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    b = 3.0 * _exact(rng, 150, 4) + shift  # N(shift, 9 I) in its sample moments
    # ||mu_a - mu_b||^2 + Tr(I + 9 I - 2 * 3 I) = |shift|^2 + 4 * (1 - 3)^2
    assert frechet_distance(a, b) == pytest.approx(shift @ shift + 4 * 4.0, rel=1e-8)


def test_kid_is_unbiased_where_the_plain_mmd_is_not():
    rng = np.random.default_rng(1)
    values = [
        kernel_inception_distance(rng.normal(size=(20, 8)), rng.normal(size=(20, 8))) for _ in range(300)
    ]
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))  # expectation 0
    assert min(values) < 0  # unbiased estimates of 0 go below it
    apart = kernel_inception_distance(rng.normal(size=(50, 8)), rng.normal(1.0, 1.0, size=(50, 8)))
    assert apart > 10 * np.std(values)


def test_precision_recall_density_coverage_on_a_hand_made_case():
    real = np.arange(7, dtype=float)[:, None]  # 0 ... 6: every real radius (k = 1) is 1
    fake = np.array([[0.5], [2.5], [10.0]])  # radii 2, 2, 7.5
    result = prdc(real, fake, k=1)
    assert result["precision"] == pytest.approx(2 / 3)  # 10 is off the real manifold
    assert result["density"] == pytest.approx(4 / 3)  # 0.5 and 2.5 each sit in two real balls
    assert result["coverage"] == pytest.approx(4 / 7)  # reals 0-3 have a sample within their radius
    assert result["recall"] == pytest.approx(1.0)  # the far sample's wide ball reaches 5 and 6
    with pytest.raises(ValueError, match="needs more than"):
        prdc(real[:2], fake, k=5)


def test_the_table_shares_one_n_with_a_floor_and_ranges_over_fresh_draws():
    rng = np.random.default_rng(2)
    table = distribution_table(
        {2.0: rng.normal(1.0, 1.0, size=(30, 6)), 7.0: rng.normal(0.5, 1.0, size=(45, 6))},
        train=rng.normal(size=(80, 6)),
        holdout=rng.normal(size=(10, 6)),
        draws=20,
    )
    assert table["n"].nunique() == 1 and table["n"].iloc[0] == 30 and (table["draws"] == 20).all()
    assert table["guidance"].tolist() == ["real", 2.0, 7.0]
    assert table.loc[0, "compared"] == "other training images"  # 10 held-out images are fewer than n
    assert table.loc[1, "fd"] > table.loc[2, "fd"] > table.loc[0, "fd"] > 0  # farther samples, larger FD
    for name in ("fd", "kid", "precision", "recall", "density", "coverage"):
        assert (table[f"{name}_low"] <= table[name]).all() and (table[name] <= table[f"{name}_high"]).all()
    assert table.loc[0, "precision"] > table.loc[1, "precision"]  # distinct images: radii stay honest


def test_the_domain_encoder_learns_the_real_labels(tmp_path):
    from PIL import Image

    from mame.evaluation.encoder import TrainedEncoder, train_encoder

    rng = np.random.default_rng(3)
    rows = []
    for i in range(40):
        image = np.zeros((48, 40), np.uint8)
        cc = i % 2 == 0
        image[8:40, :20] = rng.integers(120, 200) if cc else 0
        image[:, :8] = 0 if cc else rng.integers(120, 200)
        path = tmp_path / f"{i}.png"
        Image.fromarray(image).save(path)
        rows.append({"image": str(path), "view": "CC" if cc else "MLO", "vendor": "v", "density": ""})
    encoder = train_encoder(pd.DataFrame(rows), steps=60, batch_size=16)
    assert encoder.classes == {"view": ["CC", "MLO"]} and encoder.accuracy["view"] > 0.9
    encoder.save(tmp_path / "encoder")
    again = TrainedEncoder.load(tmp_path / "encoder")
    features = again.embed_paths([r["image"] for r in rows])
    assert features.shape == (40, 64) and np.allclose(
        features, encoder.embed_paths([r["image"] for r in rows])
    )


class StandIn(torch.nn.Module):
    """The detector's calling convention (uint8 RGB NCHW in, pooled features out), 4 features."""

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = x.float() / 255.0
        return torch.stack(
            [x.mean((1, 2, 3)), x.std((1, 2, 3)), x[:, 0, :4].mean((1, 2)), x.amax((1, 2, 3))], 1
        )


def test_inception_fid_says_why_without_weights_and_uses_them_when_present(tmp_path, monkeypatch):
    from PIL import Image

    from mame.evaluation.distribution import frechet_distance
    from mame.evaluation.inception import inception_features, inception_fid

    monkeypatch.delenv("MAME_INCEPTION", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    rng = np.random.default_rng(0)
    paths = []
    for i in range(12):
        path = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 200 + 4 * i, (16, 16)).astype(np.uint8)).save(path)
        paths.append(str(path))
    train, holdout, samples = paths[:6], paths[6:9], {4.0: paths[9:]}
    missing = inception_fid(samples, train, holdout)
    assert missing["fid"].isna().all() and "inception-2015-12-05.pt" in missing["note"].iloc[0]
    weights = tmp_path / "detector.pt"
    torch.jit.script(StandIn()).save(str(weights))
    table = inception_fid(samples, train, holdout, str(weights)).set_index("guidance")
    model = torch.jit.load(str(weights))
    expected = frechet_distance(inception_features(model, train), inception_features(model, holdout))
    assert table.loc["real", "fid"] == pytest.approx(expected) and table.loc[4.0, "n"] == 3
    monkeypatch.setenv("MAME_INCEPTION", str(weights))
    assert inception_fid(samples, train, holdout)["fid"].notna().all()
