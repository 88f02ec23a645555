/**
 * `winroll groups remove-member` as an admin runs it (the compiled build on a real data folder): the
 * counterpart of `add-member` for users and nested groups, audited as actor `cli`, and a one-line cause with
 * a non-zero exit when there is nothing to remove.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { winroll } from '../support/cli.js';

describe('winroll groups remove-member', () => {
  let dir: string;
  const cli = (...args: string[]) => winroll([...args, '--data-dir', dir]);
  /** Direct member UPNs and nested group names of a group, read from the database the CLI wrote. */
  const membersOf = async (group: string) => {
    const storage = await openStorage(`sqlite:${path.join(dir, 'winroll.db')}`);
    try {
      const g = await storage.getGroupByName(group);
      if (!g) throw new Error(`no group ${group}`);
      const ids = await storage.listGroupMembers(g.id);
      const users = (await storage.listUsers()).filter((u) => ids.includes(u.id)).map((u) => u.upn);
      const groups = (await storage.listChildGroups(g.id)).map((c) => c.name);
      return { users: users.sort(), groups };
    } finally {
      await storage.close();
    }
  };
  const oneLine = (r: { code: number; stderr: string }, cause: RegExp) => {
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(cause);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'winroll-groups-'));
    for (const args of [
      ['domains', 'add', 'contoso.com'],
      ['users', 'add', 'alice@contoso.com', '--password', 'correct horse battery'],
      ['users', 'add', 'bob@contoso.com', '--password', 'correct horse battery'],
      ['groups', 'add', 'Sales'],
      ['groups', 'add', 'All staff'],
      ['groups', 'add-member', 'Sales', 'alice@contoso.com'],
      ['groups', 'add-member', 'Sales', 'bob@contoso.com'],
      ['groups', 'add-member', 'All staff', 'Sales'],
    ]) {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes a user (UPN in any case) and leaves the other members', async () => {
    expect(await membersOf('Sales')).toEqual({ users: ['alice@contoso.com', 'bob@contoso.com'], groups: [] });
    const r = await cli('groups', 'remove-member', 'Sales', 'Alice@Contoso.com');
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'removed alice@contoso.com from Sales\n' });
    expect(await membersOf('Sales')).toEqual({ users: ['bob@contoso.com'], groups: [] });

    const json = await cli('groups', 'remove-member', 'Sales', 'bob@contoso.com', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, kind: 'user' });
    expect(await membersOf('Sales')).toEqual({ users: [], groups: [] });
  });

  it('un-nests a group given by name, as add-member nests it', async () => {
    expect((await membersOf('All staff')).groups).toEqual(['Sales']);
    const r = await cli('groups', 'remove-member', 'All staff', 'Sales');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('un-nested group Sales from All staff; its members no longer count as members of All staff\n');
    expect((await membersOf('All staff')).groups).toEqual([]);
  });

  it('refuses with a one-line cause: unknown group, unknown user, not a member, not nested', async () => {
    oneLine(await cli('groups', 'remove-member', 'Nope', 'alice@contoso.com'), /^winroll: no group named "Nope"$/);
    oneLine(await cli('groups', 'remove-member', 'Sales', 'nobody@contoso.com'), /^winroll: no user nobody@contoso\.com$/);
    oneLine(
      await cli('groups', 'remove-member', 'Sales', 'alice@contoso.com'),
      /^winroll: alice@contoso\.com is not a direct member of Sales$/,
    );
    oneLine(await cli('groups', 'remove-member', 'All staff', 'Sales'), /^winroll: group Sales is not nested in All staff$/);
    oneLine(await cli('groups', 'remove-member', 'Sales', 'Ghosts'), /^winroll: no group named "Ghosts"$/);
    oneLine(await cli('groups', 'remove-member', 'Sales', 'not-a-upn@'), /not a user principal name/);

    // A member only through a nested group is told so: removing them here would change nothing.
    for (const args of [
      ['groups', 'add-member', 'Sales', 'alice@contoso.com'],
      ['groups', 'add-member', 'All staff', 'Sales'],
    ]) {
      expect((await cli(...args)).code).toBe(0);
    }
    oneLine(
      await cli('groups', 'remove-member', 'All staff', 'alice@contoso.com'),
      /^winroll: alice@contoso\.com is not a direct member of All staff \(only through a nested group\)$/,
    );
  });

  it('audits each removal as actor cli, and nothing for a refused one', async () => {
    const storage = await openStorage(`sqlite:${path.join(dir, 'winroll.db')}`);
    try {
      const entries = await storage.listAudit({ actor: 'cli', limit: 100 });
      const removals = entries
        .filter((e) => e.action === 'group.remove_member' || e.action === 'group.remove_group')
        .map((e) => ({ action: e.action, target: e.targetId, outcome: e.outcome, after: e.after }));
      expect(removals).toEqual(
        expect.arrayContaining([
          { action: 'group.remove_member', target: 'Sales', outcome: 'succeeded', after: { removed: 'alice@contoso.com' } },
          { action: 'group.remove_member', target: 'Sales', outcome: 'succeeded', after: { removed: 'bob@contoso.com' } },
          { action: 'group.remove_group', target: 'All staff', outcome: 'succeeded', after: { removed: 'Sales' } },
        ]),
      );
      expect(removals).toHaveLength(3);
    } finally {
      await storage.close();
    }
  });
});
