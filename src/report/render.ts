// The HTML reports of `prescale simulate --report` and `prescale backtest --report`.
export { renderSimulationReport } from './simulation.js';
export { renderBacktestReport } from './backtest.js';
export type { BacktestFold, BacktestReportData, ForecastBand, PolicyTimeline, SimulationReportData } from './types.js';
