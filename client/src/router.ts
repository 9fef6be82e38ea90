// vue-router over the one route table (routes.ts), in history mode: real paths such as
// /accounts/12 (the server answers index.html for any path that is not a file or the API).

import { computed } from 'vue';
import { createRouter, createWebHistory, type RouteLocationNormalizedLoaded } from 'vue-router';
import { hasRole } from './roles';
import { ROUTES, type Access, type AppRoute } from './routes';
import type { Role } from './types';

declare module 'vue-router' {
  interface RouteMeta {
    access?: Access;
    title?: string;
  }
}

// Links from before real paths (bookmarks, mails: "/#/tickets/12") still open their page.
if (typeof location !== 'undefined' && location.hash.startsWith('#/')) history.replaceState(history.state, '', location.hash.slice(1));

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/', name: 'home', component: { render: () => null } },
    ...ROUTES.map((r: AppRoute) => ({ path: r.path, name: r.name, component: r.view, meta: { access: r.access, title: r.title } })),
    { path: '/:rest(.*)*', name: 'not-found', component: { render: () => null } },
  ],
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
});

/** May someone with this role open a page with this access? */
export function allowed(access: Access | undefined, role: Role | null | undefined): boolean {
  if (!role) return false;
  if (!access || access === 'any') return true;
  if (access === 'customer') return role === 'customer';
  return hasRole(role, access);
}

/** Where each role starts. */
export function homePath(role: Role | null | undefined): string {
  if (role === 'admin') return '/admin';
  if (role && role !== 'customer') return '/staff/customers';
  return '/accounts';
}

export interface Route {
  name: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
}

function flatten(r: RouteLocationNormalizedLoaded): Route {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.params)) params[k] = Array.isArray(v) ? v.join('/') : String(v);
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.query)) if (typeof v === 'string') query[k] = v;
  return { name: String(r.name ?? ''), path: r.path, params, query };
}

/** The current route as plain strings (views read params and query from it). */
export const route = computed(() => flatten(router.currentRoute.value));

export function href(path: string, query?: Record<string, string | number | undefined | null>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return `${path}${s ? `?${s}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | number | undefined | null>, replace = false): void {
  const to = href(path, query);
  void (replace ? router.replace(to) : router.push(to));
}

/** Numeric route param, or null when absent/malformed. */
export function paramId(r: Route, key = 'id'): number | null {
  const v = r.params[key];
  return v && /^\d+$/.test(v) ? Number(v) : null;
}

/**
 * Plain <a href="/…"> links inside the app (toasts, lists, messages) navigate without reloading
 * the page, as RouterLink does; downloads, the API, new tabs and modified clicks are left alone.
 */
export function interceptLinks(root: Document = document): void {
  // An old-style link followed within the page ("#/tickets/12") goes to its real path.
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/')) void router.replace(location.hash.slice(1));
  });
  // Capture phase: a link's own @click.stop must not turn it into a full page load.
  root.addEventListener(
    'click',
    (e) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
      if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
      if (a.pathname.startsWith('/api/') || a.pathname.startsWith('/socket.io')) return;
      e.preventDefault();
      void router.push(a.pathname + a.search + a.hash);
    },
    true,
  );
}
