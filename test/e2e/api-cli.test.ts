/**
 * `winroll admins add|list|remove` as an admin runs them (the compiled build, a real data folder), and
 * the audit entries the CLI's own change commands leave (actor `cli`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/sql/sql-storage.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/winroll.js');
const run = promisify(execFile);

async function winroll(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('winroll admins', () => {
  let dir: string;
  const data = () => ['--data-dir', dir];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'winroll-admins-'));
    expect((await winroll(['domains', 'add', 'contoso.com', ...data()])).code).toBe(0);
    expect((await winroll(['users', 'add', 'boss@contoso.com', '--password', 'correct horse battery', ...data()])).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds, lists and removes admins, with --json and one-line errors', async () => {
    const added = await winroll(['admins', 'add', 'Boss@Contoso.com', '--role', 'helpdesk', '--json', ...data()]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ upn: 'boss@contoso.com', role: 'helpdesk', enabled: true });
    const promoted = await winroll(['admins', 'add', 'boss@contoso.com', '--role', 'administrator', ...data()]);
    expect(promoted.stdout).toContain('boss@contoso.com is now an administrator');

    const list = await winroll(['admins', 'list', '--json', ...data()]);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ upn: 'boss@contoso.com', role: 'administrator' })]);
    expect((await winroll(['admins', 'list', ...data()])).stdout).toMatch(/boss@contoso\.com\s+administrator\s+yes/);

    const unknown = await winroll(['admins', 'add', 'nobody@contoso.com', '--role', 'readonly', ...data()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^winroll: no user nobody@contoso\.com/)]);
    const badRole = await winroll(['admins', 'add', 'boss@contoso.com', '--role', 'root', ...data()]);
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toContain('administrator, helpdesk, readonly');

    const removed = await winroll(['admins', 'remove', 'boss@contoso.com', '--json', ...data()]);
    expect(JSON.parse(removed.stdout)).toEqual({ upn: 'boss@contoso.com', removed: true });
    const again = await winroll(['admins', 'remove', 'boss@contoso.com', ...data()]);
    expect(again.stderr.trim()).toBe('winroll: boss@contoso.com is not an admin');
  });

  it("audits the CLI's changes as actor cli", async () => {
    expect((await winroll(['groups', 'add', 'Engineering', ...data()])).code).toBe(0);
    expect((await winroll(['domains', 'set', 'contoso.com', '--auth-policy', 'federated', ...data()])).code).toBe(0);
    const storage = await openStorage(`sqlite:${path.join(dir, 'winroll.db')}`);
    try {
      const entries = await storage.listAudit({ actor: 'cli', limit: 50 });
      const seen = entries.map((e) => `${e.action} ${e.targetId} ${e.outcome}`);
      expect(seen).toEqual(
        expect.arrayContaining([
          'domain.add contoso.com succeeded',
          'user.add boss@contoso.com succeeded',
          'admin.add boss@contoso.com succeeded',
          'admin.set_role boss@contoso.com succeeded',
          'admin.remove boss@contoso.com succeeded',
          'group.add Engineering succeeded',
          'domain.set_auth_policy contoso.com succeeded',
        ]),
      );
      const policy = entries.find((e) => e.action === 'domain.set_auth_policy');
      expect(policy).toMatchObject({
        actorName: 'cli',
        before: { authPolicy: 'OnPremise' },
        after: { authPolicy: 'Federated' },
        traceId: null,
      });
      expect(JSON.stringify(entries)).not.toContain('correct horse battery');
    } finally {
      await storage.close();
    }
  });
});
