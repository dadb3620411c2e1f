/**
 * Exit codes of the otel-harness CLI. Documented in README.md; never renumbered silently.
 */
export const ExitCode = {
  pass: 0,
  internal: 1,
  usage: 2,
  thresholds: 3,
  verification: 4,
  stackFailed: 5,
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface HarnessErrorOptions {
  /** Stable machine-readable code, e.g. `ENGINE_UNREACHABLE`. */
  code: string;
  exitCode: ExitCodeValue;
  /** One line telling the user what to do about it. */
  hint?: string;
  /** Extra lines printed after the message (e.g. a container's last log lines). */
  details?: string;
  cause?: unknown;
}

/** An expected failure: bad input, broken infrastructure. Bugs stay plain `Error`s (exit 1). */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: string | undefined;

  constructor(message: string, options: HarnessErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.exitCode = options.exitCode;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** The one message shape for invalid configuration (exit 2). */
export function configurationError(name: string, rule: string, actual: unknown, hint?: string): HarnessError {
  return new HarnessError(`Configuration: ${name} is invalid, expected ${rule} (actual: '${String(actual)}')`, {
    code: 'CONFIGURATION',
    exitCode: ExitCode.usage,
    ...(hint === undefined ? {} : { hint }),
  });
}

/** Raised when the user interrupts (SIGINT/SIGTERM); maps to exit 130. */
export class InterruptedError extends HarnessError {
  constructor(signal: string) {
    super(`Interrupted by ${signal}`, { code: 'INTERRUPTED', exitCode: ExitCode.interrupted });
  }
}
