"""Text renderings of environment states, for watching a policy in a terminal.

CartPole's four state variables are named and drawn: the track from -2.4 to 2.4 (where the
episode ends) with the cart ``[#]`` at its position and the pole's lean as ``|``, ``/``
or ``\\``. Acrobot's six are turned back into the two joint angles. Any other state is
printed as its numbers.

>>> print(render_state([0.0, 0.1, 0.05, -0.2], "CartPole-v1", width=21))
|.........[#].........|  x=+0.000 v=+0.100 angle=+2.9deg omega=-0.200 pole /
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["render_state", "action_name"]

_ACTIONS = {"CartPole": ("push left", "push right"),
            "Acrobot": ("torque -1", "torque 0", "torque +1"),
            "MountainCar": ("push left", "no push", "push right"),
            "LunarLander": ("nothing", "left engine", "main engine", "right engine")}


def _family(env_id: str | None) -> str:
    return (env_id or "").split("-")[0].split("/")[-1]


def action_name(action: int, env_id: str | None = None) -> str:
    """A readable name of a discrete action ("push right" for CartPole's 1)."""
    names = _ACTIONS.get(_family(env_id))
    if names is not None and 0 <= action < len(names):
        return f"{action} ({names[action]})"
    return str(action)


def _cartpole(s: np.ndarray, width: int) -> str:
    x, v, theta, omega = (float(u) for u in s[:4])
    # the cart [#] is three cells wide; its centre moves over cells 1 .. width - 2
    pos = 1 + int(round((min(max(x, -2.4), 2.4) + 2.4) / 4.8 * (width - 3)))
    track = "." * (pos - 1) + "[#]" + "." * (width - pos - 2)
    lean = "|" if abs(theta) < 0.02 else ("/" if theta > 0 else "\\")
    return (f"|{track}|  x={x:+.3f} v={v:+.3f} angle={math.degrees(theta):+.1f}deg "
            f"omega={omega:+.3f} pole {lean}")


def _acrobot(s: np.ndarray) -> str:
    c1, s1, c2, s2, w1, w2 = (float(u) for u in s[:6])
    t1, t2 = math.degrees(math.atan2(s1, c1)), math.degrees(math.atan2(s2, c2))
    # the tip's height above the pivot, in link lengths; the goal is a height above 1
    height = -c1 - math.cos(math.atan2(s1, c1) + math.atan2(s2, c2))
    bar = "#" * int(round((height + 2) / 4 * 20))
    return (f"theta1={t1:+7.1f}deg theta2={t2:+7.1f}deg w1={w1:+.2f} w2={w2:+.2f} "
            f"tip height={height:+.2f} {bar}")


def render_state(obs: Sequence[float] | np.ndarray | Any, env_id: str | None = None,
                 width: int = 41) -> str:
    """One line describing the state ``obs`` of environment ``env_id``."""
    s = np.asarray(obs, dtype=float).ravel()
    family = _family(env_id)
    if family == "CartPole" and s.size >= 4:
        return _cartpole(s, max(int(width), 5))
    if family == "Acrobot" and s.size >= 6:
        return _acrobot(s)
    return "state " + " ".join(f"{u:+.3f}" for u in s)
