/**
 * Who may enroll, the rest: device enrollment managers, corporate device identifiers, the explanation
 * of a decision (the same function the enrollment endpoints use) and the log of real enrollment attempts.
 */
import { z } from 'zod';
import { ADMINISTRATOR_ONLY, ANY_ROLE, HELPDESK_ROLES } from '../../../core/admin/roles.js';
import { decodeCursor, encodeCursor, pageOf, pageQuery, paginate } from '../pagination.js';
import { ApiProblem } from '../problem.js';
import { type ApiRoute, route } from '../route.js';
import {
  DemSchema,
  EnrollmentAttemptSchema,
  ExplanationSchema,
  IdentifierImportSchema,
  dateTimeInput,
  toDem,
  toEnrollmentAttempt,
  toExplanationOut,
} from '../schemas.js';

const upnParam = z.object({ upn: z.string().min(3).max(320).describe('UPN of the user') });
const field = z.string().max(256);
/** Attempts at the same millisecond as the cursor that a page may have to skip (insertion order). */
const SAME_INSTANT_SLACK = 200;

export const enrollmentRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/dems',
    operationId: 'listDems',
    summary: 'List device enrollment managers',
    tag: 'enrollment',
    access: ANY_ROLE,
    query: pageQuery,
    response: { status: 200, description: 'A page of device enrollment managers, by UPN.', schema: pageOf(DemSchema) },
    async handler({ query, deps }) {
      const page = paginate(await deps.reads.listDems(), (d) => d.upn, query);
      return { items: page.items.map(toDem), nextCursor: page.nextCursor };
    },
  }),
  route({
    method: 'PUT',
    path: '/dems/{upn}',
    operationId: 'addDem',
    summary: 'Make a user a device enrollment manager',
    description: 'Idempotent. Their own enrollments become shared corporate devices, up to 1,000, beyond the per-user limit.',
    tag: 'enrollment',
    access: ADMINISTRATOR_ONLY,
    params: upnParam,
    response: { status: 204, description: 'The user is a device enrollment manager.' },
    async handler({ params, deps, audit }) {
      await deps.policy.addDem(audit, params.upn);
      return undefined;
    },
  }),
  route({
    method: 'DELETE',
    path: '/dems/{upn}',
    operationId: 'removeDem',
    summary: 'Stop a user being a device enrollment manager',
    description: 'Idempotent. Devices already enrolled stay.',
    tag: 'enrollment',
    access: ADMINISTRATOR_ONLY,
    params: upnParam,
    response: { status: 204, description: 'The user is not a device enrollment manager.' },
    async handler({ params, deps, audit }) {
      await deps.policy.removeDem(audit, params.upn);
      return undefined;
    },
  }),
  route({
    method: 'POST',
    path: '/corporate-identifiers',
    operationId: 'importCorporateIdentifiers',
    summary: 'Import corporate device identifiers',
    description:
      'Manufacturer, model and serial of corporate devices (the Intune format: `manufacturer,model,serial` lines, no header), as CSV text (a text/csv body, or `csv` in JSON) or as JSON `rows`. Adds them, or with `replace` (query or body) replaces the list. Bad lines are reported and skipped; at most 5,000 per import. Devices matching one enroll as corporate.',
    tag: 'enrollment',
    access: ADMINISTRATOR_ONLY,
    csvBody: true,
    query: z.object({ replace: z.stringbool().optional().describe('Replace the list instead of adding (true/false).') }),
    body: z
      .strictObject({
        csv: z
          .string()
          .max(4 * 1024 * 1024)
          .optional(),
        rows: z
          .array(z.object({ manufacturer: field, model: field, serial: field }))
          .max(5000)
          .optional(),
        replace: z.boolean().optional(),
      })
      .refine((b) => (b.csv === undefined) !== (b.rows === undefined), { message: 'send either csv or rows' }),
    response: { status: 200, description: 'How many were imported, and the refused lines.', schema: IdentifierImportSchema },
    errors: [415, 422],
    async handler({ query, body, deps, audit }) {
      const replace = query.replace ?? body.replace ?? false;
      return deps.policy.importCorporateIdentifiers(audit, body.csv ?? body.rows ?? [], replace ? 'replace' : 'add');
    },
  }),
  route({
    method: 'POST',
    path: '/explain',
    operationId: 'explainEnrollment',
    summary: 'Explain an enrollment decision',
    description:
      'What an enrollment by this user would get now (MDM, MAM or refused), why, with which policies, and for refusals the fault the device gets. The same decision the enrollment endpoints make; changes nothing. A user-started enrollment is personal: use method bulk or automatic for corporate.',
    tag: 'enrollment',
    access: HELPDESK_ROLES,
    body: z.object({
      upn: z.string().min(3).max(320),
      ownership: z.enum(['personal', 'corporate']),
      osVersion: z
        .string()
        .regex(/^\d+(\.\d+){0,3}$/)
        .optional()
        .describe('Windows version, e.g. 10.0.22631'),
      method: z
        .enum(['user', 'automatic', 'bulk'])
        .default('user')
        .describe('user (Settings / Company Portal), automatic (directory join or work account) or bulk'),
    }),
    response: { status: 200, description: 'The decision and its reasons.', schema: ExplanationSchema },
    errors: [404, 422],
    async handler({ body, deps }) {
      return toExplanationOut(
        await deps.policy.explain(body.upn, { ownership: body.ownership, osVersion: body.osVersion, method: body.method }),
      );
    },
  }),
  route({
    method: 'GET',
    path: '/enrollment-attempts',
    operationId: 'listEnrollmentAttempts',
    summary: 'List enrollment attempts',
    description: 'Every real enrollment attempt, allowed or refused, newest first, with its explanation and the TraceId the device got.',
    tag: 'enrollment',
    access: ANY_ROLE,
    query: pageQuery.extend({
      upn: z.string().max(320).optional(),
      deviceId: z.string().max(128).optional(),
      outcome: z.enum(['mdm', 'mam', 'refused']).optional(),
      since: dateTimeInput.optional(),
    }),
    response: { status: 200, description: 'A page of attempts.', schema: pageOf(EnrollmentAttemptSchema) },
    async handler({ query, deps }) {
      const c = decodeCursor(query.cursor, ['at', 'id']);
      const cursorAt = c ? new Date(c.at) : undefined;
      if (cursorAt && Number.isNaN(cursorAt.getTime()))
        throw new ApiProblem(400, 'invalid_request', 'query.cursor: not a cursor this API returned');
      // The store pages by time only (at < before); rows at the cursor's instant come in a stable order, so
      // read from that instant on and drop up to the cursor's row.
      let rows = await deps.reads.listEnrollmentAttempts({
        limit: query.limit + 1 + (c ? SAME_INSTANT_SLACK : 0),
        ...(query.upn !== undefined ? { upn: query.upn } : {}),
        ...(query.deviceId !== undefined ? { deviceId: query.deviceId } : {}),
        ...(query.outcome !== undefined ? { outcome: query.outcome } : {}),
        ...(query.since !== undefined ? { since: new Date(query.since) } : {}),
        ...(cursorAt ? { before: new Date(cursorAt.getTime() + 1) } : {}),
      });
      if (c && cursorAt) {
        const i = rows.findIndex((r) => r.id === c.id);
        rows = i >= 0 ? rows.slice(i + 1) : rows.filter((r) => r.at.getTime() < cursorAt.getTime());
      }
      const items = rows.slice(0, query.limit);
      const last = items.at(-1);
      return {
        items: items.map(toEnrollmentAttempt),
        nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.at.toISOString(), id: last.id }) : null,
      };
    },
  }),
];
