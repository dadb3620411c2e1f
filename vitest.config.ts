import { defineConfig } from 'vitest/config';

/** Real containers: boots take tens of seconds, image builds minutes (done before the suite). */
const e2e = {
  globalSetup: ['test/e2e/support/global-setup.ts'],
  testTimeout: 15 * 60_000,
  hookTimeout: 15 * 60_000,
};

/**
 * End-to-end files that measure the machine (CPU per item, a capacity knee, recovery times, HPA reactions,
 * 500,000 spans at once) or build an image while the others may too run alone, one after the other. The
 * others — low rates, each stack on its own network and random host ports — run two at a time first.
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

export default defineConfig({
  test: {
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
