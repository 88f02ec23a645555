/**
 * Winroll licenses: a user needs one to enroll devices, and an admin to sign in (unless the tenant allows
 * unlicensed admins). Licenses are assigned to users or to groups (members of nested groups included).
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import type { GroupLicenseAssignment, LicenseUsage } from '../../../core/policy/ports.js';
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
const groupParam = z.object({ name: z.string().min(1).max(128).describe('Name of the group') });

const LicenseUsageSchema = LicenseCountsSchema.extend({
  assigned: z.number().int().describe('Users holding a license now (directly or through groups), each counted once.'),
  direct: z.number().int().describe('Users with a direct assignment.'),
  throughGroups: z.number().int().describe('Users licensed only through groups, within the seats.'),
  withoutSeat: z.number().int().describe('Enabled members of licensed groups who get no license because every seat is in use.'),
});
const GroupLicenseSchema = z
  .object({
    group: z.string(),
    groupId: z.string(),
    assignedAt: z.string().meta({ format: 'date-time' }),
    memberCount: z.number().int().describe('Enabled users in the group, nested groups included.'),
    licensedCount: z.number().int().describe('Of those, users holding a license now (through any assignment).'),
  })
  .meta({ id: 'GroupLicense' });
const GroupLicenseChangeSchema = z
  .object({
    group: z.string(),
    licensed: z.boolean(),
    changed: z.boolean().describe('False when the group already was in that state.'),
    usage: LicenseUsageSchema,
    assignment: GroupLicenseSchema.nullable().describe('The assignment and its member counts; null after removal.'),
  })
  .meta({ id: 'GroupLicenseChange' });
const EffectiveLicenseSchema = z
  .object({
    upn: z.string(),
    licensed: z.boolean(),
    direct: z.boolean(),
    groupPath: z.array(z.string()).describe("Route from the user's own group (first) to the licensed group (last); [] when none."),
    beyondSeats: z.boolean().describe('A group license reaches the user but every seat is in use.'),
    reason: z.string(),
  })
  .meta({ id: 'EffectiveLicense' });

const usageOut = (u: LicenseUsage): z.output<typeof LicenseUsageSchema> => ({ ...u });
const groupOut = (g: GroupLicenseAssignment): z.output<typeof GroupLicenseSchema> => ({
  group: g.name,
  groupId: g.groupId,
  assignedAt: g.assignedAt.toISOString(),
  memberCount: g.memberCount,
  licensedCount: g.licensedCount,
});

export const licenseRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/licenses',
    operationId: 'listLicenses',
    summary: 'List licenses',
    description:
      'Seat counts (users holding a license, each once), every group assignment with its member counts, and a page of direct assignments, by UPN.',
    tag: 'licenses',
    access: ANY_ROLE,
    query: pageQuery,
    response: {
      status: 200,
      description: 'Counts, group assignments and a page of directly licensed users.',
      schema: LicenseUsageSchema.extend({
        groups: z.array(GroupLicenseSchema),
        items: z.array(LicenseSchema),
        nextCursor: z.string().nullable(),
      }),
    },
    async handler({ query, deps }) {
      const o = await deps.policy.licenseOverview();
      const page = paginate(o.users, (l) => l.upn, query);
      return { ...usageOut(o.usage), groups: o.groups.map(groupOut), items: page.items.map(toLicense), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'PUT',
    path: '/licenses/groups/{name}',
    operationId: 'assignGroupLicense',
    summary: 'Assign a license to a group',
    description:
      'Idempotent. Enabled members of the group and of groups nested in it hold a license from their next check (membership changes, directory sync included, count at once). Never refused for seats: members beyond the seats get no license, and explain says so.',
    tag: 'licenses',
    access: ADMINISTRATOR_ONLY,
    params: groupParam,
    response: { status: 200, description: 'The group holds a license.', schema: GroupLicenseChangeSchema },
    async handler({ params, deps, audit }) {
      const r = await deps.policy.assignGroupLicense(audit, params.name);
      return { group: r.group.name, licensed: true, changed: r.changed, usage: usageOut(r.usage), assignment: groupOut(r.group) };
    },
  }),
  route({
    method: 'DELETE',
    path: '/licenses/groups/{name}',
    operationId: 'removeGroupLicense',
    summary: 'Remove the license of a group',
    description: 'Idempotent. Members licensed only through it lose the license at once: their next enrollment is refused (UserLicense).',
    tag: 'licenses',
    access: ADMINISTRATOR_ONLY,
    params: groupParam,
    response: { status: 200, description: 'The group holds no license.', schema: GroupLicenseChangeSchema },
    async handler({ params, deps, audit }) {
      const r = await deps.policy.removeGroupLicense(audit, params.name);
      return { group: params.name, licensed: false, changed: r.changed, usage: usageOut(r.usage), assignment: null };
    },
  }),
  route({
    method: 'GET',
    path: '/licenses/{upn}',
    operationId: 'getUserLicense',
    summary: "A user's effective license",
    description:
      'Whether the user holds a license now and where it comes from: a direct assignment or a group (the route through nested groups).',
    tag: 'licenses',
    access: ANY_ROLE,
    params: upnParam,
    response: { status: 200, description: 'The effective license.', schema: EffectiveLicenseSchema },
    async handler({ params, deps }) {
      const r = await deps.policy.licenseOf(params.upn);
      return {
        upn: r.upn,
        licensed: r.license.licensed,
        direct: r.license.direct,
        groupPath: r.license.groupPath.map((g) => g.name),
        beyondSeats: r.license.beyondSeats,
        reason: r.reason,
      };
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
    description:
      'Idempotent. Takes effect on the next enrollment. 409 when every seat is in use (users licensed through groups count), unless the user already holds a seat through a group.',
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
    description:
      'Idempotent. Removes the direct assignment: unless a licensed group still reaches the user, their next enrollment is refused (UserLicense); enrolled devices stay.',
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
