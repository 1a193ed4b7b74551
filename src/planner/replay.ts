// Replays the scaler's recent history through the simulator (the same ModelManager and decide() as
// the operator) once for every plan of the grid, and for the HPA at a sweep of utilisation targets, all
// in one lock-step run. Pure: the only clock is the history's own timestamps.
import type { ScalerConfig } from '../api/config.js';
import { MINUTE_MS, evaluatedMinutes, oracleRun, runSimulation, type PolicyRun, type SimulationSetup } from '../simulate/engine.js';
import { HpaController } from '../simulate/hpa.js';
import { PrescaleController, SharedForecasts } from '../simulate/prescale-policy.js';
import type { PolicyResult, ReplicaController, TimeSeriesData } from '../simulate/types.js';
import { DEFAULT_PLAN_GRID, meetsObjective, type Objective, type Plan, type PlanOutcome, type SimulatedOutcome } from './plan.js';

/** Utilisation targets the HPA is replayed at: 1.0, 0.9, ..., 0.4. */
export const DEFAULT_HPA_TARGETS: readonly number[] = Object.freeze([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]);

export interface ReplayInput {
  /** The recent history on a one-minute grid (the simulator's), e.g. 7 days. */
  demand: TimeSeriesData;
  /** The scaler's own spec: model, limits, interval, scale-up and scale-down rules. */
  config: ScalerConfig;
  /** The metric's targetPerReplica. */
  capacityPerReplica: number;
  /** The learned or fixed lead time. */
  leadTimeMs: number;
  /** Pods' start-up to Ready, for the simulated workload. */
  startupDelayMs: number;
  metricLagMs: number;
  /** Simulated but not scored (the models need history first): scoring starts at demand.start + warmUpMs. */
  warmUpMs: number;
  grid?: readonly Plan[];
  hpaTargets?: readonly number[];
}

export interface HpaOutcome extends SimulatedOutcome {
  targetUtilization: number;
}

export interface ReplayResult {
  /** One per plan, in the grid's order. */
  outcomes: PlanOutcome[];
  /** Replicas that exactly serve each evaluated minute's demand (engine.replicasFor), summed. */
  oracleReplicaMinutes: number;
  hpa: {
    /** The HPA at targetUtilization 1 of capacityPerReplica: what the scaler's own target gives reactively. */
    atTarget: SimulatedOutcome;
    /** The highest target of the sweep whose run meets the objective; undefined if none does. */
    targetForObjective?: number;
    /** Every HPA run of the sweep, highest target first. */
    sweep: HpaOutcome[];
  };
  evaluatedMinutes: number;
}

/** The scaler's config with the plan's quantile and headroom, the two fields decide() plans with. */
export function configForPlan(config: ScalerConfig, plan: Plan): ScalerConfig {
  return {
    ...config,
    forecast: { ...config.forecast, quantile: plan.quantile },
    scaling: { ...config.scaling, headroom: plan.headroom },
  };
}

function outcomeOf(result: PolicyResult): SimulatedOutcome {
  return { underProvisioned: result.underProvisionedFraction, replicaMinutes: result.replicaMinutes, scaleEvents: result.scaleEvents };
}

export function replayPlans(input: ReplayInput, objective: Objective): ReplayResult {
  const { demand, config, capacityPerReplica, leadTimeMs } = input;
  const grid = input.grid ?? DEFAULT_PLAN_GRID;
  if (grid.length === 0) throw new Error('the plan grid is empty');
  // Target 1 is always replayed: it is the reference the status reports.
  const hpaTargets = [...new Set([1, ...(input.hpaTargets ?? DEFAULT_HPA_TARGETS)])].sort((a, b) => b - a);
  if (config.forecast.stepMs !== MINUTE_MS) {
    throw new Error(`the planner replays a one-minute history; spec.forecast.step is ${config.forecast.stepMs / 1000} s`);
  }
  const setup: SimulationSetup = {
    demand,
    capacityPerReplica,
    startupDelayMs: input.startupDelayMs,
    metricLagMs: input.metricLagMs,
    evaluateFrom: demand.start + input.warmUpMs,
    minReplicas: config.minReplicas,
    maxReplicas: config.maxReplicas,
  };
  const minutes = evaluatedMinutes(setup);
  if (minutes === 0) throw new Error(`the history of ${demand.values.length} minutes is no longer than the warm-up of ${input.warmUpMs / MINUTE_MS} minutes`);

  // The forecasts depend on the data and the model, not on the plan: one model serves every plan.
  const forecasts = new SharedForecasts(demand, config, input.metricLagMs, leadTimeMs, grid.map((p) => p.quantile));
  const planControllers: ReplicaController[] = grid.map((plan) => new PrescaleController(configForPlan(config, plan), forecasts, leadTimeMs));
  const hpaControllers: ReplicaController[] = hpaTargets.map(
    (targetUtilization) =>
      new HpaController({
        targetUtilization,
        capacityPerReplica,
        // The HPA refuses minReplicas 0 for a resource metric; 1 is the closest it can be.
        minReplicas: Math.max(1, config.minReplicas),
        maxReplicas: config.maxReplicas,
      }),
  );
  const runs: PolicyRun[] = runSimulation([...planControllers, ...hpaControllers], setup);

  const outcomes: PlanOutcome[] = grid.map((plan, i) => ({ plan: { ...plan }, ...outcomeOf(runs[i]!.result) }));
  const sweep: HpaOutcome[] = hpaTargets.map((targetUtilization, i) => ({ targetUtilization, ...outcomeOf(runs[grid.length + i]!.result) }));
  const atTarget = sweep.find((h) => h.targetUtilization === 1)!;
  return {
    outcomes,
    oracleReplicaMinutes: oracleRun(setup).result.replicaMinutes,
    hpa: {
      atTarget: { underProvisioned: atTarget.underProvisioned, replicaMinutes: atTarget.replicaMinutes, scaleEvents: atTarget.scaleEvents },
      targetForObjective: sweep.find((h) => meetsObjective(h, objective))?.targetUtilization,
      sweep,
    },
    evaluatedMinutes: minutes,
  };
}
