/**
 * `npm run migrate`, and the migration step of the Kubernetes manifests and compose.yaml
 * (`node dist/db/migrate-cli.js`): applies the migrations under the same advisory lock the
 * server takes to prepare the database, so it may run while pods start. A database that
 * is not answering yet (a StatefulSet starting beside it) is waited for, up to two minutes
 * (then the step fails and its restart policy tries again).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config.js';
import { createKnex } from './knex.js';
import { oneAtATime } from './lock.js';
import { migrateLatest } from './migrate.js';

const config = loadConfig();
const deadline = Date.now() + 120_000;
const db = createKnex({ url: config.DATABASE_URL, poolMax: 1 });
try {
  for (;;) {
    try {
      await db.raw('SELECT 1');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      console.log(`Waiting for the database: ${(err as Error).message}`);
      await sleep(2_000);
    }
  }
  const names = await oneAtATime(config.DATABASE_URL, () => migrateLatest(db));
  console.log(names.length ? `Applied: ${names.join(', ')}` : 'Schema is up to date.');
} finally {
  await db.destroy();
}
