/** Configuration profiles (CSP settings) and their assignments to groups and devices. */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { NotFoundError } from '../../../shared/errors.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiReads, type ApiRoute, route } from '../route.js';
import { ProfileDetailSchema, ProfileSchema, WipFieldsSchema, settingSchema, toProfile } from '../schemas.js';

const nameParam = z.object({ name: z.string().min(1).max(128) });

async function assignmentsOf(reads: ApiReads, profileId: string) {
  const targets = (await reads.listAssignmentIntents(profileId)).map((a) => ({ ...a.target, intent: a.intent }));
  if (targets.length === 0) return [];
  const groups = new Map((await reads.listGroups()).map((g) => [g.id, g.name]));
  const devices = targets.some((t) => t.kind === 'device')
    ? new Map((await reads.listDevices()).map((d) => [d.id, d.deviceId]))
    : new Map<string, string>();
  return targets.map((t) =>
    t.kind === 'group'
      ? { kind: 'group' as const, group: groups.get(t.groupId) ?? t.groupId, device: null, intent: t.intent }
      : { kind: 'device' as const, group: null, device: devices.get(t.devicePk) ?? t.devicePk, intent: t.intent },
  );
}

const assignBody = z
  .object({
    group: z.string().min(1).max(128).optional(),
    device: z.string().min(1).max(64).optional(),
    intent: z
      .enum(['required', 'available'])
      .optional()
      .describe('required (default): delivered to every targeted device; available: offered to the group in the Company Portal'),
  })
  .refine((t) => (t.group === undefined) !== (t.device === undefined), { message: 'give exactly one of group or device' })
  .refine((t) => t.intent !== 'available' || t.group !== undefined, {
    message: 'an available profile is offered to users: assign it to a group, not to a device',
  });

export const profileRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/profiles',
    operationId: 'listProfiles',
    summary: 'List profiles',
    tag: 'profiles',
    access: ANY_ROLE,
    query: pageQuery,
    response: { status: 200, description: 'A page of profiles, by name.', schema: pageOf(ProfileSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.management.listProfiles(), (p) => p.name, query);
      return { items: page.items.map(toProfile), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'GET',
    path: '/profiles/{name}',
    operationId: 'getProfile',
    summary: 'Show a profile',
    description: 'With its settings and assignments.',
    tag: 'profiles',
    access: ANY_ROLE,
    params: nameParam,
    response: { status: 200, description: 'The profile.', schema: ProfileDetailSchema },
    async handler({ params, deps }) {
      const p = await deps.reads.getProfileByName(params.name);
      if (!p) throw new NotFoundError(`no profile named "${params.name}"`);
      return { ...toProfile(p), assignments: await assignmentsOf(deps.reads, p.id) };
    },
  }),
  route({
    method: 'PUT',
    path: '/profiles/{name}',
    operationId: 'saveProfile',
    summary: 'Add or update a profile',
    description:
      'Creates the profile or replaces its scope and settings; its version increases when they change. Assigned devices converge at their next check-in. With type wip, the named WIP fields are compiled to EnterpriseDataProtection, AppLocker and NetworkIsolation settings (device scope; MDM and MAM devices alike).',
    tag: 'profiles',
    access: ADMINISTRATOR_ONLY,
    params: nameParam,
    body: z.union([
      z.object({
        type: z.literal('custom').optional(),
        scope: z.enum(['user', 'device']),
        settings: z.array(settingSchema).min(1).max(500),
      }),
      z.object({ type: z.literal('wip').describe('Windows Information Protection from named fields'), wip: WipFieldsSchema }),
    ]),
    response: { status: 200, description: 'The profile.', schema: ProfileSchema },
    errors: [422],
    async handler({ params, body, deps, audit }) {
      return toProfile(await deps.operations.saveProfile(audit, { name: params.name, ...body }));
    },
  }),
  route({
    method: 'DELETE',
    path: '/profiles/{name}',
    operationId: 'deleteProfile',
    summary: 'Delete a profile',
    description: 'Devices remove its settings at their next check-in.',
    tag: 'profiles',
    access: ADMINISTRATOR_ONLY,
    params: nameParam,
    response: { status: 204, description: 'Deleted.' },
    async handler({ params, deps, audit }) {
      await deps.operations.deleteProfile(audit, params.name);
      return undefined;
    },
  }),
  route({
    method: 'POST',
    path: '/profiles/{name}/assignments',
    operationId: 'assignProfile',
    summary: 'Assign a profile',
    description:
      'To a group of users (by name) or one device (by DeviceID). Required (the default): device-scope settings are queued for every targeted device at once. Available (groups only): offered to the group in the Company Portal; a device gets it at its next check-in after its primary user installed it there. Assigning again changes the intent; required wins over available.',
    tag: 'profiles',
    access: ADMINISTRATOR_ONLY,
    params: nameParam,
    body: assignBody,
    response: { status: 200, description: 'Assigned.', schema: z.object({ queued: z.number().int().describe('Commands queued now') }) },
    async handler({ params, body, deps, audit }) {
      return { queued: await deps.operations.assignProfile(audit, params.name, body) };
    },
  }),
  route({
    method: 'DELETE',
    path: '/profiles/{name}/assignments/{kind}/{target}',
    operationId: 'unassignProfile',
    summary: 'Remove a profile assignment',
    description: 'kind is group (target: group name) or device (target: DeviceID). Devices remove the settings at their next check-in.',
    tag: 'profiles',
    access: ADMINISTRATOR_ONLY,
    params: nameParam.extend({ kind: z.enum(['group', 'device']), target: z.string().min(1).max(128) }),
    response: { status: 204, description: 'Removed.' },
    async handler({ params, deps, audit }) {
      await deps.operations.unassignProfile(
        audit,
        params.name,
        params.kind === 'group' ? { group: params.target } : { device: params.target },
      );
      return undefined;
    },
  }),
];
