/**
 * Directory sync's parts over one storage (server and CLI alike): the SCIM service and the Entra Graph
 * sync, whose client secrets are sealed with `<data>/secrets/directory-sync.key` (its own key, so
 * replacing the MFA key does not lose them, and the reverse).
 */
import https from 'node:https';
import path from 'node:path';
import { EntraSync } from '../core/directory-sync/entra-sync.js';
import { ScimService } from '../core/directory-sync/scim-service.js';
import { SecretBox } from '../core/mfa/secret-box.js';
import type { Storage } from '../core/ports.js';
import { GraphTokenProvider, connectGraph } from '../graph/graph-client.js';
import type { Clock } from '../shared/clock.js';
import { loadOrCreateSecret } from './data-dir.js';

export interface DirectorySync {
  scim: ScimService;
  entra: EntraSync;
}

export function directorySyncKeyPath(dataDir: string): string {
  return path.join(dataDir, 'secrets', 'directory-sync.key');
}

export async function buildDirectorySync(deps: { storage: Storage; clock: Clock; dataDir: string }): Promise<DirectorySync> {
  const box = new SecretBox(await loadOrCreateSecret(directorySyncKeyPath(deps.dataDir)));
  return {
    scim: new ScimService({ storage: deps.storage, clock: deps.clock }),
    entra: new EntraSync({ storage: deps.storage, connect: connectGraph, box, clock: deps.clock }),
  };
}

/**
 * App-only Graph access per tenant for other Graph writers (compliance write-back), from the tenant's
 * sync connection (`winroll entra connect --graph-url --client-secret-file --graph-ca-file`): a cached
 * token provider per tenant and the `https.Agent` it uses (trusting the connection's CA when it has one),
 * so writes reach Graph exactly as the sync and the token requests do; the Graph URL with its version
 * (`https://graph.microsoft.com/v1.0`) and without it (`https://graph.microsoft.com`).
 */
export function graphAccess(entra: EntraSync): {
  getToken(tenantId: string): Promise<string>;
  agent(tenantId: string): Promise<https.Agent>;
  graphUrl(tenantId: string): Promise<string>;
  graphBase(tenantId: string): Promise<string>;
} {
  const tenants = new Map<string, { key: string; agent: https.Agent; provider: GraphTokenProvider }>();
  const forTenant = async (tenantId: string) => {
    const conn = await entra.connection(tenantId);
    // Rebuilt when the connection changes (new secret, URL or CA), else the cached token and agent are reused.
    const key = JSON.stringify([conn.clientId, conn.clientSecret, conn.tokenUrl, conn.graphUrl, conn.caPem]);
    let hit = tenants.get(conn.tenantId);
    if (!hit || hit.key !== key) {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 2, ...(conn.caPem ? { ca: conn.caPem } : {}) });
      hit = { key, agent, provider: new GraphTokenProvider(conn, agent) };
      tenants.set(conn.tenantId, hit);
    }
    return { conn, ...hit };
  };
  return {
    async getToken(tenantId) {
      return (await forTenant(tenantId)).provider.token();
    },
    async agent(tenantId) {
      return (await forTenant(tenantId)).agent;
    },
    async graphUrl(tenantId) {
      return (await forTenant(tenantId)).conn.graphUrl;
    },
    async graphBase(tenantId) {
      const conn = await entra.connection(tenantId);
      return conn.graphUrl.replace(/\/(v1\.0|beta)$/i, '');
    },
  };
}
