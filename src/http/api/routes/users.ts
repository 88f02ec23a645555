/** Directory users (people who sign in and enroll). Passwords go in, never out. */
import { z } from 'zod';
import { userView } from '../../../core/admin/operations.js';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import { NotFoundError } from '../../../shared/errors.js';
import { pageOf, pageQuery, paginate } from '../pagination.js';
import { type ApiRoute, route } from '../route.js';
import { UserImportSchema, UserSchema, toUser } from '../schemas.js';

const userParam = z.object({ user: z.string().min(1).max(320).describe('UPN or user id') });

export const userRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/users',
    operationId: 'listUsers',
    summary: 'List users',
    tag: 'users',
    access: ANY_ROLE,
    query: pageQuery,
    response: { status: 200, description: 'A page of users, by UPN.', schema: pageOf(UserSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.directory.listUsers(), (u) => u.upn, query);
      return { items: page.items.map((u) => toUser(userView(u))), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'GET',
    path: '/users/{user}',
    operationId: 'getUser',
    summary: 'Show a user',
    tag: 'users',
    access: ANY_ROLE,
    params: userParam,
    response: { status: 200, description: 'The user.', schema: UserSchema },
    async handler({ params, deps }) {
      const u = params.user.includes('@') ? await deps.directory.findUser(params.user) : await deps.directory.getUserById(params.user);
      if (!u) throw new NotFoundError(`no user ${params.user}`);
      return toUser(userView(u));
    },
  }),
  route({
    method: 'POST',
    path: '/users',
    operationId: 'addUser',
    summary: 'Add a user',
    description: "The UPN's domain must be configured. The password (at least 8 characters) is stored as a scrypt hash.",
    tag: 'users',
    access: ADMINISTRATOR_ONLY,
    body: z.object({
      upn: z.string().min(3).max(320),
      password: z.string().min(1).max(1024),
      displayName: z.string().max(256).nullable().optional(),
    }),
    response: { status: 201, description: 'The user.', schema: UserSchema },
    errors: [404, 409, 422],
    async handler({ body, deps, audit }) {
      return toUser(await deps.operations.addUser(audit, body));
    },
  }),
  route({
    method: 'PATCH',
    path: '/users/{user}',
    operationId: 'setUserEnabled',
    summary: 'Enable or disable a user',
    description: 'A disabled user cannot sign in or enroll; enrolled devices stay enrolled.',
    tag: 'users',
    access: ADMINISTRATOR_ONLY,
    params: userParam,
    body: z.object({ enabled: z.boolean() }),
    response: { status: 200, description: 'The user.', schema: UserSchema },
    async handler({ params, body, deps, audit }) {
      let upn = params.user;
      if (!upn.includes('@')) {
        const u = await deps.directory.getUserById(upn);
        if (!u) throw new NotFoundError(`no user ${params.user}`);
        upn = u.upn;
      }
      return toUser(await deps.operations.setUserEnabled(audit, upn, body.enabled));
    },
  }),
  route({
    method: 'POST',
    path: '/users/import',
    operationId: 'importUsers',
    summary: 'Import users from CSV',
    description:
      'Header `upn,password[,displayName][,groups][,license]` (groups separated by `;`, license yes/no), as a text/csv body or `csv` in JSON. Each row stands alone: bad rows are reported (1-based line numbers, header = 1) and the rest imported.',
    tag: 'users',
    access: ADMINISTRATOR_ONLY,
    csvBody: true,
    body: z.strictObject({
      csv: z
        .string()
        .min(1)
        .max(4 * 1024 * 1024),
    }),
    response: { status: 200, description: 'How many users were added, and the refused rows.', schema: UserImportSchema },
    errors: [415, 422],
    async handler({ body, deps, audit }) {
      return deps.policy.importUsers(audit, body.csv);
    },
  }),
];
