// A tiny hash router: "#/accounts/12?tab=entries" → { name: 'account', params: {id: '12'}, query: {tab: 'entries'} }.
// Hash routing needs no server fallback, so any static host (koa-static) can serve the app.

import { shallowRef } from 'vue';

export interface Route {
  name: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
}

const ROUTES: Array<[pattern: string, name: string]> = [
  ['/login', 'login'],
  ['/accounts', 'accounts'],
  ['/accounts/:id', 'account'],
  ['/accounts/:id/standing-orders', 'standing-orders'],
  ['/transfer', 'transfer'],
  ['/payees', 'payees'],
  ['/transactions/:id', 'transaction'],
  ['/tickets', 'tickets'],
  ['/tickets/:id', 'ticket'],
  ['/security', 'security'],
  ['/notifications', 'notifications'],
  ['/staff/customers', 'staff-customers'],
  ['/staff/customers/new', 'staff-onboard'],
  ['/staff/customers/:id', 'staff-customer'],
  ['/staff/approvals', 'staff-approvals'],
  ['/staff/tickets', 'staff-tickets'],
  ['/staff/tickets/:id', 'staff-ticket'],
  ['/staff/announcements', 'staff-announcements'],
  ['/staff/canned-replies', 'staff-canned'],
  ['/admin/webhooks', 'admin-webhooks'],
  ['/admin/users', 'admin-users'],
  ['/admin/operations', 'admin-ops'],
];

export function matchRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [pathPart, queryPart = ''] = raw.split('?', 2);
  const path = ('/' + pathPart.replace(/^\/+/, '')).replace(/\/+$/, '') || '/';
  const query: Record<string, string> = {};
  new URLSearchParams(queryPart).forEach((v, k) => {
    query[k] = v;
  });
  const segs = path.split('/').filter(Boolean);
  for (const [pattern, name] of ROUTES) {
    const ps = pattern.split('/').filter(Boolean);
    if (ps.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < ps.length; i++) {
      if (ps[i].startsWith(':')) params[ps[i].slice(1)] = decodeURIComponent(segs[i]);
      else if (ps[i] !== segs[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { name, path, params, query };
  }
  return { name: path === '/' ? 'home' : 'not-found', path, params: {}, query };
}

export const route = shallowRef<Route>(matchRoute(typeof location !== 'undefined' ? location.hash : ''));

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    route.value = matchRoute(location.hash);
    window.scrollTo?.(0, 0);
  });
}

export function href(path: string, query?: Record<string, string | number | undefined | null>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | number | undefined | null>, replace = false): void {
  const target = href(path, query);
  if (location.hash === target) {
    route.value = matchRoute(target);
    return;
  }
  if (replace) {
    history.replaceState(history.state, '', target);
    route.value = matchRoute(target);
  } else location.hash = target;
}

/** Numeric route param, or null when absent/malformed. */
export function paramId(r: Route, key = 'id'): number | null {
  const v = r.params[key];
  return v && /^\d+$/.test(v) ? Number(v) : null;
}
