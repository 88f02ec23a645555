/**
 * Groups of users and of groups, for assigning profiles, enrollment scopes and restrictions. Membership is
 * evaluated transitively: members of a nested group are members of every group containing it.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { NotFoundError } from '../../../shared/errors.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { GroupSchema, toGroup } from '../schemas.js';

const GroupMembersSchema = z
  .object({
    users: z.array(z.object({ id: z.string(), upn: z.string() })),
    groups: z.array(z.object({ id: z.string(), name: z.string() })),
  })
  .meta({ id: 'GroupMembers' });

export const groupRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/groups',
    operationId: 'listGroups',
    summary: 'List groups',
    tag: 'groups',
    access: ANY_ROLE,
    query: pageQuery,
    response: { status: 200, description: 'A page of groups, by name.', schema: pageOf(GroupSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.management.listGroups(), (g) => g.name, query);
      return { items: page.items.map(toGroup), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'POST',
    path: '/groups',
    operationId: 'addGroup',
    summary: 'Add a group',
    tag: 'groups',
    access: ADMINISTRATOR_ONLY,
    body: z.object({ name: z.string().min(1).max(128) }),
    response: { status: 201, description: 'The group.', schema: GroupSchema },
    errors: [409, 422],
    async handler({ body, deps, audit }) {
      return toGroup(await deps.operations.addGroup(audit, body.name));
    },
  }),
  route({
    method: 'POST',
    path: '/groups/{name}/members',
    operationId: 'addGroupMember',
    summary: 'Add a user to a group',
    description: 'Idempotent.',
    tag: 'groups',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ name: z.string().min(1).max(128) }),
    body: z.object({ upn: z.string().min(3).max(320) }),
    response: { status: 204, description: 'Added.' },
    async handler({ params, body, deps, audit }) {
      await deps.operations.addGroupMember(audit, params.name, body.upn);
      return undefined;
    },
  }),
  route({
    method: 'DELETE',
    path: '/groups/{name}/members/{upn}',
    operationId: 'removeGroupMember',
    summary: 'Take a user out of a group',
    description: 'Idempotent. Only the direct membership: the user stays a member through any nested group.',
    tag: 'groups',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ name: z.string().min(1).max(128), upn: z.string().min(3).max(320) }),
    response: { status: 204, description: 'No longer a direct member.' },
    errors: [404],
    async handler({ params, deps, audit }) {
      await deps.policy.removeUserFromGroup(audit, params.name, params.upn);
      return undefined;
    },
  }),
  route({
    method: 'POST',
    path: '/groups/{name}/groups',
    operationId: 'nestGroup',
    summary: 'Nest a group in a group',
    description:
      'Idempotent. Members of the nested group (and of groups nested in it) become members of this group for profiles, scopes and restrictions. Cycles and nesting deeper than 32 levels are refused (422).',
    tag: 'groups',
    access: ADMINISTRATOR_ONLY,
    params: z.object({ name: z.string().min(1).max(128).describe('The containing group') }),
    body: z.object({ group: z.string().min(1).max(128).describe('The group to nest') }),
    response: { status: 204, description: 'Nested.' },
    errors: [422],
    async handler({ params, body, deps, audit }) {
      await deps.policy.addGroupMember(audit, params.name, body.group);
      return undefined;
    },
  }),
  route({
    method: 'DELETE',
    path: '/groups/{name}/groups/{group}',
    operationId: 'unnestGroup',
    summary: 'Take a nested group out of a group',
    description: 'Idempotent.',
    tag: 'groups',
    access: ADMINISTRATOR_ONLY,
    params: z.object({
      name: z.string().min(1).max(128).describe('The containing group'),
      group: z.string().min(1).max(128).describe('The nested group'),
    }),
    response: { status: 204, description: 'No longer nested.' },
    async handler({ params, deps, audit }) {
      await deps.policy.removeGroupFromGroup(audit, params.name, params.group);
      return undefined;
    },
  }),
  route({
    method: 'GET',
    path: '/groups/{name}/members',
    operationId: 'listGroupMembers',
    summary: 'List the direct members of a group',
    description: 'The users and the nested groups placed directly in the group (members of nested groups are not expanded).',
    tag: 'groups',
    access: ANY_ROLE,
    params: z.object({ name: z.string().min(1).max(128) }),
    response: { status: 200, description: 'Direct members, users by UPN and groups by name.', schema: GroupMembersSchema },
    errors: [404],
    async handler({ params, deps }) {
      const group = await deps.reads.getGroupByName(params.name);
      if (!group) throw new NotFoundError(`no group ${params.name}`);
      const [userIds, children] = await Promise.all([deps.reads.listGroupMembers(group.id), deps.reads.listChildGroups(group.id)]);
      const users = (await Promise.all(userIds.map((id) => deps.reads.getUserById(id)))).flatMap((u) =>
        u ? [{ id: u.id, upn: u.upn }] : [],
      );
      return {
        users: users.sort((a, b) => a.upn.localeCompare(b.upn)),
        groups: children.map((g) => ({ id: g.id, name: g.name })).sort((a, b) => a.name.localeCompare(b.name)),
      };
    },
  }),
];
