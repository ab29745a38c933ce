import { defineConfig } from 'vitest/config';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// node-opcua writes PKI under ~/.config unless told otherwise: keep tests out of the home folder.
const xdg = mkdtempSync(join(tmpdir(), 'linegate-xdg-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    env: { XDG_CONFIG_HOME: xdg, LINEGATE_LOG_LEVEL: 'silent' },
    reporters: ['default'],
  },
});
