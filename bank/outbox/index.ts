// The public face of bank/outbox/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { type PendingEvent, rooms } from './events.js';
export { SYNC_PAGE, actorRooms, sessionRooms, syncEvents } from './feed.js';
export { publicAddresses } from './net-guard.js';
export { claimStale, markPublished, unclaim } from './publish.js';
export { type OutboxEvent, loadEvents, loadPublishedSince, payloadOf, unpublishedCount } from './read.js';
export {
  type AttemptOutcome,
  type ClaimedDelivery,
  claimDeliveries,
  createWebhook,
  deleteWebhook,
  deliveryBody,
  endpointsWithDueWork,
  enqueueDeliveries,
  listDeliveries,
  listWebhooks,
  pendingDeliveryCount,
  recordAttempt,
  redeliver,
  signature,
  updateWebhook,
} from './webhooks.js';
