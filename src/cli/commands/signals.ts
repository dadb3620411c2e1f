import { InterruptedError } from '../../harness-error.js';

/**
 * Delivers SIGINT, SIGTERM and SIGHUP (terminal closed) to a handler; injectable so commands are testable
 * without real signals.
 */
export interface SignalSource {
  /** Calls `handler` on the first signal; returns a function that stops listening. */
  onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void;
}

const INTERRUPTS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const processSignals: SignalSource = {
  onInterrupt(handler) {
    const onSignal = (signal: NodeJS.Signals) => handler(signal);
    for (const signal of INTERRUPTS) process.on(signal, onSignal);
    return () => {
      for (const signal of INTERRUPTS) process.off(signal, onSignal);
    };
  },
};

/**
 * An abort controller that the first interrupt aborts (with an InterruptedError), after saying on stderr
 * what happens now; `stop()` stops listening.
 */
export function abortOnInterrupt(
  signals: SignalSource,
  say: (message: string) => void,
  what: (signal: NodeJS.Signals) => string,
): { controller: AbortController; stop: () => void } {
  const controller = new AbortController();
  const stop = signals.onInterrupt((signal) => {
    if (controller.signal.aborted) return;
    say(what(signal));
    controller.abort(new InterruptedError(signal));
  });
  return { controller, stop };
}
