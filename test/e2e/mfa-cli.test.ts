/**
 * MFA for enrollment as an admin sets it up and a PC meets it: `winroll users mfa enroll|confirm|reset`
 * and `winroll mfa require|status` as real processes on the compiled build (`npm test` compiles first),
 * on the data folder of a running server; then the simulator enrolls through the code step, and a
 * password-only (OnPremise) user who must use MFA is refused with the fault that says why.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSimulatedDevice } from '../../src/simulator/device.js';
import { EnrollmentFailed, enroll } from '../../src/simulator/enroll.js';
import { type TestServer, startTestServer } from '../support/server.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/winroll.js');
const run = promisify(execFile);
const PASSWORD = 'correct horse battery';

async function winroll(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const codeFor = (secret: string, offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset });

describe('MFA from the CLI to an enrolled PC', () => {
  let t: TestServer;
  let cli: (...args: string[]) => ReturnType<typeof winroll>;
  let secret = '';

  beforeAll(async () => {
    t = (await startTestServer('sqlite')) as TestServer;
    cli = (...args) => winroll([...args, '--data-dir', t.dataDir]);
    await t.addDomain('fabrikam.com', 'Federated');
    await t.addDomain('contoso.com', 'OnPremise');
    for (const upn of ['bob@fabrikam.com', 'carol@fabrikam.com', 'alice@contoso.com']) await t.addUser(upn, PASSWORD);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const sim = (upn: string, totp?: () => Promise<string>) =>
    enroll({ server: t.base, upn, password: PASSWORD, device: newSimulatedDevice(), agent: t.agent, ...(totp ? { totp } : {}) });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as EnrollmentFailed,
    );

  it('enrolls a TOTP factor: QR code and URI once, pending until one valid code confirms it', async () => {
    const r = await cli('users', 'mfa', 'enroll', 'Bob@Fabrikam.com', '--issuer', 'Fabrikam IT');
    expect(r.code).toBe(0);
    const uri = /otpauth:\/\/totp\/\S+/.exec(r.stdout)?.[0] ?? '';
    expect(uri).toMatch(/^otpauth:\/\/totp\/Fabrikam%20IT:bob%40fabrikam\.com\?/);
    secret = new URL(uri).searchParams.get('secret') ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(r.stdout).toMatch(/[█▀▄]{10,}/); // the terminal QR code
    expect(r.stdout).toContain('winroll users mfa confirm bob@fabrikam.com <code>');

    expect((await cli('users', 'list')).stdout).toMatch(/bob@fabrikam\.com\s+yes\s+pending/);
    const wrong = await cli('users', 'mfa', 'confirm', 'bob@fabrikam.com', (await codeFor(secret)) === '000000' ? '111111' : '000000');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim()).toMatch(/^winroll: that code is not valid/);
    const ok = await cli('users', 'mfa', 'confirm', 'bob@fabrikam.com', await codeFor(secret));
    expect(ok).toMatchObject({ code: 0, stdout: 'second factor for bob@fabrikam.com is active\n' });

    const listed = JSON.parse((await cli('users', 'list', '--json')).stdout) as Array<{ upn: string; mfa: string | null }>;
    expect(listed.find((u) => u.upn === 'bob@fabrikam.com')?.mfa).toBe('active');
    expect(listed.find((u) => u.upn === 'carol@fabrikam.com')?.mfa).toBeNull();
    // The secret exists only in that one output: not in lists, logs or the database file.
    expect(JSON.stringify(listed)).not.toContain(secret);
    const db = await readFile(path.join(t.dataDir, 'winroll.db'));
    const wal = await readFile(path.join(t.dataDir, 'winroll.db-wal')).catch(() => Buffer.alloc(0));
    expect(db.includes(secret)).toBe(false);
    expect(wal.includes(secret)).toBe(false);
    expect((await stat(path.join(t.dataDir, 'secrets', 'mfa.key'))).mode & 0o077).toBe(0);
  });

  it('is off by default and says it is recommended; refuses bad requirements with one line', async () => {
    const status = await cli('mfa', 'status');
    expect(status.stdout).toContain('second factor for enrollment: off');
    expect(status.stdout).toContain('Recommended');
    for (const [args, cause] of [
      [['mfa', 'require', 'groups'], /name at least one group/],
      [['mfa', 'require', 'groups', '--group', 'nope'], /group nope does not exist/],
      [['mfa', 'require', 'sometimes'], /off, all or groups/],
      [['mfa', 'require', 'all', '--group', 'x'], /only when the second factor is required for groups/],
    ] as const) {
      const r = await cli(...args);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(cause);
    }
  });

  it('for a group: members enroll with a code (the simulator fills the step), others with the password', async () => {
    expect((await cli('groups', 'add', 'admins')).code).toBe(0);
    expect((await cli('groups', 'add-member', 'admins', 'bob@fabrikam.com')).code).toBe(0);
    const set = await cli('mfa', 'require', 'groups', '--group', 'admins');
    expect(set.stdout.trim()).toBe('second factor for enrollment: required for members of admins');

    const noCode = await failure(sim('bob@fabrikam.com'));
    expect(noCode).toBeInstanceOf(EnrollmentFailed);
    expect(noCode?.step).toBe('sign-in');
    expect(noCode?.message).toContain('asks for a one-time code');
    // The confirming code used this time step; the app's next code is the one to type.
    const r = await sim('bob@fabrikam.com', () => codeFor(secret, 30));
    expect(r.authPolicy).toBe('Federated');
    expect(r.store).toBe('User');
    expect((await sim('carol@fabrikam.com')).store).toBe('User');

    const report = JSON.parse((await cli('mfa', 'status', '--json')).stdout) as {
      required: string;
      groups: Array<{ name: string }>;
      factors: { active: number };
      usersRequired: number;
    };
    expect(report).toMatchObject({
      required: 'groups',
      groups: [{ name: 'admins' }],
      factors: { active: 1, pending: 0 },
      usersRequired: 1,
    });
  });

  it('for everyone: a user without a factor is sent to IT, and a password-only domain gets a fault saying why', async () => {
    expect((await cli('mfa', 'require', 'all')).code).toBe(0);
    const status = await cli('mfa', 'status');
    expect(status.stdout).toMatch(/cannot enroll until a factor is enrolled .*carol@fabrikam\.com/);
    expect(status.stdout).toMatch(/cannot enroll while their domain uses password sign-in .*alice@contoso\.com/);

    const carol = await failure(sim('carol@fabrikam.com'));
    expect(carol?.step).toBe('sign-in');
    expect(carol?.message).toContain('Contact your IT department');

    const alice = await failure(sim('alice@contoso.com'));
    expect(alice).toBeInstanceOf(EnrollmentFailed);
    expect(alice?.step).toBe('policy'); // GetPolicies is the first call that carries the password
    expect(alice?.faultSubcode).toMatch(/Authentication$/);
    expect(alice?.hresult).toBe(0x80180002);
    expect(alice?.message).toContain('requires web sign-in with a second factor');
    expect(t.logs.join('\n')).toContain('switch the domain to federated');
    expect(t.logs.join('\n')).not.toContain(secret);
  });

  it('off again: the password-only domain enrolls as before; reset removes the factor', async () => {
    expect((await cli('mfa', 'require', 'off')).stdout).toContain('Recommended');
    expect((await sim('alice@contoso.com')).authPolicy).toBe('OnPremise');
    const reset = await cli('users', 'mfa', 'reset', 'bob@fabrikam.com');
    expect(reset.stdout.trim()).toBe('removed the second factor of bob@fabrikam.com');
    expect((await cli('users', 'mfa', 'reset', 'bob@fabrikam.com')).stdout.trim()).toBe('bob@fabrikam.com had no second factor');
    expect((await cli('users', 'list')).stdout).toMatch(/bob@fabrikam\.com\s+yes\s+none/);
    expect((await cli('users', 'mfa', 'enroll', 'nobody@fabrikam.com')).stderr.trim()).toBe(
      'winroll: user nobody@fabrikam.com does not exist',
    );
  });
});
