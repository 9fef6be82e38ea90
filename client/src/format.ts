// Display helpers for dates and labels (money lives in money.ts).

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  // Plain dates ("2026-12-01") are calendar days: show them without a timezone shift.
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function timeAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return formatDate(iso);
}

/** "in_progress" → "In progress". */
export function label(value: string | null | undefined): string {
  if (!value) return '—';
  const s = value.replace(/[_-]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Local calendar date as YYYY-MM-DD, shifted by whole days. */
export function isoDay(offsetDays = 0, from = new Date()): string {
  const d = new Date(from.getFullYear(), from.getMonth(), from.getDate() + offsetDays);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** "1234 5678 9012" for reading a 12-digit account number. */
export function groupAccountNumber(n: string | null | undefined): string {
  if (!n) return '—';
  return /^\d{12}$/.test(n) ? n.replace(/(\d{4})(?=\d)/g, '$1 ') : n;
}

/** 12 digits whose last one is the Luhn check digit. */
export function isValidAccountNumber(n: string): boolean {
  if (!/^\d{12}$/.test(n)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) {
    let d = n.charCodeAt(11 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** "idempotencyKeys" or "ticket_ids" → "Idempotency keys" / "Ticket ids". */
export function humanKey(key: string): string {
  return label(key.replace(/([a-z\d])([A-Z])/g, '$1 $2').toLowerCase());
}

function plainValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map(plainValue).join(', ') : 'none';
  if (typeof v === 'object') return describeRecord(v as Record<string, unknown>);
  return String(v);
}

/** One line for a small record: "Account id 12 · Expected 100 · Actual 90". */
export function describeRecord(r: Record<string, unknown>): string {
  return Object.entries(r)
    .map(([k, v]) => `${humanKey(k)} ${plainValue(v)}`)
    .join(' · ');
}

/**
 * A job's or check's result as label/value rows for people, instead of raw JSON: nested objects
 * become "Accrual · Accounts", lists of records become one line per record.
 */
export function describeResult(value: unknown, prefix = ''): Array<{ label: string; value: string }> {
  const here = prefix || 'Result';
  if (value === null || value === undefined) return prefix ? [{ label: here, value: '—' }] : [];
  if (Array.isArray(value)) {
    if (!value.length || value.every((v) => v === null || typeof v !== 'object')) return [{ label: here, value: plainValue(value) }];
    return value.map((v, i) => ({ label: `${here} ${i + 1}`, value: plainValue(v) }));
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      describeResult(v, prefix ? `${prefix} · ${humanKey(k)}` : humanKey(k)),
    );
  }
  return [{ label: here, value: plainValue(value) }];
}

/** Local calendar day of an instant, YYYY-MM-DD. */
export function localDay(iso: string): string {
  return isoDay(0, new Date(iso));
}

/** "Today", "Yesterday", or "Mon, 30 Nov 2026" for a local calendar day. */
export function dayLabel(day: string, now = new Date()): string {
  if (day === isoDay(0, now)) return 'Today';
  if (day === isoDay(-1, now)) return 'Yesterday';
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString('en-IN', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

/** "2:05 pm": the time of day, in the viewer's zone. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString('en-IN', { hour: 'numeric', minute: '2-digit' });
}

/** Items newest first, in runs of the same local day. */
export function groupByDay<T extends { at: string }>(items: T[], now = new Date()): Array<{ day: string; label: string; items: T[] }> {
  const groups: Array<{ day: string; label: string; items: T[] }> = [];
  for (const item of [...items].sort((a, b) => b.at.localeCompare(a.at))) {
    const day = localDay(item.at);
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.items.push(item);
    else groups.push({ day, label: dayLabel(day, now), items: [item] });
  }
  return groups;
}

/** What an entry is, in words: "Transfer to 1234 5678 9012", "Cash deposit", "Interest". */
export function entryTitle(e: { kind: string; amount: string; counterparty: string | null }): string {
  const out = e.amount.trim().startsWith('-');
  switch (e.kind) {
    case 'deposit':
      return 'Cash deposit';
    case 'withdrawal':
      return 'Cash withdrawal';
    case 'interest':
      return 'Interest';
    case 'reversal':
      return 'Reversal';
    case 'transfer':
      return e.counterparty ? `${out ? 'To' : 'From'} ${groupAccountNumber(e.counterparty)}` : out ? 'Transfer out' : 'Transfer in';
    default:
      return label(e.kind);
  }
}

/**
 * "Chrome on Windows" from a user agent; "A program" (on an OS, when it says) for an agent
 * that is no known browser, such as a script or an integration; "Unknown device" without one.
 */
export function deviceName(ua: string | null | undefined): string {
  if (!ua) return 'Unknown device';
  // Edge's agent names Chrome too, and Chrome's names Safari: the more specific first.
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrome\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'A program';
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : null;
  return os ? `${browser} on ${os}` : browser;
}
