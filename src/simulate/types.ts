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
}
