// The history and options of layers-state.json (make-layers-state.mjs), shared with the test that
// loads it: a small network, so the stored state stays a few kilobytes.
export const LAYERS_STATE_OPTIONS = { units: 4, horizonSteps: 6, seasonality: 'None', maxEpochs: 6, learningRate: 0.03, maxTrainingWindows: 128, maxValidationWindows: 24, seed: 7 };
export const LAYERS_STATE_STEPS = 14;
export const LAYERS_STATE_QUANTILES = [0.1, 0.5, 0.9];

/** 1-minute points of a daily sine and a 40-minute cycle the window can see, with a deterministic wobble. */
export function layersStateSeries() {
  const start = Date.parse('2026-01-05T00:00:00Z');
  const stepMs = 60_000;
  const values = Array.from({ length: 400 }, (_, i) => {
    const t = (2 * Math.PI * i * stepMs) / 86_400_000;
    return 100 + 40 * Math.sin(t) + 25 * Math.sin((2 * Math.PI * i) / 40) + 2 * Math.cos(i * 1.91);
  });
  return { start, stepMs, values };
}
