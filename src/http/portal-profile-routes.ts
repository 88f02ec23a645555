/**
 * Available profiles in the Company Portal API (core/portal/portal-profiles.ts): the list with each
 * profile's state on the device, and Install. Registered by portal-api.ts inside its scope, so the
 * portal's session cookie, CSRF check, problem+json errors and trace ids apply unchanged.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { PortalProfiles } from '../core/portal/portal-profiles.js';
import type { PortalUser } from '../core/portal/portal-service.js';
import { validationProblem } from './api/problem.js';
import { traceIdOf } from './api/route.js';

const DeviceParams = z.object({ deviceId: z.string().min(1).max(128) });
const ProfileParams = DeviceParams.extend({ name: z.string().min(1).max(128) });

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw validationProblem(r.error, 'params');
  return r.data;
}

/** `user` is portal-api.ts's: the signed-in end user, with the CSRF token checked on POST. */
export async function portalProfileRoutes(
  app: FastifyInstance,
  profiles: PortalProfiles,
  user: (req: FastifyRequest) => Promise<PortalUser>,
): Promise<void> {
  app.get('/devices/:deviceId/profiles', async (req, reply) => {
    const u = await user(req);
    const { deviceId } = parse(DeviceParams, req.params);
    return reply.code(200).send(await profiles.list(u, deviceId));
  });

  app.post('/devices/:deviceId/profiles/:name/install', async (req, reply) => {
    const u = await user(req);
    const { deviceId, name } = parse(ProfileParams, req.params);
    const r = await profiles.install(u, deviceId, name, traceIdOf(req));
    req.log.info(
      { traceId: traceIdOf(req), upn: u.upn, deviceId, profile: r.name, state: r.state },
      'profile install requested from the portal',
    );
    return reply.code(202).send(r);
  });
}
