"""Inside a forecaster: its hidden state step by step across one window, and occlusion over the window.

The Inside page's machinery, on a series instead of a text. A forecaster reads the last W values, each minus the
window's last value (scaled), one per step; its "token" at step t is that week's (or year's) value. The states are
computed in numpy from the layer's own weights with `stepper.step_terms`, the equations the Inside page fills in,
for all units at once and for many windows side by side; the tests check them, and the forecasts read from them,
against the Keras model itself.

Occlusion asks which past steps the forecast depends on: step t's value is replaced by the window's last value
(input 0, "no change from the last value": the network's neutral input, as a removed word is the text's), and
the forecast h steps ahead is compared with the window's own. The last step's input is 0 by construction, so its
effect is 0: the last value sets the level every forecast is added to, not the shape the network reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnndemo import forecasting, stepper


@dataclass(frozen=True)
class ForecasterWeights:
    """A forecaster's weights as read-only float64 arrays: Input (W, 1) → recurrent layer → Dense(outputs)."""

    layer: str  # "SimpleRNN", "LSTM" or "GRU"
    strategy: str  # "direct" (outputs = the largest horizon) or "recursive" (outputs = 1, fed back)
    window: int  # W
    kernel: np.ndarray  # (1, gates · units)
    recurrent_kernel: np.ndarray  # (units, gates · units)
    bias: np.ndarray  # (gates · units,), or (2, 3 · units) for the GRU
    readout_kernel: np.ndarray  # (units, outputs)
    readout_bias: np.ndarray  # (outputs,)

    @property
    def units(self) -> int:
        return self.recurrent_kernel.shape[0]


def weights_of(model, strategy: str, window: int) -> ForecasterWeights:
    """The weights of a forecaster built by `forecast_models.build_forecaster`."""
    layer = model.get_layer("recurrent")
    arrays = [
        np.array(weight, dtype=np.float64)
        for weight in (*layer.get_weights(), *model.get_layer("readout").get_weights())
    ]
    for array in arrays:
        array.setflags(write=False)
    return ForecasterWeights(type(layer).__name__, strategy, window, *arrays)


@dataclass(frozen=True)
class WindowStates:
    """Every number the layer computed at every step of a batch of windows."""

    hidden: np.ndarray  # (batch, W, units): h_t
    cell: np.ndarray | None  # (batch, W, units): c_t, LSTM only
    gates: dict[str, np.ndarray]  # the step's other columns (the LSTM's i, f, g, o), each (batch, W, units)


def _steps(weights: ForecasterWeights, inputs: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Each step's numbers, all units, over `inputs` (batch, W) from zero states."""
    inputs = np.asarray(inputs, dtype=np.float64)
    batch, units = inputs.shape[0], np.arange(weights.units)
    hidden, cell = np.zeros((batch, weights.units)), np.zeros((batch, weights.units))
    steps = []
    for t in range(inputs.shape[1]):
        terms = stepper.step_terms(
            weights.layer,
            inputs[:, t : t + 1],
            hidden,
            cell,
            weights.kernel,
            weights.recurrent_kernel,
            weights.bias,
            units,
        )
        hidden, cell = terms[stepper.STATE], terms.get("cₜ", cell)
        steps.append(terms)
    return steps


def run_states(weights: ForecasterWeights, inputs: np.ndarray) -> WindowStates:
    """The layer over `inputs` (batch, W): the network's inputs, each window minus its last value, scaled."""
    steps = _steps(weights, inputs)
    shape = steps[0][stepper.STATE].shape  # (batch, units)
    columns = stepper.COLUMNS[weights.layer]
    stacked = {  # (batch, W, units)
        name: np.stack([np.broadcast_to(terms[name], shape) for terms in steps], axis=1) for name in columns
    }
    gate_names = [name for name in columns if name not in (stepper.PREVIOUS_STATE, stepper.STATE, "cₜ₋₁", "cₜ")]
    return WindowStates(
        hidden=stacked[stepper.STATE],
        cell=stacked.get("cₜ"),
        gates={name: stacked[name] for name in gate_names},
    )


def readout(weights: ForecasterWeights, relative: np.ndarray) -> np.ndarray:
    """The network's output for windows already relative to their last value, (batch, W) → (batch, outputs)."""
    return _steps(weights, relative)[-1][stepper.STATE] @ weights.readout_kernel + weights.readout_bias


def forecast_paths(weights: ForecasterWeights, scaled_windows: np.ndarray, horizon: int) -> np.ndarray:
    """Scaled forecasts (batch, horizon) from windows of scaled values (batch, W), as `network_forecasts` makes
    them: all at once (direct) or one step at a time, fed back (recursive)."""
    current = np.asarray(scaled_windows, dtype=np.float64)
    if weights.strategy == "direct":
        relative, last = forecasting.level_relative(current)
        return (last + readout(weights, relative))[:, :horizon]
    steps = []
    for _ in range(horizon):
        relative, last = forecasting.level_relative(current)
        following = last + readout(weights, relative)[:, :1]
        steps.append(following)
        current = np.concatenate([current[:, 1:], following], axis=1)
    return np.concatenate(steps, axis=1)


def window_inputs(scaled: np.ndarray, origin: int, window: int) -> np.ndarray:
    """The network's inputs at `origin`: the last `window` scaled values minus the last one, (W,)."""
    relative, _ = forecasting.level_relative(forecasting.windows(scaled, np.array([origin]), window))
    return relative[0]


def trace_window(weights: ForecasterWeights, scaled: np.ndarray, origin: int) -> WindowStates:
    """The states across the window that ends at `origin` (batch of one)."""
    return run_states(weights, window_inputs(scaled, origin, weights.window)[None, :])


def step_table(weights: ForecasterWeights, states: WindowStates, inputs: np.ndarray, step: int) -> dict:
    """The step at position `step` (from 0) of a traced window, for the units that moved most there, as the Inside
    page's stepper shows it: {"units": (...), "terms": {column: values}}, recomputed from the weights."""
    step = stepper.clamp_step(step, len(inputs))
    hidden = states.hidden[0]
    units = np.asarray(stepper.units_that_changed_most(hidden, step), dtype=np.int64)
    previous = hidden[step - 1] if step else np.zeros(weights.units)
    previous_cell = None
    if states.cell is not None:
        previous_cell = (states.cell[0, step - 1] if step else np.zeros(weights.units))[units]
    terms = stepper.step_terms(
        weights.layer,
        np.array([inputs[step]]),
        previous,
        previous_cell,
        weights.kernel,
        weights.recurrent_kernel,
        weights.bias,
        units,
    )
    return {"units": tuple(int(unit) for unit in units), "terms": terms}


def occluded(window: np.ndarray) -> np.ndarray:
    """(W + 1, W): row 0 the window itself, row t + 1 the window with step t's value replaced by the last value."""
    width = len(window)
    batch = np.tile(np.asarray(window, dtype=np.float64), (width + 1, 1))
    batch[np.arange(1, width + 1), np.arange(width)] = window[-1]
    return batch


def occlusion(weights: ForecasterWeights, scaled: np.ndarray, origin: int, horizon: int) -> tuple[float, np.ndarray]:
    """(the forecast h = `horizon` steps ahead, scaled; and for each step t of the window, that forecast minus the
    forecast with step t's value replaced by the window's last value), in scaled units: multiply by the scaler's
    scale for the series' unit. All W + 1 windows run side by side."""
    window = forecasting.windows(scaled, np.array([origin]), weights.window)[0]
    forecasts = forecast_paths(weights, occluded(window), horizon)[:, horizon - 1]
    return float(forecasts[0]), forecasts[0] - forecasts[1:]
