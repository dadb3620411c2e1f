import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { disableReaperUnlessSet } from '../docker/docker-engine.js';
import { ExitCode } from '../harness-error.js';
import { packageRoot } from '../paths.js';
import { capacityRun } from './commands/capacity.js';
import { gateRun } from './commands/gate.js';
import { runDown } from './commands/down.js';
import { runK6Build, runK6Manifest } from './commands/k6.js';
import { runImagesBuild, runImagesList } from './commands/images.js';
import { processSignals, type SignalSource } from './commands/signals.js';
import { runReported } from './commands/run-reported.js';
import { soakRun } from './commands/soak.js';
import { runUp } from './commands/up.js';
import { runVerifyCommand } from './commands/verify.js';
import { helpText } from './help.js';
import { processIo, reportError, Reporter, type CliIo } from './output.js';
import { parseArgs } from './parse-args.js';
import { withSignalOtlpEnv } from '../load/otlp/otlp-env.js';

/**
 * The CLI entry point. The one place where errors become exit codes: HarnessError → its code,
 * anything else → 1 (a bug), with the message, hint and details on stderr.
 */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
  signals: SignalSource = processSignals,
): Promise<number> {
  disableReaperUnlessSet(env);
  const reporter = new Reporter(io, argv.includes('--verbose'));
  try {
    const command = parseArgs(argv, withSignalOtlpEnv(env));
    switch (command.name) {
      case 'help':
        io.stdout.write(helpText(command.topic));
        return ExitCode.pass;
      case 'version':
        io.stdout.write(version() + '\n');
        return ExitCode.pass;
      case 'up':
        return await runUp(command, reporter, signals);
      case 'soak':
      case 'chaos':
        return await runReported(reporter, signals, soakRun(command, version()));
      case 'capacity':
        return await runReported(reporter, signals, capacityRun(command, version()));
      case 'gate':
        return await runReported(reporter, signals, gateRun(command, version()));
      case 'verify':
        return await runVerifyCommand(command, reporter, version());
      case 'down':
        return await runDown(command, reporter);
      case 'images-build':
        return await runImagesBuild(command, reporter);
      case 'images-list':
        return await runImagesList(command, reporter);
      case 'k6-build':
        return await runK6Build(command, reporter);
      case 'k6-manifest':
        return await runK6Manifest(command, reporter);
    }
  } catch (err) {
    return reportError(err, io);
  }
}

export { reportError };

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
