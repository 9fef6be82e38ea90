// The one route table: path, view, who may see it, title, and its place in the navigation.
// To add a screen: write the view file and add one entry here (lazy `view: () => import(...)`).

import type { RouteComponent } from 'vue-router';
import type { StaffRole } from './types';

/** Who may open a page: anyone signed in, customers only, or a staff role and those above it. */
export type Access = 'any' | 'customer' | StaffRole;

export type NavGroup = 'Banking' | 'Help' | 'Desk' | 'Management' | 'Administration' | 'You';

export interface NavPlace {
  group: NavGroup;
  label: string;
  /** SVG path data, 24×24, stroked. */
  icon: string;
  testid: string;
  /** Also highlighted on these routes (a list and its detail page). */
  alsoOn?: string[];
}

export interface AppRoute {
  name: string;
  path: string;
  view: () => Promise<RouteComponent | { default: RouteComponent }>;
  access: Access;
  title: string;
  nav?: NavPlace;
}

const ICON = {
  accounts: 'M3 7h18v12H3zM3 10h18M7 15h4',
  transfer: 'M4 8h13l-3-3M20 16H7l3 3',
  support: 'M4 5h16v11H9l-5 4z',
  bell: 'M6 16V11a6 6 0 1 1 12 0v5l2 2H4zM10 20h4',
  shield: 'M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z',
  people: 'M16 11a4 4 0 1 0-8 0 4 4 0 0 0 8 0zM4 21c1-4 4-6 8-6s7 2 8 6',
  plus: 'M12 5v14M5 12h14',
  check: 'M5 12l4 4 10-10',
  megaphone: 'M4 10v4h3l6 4V6L7 10zM17 9a4 4 0 0 1 0 6',
  users: 'M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM3 20c.5-3 3-5 6-5s5.5 2 6 5M17 11h4M19 9v4',
  gear: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v3M12 19v3M2 12h3M19 12h3',
  home: 'M3 11l9-7 9 7v9H3zM9 20v-6h6v6',
  branch: 'M4 21V9l8-5 8 5v12M9 21v-6h6v6',
  percent: 'M19 5L5 19M7 7h.01M17 17h.01',
  log: 'M5 4h14v16H5zM8 8h8M8 12h8M8 16h5',
  key: 'M15 7a4 4 0 1 1-3.9 5H4v3H2v-5h9.1A4 4 0 0 1 15 7z',
  payees: 'M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM3 20c1-3 3-5 6-5s5 2 6 5M17 8v6M14 11h6',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
} as const;

