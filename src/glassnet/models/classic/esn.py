"""The echo state network (Jaeger, 2001): a fixed random recurrent reservoir and a linear
readout solved by ridge regression.

    x_t = (1 - a) x_{t-1} + a tanh(W_in [1; u_t] + W x_{t-1})     reservoir, never trained
    y_t = W_out [1; u_t; x_t]                                      readout, ridge regression

W is sparse and random, rescaled so that its spectral radius (largest |eigenvalue|) is rho
(below 1 for the echo state property: the state forgets its initial value). ``a`` is the
leak rate. Only W_out is learned, in closed form, after a washout of the first states.

:func:`mackey_glass` makes the usual benchmark series, :func:`nrmse` scores a prediction.

>>> u = np.sin(np.arange(600) * 0.2)[:, None]
>>> esn = EchoStateNetwork(1, 100, seed=0).fit(u[:-1], u[1:])
>>> bool(nrmse(esn.predict(u[:-1])[100:], u[1:][100:]) < 1e-3)
True
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...validation import check_int, check_real
from ._common import matrix, ridge_solve

__all__ = ["EchoStateNetwork", "mackey_glass", "nrmse"]


def mackey_glass(n: int, tau: int = 17, beta: float = 0.2, gamma: float = 0.1,
                 power: float = 10.0, dt: float = 0.1, x0: float = 1.2, discard: int = 500
                 ) -> np.ndarray:
    """n samples (one per unit of time) of the Mackey-Glass delay equation
    dx/dt = beta x(t - tau) / (1 + x(t - tau)^power) - gamma x(t), integrated by Euler steps
    of ``dt`` from a constant history x0; the first ``discard`` time units are dropped.
    tau = 17 gives the usual mildly chaotic series."""
    who = "mackey_glass"
    n = check_int(n, "n", who)
    tau = check_int(tau, "tau", who)
    dt = check_real(dt, "dt", who, 0, 1, low_open=True)
    per = int(round(1 / dt))
    lag = int(round(tau / dt))
    total = (n + discard) * per
    x = np.full(total + lag, float(x0))
    for t in range(lag, total + lag - 1):         # a loop over time steps
        xd = x[t - lag]
        x[t + 1] = x[t] + dt * (beta * xd / (1 + xd ** power) - gamma * x[t])
    return x[lag + discard * per::per][:n].copy()


def nrmse(prediction: Any, target: Any) -> float:
    """Root mean squared error divided by the standard deviation of the target."""
    p, t = np.asarray(prediction, np.float64), np.asarray(target, np.float64)
    if p.shape != t.shape:
        raise ValueError(f"nrmse: prediction shape {p.shape} differs from target {t.shape}")
    return float(np.sqrt(((p - t) ** 2).mean()) / t.std())


class EchoStateNetwork:
    """A leaky tanh reservoir with a ridge-regression readout.

    Parameters
    ----------
    n_inputs, n_reservoir : int
    n_outputs : int
        Output size (default n_inputs, as for next-value prediction).
    spectral_radius : float
        rho, the largest |eigenvalue| of the rescaled reservoir matrix W.
    leak : float in (0, 1]
    input_scale : float
        W_in is uniform in [-input_scale, input_scale].
    density : float in (0, 1]
        Fraction of non-zero entries of W.
    ridge : float
    washout : int
        States discarded at the start of a sequence before fitting.
    seed : int, optional
    """

    def __init__(self, n_inputs: int, n_reservoir: int, n_outputs: int | None = None,
                 spectral_radius: float = 0.9, leak: float = 1.0, input_scale: float = 0.5,
                 density: float = 0.1, ridge: float = 1e-8, washout: int = 100,
                 seed: int | None = None) -> None:
        who = "EchoStateNetwork"
        self.n_inputs = check_int(n_inputs, "n_inputs", who)
        self.n_reservoir = check_int(n_reservoir, "n_reservoir", who)
        self.n_outputs = self.n_inputs if n_outputs is None else check_int(n_outputs,
                                                                           "n_outputs", who)
        self.spectral_radius = check_real(spectral_radius, "spectral_radius", who, 0,
                                          low_open=True)
        self.leak = check_real(leak, "leak", who, 0, 1, low_open=True)
        density = check_real(density, "density", who, 0, 1, low_open=True)
        self.ridge = check_real(ridge, "ridge", who, 0)
        self.washout = check_int(washout, "washout", who, min=0)
        rng = np.random.default_rng(seed)
        s = check_real(input_scale, "input_scale", who, 0)
        self.input_weight = rng.uniform(-s, s, (self.n_reservoir, 1 + self.n_inputs))
        W = rng.uniform(-1, 1, (self.n_reservoir, self.n_reservoir))
        W *= rng.random(W.shape) < density
        radius = float(np.abs(np.linalg.eigvals(W)).max())
        if radius == 0:
            raise ValueError(f"{who}: the random reservoir has spectral radius 0; raise "
                             f"density (got {density})")
        self.weight = W * (self.spectral_radius / radius)
        self.output_weight: np.ndarray | None = None
        self.state = np.zeros(self.n_reservoir)

    def _update(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        pre = self.input_weight[:, 0] + self.input_weight[:, 1:] @ u + self.weight @ x
        return (1 - self.leak) * x + self.leak * np.tanh(pre)

    def states(self, U: Any, x0: np.ndarray | None = None) -> np.ndarray:
        """Reservoir states x_1..x_T driven by inputs U (T, n_inputs) from x0 (default the
        current state); the final state is kept in ``state``."""
        U = matrix(U, "EchoStateNetwork.states", "U", features=self.n_inputs)
        x = self.state if x0 is None else np.asarray(x0, np.float64)
        out = np.empty((len(U), self.n_reservoir))
        for t in range(len(U)):                    # a loop over time steps
            x = self._update(x, U[t])
            out[t] = x
        self.state = x
        return out

    def _design(self, U: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.hstack([np.ones((len(U), 1)), U, X])

    def fit(self, U: Any, Y: Any) -> EchoStateNetwork:
        """Drive the reservoir from zero with U (T, n_inputs), drop the first ``washout``
        states, and solve W_out by ridge regression of Y (T, n_outputs). Returns self."""
        who = "EchoStateNetwork.fit"
        U = matrix(U, who, "U", features=self.n_inputs)
        Y = matrix(Y, who, "Y", features=self.n_outputs)
        if len(Y) != len(U):
            raise ValueError(f"{who}: U has {len(U)} steps, Y has {len(Y)}")
        if len(U) <= self.washout:
            raise ValueError(f"{who}: the sequence ({len(U)} steps) must be longer than the "
                             f"washout ({self.washout})")
        X = self.states(U, np.zeros(self.n_reservoir))
        w = self.washout
        self.output_weight = ridge_solve(self._design(U, X)[w:], Y[w:], self.ridge)
        return self

    def predict(self, U: Any, reset: bool = True) -> np.ndarray:
        """Outputs for the input sequence U (teacher forcing), from a zero state when
        ``reset``, else from the current state."""
        if self.output_weight is None:
            raise RuntimeError("EchoStateNetwork: call fit before predict")
        U = matrix(U, "EchoStateNetwork.predict", "U", features=self.n_inputs)
        X = self.states(U, np.zeros(self.n_reservoir) if reset else None)
        return self._design(U, X) @ self.output_weight

    def generate(self, n_steps: int, u0: Any) -> np.ndarray:
        """Run freely for ``n_steps``, each output fed back as the next input (needs
        n_outputs == n_inputs), starting from the current state and input u0."""
        if self.output_weight is None:
            raise RuntimeError("EchoStateNetwork: call fit before generate")
        if self.n_outputs != self.n_inputs:
            raise ValueError("EchoStateNetwork.generate: needs n_outputs == n_inputs")
        u = np.asarray(u0, np.float64).reshape(self.n_inputs)
        out = np.empty((check_int(n_steps, "n_steps", "generate"), self.n_outputs))
        x = self.state
        for t in range(len(out)):                  # a loop over time steps
            x = self._update(x, u)
            u = np.concatenate([[1.0], u, x]) @ self.output_weight
            out[t] = u
        self.state = x
        return out
