/** Delivers SIGINT/SIGTERM to a handler; injectable so commands are testable without real signals. */
export interface SignalSource {
  /** Calls `handler` on the first signal; returns a function that stops listening. */
  onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void;
}

export const processSignals: SignalSource = {
  onInterrupt(handler) {
    const onSignal = (signal: NodeJS.Signals) => handler(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  },
};
