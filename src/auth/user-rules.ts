/** Rules for managing other users beyond roles (unit-tested in test/roles.test.ts). */
import type { Role } from '../generated/prisma/enums.js';

/**
 * Who may deactivate (or reactivate) whom. `actor` null means a SECRET key. ADMINs manage non-owners, OWNERs manage
 * anyone; nobody manages themself, and the last active OWNER is protected separately (it needs the database).
 */
export function canDeactivate(actor: Role | null, target: Role): boolean {
  if (actor === null || actor === 'OWNER') return true;
  return actor === 'ADMIN' && target !== 'OWNER';
}

/** True when the change would leave the target without an active OWNER role (a demotion or a deactivation). */
export function removesOwner(
  target: { role: Role; deactivatedAt: Date | null },
  change: { role?: Role | null; deactivated?: boolean | null },
): boolean {
  if (target.role !== 'OWNER' || target.deactivatedAt) return false;
  return (change.role != null && change.role !== 'OWNER') || change.deactivated === true;
}
