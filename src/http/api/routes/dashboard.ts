/** The admin console's dashboard: device totals and the last 24 hours of enrollment attempts, by hour. */
import { z } from 'zod';
import { ANY_ROLE } from '../../../core/admin/roles.js';
import { type ApiRoute, route } from '../route.js';

const DAY_MS = 86_400_000;

const DashboardSchema = z.object({
  generatedAt: z.string().describe('The server time the counts were taken (ISO 8601).'),
  devices: z
    .object({
      total: z.number().int().describe('Enrolled devices (MDM and MAM).'),
      corporate: z.number().int(),
      personal: z.number().int(),
      mdm: z.number().int().describe('Enrolled in device management.'),
      mam: z.number().int().describe('Registered for app protection only.'),
      unenrolled: z.number().int().describe('Records kept after unenrollment or retirement.'),
    })
    .describe('Device records by ownership and management mode.'),
  last24h: z.object({
    enrolled: z.number().int().describe('Allowed enrollment attempts (MDM or MAM).'),
    failed: z.number().int().describe('Refused enrollment attempts; the enrollment attempts log explains each.'),
    byHour: z
      .array(
        z.object({ hour: z.string().describe('Start of the hour (UTC, ISO 8601).'), enrolled: z.number().int(), failed: z.number().int() }),
      )
      .describe('Oldest first, one entry per hour (25 entries: the current hour is partial).'),
  }),
});

export const dashboardRoutes: ApiRoute[] = [
  route({
    method: 'GET',
    path: '/dashboard',
    operationId: 'getDashboard',
    summary: 'Dashboard counts',
    description: 'Devices by ownership and management mode, and enrollments and refusals of the last 24 hours by hour.',
    tag: 'devices',
    access: ANY_ROLE,
    response: { status: 200, description: 'The counts.', schema: DashboardSchema },
    async handler({ deps }) {
      const now = deps.operations.now();
      const counts = await deps.reads.dashboardCounts(new Date(now.getTime() - DAY_MS), now);
      const byHour = counts.attemptsByHour;
      return {
        generatedAt: now.toISOString(),
        devices: counts.devices,
        last24h: {
          enrolled: byHour.reduce((n, b) => n + b.enrolled, 0),
          failed: byHour.reduce((n, b) => n + b.failed, 0),
          byHour,
        },
      };
    },
  }),
];
