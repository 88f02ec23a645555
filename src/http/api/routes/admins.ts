/** Admin accounts: directory users with a role. */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { AdminSchema, roleSchema, toAdmin } from '../schemas.js';

const upnParam = z.object({ upn: z.string().min(3).max(320) });

export const adminRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/admins',
    operationId: 'listAdmins',
    summary: 'List admins',
    tag: 'admins',
    access: ANY_ROLE,
    query: pageQuery,
    response: { status: 200, description: 'A page of admins, by UPN.', schema: pageOf(AdminSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.accounts.list(), (a) => a.upn, query);
      return { items: page.items.map(toAdmin), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'PUT',
    path: '/admins/{upn}',
    operationId: 'setAdminRole',
    summary: 'Make a user an admin or change their role',
    description: 'The user must exist in the directory. Demoting the last administrator is refused (409).',
    tag: 'admins',
    access: ADMINISTRATOR_ONLY,
    params: upnParam,
    body: z.object({ role: roleSchema }),
    response: { status: 200, description: 'The admin.', schema: AdminSchema },
    errors: [409],
    async handler({ params, body, deps, audit }) {
      return toAdmin(await deps.accounts.add(audit, params.upn, body.role));
    },
  }),
  route({
    method: 'DELETE',
    path: '/admins/{upn}',
    operationId: 'removeAdmin',
    summary: 'Remove an admin',
    description: 'Ends their sessions and revokes the API tokens they created. Removing the last administrator is refused (409).',
    tag: 'admins',
    access: ADMINISTRATOR_ONLY,
    params: upnParam,
    response: { status: 204, description: 'Removed.' },
    errors: [409],
    async handler({ params, deps, audit }) {
      await deps.accounts.remove(audit, params.upn);
      return undefined;
    },
  }),
];
