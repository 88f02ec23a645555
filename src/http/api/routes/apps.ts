/**
 * The app catalog: Store and MSI apps, assigned to groups as required (installed at the device's next
 * check-in) or available (installed from the Company Portal). Administrators change it; every role reads.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import type { AppWithAssignments } from '../../../core/apps/app-service.js';
import { type ApiRoute, route } from '../route.js';

const appParam = z.object({ app: z.string().min(1).max(200).describe('Id or name of the app') });
const assignmentParams = appParam.extend({ group: z.string().min(1).max(128).describe('Name of the group') });

const AppSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    publisher: z.string(),
    version: z.string(),
    kind: z.enum(['store', 'msi']),
    packageFamilyName: z.string().nullable(),
    storeProductId: z.string().nullable(),
    productCode: z.string().nullable(),
    downloadUrl: z.string().nullable(),
    sha256: z.string().nullable(),
    minWindowsBuild: z.number().int(),
    createdAt: z.string().meta({ format: 'date-time' }),
    assignments: z.array(
      z.object({
        group: z.string(),
        groupId: z.string(),
        intent: z.enum(['required', 'available']),
        assignedAt: z.string().meta({ format: 'date-time' }),
      }),
    ),
  })
  .meta({ id: 'App' });

const NewAppSchema = z
  .object({
    name: z.string().min(1).max(200),
    publisher: z.string().max(200).default(''),
    version: z.string().max(64).default(''),
    kind: z.enum(['store', 'msi']),
    packageFamilyName: z.string().max(100).optional(),
    storeProductId: z.string().max(20).optional(),
    productCode: z.string().max(40).optional(),
    downloadUrl: z.string().max(2048).optional(),
    sha256: z.string().max(64).optional(),
    minWindowsBuild: z.number().int().min(0).max(1_000_000).default(10240),
  })
  .meta({ id: 'NewApp' });

export const toApp = (a: AppWithAssignments): z.output<typeof AppSchema> => ({
  id: a.id,
  name: a.name,
  publisher: a.publisher,
  version: a.version,
  kind: a.kind,
  packageFamilyName: a.packageFamilyName ?? null,
  storeProductId: a.storeProductId ?? null,
  productCode: a.productCode ?? null,
  downloadUrl: a.downloadUrl ?? null,
  sha256: a.sha256 ?? null,
  minWindowsBuild: a.minWindowsBuild,
  createdAt: a.createdAt.toISOString(),
  assignments: a.assignments.map((x) => ({ ...x, assignedAt: x.assignedAt.toISOString() })),
});

export const appRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/apps',
    operationId: 'listApps',
    summary: 'List apps',
    description: 'Every app of the catalog, by name, with its group assignments.',
    tag: 'apps',
    access: ANY_ROLE,
    response: { status: 200, description: 'The apps.', schema: z.object({ items: z.array(AppSchema) }) },
    async handler({ deps }) {
      return { items: (await deps.apps.list()).map(toApp) };
    },
  }),
  route({
    method: 'POST',
    path: '/apps',
    operationId: 'addApp',
    summary: 'Add an app',
    description:
      'A Store app (package family name and Store product id) or an MSI (product code, https download URL, SHA-256), with the lowest Windows build it runs on. 422 with every problem when it cannot be installed as described; 409 when the name is taken.',
    tag: 'apps',
    access: ADMINISTRATOR_ONLY,
    body: NewAppSchema,
    response: { status: 201, description: 'The app.', schema: AppSchema },
    errors: [409, 422],
    async handler({ body, deps, audit }) {
      return toApp(await deps.apps.add(audit, body));
    },
  }),
  route({
    method: 'GET',
    path: '/apps/{app}',
    operationId: 'getApp',
    summary: 'An app',
    tag: 'apps',
    access: ANY_ROLE,
    params: appParam,
    response: { status: 200, description: 'The app with its assignments.', schema: AppSchema },
    async handler({ params, deps }) {
      return toApp(await deps.apps.get(params.app));
    },
  }),
  route({
    method: 'DELETE',
    path: '/apps/{app}',
    operationId: 'removeApp',
    summary: 'Remove an app',
    description: 'Removes the app and its assignments; installed copies stay on devices.',
    tag: 'apps',
    access: ADMINISTRATOR_ONLY,
    params: appParam,
    response: { status: 204, description: 'Removed.' },
    async handler({ params, deps, audit }) {
      await deps.apps.remove(audit, params.app);
      return undefined;
    },
  }),
  route({
    method: 'PUT',
    path: '/apps/{app}/assignments/{group}',
    operationId: 'assignApp',
    summary: 'Assign an app to a group',
    description:
      'Idempotent; changes the intent of an existing assignment. Required: installed on the devices of members (nested groups included) at their next check-in. Available: members install it from the Company Portal.',
    tag: 'apps',
    access: ADMINISTRATOR_ONLY,
    params: assignmentParams,
    body: z.object({ intent: z.enum(['required', 'available']) }),
    response: { status: 200, description: 'The app with its assignments.', schema: AppSchema },
    async handler({ params, body, deps, audit }) {
      return toApp(await deps.apps.assign(audit, params.app, params.group, body.intent));
    },
  }),
  route({
    method: 'DELETE',
    path: '/apps/{app}/assignments/{group}',
    operationId: 'unassignApp',
    summary: 'Remove an assignment',
    description: 'Members no longer get the app; installed copies stay.',
    tag: 'apps',
    access: ADMINISTRATOR_ONLY,
    params: assignmentParams,
    response: { status: 200, description: 'The app with its remaining assignments.', schema: AppSchema },
    async handler({ params, deps, audit }) {
      return toApp(await deps.apps.unassign(audit, params.app, params.group));
    },
  }),
];
