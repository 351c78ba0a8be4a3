// Four projects: unit specs beside the code in src/ and bench/ (*.spec.ts); under test/, static
// checks of what ships (Dockerfile, compose file, k8s manifests, monitoring: they start no app,
// *.static-spec.ts), integration specs against the real PostgreSQL and Redis
// (*.integration-spec.ts) and e2e specs that start the app (*.e2e-spec.ts).
// One database per run (global setup), one Redis/BullMQ prefix per test file (test/support).
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
const base = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['reflect-metadata'],
};

/** @type {import('jest').Config} */
module.exports = {
  transform,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30_000,
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    {
      ...base,
      displayName: 'static',
      testMatch: ['<rootDir>/test/static/**/*.static-spec.ts'],
      testTimeout: 30_000,
    },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.integration-spec.ts'],
      testTimeout: 30_000,
    },
    {
      ...base,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      testTimeout: 60_000,
    },
  ],
};
