import { z } from 'zod';

export { SYNC_PAGE, syncEvents, type SyncAnswer } from '../bank/feed.js';

export const syncInput = z.object({ since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict();
