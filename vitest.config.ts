import { defineConfig } from 'vitest/config';

/**
 * Load and process tests (SIPp at fixed call rates, 10,000-message runs, SIGKILLed child processes) are
 * timing-sensitive on a 2-core machine: they run after everything else, one file at a time.
 */
const LOAD = [
  'test/sip-proxy-sipp.test.ts',
  'test/lab-sipp.test.ts',
  'test/device-bulk.test.ts',
  'test/device-process.test.ts',
  'test/sip-fuzz-wire.test.ts',
  'server/sip/transport/sipp-interop.test.ts',
  'test/browser-app.test.ts',
  'scripts/start-fallback.test.ts',
  'test/transfer-failures.test.ts',
  'test/transfer-delay.test.ts',
  'test/transfer-wire.test.ts',
  'test/conversation-server-process.test.ts',
];

const common = {
  exclude: ['node_modules/**', 'dist/**', 'out/**', 'release/**'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { ...common, name: 'main', include: ['**/*.test.ts', '**/*.test.tsx'], exclude: [...common.exclude, ...LOAD], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { ...common, name: 'load', include: LOAD, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
