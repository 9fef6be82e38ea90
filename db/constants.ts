/**
 * Schema constants that migrations and the bank/ code reading those tables must agree on.
 * A plain module (not a migration) so bank/ can import it: bank → db, never bank → migrations.
 */

/** How many audit hash chains there are (rows of audit_heads, seeded by migration 0004). */
export const AUDIT_CHAINS = 16;
