// The environment's building blocks live in src/demo/env/ (the demo runs them too).
export * from '../../src/demo/env/cluster.js';
