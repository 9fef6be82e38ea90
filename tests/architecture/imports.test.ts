/**
 * The import arrows of DESIGN.md ("The house") are a lint rule (eslint.config.js,
 * no-restricted-imports per folder). These cases prove the rule fires on an import pointing
 * the wrong way and stays quiet on the allowed ones, so a config change cannot silently turn
 * it off. Files are virtual: ESLint lints the text as if it lived at `filePath`.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** The no-restricted-imports messages for `code` placed at `filePath` (parse errors fail the test). */
async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = result.messages.filter((m) => m.fatal);
  expect(fatal, `${filePath} did not parse`).toEqual([]);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const BAD: Array<[file: string, code: string]> = [
  ['bank/ledger/x.ts', "import '../../rest/app.js';"],
  ['bank/ledger/x.ts', "import { attachHub } from '../../hub/index.js';\nexport { attachHub };"],
  ['bank/ledger/x.ts', "import type { Jobs } from '../../jobs/index.js';\nexport type { Jobs };"],
  ['bank/ledger/x.ts', "export * from '../../runtime/metrics.js';"],
  ['bank/ledger/x.ts', "import { up } from '../../db/migrations/0004_audit_heads.js';\nexport { up };"],
  ['db/x.ts', "import '../rest/app.js';"],
  ['db/migrations/0100_x.ts', "import '../../hub/index.js';"],
  ['runtime/x.ts', "import '../rest/auth.js';"],
  ['rest/x.ts', "import '../hub/index.js';"],
  ['rest/routes/x.ts', "import '../../jobs/index.js';"],
  ['hub/x.ts', "import type { Services } from '../rest/app.js';\nexport type { Services };"],
  ['hub/x.ts', "import '../jobs/webhooks.js';"],
  ['jobs/x.ts', "import '../rest/errors.js';"],
  ['jobs/x.ts', "import '../hub/deliver.js';"],
  ['shared/x.ts', "import '../bank/outbox/index.js';"],
  ['db/x.ts', "import '../bank/core/index.js';"],
  // Outside bank/, a domain is reached through its index only.
  ['rest/routes/x.ts', "import '../../bank/ledger/writer.js';"],
  ['hub/x.ts', "import '../bank/outbox/feed.js';"],
  ['jobs/x.ts', "import '../bank/core/context.js';"],
  ['runtime/x.ts', "import '../bank/access/sessions.js';"],
  ['server.ts', "import './bank/core/context.js';"],
  ['client/src/x.ts', "import '../../bank/core/money.js';"],
  [
    'client/src/views/staff/X.vue',
    "<script setup lang=\"ts\">\nimport { parseAmount } from '../../../../bank/money.js';\nparseAmount('1');\n</script>\n<template><div /></template>\n",
  ],
];

const GOOD: Array<[file: string, code: string]> = [
  [
    'bank/ledger/x.ts',
    "import './writer.js';\nimport '../core/db-tx.js';\nimport '../../db/knex.js';\nimport '../../db/constants.js';\nimport '../../shared/events.js';",
  ],
  ['db/migrations/0100_x.ts', "import '../constants.js';\nimport '../knex.js';"],
  ['runtime/x.ts', "import '../bank/core/index.js';"],
  ['rest/routes/x.ts', "import '../auth.js';\nimport '../../bank/outbox/index.js';\nimport '../../runtime/services.js';"],
  ['hub/x.ts', "import './auth.js';\nimport '../bank/outbox/index.js';\nimport '../runtime/cookies.js';\nimport '../runtime/metrics.js';"],
  ['jobs/x.ts', "import '../bank/outbox/index.js';\nimport '../db/knex.js';\nimport '../runtime/metrics.js';"],
  ['client/src/x.ts', "import './api';\nimport '../../shared/events';\nimport 'vue';"],
  ['server.ts', "import './rest/app.js';\nimport './hub/index.js';\nimport './jobs/index.js';\nimport './bank/core/index.js';"],
];

describe('import arrows (eslint no-restricted-imports)', () => {
  it.each(BAD)('refuses %s: %s', async (file, code) => {
    const messages = await restricted(file, code);
    expect(messages.length, `${file}: ${code}`).toBeGreaterThan(0);
  });

  it.each(GOOD)('allows %s: %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });

  it('says why', async () => {
    const [message] = await restricted('bank/ledger/x.ts', "import '../../rest/app.js';");
    expect(message).toContain('bank/ is the domain');
  });
});
