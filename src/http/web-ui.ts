/**
 * The browser apps: the admin console at /admin/ and the Company Portal at /portal/, built by Vite into
 * dist/web/<app>/. Hashed assets are cached for a year; index.html is never cached and answers every other
 * path under the app (the apps route in the browser), so deep links and reloads work. Every response carries
 * a Content-Security-Policy that allows only this origin: no CDNs, fonts or inline scripts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const WEB_APPS = ['admin', 'portal'] as const;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** dist/web, found from both the compiled server (dist/src/http) and the sources run by the tests (src/http). */
export function defaultWebRoot(): string {
  const candidates = [new URL('../../web/', import.meta.url), new URL('../../dist/web/', import.meta.url)].map((u) => fileURLToPath(u));
  // From src/http (tests), ../../web/ is the Vite sources: only a folder with built assets counts.
  return candidates.find((dir) => existsSync(`${dir}admin/index.html`) && existsSync(`${dir}admin/assets`)) ?? (candidates[1] as string);
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY');
}

const NOT_BUILT = (app: string) =>
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not built</title></head><body><main><h1>The ${app} is not built</h1><p>Run <code>npm run build</code> (or <code>npm ci</code>, which builds it) and restart the server.</p></main></body></html>`;

export async function webUiRoutes(app: FastifyInstance, opts: { root?: string | undefined }): Promise<void> {
  const root = opts.root ?? defaultWebRoot();
  for (const name of WEB_APPS) {
    const dir = `${root.replace(/\/$/, '')}/${name}`;
    const built = existsSync(`${dir}/index.html`);
    await app.register(
      async (scope) => {
        scope.addHook('onSend', async (_req, reply, payload) => {
          securityHeaders(reply);
          return payload;
        });
        const sendIndex = (reply: FastifyReply) => {
          if (!built)
            return reply
              .code(503)
              .type('text/html; charset=utf-8')
              .send(NOT_BUILT(name === 'admin' ? 'admin console' : 'Company Portal'));
          return reply.header('cache-control', 'no-cache').sendFile('index.html', dir, { cacheControl: false });
        };
        if (built) {
          await scope.register(fastifyStatic, {
            root: dir,
            prefix: '/',
            index: false,
            wildcard: true,
            cacheControl: false,
            setHeaders(res, path) {
              // Vite names built assets by content hash: they never change, so browsers may keep them.
              if (path.includes('/assets/')) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
              else res.setHeader('cache-control', 'no-cache');
            },
          });
        }
        scope.get('/', async (_req, reply) => sendIndex(reply));
        scope.setNotFoundHandler(async (req, reply) => {
          // A missing asset (or an API path of the app) is a real 404; any other path is a page of the app.
          if (req.method !== 'GET' && req.method !== 'HEAD') return reply.code(404).type('text/plain').send('not found');
          const path = req.url.split('?')[0] ?? '';
          if (path.includes('/assets/') || path.startsWith(`/${name}/api/`)) return reply.code(404).type('text/plain').send('not found');
          return sendIndex(reply);
        });
      },
      { prefix: `/${name}` },
    );
  }
}
