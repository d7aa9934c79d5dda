"""High-precision reference for the scalar Lk prox: argmin_z 0.5 (z - a)^2 + tau |z|^k.

Independent of lkreg's formulas: the stationary equation g(z) = z - a + tau k z^(k-1) = 0 is
solved in mpmath (arbitrary exponent range, so no magnitude overflows) by a bracketed Newton
in t = log z, and for k < 1 the root is compared with z = 0 on the objective itself.
"""

import mpmath
import numpy as np

DIGITS = 50


def _solve_log(a, c, k, tlo, thi):
    """The root t in [tlo, thi] of h(t) = e^t - a + c e^((k-1) t), h increasing there."""
    t = thi
    for _ in range(400):
        e1, ek = mpmath.exp(t), c * mpmath.exp((k - 1) * t)
        h = e1 - a + ek
        if h > 0:
            thi = t
        else:
            tlo = t
        dh = e1 + (k - 1) * ek
        nxt = t - h / dh if dh != 0 else (tlo + thi) / 2
        if not (tlo <= nxt <= thi):
            nxt = (tlo + thi) / 2
        if abs(nxt - t) < mpmath.mpf(10) ** (-DIGITS + 5) or thi - tlo < mpmath.mpf(10) ** (-DIGITS + 5):
            return nxt
        t = nxt
    return t


def objective(z, a, tau, k):
    """0.5 (z - a)^2 + tau z^k in mpmath (z, a >= 0)."""
    with mpmath.workdps(DIGITS):
        z, a, tau, k = (mpmath.mpf(v) for v in (z, a, tau, k))
        return (z - a) ** 2 / 2 + (tau * z**k if z != 0 else mpmath.mpf(0))


def lk_prox_magnitude(a, tau, k):
    """The global minimizer over z >= 0 for a >= 0, tau >= 0, k > 0, as an mpf (ties: 0)."""
    with mpmath.workdps(DIGITS):
        a, tau, k = mpmath.mpf(a), mpmath.mpf(tau), mpmath.mpf(k)
        if a == 0 or tau == 0:
            return a
        c = tau * k
        if k == 1:
            return max(a - tau, mpmath.mpf(0))
        if k > 1:
            # z <= min(a, (a / c)^(1/(k-1))) and z >= half of that bound's smaller branch
            r = (a / c) ** (1 / (k - 1))
            hi = min(a, r)
            lo = min(a / 2, r * mpmath.mpf(2) ** (-1 / (k - 1)))
            return mpmath.exp(_solve_log(a, c, k, mpmath.log(lo), mpmath.log(hi)))
        # k < 1: g is convex on (0, inf) with its minimum at z_star; the local minimizer of the
        # objective is the largest root of g, above z_star, if g(z_star) < 0.
        z_star = (c * (1 - k)) ** (1 / (2 - k))
        if z_star >= a or z_star - a + c * z_star ** (k - 1) >= 0:
            return mpmath.mpf(0)
        z = mpmath.exp(_solve_log(a, c, k, mpmath.log(z_star), mpmath.log(a)))
        return z if objective(z, a, tau, k) < a**2 / 2 else mpmath.mpf(0)


def ulps_apart(got, ref, dtype):
    """How many floats of ``dtype`` lie between ``got`` and the exact ``ref`` (an mpf >= 0)."""
    info = np.finfo(dtype)
    with mpmath.workdps(DIGITS):
        ref = mpmath.mpf(ref)
        # the spacing of dtype at ref, subnormals included
        if ref == 0:
            spacing = mpmath.mpf(float(info.smallest_subnormal))
        else:
            e = max(int(mpmath.floor(mpmath.log(ref, 2))), int(info.minexp))
            spacing = mpmath.mpf(2) ** (e - info.nmant)
        return float(abs(mpmath.mpf(float(got)) - ref) / spacing)


def condition(z, tau, k):
    """|d log z / d log tau| at the minimizer z > 0: how much a relative error of one rounding
    in tau * |w|^(k-2) (which a double formula makes) moves z, in relative terms. Large only
    near the k < 1 threshold; 0 where z = 0."""
    with mpmath.workdps(DIGITS):
        z, tau, k = mpmath.mpf(z), mpmath.mpf(tau), mpmath.mpf(k)
        if z == 0 or tau == 0:
            return 0.0
        pen = tau * k * z ** (k - 1)
        slope = 1 + (k - 1) * pen / z
        return float(abs(pen / (z * slope)))


def neighbours(ref, dtype):
    """The floats of ``dtype`` on either side of the exact value ``ref`` (>= 0)."""
    near = dtype(float(ref)) if float(ref) <= float(np.finfo(dtype).max) else np.finfo(dtype).max
    return [v for v in (np.nextafter(near, dtype(0)), near, np.nextafter(near, dtype(np.inf)))
            if np.isfinite(v)]


def close_to_minimizer(got, a, tau, k, dtype, max_ulps=4):
    """None when |got| is within ``max_ulps`` of the exact minimizer, or its objective is not
    above that of the best float next to the minimizer; else a message."""
    ref = lk_prox_magnitude(a, tau, k)
    g = abs(float(got))
    if ulps_apart(g, ref, dtype) <= max_ulps * (1 + condition(ref, tau, k)):
        return None
    best = min(objective(float(v), a, tau, k) for v in neighbours(ref, dtype))
    if objective(g, a, tau, k) <= best:
        return None
    if k < 1 and (g == 0 or ref == 0):
        # at the k < 1 threshold 0 and the root tie to within the rounding of the objective
        # itself (a few ulps of a^2 / 2): either answer is a global minimizer in floats
        eps = float(np.finfo(dtype).eps)
        if objective(g, a, tau, k) <= best * (1 + 8 * eps):
            return None
    return f"prox({a!r}, tau={tau!r}, k={k!r}) = {g!r}, exact {mpmath.nstr(ref, 17)}"
