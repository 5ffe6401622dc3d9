"""Target transforms: the inverse undoes the transform, the reference columns are declared, and the
explanation arithmetic adds up to the forecast on the scale it names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from models.gbm import LightGBM
from models.transforms import LATEST_VALUE, RECENT_LEVEL, Difference, Identity, Log1p, Margin, Ratio

TRANSFORMS = [Identity(), Log1p(), Difference(), Ratio(window=2)]


def rows(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ref_last": rng.poisson(40, n).astype(float),
            "ref_recent_mean_w2": rng.gamma(5, 8, n),
            "x": rng.normal(size=n),
        }
    )


@pytest.mark.parametrize("transform", TRANSFORMS, ids=repr)
def test_inverse_transform_undoes_transform(transform) -> None:
    frame = rows()
    y = np.random.default_rng(1).poisson(40, len(frame)).astype(float)
    z = transform.fit(y, rows=frame).transform(y, rows=frame)
    np.testing.assert_allclose(transform.inverse_transform(z, rows=frame), y, rtol=1e-12, atol=1e-9)


def test_the_inverse_never_goes_below_zero() -> None:
    frame = rows()
    assert (Difference().inverse_transform(np.full(len(frame), -1e6), rows=frame) == 0).all()


def test_ratio_reads_its_windows_reference_and_survives_clone() -> None:
    ratio = clone(Ratio(window=8))
    assert ratio.reference_columns() == ["ref_recent_mean_w8"] and ratio.reference_windows() == {8}
    with pytest.raises(ValueError, match=r"Ratio reads the reference columns \['ref_recent_mean_w8'\]"):
        ratio.fit(np.ones(3), rows=rows(3))


def test_the_spec_builds_the_transform_its_yaml_value_names() -> None:
    assert LightGBM(transform="ratio", ratio_window=3).target_transform().get_params() == {"window": 3}
    assert isinstance(LightGBM(objective="l2", transform="difference").target_transform(), Difference)
    assert LightGBM(transform="ratio", ratio_window=3).reference_windows() == {3}


def margin(frame: pd.DataFrame, link, seed: int = 2) -> Margin:
    rng = np.random.default_rng(seed)
    values = pd.DataFrame(rng.normal(0, 0.1, (len(frame), 3)), columns=["a", "b", "c"])
    return Margin(link=link, base=float(rng.normal(0.5, 0.1)), values=values, data=values.copy())


@pytest.mark.parametrize(
    "transform, link, scale",
    [
        (Identity(), "log", "log"),
        (Identity(), "identity", "identity"),
        (Log1p(), "identity", "log1p"),
        (Difference(), "identity", "identity"),
        (Ratio(window=2), "log", "log1p"),
        (Ratio(window=2), "identity", "identity"),
    ],
)
def test_attribution_adds_up_to_the_forecast_on_its_scale(transform, link, scale) -> None:
    frame, background = rows(), rows(200, seed=5)
    m = margin(frame, link)
    parts = transform.attribute(m, rows=frame, background=background)
    assert parts.scale == scale
    np.testing.assert_allclose(parts.base + parts.values.to_numpy().sum(axis=1), parts.output, rtol=1e-12)
    # the output on the scale is the forecast the inverse transform gives from the model's prediction
    raw = m.base + m.values.to_numpy().sum(axis=1)
    prediction = np.exp(raw) if link == "log" else raw
    forecast = transform.inverse_transform(prediction, rows=frame)
    on_scale = {"log": np.log, "log1p": np.log1p, "identity": lambda v: v}[scale](forecast)
    kept = forecast > 0
    np.testing.assert_allclose(parts.output[kept], on_scale[kept], rtol=1e-9, atol=1e-9)


def test_the_reference_enters_as_a_contribution_measured_against_its_background_average() -> None:
    frame, background = rows(), rows(200, seed=5)
    parts = Difference().attribute(margin(frame, "identity"), rows=frame, background=background)
    np.testing.assert_allclose(parts.values[LATEST_VALUE], frame["ref_last"] - background["ref_last"].mean())
    parts = Ratio(window=2).attribute(margin(frame, "log"), rows=frame, background=background)
    expected = np.log1p(frame["ref_recent_mean_w2"]) - np.log1p(background["ref_recent_mean_w2"]).mean()
    np.testing.assert_allclose(parts.values[RECENT_LEVEL], expected)


@pytest.mark.parametrize("transform", [Log1p(), Difference()], ids=repr)
def test_a_transform_that_adds_up_on_no_scale_under_a_log_link_says_so(transform) -> None:
    with pytest.raises(ValueError, match="with a log link adds up on no forecast scale"):
        transform.attribute(margin(rows(), "log"), rows=rows(), background=rows())
