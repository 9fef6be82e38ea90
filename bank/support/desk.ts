import type { Actor, BankContext } from '../core/context.js';
import { Forbidden, NotFound } from '../core/errors.js';
import { requiredText } from '../core/checks.js';
import { audit } from '../audit/chain.js';
import { atLeast, requireCan } from '../access/permissions.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { CannedReply, Row } from '../../db/models.js';

// Canned replies: text staff insert into a ticket reply. Any staff member reads and writes
// them; only the author or a manager changes or deletes one (a teller cannot rewrite a
// colleague's wording). `{{firstName}}` in a body is filled with the customer's first name
// when a reply is inserted on the desk.

export const TITLE_MAX = 100;
export const CANNED_BODY_MAX = 10_000;

type CannedRow = Row<CannedReply>;

export function cannedDto(r: CannedRow) {
  return { id: r.id, title: r.title, body: r.body, createdBy: r.created_by, createdAt: r.created_at, updatedAt: r.updated_at };
}
export type CannedReplyDto = ReturnType<typeof cannedDto>;

function requireUser(actor: Actor): number {
  if (actor.userId === null) throw new Forbidden('Only a signed-in user may write canned replies');
  return actor.userId;
}

/** Every canned reply, by title (a desk keeps tens of them, not thousands). */
export async function listCannedReplies(ctx: BankContext, actor: Actor): Promise<CannedReplyDto[]> {
  requireCan(actor, 'tickets.staff');
  const rows: CannedRow[] = await ctx.db('canned_replies').orderBy('title').orderBy('id').limit(1000);
  return rows.map(cannedDto);
}

export async function createCannedReply(ctx: BankContext, actor: Actor, input: { title: string; body: string }): Promise<CannedReplyDto> {
  requireCan(actor, 'tickets.staff');
  const userId = requireUser(actor);
  const title = requiredText(input.title, 'title', TITLE_MAX);
  const body = requiredText(input.body, 'body', CANNED_BODY_MAX);
  return withTx(ctx, async (t) => {
    const row = { title, body, created_by: userId, created_at: t.now, updated_at: t.now };
    const [ins] = await t.q('canned_replies').insert(row, ['id']);
    const dto = cannedDto({ ...row, id: typeof ins === 'object' ? ins.id : ins });
    await audit(t, actor, { action: 'canned_reply.created', entity: 'canned_reply', entityId: dto.id, after: dto });
    return dto;
  });
}

async function editable(t: Tx, actor: Actor, id: number): Promise<CannedRow> {
  requireCan(actor, 'tickets.staff');
  const row: CannedRow | undefined = await t.q('canned_replies').where({ id }).first();
  if (!row) throw new NotFound('Canned reply');
  if (row.created_by !== actor.userId && !atLeast(actor, 'manager'))
    throw new Forbidden('Only its author or a manager may change a canned reply');
  return row;
}

export async function updateCannedReply(
  ctx: BankContext,
  actor: Actor,
  id: number,
  patch: { title?: string; body?: string },
): Promise<CannedReplyDto> {
  const changes: Partial<CannedRow> = {};
  if (patch.title !== undefined) changes.title = requiredText(patch.title, 'title', TITLE_MAX);
  if (patch.body !== undefined) changes.body = requiredText(patch.body, 'body', CANNED_BODY_MAX);
  return withTx(ctx, async (t) => {
    const before = await editable(t, actor, id);
    if (!Object.keys(changes).length) return cannedDto(before);
    await t
      .q('canned_replies')
      .where({ id })
      .update({ ...changes, updated_at: t.now });
    const dto = cannedDto({ ...before, ...changes, updated_at: t.now });
    await audit(t, actor, { action: 'canned_reply.updated', entity: 'canned_reply', entityId: id, before: cannedDto(before), after: dto });
    return dto;
  });
}

export async function deleteCannedReply(ctx: BankContext, actor: Actor, id: number): Promise<void> {
  await withTx(ctx, async (t) => {
    const before = await editable(t, actor, id);
    await t.q('canned_replies').where({ id }).delete();
    await audit(t, actor, { action: 'canned_reply.deleted', entity: 'canned_reply', entityId: id, before: cannedDto(before) });
  });
}

/** Active staff, for assigning tickets by name. */
export async function listStaff(ctx: BankContext, actor: Actor) {
  requireCan(actor, 'tickets.staff');
  const rows = await ctx
    .db('users')
    .whereIn('role', ['teller', 'manager', 'admin'])
    .andWhere({ active: true })
    .orderBy('display_name')
    .orderBy('id')
    .limit(1000)
    .select('id', 'username', 'display_name', 'role');
  return rows.map((r: { id: number; username: string; display_name: string; role: string }) => ({
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role,
  }));
}
