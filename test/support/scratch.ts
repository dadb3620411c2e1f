import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

/**
 * A fresh directory under the system's temporary directory, removed when it is no longer needed: made in a
 * test, when that test ends (kept for reading when it failed); made while a file's tests are collected, after
 * them. Made in a `beforeAll`, where neither hook can be registered, it is kept.
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    // The test's own state when it finished: a failed test's files stay for reading.
    onTestFinished(({ task }) => {
      if (task.result?.state !== 'fail') remove();
    });
  } catch {
    try {
      afterAll(remove);
    } catch {
      // Inside a hook: kept.
    }
  }
  return dir;
}
