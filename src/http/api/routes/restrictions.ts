/**
 * Enrollment restrictions: platform policies (Windows MDM allow/block, OS version range, personal devices)
 * and device limits, with priorities (1 = highest) and a default per type. The highest-priority policy
 * assigned to one of the user's groups (transitively) applies; otherwise, and for userless enrollments,
 * the default. Changes apply to the next enrollment.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import type { Restriction } from '../../../core/policy/ports.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiDeps, type ApiRoute, route } from '../route.js';
import { RestrictionSchema, restrictionConfigInput, restrictionTypeSchema, toRestriction } from '../schemas.js';

const name = z.string().min(1).max(128);
const restrictionParams = z.object({
  type: restrictionTypeSchema,
  name: name.describe('Restriction name (any case); "Default" for the default policy'),
});

async function out(deps: ApiDeps, r: Restriction) {
  return toRestriction(r, new Map((await deps.reads.listGroups()).map((g) => [g.id, g.name])));
}

/** Stable list order: by type, then priority, each type's default last. */
const orderKey = (r: Restriction) => `${r.type === 'platform' ? 0 : 1}:${r.isDefault ? '99999' : String(r.priority).padStart(5, '0')}`;

export const restrictionRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/restrictions',
    operationId: 'listRestrictions',
    summary: 'List restrictions',
    description: 'By type (platform, then deviceLimit), then priority; each type’s default last.',
    tag: 'restrictions',
    access: ANY_ROLE,
    query: pageQuery.extend({ type: restrictionTypeSchema.optional() }),
    response: { status: 200, description: 'A page of restrictions.', schema: pageOf(RestrictionSchema) },
    async handler({ query, deps }) {
      const [all, groups] = await Promise.all([deps.policy.listRestrictions(query.type), deps.reads.listGroups()]);
      const names = new Map(groups.map((g) => [g.id, g.name]));
      const page = paginate(all, orderKey, query);
      return { items: page.items.map((r) => toRestriction(r, names)), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'POST',
    path: '/restrictions',
    operationId: 'addRestriction',
    summary: 'Add a restriction',
    description:
      'Inserted just above the default (lowest priority of its type) and assigned to nobody: assign it to a group to take effect. Platform fields for type platform, `limit` for deviceLimit (422 otherwise).',
    tag: 'restrictions',
    access: ADMINISTRATOR_ONLY,
    body: z.strictObject({ type: restrictionTypeSchema, name, ...restrictionConfigInput }),
    response: { status: 201, description: 'The restriction.', schema: RestrictionSchema },
    errors: [409, 422],
    async handler({ body, deps, audit }) {
      const { type, name: n, ...config } = body;
      return out(deps, await deps.policy.createRestriction(audit, type, n, config));
    },
  }),
  route({
    method: 'GET',
    path: '/restrictions/{type}/{name}',
    operationId: 'getRestriction',
    summary: 'Show a restriction',
    tag: 'restrictions',
    access: ANY_ROLE,
    params: restrictionParams,
    response: { status: 200, description: 'The restriction.', schema: RestrictionSchema },
    async handler({ params, deps }) {
      return out(deps, await deps.policy.getRestriction(params.type, params.name));
    },
  }),
  route({
    method: 'PATCH',
    path: '/restrictions/{type}/{name}',
    operationId: 'updateRestriction',
    summary: 'Change a restriction',
    description: 'Changes the given settings (the default policy’s too) and, with `name`, renames it. Applies to later enrollments.',
    tag: 'restrictions',
    access: ADMINISTRATOR_ONLY,
    params: restrictionParams,
    body: z.strictObject({ name: name.optional().describe('New name'), ...restrictionConfigInput }),
    response: { status: 200, description: 'The restriction.', schema: RestrictionSchema },
    errors: [409, 422],
    async handler({ params, body, deps, audit }) {
      const { name: rename, ...config } = body;
      return out(deps, await deps.policy.updateRestriction(audit, params.type, params.name, config, rename));
    },
  }),
  route({
    method: 'DELETE',
    path: '/restrictions/{type}/{name}',
    operationId: 'deleteRestriction',
    summary: 'Delete a restriction',
    description: 'The policies below it move up. The default cannot be deleted (422).',
    tag: 'restrictions',
    access: ADMINISTRATOR_ONLY,
    params: restrictionParams,
    response: { status: 204, description: 'Deleted.' },
    errors: [422],
    async handler({ params, deps, audit }) {
      await deps.policy.deleteRestriction(audit, params.type, params.name);
      return undefined;
    },
  }),
  route({
    method: 'PUT',
    path: '/restrictions/{type}/{name}/priority',
    operationId: 'setRestrictionPriority',
    summary: 'Move a restriction to a priority',
    description: '1 is highest; the others of its type shift so priorities stay 1..n. Not for the default (422).',
    tag: 'restrictions',
    access: ADMINISTRATOR_ONLY,
    params: restrictionParams,
    body: z.object({ priority: z.number().int().min(1).max(100_000) }),
    response: { status: 200, description: 'The restriction.', schema: RestrictionSchema },
    errors: [422],
    async handler({ params, body, deps, audit }) {
      return out(deps, await deps.policy.setRestrictionPriority(audit, params.type, params.name, body.priority));
    },
  }),
  route({
    method: 'PUT',
    path: '/restrictions/{type}/{name}/groups/{group}',
    operationId: 'assignRestriction',
    summary: 'Assign a restriction to a group',
    description: 'Idempotent. Members of groups nested in it count. Not for the default, which applies to everyone (422).',
    tag: 'restrictions',
    access: ADMINISTRATOR_ONLY,
    params: restrictionParams.extend({ group: name.describe('Group name') }),
    response: { status: 200, description: 'The restriction.', schema: RestrictionSchema },
    errors: [422],
    async handler({ params, deps, audit }) {
      return out(deps, await deps.policy.assignRestriction(audit, params.type, params.name, params.group));
    },
  }),
  route({
    method: 'DELETE',
    path: '/restrictions/{type}/{name}/groups/{group}',
    operationId: 'unassignRestriction',
    summary: 'Unassign a restriction from a group',
    description: 'Idempotent.',
    tag: 'restrictions',
    access: ADMINISTRATOR_ONLY,
    params: restrictionParams.extend({ group: name.describe('Group name') }),
    response: { status: 200, description: 'The restriction.', schema: RestrictionSchema },
    async handler({ params, deps, audit }) {
      return out(deps, await deps.policy.unassignRestriction(audit, params.type, params.name, params.group));
    },
  }),
];
