import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as api from '../api';
import { ApiError } from '../api';
import { hasRole, isStaffRole } from '../roles';
import { readStorage, writeStorage } from '../storage';
import type { SessionPolicy, StaffRole, User } from '../types';
import { onServerEvent } from '../events';
import { resetStores } from './reset';

const TOKEN_KEY = 'bank.token';

export const useSession = defineStore('session', () => {
  const user = ref<User | null>(null);
  /** Kept for the socket handshake (`auth: {token}`); REST rides on the HttpOnly cookie. */
  const token = ref<string | null>(readStorage('session', TOKEN_KEY));
  const expiresAt = ref<string | null>(null);
  /** The first `GET /auth/me` has answered. */
  const ready = ref(false);
  /** Shown on the login screen: why the user was signed out. */
  const notice = ref<string | null>(null);
  /** A deliberate sign-out is under way: the socket closing is expected, not a lost session. */
  const leaving = ref(false);
  /** When to ask "still there?" (from GET /auth/me). */
  const policy = ref<Omit<SessionPolicy, 'expiresAt'> | null>(null);

  const isStaff = computed(() => isStaffRole(user.value?.role));
  const isCustomer = computed(() => user.value?.role === 'customer');

  function atLeast(role: StaffRole): boolean {
    return hasRole(user.value?.role, role);
  }

  async function restore() {
    try {
      adopt(await api.auth.me());
    } catch (err) {
      user.value = null;
      if (err instanceof ApiError && err.status === 401) setToken(null);
      else notice.value = api.errorMessage(err);
    } finally {
      ready.value = true;
    }
  }

  async function login(username: string, password: string, otp?: string) {
    const res = await api.auth.login(username, password, otp);
    resetStores();
    setToken(res.token ?? null);
    expiresAt.value = res.expiresAt ?? null;
    notice.value = null;
    adopt(await api.auth.me().catch(() => res.user));
  }

  function adopt(me: api.MeAnswer) {
    const { session, ...rest } = me as api.MeAnswer & { session?: SessionPolicy };
    if (session) policy.value = { idleSeconds: session.idleSeconds, warnSeconds: session.warnSeconds };
    user.value = rest;
  }

  /** Nobody used the app until the idle limit: sign out here, and say why on the login screen. */
  async function endForInactivity() {
    const s = policy.value?.idleSeconds ?? null;
    const span = s === null ? 'a while' : s < 90 ? `${s} seconds` : `${Math.round(s / 60)} minutes`;
    await logout();
    notice.value = `You were signed out after ${span} without activity, to keep your money safe. Sign in again to carry on: anything you were typing is kept.`;
  }

  async function logout() {
    leaving.value = true;
    try {
      await api.auth.logout();
    } catch {
      /* the session may already be gone; sign out locally regardless */
    }
    end(null);
    leaving.value = false;
  }

  /** Leave the signed-in state (logout, revoked or expired session). */
  function end(message: string | null) {
    if (!user.value && !token.value) {
      if (message) notice.value = message;
      return;
    }
    user.value = null;
    setToken(null);
    expiresAt.value = null;
    notice.value = message;
    resetStores();
  }

  function setToken(value: string | null) {
    token.value = value;
    writeStorage('session', TOKEN_KEY, value);
  }

  // A live revocation ends this session (a replayed one belongs to an earlier session). Our own
  // sign-out revokes it too: that one is expected, not news from another window.
  onServerEvent('session.revoked', (e, ctx) => {
    if (ctx.replayed || leaving.value || !user.value) return;
    end(`You were signed out${e.reason ? `: ${describeReason(e.reason)}` : '.'}`);
  });
  return {
    user,
    token,
    expiresAt,
    ready,
    notice,
    leaving,
    policy,
    isStaff,
    isCustomer,
    atLeast,
    restore,
    login,
    logout,
    endForInactivity,
    end,
  };
});

function describeReason(reason: string): string {
  const known: Record<string, string> = {
    logout: 'you signed out in another window',
    password_changed: 'your password was changed',
    expired: 'your session expired',
    revoked: 'your session was signed out from another device',
    deactivated: 'your user was deactivated',
  };
  return known[reason] ?? reason.replace(/_/g, ' ');
}
