#!/usr/bin/python3
"""statsmodels reference forecasts for bench/references.mjs.

Reads one JSON job on stdin and writes one JSON answer on stdout:

  job    {"trace": str, "stepMs": number, "seasonSteps": int, "horizonSteps": int,
          "quantile": 0.9, "simulations": int, "seed": int,
          "folds": [{"origin": int, "history": [number | null, ...]}, ...]}
  answer {"statsmodels": str, "folds": [{"origin", "historyLength", "missing", "interpolatedSum",
          "seasonal", "mean", "upper", "fitSeconds", "converged", "refitKept",
          "warnings", "warningKinds", "error"}, ...]}

Model: ExponentialSmoothing(trend='add', damped_trend=True, seasonal='add',
seasonal_periods=seasonSteps), refitted on each fold's history. With fewer than two seasons of
history, or a season under 2 steps, it runs without a season ("seasonal": false). statsmodels
cannot fit NaN: missing values (null) are interpolated linearly, the edges held at the nearest
observed value (what prescale's fillGaps(values, 0) does). "upper" is the `quantile` of
`simulations` simulated paths with Gaussian errors (HoltWintersResults.simulate).
When the default fit does not converge it is refitted with method="least_squares" and the fit
with the lower SSE is kept ("converged": false, "refitKept": whether the refit won).
A fold that fails carries "error" and no forecast; the job never fails on one fold.

Run with Debian's interpreter: /usr/bin/python3 bench/reference_statsmodels.py < job.json
/usr/bin/python3 bench/reference_statsmodels.py --self-test checks the NaN handling.
"""
import json
import math
import sys
import time
import warnings

import numpy as np

# Bounds a hostile job: a week at 1-minute steps is ~10k points; far more than that is refused.
MAX_HISTORY = 200_000
MAX_HORIZON = 10_000
MAX_FOLDS = 1_000
MAX_SIMULATIONS = 10_000


def interpolate_gaps(values):
    """Linear interpolation over NaN, edges held at the nearest observed value; raises without any."""
    y = np.asarray(values, dtype=float)
    finite = np.isfinite(y)
    if not finite.any():
        raise ValueError("the history has no observed values")
    if finite.all():
        return y
    index = np.arange(len(y))
    return np.interp(index, index[finite], y[finite])


def to_numbers(raw):
    """JSON values (numbers or null) as floats, null and anything else as NaN."""
    return [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in raw]


def finite_or_none(values):
    return [float(v) if math.isfinite(v) else None for v in values]


def forecast_fold(history, season_steps, horizon, quantile, simulations, seed):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = interpolate_gaps(history)
    seasonal = season_steps >= 2 and len(y) >= 2 * season_steps
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ExponentialSmoothing(
            y,
            trend="add",
            damped_trend=True,
            seasonal="add" if seasonal else None,
            seasonal_periods=season_steps if seasonal else None,
        )
        fitted = model.fit()
        # The default optimiser (SLSQP) often stops with "Inequality constraints incompatible" on a
        # damped trend, at parameters barely moved from its start; refit with least squares then and
        # keep the fit with the lower in-sample SSE, so the reference is not weakened by that.
        converged = bool(getattr(getattr(fitted, "mle_retvals", None), "success", True))
        refit_kept = False
        if not converged:
            alternative = model.fit(method="least_squares")
            if math.isfinite(alternative.sse) and alternative.sse < fitted.sse:
                fitted = alternative
                refit_kept = True
        fit_seconds = time.perf_counter() - started
        mean = np.asarray(fitted.forecast(horizon), dtype=float)
        upper = None
        if simulations > 0:
            paths = np.asarray(
                fitted.simulate(horizon, anchor="end", repetitions=simulations, error="add", random_state=seed),
                dtype=float,
            ).reshape(horizon, -1)
            upper = np.quantile(paths, quantile, axis=1)
    return {
        "interpolatedSum": float(y.sum()),
        "seasonal": bool(seasonal),
        "mean": finite_or_none(mean),
        "upper": finite_or_none(upper) if upper is not None else None,
        "fitSeconds": fit_seconds,
        "converged": converged,
        "refitKept": refit_kept,
        "warnings": len(caught),
        "warningKinds": sorted({f"{w.category.__name__}: {str(w.message)[:80]}" for w in caught}),
    }


