import { loadConfig } from '../config.js';
import { createKnex } from './knex.js';
import { migrateLatest } from './migrate.js';

const config = loadConfig();
const db = createKnex({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX });
try {
  const names = await migrateLatest(db);
  console.log(names.length ? `Applied: ${names.join(', ')}` : 'Schema is up to date.');
} finally {
  await db.destroy();
}