export const ROUTES: AppRoute[] = [
  // Customer
  {
    name: 'accounts',
    path: '/accounts',
    view: () => import('./views/AccountsView.vue'),
    access: 'customer',
    title: 'Accounts',
    nav: {
      group: 'Banking',
      label: 'Accounts',
      icon: ICON.accounts,
      testid: 'nav-accounts',
      alsoOn: ['account', 'transaction', 'standing-orders'],
    },
  },
  { name: 'account', path: '/accounts/:id(\\d+)', view: () => import('./views/AccountDetailView.vue'), access: 'any', title: 'Account' },
  {
    name: 'transaction',
    path: '/transactions/:id(\\d+)',
    view: () => import('./views/TransactionView.vue'),
    access: 'any',
    title: 'Transaction',
  },
  {
    name: 'transfer',
    path: '/transfer',
    view: () => import('./views/TransferView.vue'),
    access: 'any',
    title: 'Transfer money',
    nav: { group: 'Banking', label: 'Transfer', icon: ICON.transfer, testid: 'nav-transfer' },
  },
  {
    name: 'payees',
    path: '/payees',
    view: () => import('./views/PayeesView.vue'),
    access: 'customer',
    title: 'Payees',
    nav: { group: 'Banking', label: 'Payees', icon: ICON.payees, testid: 'nav-payees' },
  },
  {
    name: 'standing-orders',
    path: '/accounts/:id(\\d+)/standing-orders',
    view: () => import('./views/StandingOrdersView.vue'),
    access: 'any',
    title: 'Scheduled payments',
  },
  {
    name: 'tickets',
    path: '/tickets',
    view: () => import('./views/TicketsView.vue'),
    access: 'customer',
    title: 'Support',
    nav: { group: 'Help', label: 'Support', icon: ICON.support, testid: 'nav-tickets', alsoOn: ['ticket'] },
  },
  { name: 'ticket', path: '/tickets/:id(\\d+)', view: () => import('./views/TicketView.vue'), access: 'customer', title: 'Support ticket' },

  // Staff desk
  {
    name: 'admin-overview',
    path: '/admin',
    view: () => import('./views/admin/OverviewView.vue'),
    access: 'admin',
    title: 'Overview',
    nav: { group: 'Desk', label: 'Overview', icon: ICON.home, testid: 'nav-overview' },
  },
  {
    name: 'staff-customers',
    path: '/staff/customers',
    view: () => import('./views/staff/CustomersView.vue'),
    access: 'teller',
    title: 'Customers',
    nav: { group: 'Desk', label: 'Customers', icon: ICON.people, testid: 'nav-customers', alsoOn: ['staff-customer'] },
  },
  {
    name: 'staff-onboard',
    path: '/staff/customers/new',
    view: () => import('./views/staff/OnboardView.vue'),
    access: 'teller',
    title: 'Onboard a customer',
    nav: { group: 'Desk', label: 'Onboard', icon: ICON.plus, testid: 'nav-onboard' },
  },
  {
    name: 'staff-customer',
    path: '/staff/customers/:id(\\d+)',
    view: () => import('./views/staff/CustomerView.vue'),
    access: 'teller',
    title: 'Customer',
  },
  {
    name: 'staff-tickets',
    path: '/staff/tickets',
    view: () => import('./views/staff/TicketDeskView.vue'),
    access: 'teller',
    title: 'Ticket desk',
    nav: { group: 'Desk', label: 'Ticket desk', icon: ICON.support, testid: 'nav-ticket-desk', alsoOn: ['staff-ticket'] },
  },
  {
    name: 'staff-canned',
    path: '/staff/canned-replies',
    view: () => import('./views/staff/CannedRepliesView.vue'),
    access: 'teller',
    title: 'Canned replies',
    nav: { group: 'Desk', label: 'Canned replies', icon: ICON.log, testid: 'nav-canned' },
  },
  {
    name: 'staff-ticket',
    path: '/staff/tickets/:id(\\d+)',
    view: () => import('./views/staff/StaffTicketView.vue'),
    access: 'teller',
    title: 'Ticket',
  },

  // Management
  {
    name: 'staff-approvals',
    path: '/staff/approvals',
    view: () => import('./views/staff/ApprovalsView.vue'),
    access: 'manager',
    title: 'Approvals',
    nav: { group: 'Management', label: 'Approvals', icon: ICON.check, testid: 'nav-approvals' },
  },
  {
    name: 'staff-announcements',
    path: '/staff/announcements',
    view: () => import('./views/staff/AnnouncementsAdminView.vue'),
    access: 'manager',
    title: 'Announcements',
    nav: { group: 'Management', label: 'Announcements', icon: ICON.megaphone, testid: 'nav-announcements' },
  },
  {
    name: 'staff-branches',
    path: '/staff/branches',
    view: () => import('./views/staff/BranchesView.vue'),
    access: 'manager',
    title: 'Branches',
    nav: { group: 'Management', label: 'Branches', icon: ICON.branch, testid: 'nav-branches' },
  },
  {
    name: 'staff-products',
    path: '/staff/products',
    view: () => import('./views/staff/ProductsView.vue'),
    access: 'manager',
    title: 'Account types and rates',
    nav: { group: 'Management', label: 'Types and rates', icon: ICON.percent, testid: 'nav-products' },
  },
  {
    name: 'staff-logins',
    path: '/staff/logins',
    view: () => import('./views/staff/LoginHistoryView.vue'),
    access: 'manager',
    title: 'Sign-in history',
    nav: { group: 'Management', label: 'Sign-in history', icon: ICON.key, testid: 'nav-logins' },
  },
  {
    name: 'staff-audit',
    path: '/staff/audit',
    view: () => import('./views/staff/AuditView.vue'),
    access: 'manager',
    title: 'Audit log',
    nav: { group: 'Management', label: 'Audit log', icon: ICON.log, testid: 'nav-audit' },
  },

  // Administration
  {
    name: 'admin-users',
    path: '/admin/users',
    view: () => import('./views/admin/UsersView.vue'),
    access: 'admin',
    title: 'Users',
    nav: { group: 'Administration', label: 'Users', icon: ICON.users, testid: 'nav-users' },
  },
  {
    name: 'admin-webhooks',
    path: '/admin/webhooks',
    view: () => import('./views/admin/WebhooksView.vue'),
    access: 'admin',
    title: 'Webhooks',
    nav: { group: 'Administration', label: 'Webhooks', icon: ICON.link, testid: 'nav-webhooks' },
  },
  {
    name: 'admin-ops',
    path: '/admin/operations',
    view: () => import('./views/admin/OperationsView.vue'),
    access: 'admin',
    title: 'Operations',
    nav: { group: 'Administration', label: 'Operations', icon: ICON.gear, testid: 'nav-operations' },
  },

  // Everyone
  {
    name: 'notifications',
    path: '/notifications',
    view: () => import('./views/NotificationsView.vue'),
    access: 'any',
    title: 'Notifications',
    nav: { group: 'You', label: 'Notifications', icon: ICON.bell, testid: 'nav-notifications' },
  },
  {
    name: 'security',
    path: '/security',
    view: () => import('./views/SecurityView.vue'),
    access: 'any',
    title: 'Security',
    nav: { group: 'You', label: 'Security', icon: ICON.shield, testid: 'nav-security' },
  },
];

export const NAV_ORDER: NavGroup[] = ['Banking', 'Help', 'Desk', 'Management', 'Administration', 'You'];
