/** Role rules as pure functions (unit-tested in test/roles.test.ts). */
import type { Role } from '../generated/prisma/enums.js';

const RANK: Record<Role, number> = { MEMBER: 0, MOD: 1, ADMIN: 2, OWNER: 3 };

export function isModPlus(role: Role): boolean {
  return RANK[role] >= RANK.MOD;
}

export function isAdminPlus(role: Role): boolean {
  return RANK[role] >= RANK.ADMIN;
}

/** Who may set which role on whom. `actor` null means a SECRET key, which may do anything within its app. */
export function canSetRole(actor: Role | null, targetCurrent: Role, next: Role): boolean {
  if (actor === null || actor === 'OWNER') return true;
  if (actor === 'ADMIN') return targetCurrent !== 'OWNER' && next !== 'OWNER';
  return false;
}
