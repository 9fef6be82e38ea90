// Importing a routes module registers its routes (rest/route.ts ROUTES), in this order.
import './auth.js';
import './users.js';
import './customers.js';
import './reference.js';
// Before accounts: /accounts/lookup must not be taken for /accounts/:id.
import './everyday.js';
import './accounts.js';
import './money.js';
import './tickets.js';
import './announcements.js';
import './notifications.js';
import './operations.js';
import './events.js';
