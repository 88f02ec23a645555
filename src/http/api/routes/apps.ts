/**
 * The app catalog: Store and MSI apps, assigned to groups as required (installed at the device's next
 * check-in), available (installed from the Company Portal) or uninstall (removed at the next check-in).
 * Administrators change it and retry failed installs on a device; every role reads, per device too.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import type { AppWithAssignments, DeviceApp } from '../../../core/apps/app-service.js';
import { type ApiRoute, route } from '../route.js';

const appParam = z.object({ app: z.string().min(1).max(200).describe('Id or name of the app') });
const assignmentParams = appParam.extend({ group: z.string().min(1).max(128).describe('Name of the group') });
const deviceParam = z.object({ deviceId: z.string().min(1).max(128).describe('The DeviceID Windows reported') });
const deviceAppParams = deviceParam.extend({ app: z.string().min(1).max(200).describe('Id or name of the app') });
const INTENT = z.enum(['required', 'available', 'uninstall']);
const STATE = z.enum([
  'not_installed',
  'queued',
  'sent',
  'installing',
  'installed',
  'failed',
  'uninstall_queued',
  'uninstall_sent',
  'uninstalled',
  'uninstall_failed',
]);

const DeviceAppSchema = z
  .object({
    appId: z.string(),
    name: z.string().nullable().describe('Null when the app was deleted from the catalog'),
    kind: z.enum(['store', 'msi']).nullable(),
    intent: INTENT.nullable().describe(
      "The strongest intent of the assignments reaching the device's user (required > uninstall > available)",
    ),
    groups: z.array(z.object({ group: z.string(), intent: INTENT })).describe('Why it applies: each assignment reaching the user'),
    state: STATE,
    installedBy: z.enum(['required', 'user']).nullable().describe('Why the newest install was sent: an assignment or the Company Portal'),
    attempts: z.number().int().describe('Installs sent since the app was last removed'),
    maxAutomaticAttempts: z.number().int(),
    lastStatus: z
      .object({ code: z.number().int(), meaning: z.string() })
      .nullable()
      .describe("The device's status code of the newest command"),
    result: z
      .object({ code: z.number().int().nullable(), meaning: z.string() })
      .nullable()
      .describe('What the device reported when a background install (MSI alert, or Status/LastError) finished; null until then'),
    nextRetryAt: z.string().meta({ format: 'date-time' }).nullable().describe('When a failed required install is sent again automatically'),
    queuedAt: z.string().meta({ format: 'date-time' }).nullable(),
    updatedAt: z.string().meta({ format: 'date-time' }).nullable(),
  })
  .meta({ id: 'DeviceApp' });

const toDeviceApp = (a: DeviceApp): z.output<typeof DeviceAppSchema> => ({
  ...a,
  nextRetryAt: a.nextRetryAt?.toISOString() ?? null,
  queuedAt: a.queuedAt?.toISOString() ?? null,
  updatedAt: a.updatedAt?.toISOString() ?? null,
});

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
        intent: INTENT,
        assignedAt: z.string().meta({ format: 'date-time' }),
      }),
    ),
    installs: z
      .object({ installed: z.number().int(), failed: z.number().int(), pending: z.number().int() })
      .describe(
        "Devices by the app's install state (each device's newest command for the app; pending includes installs accepted and still installing)",
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
  installs: a.installs,
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
    description:
      'Removes the app and its assignments. Devices where Winroll installed it because it was required get its removal at their next check-in; copies users installed from the Company Portal stay.',
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
      'Idempotent; changes the intent of an existing assignment. Required: installed on the devices of members (nested groups included) at their next check-in, a failed install retried automatically (3 attempts at most, 1 hour then 8 hours apart). Available: members install it from the Company Portal. Uninstall: removed from the devices of members at their next check-in (required in another group wins; uninstall wins over available).',
    tag: 'apps',
    access: ADMINISTRATOR_ONLY,
    params: assignmentParams,
    body: z.object({ intent: INTENT }),
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
    description:
      'Members no longer get the app. Where Winroll installed it because of a required assignment and nothing requires it any more, it is removed at the next check-in; copies users installed from the Company Portal stay.',
    tag: 'apps',
    access: ADMINISTRATOR_ONLY,
    params: assignmentParams,
    response: { status: 200, description: 'The app with its remaining assignments.', schema: AppSchema },
    async handler({ params, deps, audit }) {
      return toApp(await deps.apps.unassign(audit, params.app, params.group));
    },
  }),
  route({
    method: 'GET',
    path: '/devices/{deviceId}/apps',
    operationId: 'listDeviceApps',
    summary: "A device's apps",
    description:
      "Apps assigned to the device's user (primary user, else the enrolling one) and apps Winroll sent to the device: why each applies (its groups and intents), its state, the device's last status code with its meaning, attempts and when a failed required install is retried.",
    tag: 'apps',
    access: ANY_ROLE,
    params: deviceParam,
    response: { status: 200, description: 'The apps.', schema: z.object({ items: z.array(DeviceAppSchema) }) },
    async handler({ params, deps }) {
      return { items: (await deps.apps.deviceApps(params.deviceId)).map(toDeviceApp) };
    },
  }),
  route({
    method: 'POST',
    path: '/devices/{deviceId}/apps/{app}/retry',
    operationId: 'retryDeviceApp',
    summary: 'Retry a failed install',
    description:
      'Sends a failed install (or a failed removal) again at the next check-in, for the same reason as before. One more attempt beyond the automatic ones. 409 with the state when the app has not failed on this device.',
    tag: 'apps',
    access: ADMINISTRATOR_ONLY,
    params: deviceAppParams,
    response: { status: 202, description: 'Queued; the app as the device now has it.', schema: DeviceAppSchema },
    errors: [409],
    async handler({ params, deps, audit }) {
      return toDeviceApp(await deps.apps.retry(audit, params.deviceId, params.app));
    },
  }),
];
