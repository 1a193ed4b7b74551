// Who else scales a scaler's target, and whether that is a fight: in Auto (and ForecastOnly) any HPA
// on the target is a conflict; in Publish prescale writes nothing, and an HPA or ScaledObject that
// reads its recommendation is the intended consumer.
import type { Mode, ScaleTargetRef } from '../api/types.js';
import { autoscalerLabel, type TargetAutoscaler } from '../kube/hpa-index.js';
import { DESIRED_REPLICAS_METRIC, SCALER_LABEL } from '../publish/names.js';

export type AutoscalerVerdict =
  | { kind: 'clear' }
  | { kind: 'conflict'; message: string }
  | { kind: 'published'; consumed: boolean; message: string };

export function checkAutoscalers(mode: Mode, scaler: string, ref: ScaleTargetRef, autoscalers: readonly TargetAutoscaler[]): AutoscalerVerdict {
  const target = `${ref.kind} ${ref.name}`;
  const consumers = autoscalers.filter((a) => a.consumes.includes(scaler));
  const others = autoscalers.filter((a) => !a.consumes.includes(scaler));
  if (mode === 'Publish') {
    if (consumers.length > 0) {
      return { kind: 'published', consumed: true, message: `published to ${consumers.map(autoscalerLabel).join(', ')}, which scales ${target} on this recommendation` };
    }
    const elsewhere = others.length > 0 ? `; ${others.map(autoscalerLabel).join(', ')} scales ${target} without it` : '';
    return {
      kind: 'published',
      consumed: false,
      message:
        `mode is Publish but nothing reads this recommendation: add a KEDA trigger (type: external, metadata scaler: ${scaler}) ` +
        `or an HPA External metric ${DESIRED_REPLICAS_METRIC} with selector ${SCALER_LABEL}=${scaler}${elsewhere}`,
    };
  }
  if (autoscalers.length === 0) return { kind: 'clear' };
  const names = autoscalers.map(autoscalerLabel).join(', ');
  const fix =
    consumers.length > 0
      ? `it reads this scaler's published recommendation: set mode: Publish so that only it writes the replicas`
      : `delete it, point this scaler at another target, or set mode: Publish and let it read this scaler's recommendation`;
  return { kind: 'conflict', message: `${names} already scales ${target}; two autoscalers would fight over its replicas: ${fix}` };
}
