import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The otel-harness package root (holds stacks/, scenarios/), whether running from src/ or dist/. */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'otel-harness') {
        cachedRoot = dir;
        return dir;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('otel-harness package root not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export function stacksDir(): string {
  return join(packageRoot(), 'stacks');
}

/**
 * Where image builds keep sources, build outputs and tools between runs.
 * OTEL_HARNESS_CACHE, else $XDG_CACHE_HOME/otel-harness, else ~/.cache/otel-harness.
 * Go's own module and build caches stay where `go env` puts them.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OTEL_HARNESS_CACHE) return resolve(env.OTEL_HARNESS_CACHE);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'otel-harness');
}