def positive_int(job, key, limit, minimum=1):
    value = job.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= limit:
        raise ValueError(f"{key} must be an integer in [{minimum}, {limit}], got {value!r}")
    return value


def run_job(job):
    if not isinstance(job, dict):
        raise ValueError("the job must be a JSON object")
    season_steps = positive_int(job, "seasonSteps", MAX_HISTORY)
    horizon = positive_int(job, "horizonSteps", MAX_HORIZON)
    simulations = positive_int(job, "simulations", MAX_SIMULATIONS, minimum=0)
    seed = positive_int(job, "seed", 2**31 - 1, minimum=0)
    quantile = job.get("quantile")
    if not isinstance(quantile, (int, float)) or not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    folds = job.get("folds")
    if not isinstance(folds, list) or len(folds) > MAX_FOLDS:
        raise ValueError(f"folds must be a list of at most {MAX_FOLDS}")
    answers = []
    for fold in folds:
        raw = fold.get("history") if isinstance(fold, dict) else None
        origin = fold.get("origin") if isinstance(fold, dict) else None
        answer = {"origin": origin}
        if not isinstance(raw, list) or len(raw) > MAX_HISTORY:
            answers.append({**answer, "historyLength": None, "missing": None, "error": "history must be a list of at most %d values" % MAX_HISTORY})
            continue
        history = to_numbers(raw)
        answer["historyLength"] = len(history)
        answer["missing"] = sum(1 for v in history if not math.isfinite(v))
        try:
            answer.update(forecast_fold(history, season_steps, horizon, float(quantile), simulations, seed))
        except Exception as error:  # one bad fold must not lose the others
            answer["error"] = f"{type(error).__name__}: {error}"[:300]
        answers.append(answer)
    import statsmodels

    return {"statsmodels": statsmodels.__version__, "folds": answers}


def self_test():
    assert interpolate_gaps([math.nan, 1, math.nan, 3, math.nan]).tolist() == [1, 1, 2, 3, 3]
    assert interpolate_gaps([2, math.nan, math.nan, 5]).tolist() == [2, 3, 4, 5]
    try:
        interpolate_gaps([math.nan, math.nan])
        raise AssertionError("an all-missing history must be refused")
    except ValueError:
        pass
    assert to_numbers([1, None, "x", True, 2.5])[4] == 2.5 and all(math.isnan(v) for v in to_numbers([None, "x", True]))
    day = 24
    steps = np.arange(6 * day)
    series = 10 + 3 * np.sin(2 * np.pi * steps / day)
    history = series.tolist()
    history[5] = None
    history[40:43] = [None] * 3
    answer = run_job({"seasonSteps": day, "horizonSteps": 4, "quantile": 0.9, "simulations": 200, "seed": 1, "folds": [
        {"origin": len(history), "history": history},
        {"origin": 10, "history": history[:10]},
        {"origin": 3, "history": [None, None, None]},
    ]})
    full, short, empty = answer["folds"]
    assert full["missing"] == 4 and full["seasonal"] and full["historyLength"] == len(history), full
    truth = 10 + 3 * np.sin(2 * np.pi * np.arange(len(history), len(history) + 4) / day)
    assert np.max(np.abs(np.array(full["mean"]) - truth)) < 0.5, (full["mean"], truth)
    assert all(u >= m for u, m in zip(full["upper"], full["mean"])), full
    assert not short["seasonal"] and "error" not in short, short
    assert "error" in empty and empty["missing"] == 3, empty
    print("reference_statsmodels self-test passed")


def main():
    if "--self-test" in sys.argv[1:]:
        self_test()
        return
    job = json.loads(sys.stdin.read())
    json.dump(run_job(job), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
