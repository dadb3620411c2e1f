import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Real containers: boots take tens of seconds, image builds minutes (done before the suite). */
const e2e = {
  globalSetup: ['test/e2e/support/global-setup.ts'],
  testTimeout: 15 * 60_000,
  hookTimeout: 15 * 60_000,
};

/**
 * End-to-end files that measure the machine (CPU per item, a capacity knee, recovery times, HPA reactions,
 * 500,000 spans at once) or build an image while the others may too run alone, one after the other. The
 * others — low rates, each stack on its own network and random host ports — run two at a time first; a
 * capability's tests that measure nothing (gate-loss, chaos-backends) sit in files of their own among them.
 */
const ALONE = [
  'test/e2e/gate.test.ts',
  'test/e2e/capacity.test.ts',
  'test/e2e/chaos.test.ts',
  'test/e2e/phase2.test.ts',
  'test/e2e/phase3.test.ts',
  'test/e2e/verdicts-at-scale.test.ts',
  'test/e2e/image-source.test.ts',
];

/**
 * The files of project `e2e` that take longest start first, so that the two workers end together: the user
 * stack's test first (on a cold machine it builds two collector distributions, about 8 minutes), then the
 * longest runs. Without this a clean checkout (no timings cached) would start the biggest files first and
 * leave that build alone at the end.
 */
const E2E_FIRST = [
  'test/e2e/user-stack.test.ts',
  'test/e2e/ingestion-paths.test.ts',
  'test/e2e/soak.test.ts',
  'test/e2e/decisive-verdicts.test.ts',
  'test/e2e/k6.test.ts',
  'test/e2e/chaos-backends.test.ts',
  'test/e2e/soak-target.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = E2E_FIRST.indexOf(relative(f.project.config.root, f.moduleId));
      return i === -1 ? E2E_FIRST.length : i;
    };
    const order = new Map(base.map((f, i) => [f, i]));
    // Projects keep the base order between them; within one, the listed files first.
    return [...base].sort(
      (a, b) => (a.project.name === b.project.name ? rank(a) - rank(b) : 0) || order.get(a)! - order.get(b)!,
    );
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ALONE,
          ...e2e,
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { concurrent: false, groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e-alone',
          include: ALONE,
          ...e2e,
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { concurrent: false, groupOrder: 2 },
        },
      },
    ],
  },
});
