import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { configurationError } from '../../../harness-error.js';
import type { ToolSpec } from '../../../images/catalog-types.js';
import { splitModuleRef } from '../../../images/recipes/ocb.js';
import { runCommand } from '../../../images/run-command.js';

const HEARTBEAT_MS = 30_000;

/** Where a tool build lives: per version and recipe, so a changed recipe builds anew. */
export function k6BinaryPath(tool: ToolSpec, cacheDir: string): string {
  const hash = createHash('sha256').update(JSON.stringify(tool)).digest('hex').slice(0, 12);
  return join(cacheDir, 'tools', `k6-${tool.version}-${hash}`, 'k6');
}

/** xk6 build arguments: the k6 version and module path, each extension, the output file. */
export function xk6BuildArgs(tool: ToolSpec, output: string): string[] {
  const k6 = splitModuleRef(tool.module);
  return [
    'build',
    k6.version,
    '--k6-repo',
    k6.module,
    ...tool.extensions.flatMap((e) => ['--with', e]),
    '--output',
    output,
  ];
}

/**
 * The k6 binary: `explicit` when given (must exist), else the cached build, built with xk6 from the Go
 * module proxy on first use (minutes; progress every 30 s).
 */
export async function ensureK6(
  tool: ToolSpec,
  options: { cacheDir: string; explicit?: string; env?: NodeJS.ProcessEnv; progress: (message: string) => void },
): Promise<string> {
  if (options.explicit !== undefined) {
    if (!existsSync(options.explicit))
      throw configurationError('--k6', 'the path of an existing k6 binary', options.explicit);
    return options.explicit;
  }
  const bin = k6BinaryPath(tool, options.cacheDir);
  if (existsSync(bin)) return bin;
  const env = { ...(options.env ?? process.env), CGO_ENABLED: '0' };
  const started = Date.now();
  const heartbeat = setInterval(
    () => options.progress(`k6: still building (${Math.round((Date.now() - started) / 1000)} s)`),
    HEARTBEAT_MS,
  );
  heartbeat.unref();
  try {
    const { version: xk6Version } = splitModuleRef(tool.builder);
    const gobin = join(options.cacheDir, 'tools', `xk6-${xk6Version}`);
    const xk6 = join(gobin, 'xk6');
    if (!existsSync(xk6)) {
      // Download-copy-build: `go install mod@version` asks the proxy for the version list to check
      // deprecations, which a restricted proxy may refuse.
      options.progress(`k6: building xk6 ${xk6Version}`);
      const json = await runCommand('go', ['mod', 'download', '-json', tool.builder], { env, captureStdout: true });
      const download = JSON.parse(json) as { Dir?: string; Error?: string };
      if (download.Dir === undefined)
        throw new Error(`go mod download ${tool.builder}: ${download.Error ?? 'no directory'}`);
      const src = join(gobin, 'src');
      await rm(src, { recursive: true, force: true });
      await cp(download.Dir, src, { recursive: true });
      await runCommand('chmod', ['-R', 'u+w', src]);
      await runCommand('go', ['build', '-trimpath', '-o', xk6, '.'], {
        cwd: src,
        env: { ...env, GOFLAGS: '-mod=mod', GOWORK: 'off' },
      });
    }
    options.progress(`k6: building ${tool.module} with xk6 (first use; a few minutes on 2 cores)`);
    const dir = join(bin, '..');
    await mkdir(dir, { recursive: true });
    const partial = `${bin}.partial`;
    await rm(partial, { force: true });
    await runCommand(xk6, xk6BuildArgs(tool, partial), { cwd: dir, env });
    await rename(partial, bin);
    options.progress(`k6: built in ${Math.round((Date.now() - started) / 1000)} s (${bin})`);
    return bin;
  } finally {
    clearInterval(heartbeat);
  }
}
