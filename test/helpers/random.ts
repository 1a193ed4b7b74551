// Deterministic pseudo-random numbers for tests, so a failure is reproducible: the same generator
// the models use for seeded training.
export { seededUniform as uniform } from '../../src/forecast/tf/random.js';
