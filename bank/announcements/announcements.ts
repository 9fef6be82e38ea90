import type { Actor, BankContext } from '../core/context.js';
import { toPage } from '../core/paging.js';
import { Forbidden, Invalid, NotFound } from '../core/errors.js';
import { requiredText } from '../core/checks.js';
import { audit } from '../audit/chain.js';
import { recordEvent, rooms } from '../outbox/events.js';
import type { RoomName } from '../../shared/events.js';
import { can, requireCan } from '../access/permissions.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { Announcement, Row } from '../../db/models.js';

export const AUDIENCES = ['all', 'customers', 'staff'] as const;
export type Audience = (typeof AUDIENCES)[number];

export const TITLE_MAX = 200;
export const MESSAGE_MAX = 10_000;

type AnnouncementRow = Row<Announcement>;

export function announcementDto(r: AnnouncementRow) {
  return {
    id: r.id,
    title: r.title,
    message: r.message,
    audience: r.audience,
    active: !!r.active,
    publishedAt: r.published_at,
    expiresAt: r.expires_at,
    withdrawnAt: r.withdrawn_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
export type AnnouncementDto = ReturnType<typeof announcementDto>;

const AUDIENCE_ROOM: { [A in Audience]: RoomName<A> } = { all: rooms.all, customers: rooms.customers, staff: rooms.staff };

/** The audiences an actor belongs to. */
const audiencesOf = (actor: Actor): Audience[] => (actor.role === 'customer' ? ['all', 'customers'] : ['all', 'staff']);

/** ISO strings in one canonical form, so the stored strings order as the times do. */
function isoTime(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Invalid(`${field} must be an ISO 8601 time`, { fields: [field] });
  return new Date(ms).toISOString();
}

function checkWindow(publishedAt: string, expiresAt: string | null): void {
  if (expiresAt !== null && expiresAt <= publishedAt) throw new Invalid('expiresAt must be after publishedAt', { fields: ['expiresAt'] });
}

function checkAudience(a: string): asserts a is Audience {
  if (!AUDIENCES.includes(a as Audience)) throw new Invalid('audience must be all, customers or staff', { fields: ['audience'] });
}

export interface AnnouncementFilter {
  /** Managers only: withdrawn, expired and not-yet-published ones too, of every audience. */
  includeInactive?: boolean;
  limit: number;
  /** The last id seen: the list runs newest first. */
  cursor?: number | null;
}

/** What the caller's audience may see now: active, published, not expired. Newest first. */
export async function listAnnouncements(ctx: BankContext, actor: Actor, f: AnnouncementFilter) {
  requireCan(actor, 'announcements.read');
  let q = ctx.db<AnnouncementRow>('announcements');
  if (f.includeInactive) {
    if (!can(actor, 'announcements.write')) throw new Forbidden('Only managers may list inactive announcements');
  } else {
    const now = ctx.now().toISOString();
    q = q
      .whereIn('audience', audiencesOf(actor))
      .where({ active: true })
      .where('published_at', '<=', now)
      .where((w) => w.whereNull('expires_at').orWhere('expires_at', '>', now));
  }
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1);
  const items = rows.slice(0, f.limit).map(announcementDto);
  return toPage(rows.length, items, f.limit);
}

export interface NewAnnouncement {
  title: string;
  message: string;
  audience: Audience;
  publishedAt?: string;
  expiresAt?: string | null;
}

/**
 * Publishes an announcement to its audience. A future publishedAt schedules it: the list
 * shows it from then on, while the event goes out now (clients may wait for publishedAt).
 */
export async function createAnnouncement(ctx: BankContext, actor: Actor, input: NewAnnouncement): Promise<AnnouncementDto> {
  requireCan(actor, 'announcements.write');
  checkAudience(input.audience);
  const title = requiredText(input.title, 'title', TITLE_MAX);
  const message = requiredText(input.message, 'message', MESSAGE_MAX);
  return withTx(ctx, async (t) => {
    const publishedAt = input.publishedAt === undefined ? t.now : isoTime(input.publishedAt, 'publishedAt');
    const expiresAt = input.expiresAt == null ? null : isoTime(input.expiresAt, 'expiresAt');
    checkWindow(publishedAt, expiresAt);
    const row = {
      title,
      message,
      audience: input.audience,
      active: true,
      published_at: publishedAt,
      expires_at: expiresAt,
      withdrawn_at: null,
      created_by: actor.userId,
      created_at: t.now,
      updated_at: t.now,
    };
    const [ins] = await t.q('announcements').insert(row, ['id']);
    const dto = announcementDto({ ...row, id: typeof ins === 'object' ? ins.id : ins });
    recordEvent(t, 'announcement.published', [AUDIENCE_ROOM[dto.audience]], { announcement: dto });
    await audit(t, actor, { action: 'announcement.published', entity: 'announcement', entityId: dto.id, after: dto });
    return dto;
  });
}

async function findAnnouncement(t: Tx, id: number): Promise<AnnouncementRow> {
  let q = t.q<AnnouncementRow>('announcements').where({ id });
  if (t.ctx.dialect === 'pg') q = q.forUpdate();
  const row = await q.first();
  if (!row) throw new NotFound('Announcement');
  return row;
}

export interface AnnouncementPatch {
  title?: string;
  message?: string;
  audience?: Audience;
  expiresAt?: string | null;
  /** false withdraws it; true brings a withdrawn one back. */
  active?: boolean;
}

/** Edits an announcement; when its audience changes, both the old and the new audience hear of it. */
export async function updateAnnouncement(ctx: BankContext, actor: Actor, id: number, patch: AnnouncementPatch): Promise<AnnouncementDto> {
  requireCan(actor, 'announcements.write');
  if (patch.audience !== undefined) checkAudience(patch.audience);
  const title = patch.title === undefined ? undefined : requiredText(patch.title, 'title', TITLE_MAX);
  const message = patch.message === undefined ? undefined : requiredText(patch.message, 'message', MESSAGE_MAX);
  return withTx(ctx, async (t) => {
    const row = await findAnnouncement(t, id);
    const changes: Partial<AnnouncementRow> = {};
    if (title !== undefined && title !== row.title) changes.title = title;
    if (message !== undefined && message !== row.message) changes.message = message;
    if (patch.audience !== undefined && patch.audience !== row.audience) changes.audience = patch.audience;
    if (patch.expiresAt !== undefined) {
      const expiresAt = patch.expiresAt === null ? null : isoTime(patch.expiresAt, 'expiresAt');
      if (expiresAt !== row.expires_at) changes.expires_at = expiresAt;
    }
    if (patch.active !== undefined && patch.active !== !!row.active) {
      changes.active = patch.active;
      changes.withdrawn_at = patch.active ? null : t.now;
    }
    if (!Object.keys(changes).length) return announcementDto(row);
    if (changes.expires_at !== undefined) checkWindow(row.published_at, changes.expires_at);
    const after = { ...row, ...changes, updated_at: t.now };
    await t
      .q('announcements')
      .where({ id })
      .update({ ...changes, updated_at: t.now });
    const dto = announcementDto(after);
    const to = [AUDIENCE_ROOM[row.audience], AUDIENCE_ROOM[after.audience]];
    const type = changes.active === false ? 'announcement.withdrawn' : 'announcement.updated';
    recordEvent(t, type, to, { announcement: dto });
    await audit(t, actor, { action: type, entity: 'announcement', entityId: id, before: announcementDto(row), after: dto });
    return dto;
  });
}

/** Withdraws an announcement: it stops showing, the row stays. Withdrawing twice is a no-op. */
export async function withdrawAnnouncement(ctx: BankContext, actor: Actor, id: number): Promise<void> {
  requireCan(actor, 'announcements.write');
  await withTx(ctx, async (t) => {
    const row = await findAnnouncement(t, id);
    if (!row.active) return;
    const after = { ...row, active: false, withdrawn_at: t.now, updated_at: t.now };
    await t.q('announcements').where({ id }).update({ active: false, withdrawn_at: t.now, updated_at: t.now });
    const dto = announcementDto(after);
    recordEvent(t, 'announcement.withdrawn', [AUDIENCE_ROOM[row.audience]], { announcement: dto });
    await audit(t, actor, {
      action: 'announcement.withdrawn',
      entity: 'announcement',
      entityId: id,
      before: announcementDto(row),
      after: dto,
    });
  });
}
