/**
 * Automatic-enrollment settings: the MDM and MAM user scopes, the MDM terms-of-use, discovery and
 * compliance URLs, and whether unlicensed admins may sign in. Every change answers with the whole view.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE } from '../../../core/admin/roles.js';
import type { ScopeChange } from '../../../core/policy/policy-admin.js';
import type { ApiDeps } from '../route.js';
import { type ApiRoute, route } from '../route.js';
import { EnrollmentSettingsSchema, toEnrollmentSettings } from '../schemas.js';

const scopeInput = z.object({
  mode: z.enum(['none', 'some', 'all']),
  groups: z.array(z.string().min(1).max(128)).max(500).optional().describe("Group names, for mode 'some'; each must contain users."),
});
const urlInput = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .nullable()
  .optional();

const view = async (deps: ApiDeps) => toEnrollmentSettings(await deps.policy.enrollmentSettings(deps.webBase()));

export const settingsRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/settings/enrollment',
    operationId: 'getEnrollmentSettings',
    summary: 'Show the enrollment settings',
    description:
      'The MDM and MAM user scopes (with group names and warnings such as users in both scopes), the three MDM URLs as devices get them and as customized, whether unlicensed admins may sign in, and the license seats. Group membership is evaluated transitively.',
    tag: 'settings',
    access: ANY_ROLE,
    response: { status: 200, description: 'The settings.', schema: EnrollmentSettingsSchema },
    async handler({ deps }) {
      return view(deps);
    },
  }),
  route({
    method: 'PUT',
    path: '/settings/scopes',
    operationId: 'setScopes',
    summary: 'Set the MDM and MAM user scopes',
    description:
      'Either or both. Scope groups must contain users (groups of devices only are refused with 422). Users in both scopes get app protection (MAM), not MDM, on personal devices; `warnings` says how many.',
    tag: 'settings',
    access: ADMINISTRATOR_ONLY,
    body: z
      .object({ mdm: scopeInput.optional(), mam: scopeInput.optional() })
      .refine((b) => b.mdm !== undefined || b.mam !== undefined, { message: 'set mdm and/or mam' }),
    response: { status: 200, description: 'The settings.', schema: EnrollmentSettingsSchema },
    errors: [404, 422],
    async handler({ body, deps, audit }) {
      const change: { mdm?: ScopeChange; mam?: ScopeChange } = {};
      if (body.mdm) change.mdm = { mode: body.mdm.mode, groups: body.mdm.groups ?? [] };
      if (body.mam) change.mam = { mode: body.mam.mode, groups: body.mam.groups ?? [] };
      await deps.policy.setScopes(audit, change);
      return view(deps);
    },
  }),
  route({
    method: 'PUT',
    path: '/settings/urls',
    operationId: 'setMdmUrls',
    summary: 'Set the MDM URLs',
    description: "Any of the terms-of-use, discovery and compliance URLs (absolute http(s)); null puts one back to Winroll's own page.",
    tag: 'settings',
    access: ADMINISTRATOR_ONLY,
    body: z.object({ termsOfUse: urlInput, discovery: urlInput, compliance: urlInput }),
    response: { status: 200, description: 'The settings.', schema: EnrollmentSettingsSchema },
    errors: [422],
    async handler({ body, deps, audit }) {
      await deps.policy.setUrls(audit, {
        ...(body.termsOfUse !== undefined ? { termsOfUse: body.termsOfUse } : {}),
        ...(body.discovery !== undefined ? { discovery: body.discovery } : {}),
        ...(body.compliance !== undefined ? { compliance: body.compliance } : {}),
      });
      return view(deps);
    },
  }),
  route({
    method: 'POST',
    path: '/settings/urls/restore-defaults',
    operationId: 'restoreDefaultMdmUrls',
    summary: 'Restore the default MDM URLs',
    description: "All three URLs back to Winroll's own pages.",
    tag: 'settings',
    access: ADMINISTRATOR_ONLY,
    response: { status: 200, description: 'The settings.', schema: EnrollmentSettingsSchema },
    async handler({ deps, audit }) {
      await deps.policy.restoreDefaultUrls(audit);
      return view(deps);
    },
  }),
  route({
    method: 'PUT',
    path: '/settings/unlicensed-admins',
    operationId: 'setAllowUnlicensedAdmins',
    summary: 'Allow or refuse unlicensed admins',
    description:
      'Whether admins without a Winroll license may sign in to the console and this API. Checked at sign-in and on every request, so turning it off ends their sessions and tokens at once. Enrolling devices always needs a license. Turning it off is refused (409) while no enabled administrator holds a license.',
    tag: 'settings',
    access: ADMINISTRATOR_ONLY,
    body: z.object({ allow: z.boolean() }),
    response: { status: 200, description: 'The settings.', schema: EnrollmentSettingsSchema },
    errors: [409],
    async handler({ body, deps, audit }) {
      await deps.policy.setAllowUnlicensedAdmins(audit, body.allow);
      return view(deps);
    },
  }),
];
