/**
 * The primary user (user device affinity, 0 or 1 per device; intune-features.md rows 7-8): set by how the
 * device enrolled. Joins, work accounts and user-started enrollments belong to the enrolling user; bulk
 * (provisioning package) and device enrollment manager enrollments are shared devices with none. An
 * admin may change it afterwards (AdminOperations.setPrimaryUser); a re-enrollment sets it again.
 */
import type { EnrollmentMethod } from '../policy/ports.js';

export function primaryUserFor(method: EnrollmentMethod, enrollingUserId: string): string | null {
  return method === 'automatic' || method === 'user' ? enrollingUserId : null;
}
