import { useAccounts } from './accounts';
import { useAnnouncements } from './announcements';
import { useApprovals } from './approvals';
import { useNotifications } from './notifications';
import { useReference } from './reference';
import { useTickets } from './tickets';
import { useToasts } from './toasts';
import { useStandingOrders } from '../everyday';

/** Forget everything the previous user saw. */
export function resetStores() {
  useAccounts().clear();
  useAnnouncements().clear();
  useApprovals().clear();
  useNotifications().clear();
  useReference().clear();
  useTickets().clear();
  useToasts().clear();
  useStandingOrders().clear();
}
