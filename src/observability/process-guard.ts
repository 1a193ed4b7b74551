// Process-level handlers for errors no caller caught.
//
// An unhandled rejection is a promise chain someone forgot to end with a .catch: the work it did
// already failed and nothing else depends on the rejection, so the operator logs it, counts it
// (prescale_unhandled_rejections_total, for an alert) and keeps serving instead of letting Node
// exit and every replica crash-loop.
//
// An uncaught exception is different: it unwound a synchronous stack half-way, so state such as a
// work queue's in-flight set or a lease may be inconsistent. Node's guidance is to log and exit;
// the Deployment restarts the pod clean. The handler only makes that exit a fatal JSON log line
// with the stack, which the default handler would print as unstructured text.

import type { Logger } from './logger.js';

/** The part of `process` the guards use, so tests can pass an EventEmitter. */
export interface GuardedProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (error: Error) => void): unknown;
}

export interface RejectionGuardOptions {
  target: GuardedProcess;
  logger: Logger;
  /** Called once per rejection, e.g. to increment a counter. */
  onRejection: () => void;
}

/** Logs and counts unhandled rejections instead of dying of them; returns a function that removes the handler. */
export function guardUnhandledRejections({ target, logger, onRejection }: RejectionGuardOptions): () => void {
  const listener = (reason: unknown) => {
    onRejection();
    logger.error({ err: reason }, 'unhandled promise rejection (a bug: please report it); the operator keeps running');
  };
  target.on('unhandledRejection', listener);
  return () => target.off('unhandledRejection', listener);
}

export interface ExceptionGuardOptions {
  target: GuardedProcess;
  logger: Logger;
  exit: (code: number) => void;
}

/** Logs an uncaught exception at fatal, then exits 1; returns a function that removes the handler. */
export function exitOnUncaughtException({ target, logger, exit }: ExceptionGuardOptions): () => void {
  const listener = (error: Error) => {
    logger.fatal({ err: error }, 'uncaught exception; exiting so the pod restarts in a clean state');
    exit(1);
  };
  target.on('uncaughtException', listener);
  return () => target.off('uncaughtException', listener);
}
