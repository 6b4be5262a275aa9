"""The erfc fit shared by the GELU kernel and glassnet.nn's NumPy erf (no Numba needed)."""

# erfc(a) = t exp(-a^2 + P(t)), t = 1 / (1 + a / 2), a >= 0, P's coefficients from degree 0:
# the Chebyshev fit of Numerical Recipes (erfcc), fractional error below 1.2e-7 for every
# a >= 0 (the GELU kernel, and glassnet.nn's erf when SciPy is missing)
ERFC_FIT = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
            -1.13520398, 1.48851587, -0.82215223, 0.17087277)
