// Shapes shared by the simulator, its policies, the frontier summary and the HTML report (SPEC section 6).

/** A regular series for plots and accounting: values[i] belongs to start + i * stepMs. */
export interface TimeSeriesData {
  start: number;
  stepMs: number;
  values: number[];
}

/** What a replica controller sees at one of its sync instants. */
export interface ClusterView {
  now: number;
  /** Replicas requested so far (the scale subresource's spec.replicas). */
  specReplicas: number;
  /** Of those, pods that are Ready. */
  readyPods: number;
  /** Of those, pods started but not Ready yet. */
  unreadyPods: number;
  /** The latest demand observation available now (metric-lag old); undefined if none. */
  observedDemand: number | undefined;
}

/** A policy under simulation: asked at every tick whether it wants a new replica count. */
export interface ReplicaController {
  readonly name: string;
  /** How often the controller acts (the HPA's 15 s sync, prescale's spec.interval). */
  readonly periodMs: number;
  /** The replica count to request from now on (returning view.specReplicas changes nothing). */
  sync(view: ClusterView): number;
}

export interface PolicyResult {
  name: string;
  underProvisionedMinutes: number;
  underProvisionedFraction: number;
  unservedDemand: number;
  replicaMinutes: number;
  scaleEvents: number;
}

export interface FrontierSummary {
  policy: string;
  underRatioAtEqualCost: number | null;
  costRatioAtEqualUnder: number | null;
}

/** The `prescale simulate --json` object. */
export interface SimulationOutput {
  trace: string;
  evaluatedMinutes: number;
  capacityPerReplica: number;
  startupDelaySeconds: number;
  policies: PolicyResult[];
  summary: FrontierSummary[];
  /** With the policy prescale@auto: its plans and how it did against its objective. */
  auto?: AutoPolicyOutput;
}

/** One replan of prescale@auto. */
export interface AutoPlanOutput {
  /** The simulated instant of the replan (ISO 8601). */
  time: string;
  /** Made after the warm-up, in the evaluated part. */
  evaluated: boolean;
  quantile: number;
  /** Fraction: 0.1 = 10%. */
  headroom: number;
  /** The chosen plan met the objective in the planner's replay of the history. */
  met: boolean;
  /** The chosen plan's under-provisioned share in that replay. */
  underProvisioned: number;
  /** Its replica-minutes / the oracle's in that replay. */
  replicaMinutesRatio: number;
  /** Minutes of history the replan saw. */
  historyMinutes: number;
}

/** What `prescale simulate --json` reports for prescale@auto, next to its entry in `policies`. */
export interface AutoPolicyOutput {
  policy: string;
  /** The objective it plans to: the share of minutes with Ready capacity below demand (0.005 = 0.5%). */
  objective: number;
  /** Whether the evaluated part met it: result.underProvisionedFraction <= objective. */
  objectiveMet: boolean;
  /** Its entry in `policies`. */
  result: PolicyResult;
  /** Every plan it chose, in time order (those made during the warm-up too). */
  plans: AutoPlanOutput[];
  /** The HPA run whose replica-minutes are closest to its: churn compared at about equal cost. */
  hpaClosestInCost: { policy: string; replicaMinutes: number; scaleEvents: number } | null;
  /** result.scaleEvents / hpaClosestInCost.scaleEvents; null without an HPA run or when that run never scaled. */
  scaleEventsRatio: number | null;
}
