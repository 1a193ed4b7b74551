// Model names as the evaluation commands take them (kebab-case) and the spec's names.
import type { ModelName } from '../api/types.js';

export const CLI_MODEL_NAMES: Record<string, ModelName> = {
  'seasonal-naive': 'SeasonalNaive',
  'holt-winters': 'HoltWinters',
  linear: 'Linear',
  lstm: 'LSTM',
  ensemble: 'Ensemble',
  mstl: 'MSTL',
  pretrained: 'Pretrained',
};

export function parseModelName(name: string): ModelName {
  const model = CLI_MODEL_NAMES[name.trim().toLowerCase()];
  if (!model) throw new Error(`unknown model "${name}"; use one of ${Object.keys(CLI_MODEL_NAMES).join(', ')}`);
  return model;
}
