/** Winroll licenses: a user needs one to enroll devices, and an admin to sign in (unless the tenant allows unlicensed admins). */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { pageQuery, paginate } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import {
  EnrollmentSettingsSchema,
  LicenseChangeSchema,
  LicenseCountsSchema,
  LicenseSchema,
  toEnrollmentSettings,
  toLicense,
} from '../schemas.js';

const upnParam = z.object({ upn: z.string().min(3).max(320).describe('UPN of the user') });

export const licenseRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/licenses',
    operationId: 'listLicenses',
    summary: 'List licenses',
    description: 'Seat counts and a page of licensed users, by UPN.',
    tag: 'licenses',
    access: ANY_ROLE,
    query: pageQuery,
    response: {
      status: 200,
      description: 'Counts and a page of licensed users.',
      schema: LicenseCountsSchema.extend({ items: z.array(LicenseSchema), nextCursor: z.string().nullable() }),
    },
    async handler({ query, deps }) {
      const [counts, all] = await Promise.all([deps.reads.licenseCounts(), deps.reads.listLicenses()]);
      const page = paginate(all, (l) => l.upn, query);
      return { ...counts, items: page.items.map(toLicense), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'PUT',
    path: '/licenses/seats',
    operationId: 'setLicenseSeats',
    summary: 'Set the license seats',
    description:
      'How many licenses may be assigned; null = unlimited. Lowering it below the assigned count keeps those licenses and refuses new ones.',
    tag: 'licenses',
    access: ADMINISTRATOR_ONLY,
    body: z.object({ seats: z.number().int().min(0).max(10_000_000).nullable() }),
    response: { status: 200, description: 'The enrollment settings, seats included.', schema: EnrollmentSettingsSchema },
    errors: [422],
    async handler({ body, deps, audit }) {
      await deps.policy.setLicenseSeats(audit, body.seats);
      return toEnrollmentSettings(await deps.policy.enrollmentSettings(deps.webBase()));
    },
  }),
  route({
    method: 'PUT',
    path: '/licenses/{upn}',
    operationId: 'assignLicense',
    summary: 'Assign a license',
    description: 'Idempotent. Takes effect on the next enrollment. 409 when every seat is taken.',
    tag: 'licenses',
    access: ADMINISTRATOR_ONLY,
    params: upnParam,
    response: { status: 200, description: 'The user holds a license.', schema: LicenseChangeSchema },
    errors: [409],
    async handler({ params, deps, audit }) {
      const changed = await deps.policy.assignLicense(audit, params.upn);
      return { upn: params.upn.trim().toLowerCase(), licensed: true, changed };
    },
  }),
  route({
    method: 'DELETE',
    path: '/licenses/{upn}',
    operationId: 'removeLicense',
    summary: 'Remove a license',
    description: "Idempotent. The user's next enrollment is refused (UserLicense); enrolled devices stay.",
    tag: 'licenses',
    access: ADMINISTRATOR_ONLY,
    params: upnParam,
    response: { status: 200, description: 'The user holds no license.', schema: LicenseChangeSchema },
    async handler({ params, deps, audit }) {
      const changed = await deps.policy.removeLicense(audit, params.upn);
      return { upn: params.upn.trim().toLowerCase(), licensed: false, changed };
    },
  }),
];
