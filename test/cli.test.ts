/**
 * The `winroll` command as an admin runs it: a real process on the compiled build (`npm test` compiles
 * first), a real data folder, the server started with `serve`, and domains added while it runs.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../src/pki/authority.js';
import { createRootCa } from '../src/pki/ca.js';
import { withPostgresDatabase } from './support/databases.js';

const BIN = path.resolve(import.meta.dirname, '../bin/winroll.js');
const run = promisify(execFile);

async function winroll(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts `winroll serve` and resolves once it printed its listening line. */
function serve(args: string[]): Promise<{ proc: ChildProcess; port: number; output: () => string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [
      BIN,
      'serve',
      '--port',
      '0',
      '--management-port',
      '0',
      '--listen',
      '127.0.0.1',
      '--log-level',
      'warn',
      ...args,
    ]);
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /listening on https:\/\/localhost:(\d+)/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]), output: () => out });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000);
  });
}

/** The names the server's TLS certificate presents for a given SNI host name. */
function tlsAltNames(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => {
      resolve(s.getPeerCertificate().subjectaltname ?? '');
      s.end();
    });
    s.on('error', reject);
  });
}

describe('winroll CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'winroll-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prepares a fresh data folder from the first command, before any serve', async () => {
    const added = await winroll(['domains', 'add', 'Contoso.COM', '--data-dir', dir]);
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toContain('added domain contoso.com (OnPremise)');
    const listed = await winroll(['domains', 'list', '--json', '--data-dir', dir]);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: 'contoso.com', authPolicy: 'OnPremise' }]);
    const user = await winroll([
      'users',
      'add',
      'Alice@contoso.com',
      '--password',
      'correct horse',
      '--display-name',
      'Alice Smith',
      '--json',
      '--data-dir',
      dir,
    ]);
    expect(JSON.parse(user.stdout)).toMatchObject({ upn: 'alice@contoso.com', displayName: 'Alice Smith', enabled: true });
    expect(user.stdout).not.toContain('scrypt');
    // Enrolling needs a license.
    const lic = await winroll(['licenses', 'assign', 'alice@contoso.com', '--data-dir', dir]);
    expect(lic.stdout).toContain('assigned a license to alice@contoso.com');
    const users = await winroll(['users', 'list', '--data-dir', dir]);
    expect(users.stdout).toMatch(/alice@contoso\.com\s+Alice Smith\s+yes/);
  });

  it.each([
    [['users', 'add', 'bob@nowhere.example', '--password', 'long enough pw'], /domain nowhere\.example is not configured/],
    [['users', 'add', 'carol@contoso.com', '--password', 'short'], /at least 8 characters/],
    [['users', 'add', 'not-an-upn', '--password', 'long enough pw'], /not a user principal name/],
    [['domains', 'add', 'contoso.com'], /already exists/],
    [['domains', 'add', 'not a domain'], /not a valid domain name/],
    [['domains', 'add', 'example.org', '--auth-policy', 'kerberos'], /--auth-policy must be onpremise or federated/],
    [['serve', '--port', 'abc'], /invalid port/],
    [['devices', 'list', '--database-url', 'postgres://winroll:s3cret-pw@127.0.0.1:1/nothing'], /storage|connect|ECONNREFUSED/i],
  ])('%j fails with one line naming the cause', async (args, cause) => {
    const r = await winroll([...args, '--data-dir', dir]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^winroll: /);
    expect(lines[0]).toMatch(cause);
    expect(r.stderr).not.toContain('s3cret-pw');
  });

  it('serves, picks up a domain added while running (TLS names too), and enrolls a simulated PC', async () => {
    const { proc, port, output } = await serve(['--data-dir', dir]);
    try {
      const ca = await readFile(path.join(dir, 'tls', 'root-ca.pem'), 'utf8');
      expect(output()).toContain(`listening on https://localhost:${port}`);
      expect(await tlsAltNames(port, 'enterpriseenrollment.contoso.com', ca)).toContain('DNS:enterpriseenrollment.contoso.com');
      // Private keys are for the server's eyes only.
      for (const key of ['ca/root-ca.key', 'tls/root-ca.key', 'tls/server.key', 'secrets/token.key', 'winroll.db']) {
        expect((await stat(path.join(dir, key))).mode & 0o077).toBe(0);
      }

      expect((await winroll(['domains', 'add', 'fabrikam.com', '--auth-policy', 'federated', '--data-dir', dir])).code).toBe(0);
      expect((await winroll(['users', 'add', 'dan@fabrikam.com', '--password', 'correct horse', '--data-dir', dir])).code).toBe(0);
      expect((await winroll(['licenses', 'assign', 'dan@fabrikam.com', '--data-dir', dir])).code).toBe(0);
      let names = '';
      for (let i = 0; i < 50 && !names.includes('fabrikam'); i++) {
        await new Promise((r) => setTimeout(r, 200));
        names = await tlsAltNames(port, 'enterpriseenrollment.fabrikam.com', ca).catch(() => '');
      }
      expect(names).toContain('DNS:enterpriseenrollment.fabrikam.com');

      const sim = await winroll([
        'simulate',
        '--upn',
        'dan@fabrikam.com',
        '--password',
        'correct horse',
        '--server',
        `https://enterpriseenrollment.fabrikam.com:${port}`,
        '--connect-to',
        '127.0.0.1',
        '--devices',
        '2',
        '--enrollment-type',
        'device',
        '--json',
        '--data-dir',
        dir,
      ]);
      expect(sim.code).toBe(0);
      const results = JSON.parse(sim.stdout) as Array<{ ok: boolean; authPolicy: string; store: string }>;
      expect(results).toHaveLength(2);
      expect(results.every((r) => r.ok && r.authPolicy === 'Federated' && r.store === 'My/System')).toBe(true);

      const bad = await winroll([
        'simulate',
        '--upn',
        'dan@fabrikam.com',
        '--password',
        'wrong password',
        '--server',
        `https://localhost:${port}`,
        '--data-dir',
        dir,
      ]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.trim()).toMatch(/^winroll: 1 of 1 enrollments failed; first: sign-in: sign-in refused/);

      const devices = JSON.parse((await winroll(['devices', 'list', '--json', '--data-dir', dir])).stdout) as Array<{
        upn: string;
        enrollmentType: string;
      }>;
      expect(devices).toHaveLength(2);
      expect(devices.every((d) => d.upn === 'dan@fabrikam.com' && d.enrollmentType === 'Device')).toBe(true);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('manages devices: groups, a YAML profile, simulate --checkin, actions and show', async () => {
    const { proc, port } = await serve(['--data-dir', dir]);
    try {
      expect((await winroll(['groups', 'add', 'engineering', '--data-dir', dir])).code).toBe(0);
      expect((await winroll(['groups', 'add-member', 'engineering', 'alice@contoso.com', '--data-dir', dir])).code).toBe(0);
      const file = path.join(dir, 'lockdown.yaml');
      await writeFile(
        file,
        'name: Lockdown\nscope: device\nsettings:\n  - path: Vendor/MSFT/Policy/Config/Camera/AllowCamera\n    format: int\n    value: 0\n',
      );
      expect((await winroll(['profiles', 'add', file, '--data-dir', dir])).stdout).toContain(
        'saved profile Lockdown (device, 1 settings, version 1)',
      );
      await writeFile(
        path.join(dir, 'bad.json'),
        '{"name":"Bad","scope":"device","settings":[{"path":"/etc/passwd","format":"int","value":"x"}]}',
      );
      const bad = await winroll(['profiles', 'add', path.join(dir, 'bad.json'), '--data-dir', dir]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.trim()).toMatch(/^winroll: setting 1: path .* is not a CSP path/);

      const sim = await winroll([
        'simulate',
        '--upn',
        'alice@contoso.com',
        '--password',
        'correct horse',
        '--server',
        `https://localhost:${port}`,
        '--checkin',
        '--sessions',
        '2',
        '--json',
        '--data-dir',
        dir,
      ]);
      expect(sim.code).toBe(0);
      const [managed] = JSON.parse(sim.stdout) as Array<{ deviceId: string; sessions: number; commandsReceived: number }>;
      expect(managed).toMatchObject({ sessions: 2 });
      // Inventory on first contact, and the group's profile once the assignment exists.
      expect(managed?.commandsReceived).toBeGreaterThanOrEqual(5);
      const id = managed?.deviceId ?? '';
      const assigned = await winroll(['profiles', 'assign', 'Lockdown', '--group', 'engineering', '--data-dir', dir]);
      expect(assigned.stdout).toMatch(/assigned Lockdown; [1-9]\d* commands queued/);

      const restart = await winroll(['devices', 'action', id, 'restart', '--data-dir', dir]);
      expect(restart.stdout).toContain(`queued restart for ${id}`);
      expect(restart.stdout).toContain('push (WNS) is not configured');
      const rename = await winroll(['devices', 'action', id, 'rename', 'LAB-1', '--data-dir', dir]);
      expect(rename.code).not.toBe(0);
      expect(rename.stderr.trim()).toBe('winroll: only corporate-owned devices can be renamed remotely');
      // An admin corrects the ownership; then the rename is accepted.
      expect((await winroll(['devices', 'ownership', id, 'corporate', '--data-dir', dir])).stdout).toContain(`${id} is now corporate`);
      expect((await winroll(['devices', 'action', id, 'rename', 'LAB-1', '--data-dir', dir])).stdout).toContain(`queued rename for ${id}`);

      const shown = await winroll(['devices', 'show', id, '--data-dir', dir]);
      expect(shown.stdout).toContain('ownership     corporate');
      expect(shown.stdout).toMatch(/action restart\s+Exec \.\/Device\/Vendor\/MSFT\/Reboot\/RebootNow\s+queued/);
      expect(shown.stdout).toMatch(/profile\s+Add \.\/Device\/Vendor\/MSFT\/Policy\/Config\/Camera\/AllowCamera\s+queued/);
      expect(shown.stdout).toMatch(/OS\s+Windows 11 Pro 10\.0\.26100\.4061/);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('decides who may enroll: licenses, scopes, restrictions, explain, import', async () => {
    const own = await mkdtemp(path.join(tmpdir(), 'winroll-cli-policy-'));
    const run = (...args: string[]) => winroll([...args, '--data-dir', own]);
    expect((await run('domains', 'add', 'contoso.com')).code).toBe(0);
    expect((await run('groups', 'add', 'engineering')).code).toBe(0);
    expect((await run('groups', 'add', 'empty')).code).toBe(0);
    const noUsers = await run('scope', 'set', '--mdm', 'some', '--mdm-group', 'empty');
    expect(noUsers.stderr.trim()).toBe(
      'winroll: group "empty" contains no users; the MDM user scope must be a group of users (devices do not count)',
    );

    const csv = path.join(own, 'users.csv');
    await writeFile(
      csv,
      'upn,password,displayName,groups,license\nfrank@contoso.com,frank password,Frank,engineering,yes\nbad-row,x,,,\ngina@contoso.com,gina password,Gina,,no\n',
    );
    const imported = await run('users', 'import', csv, '--json');
    expect(JSON.parse(imported.stdout)).toMatchObject({ added: 2, errors: [{ row: 3 }] });

    const gina = JSON.parse((await run('explain', 'gina@contoso.com', '--json')).stdout);
    expect(gina).toMatchObject({ outcome: 'refused', errorType: 'UserLicense', ownership: 'personal' });
    expect((await run('restrictions', 'add', 'platform', 'Windows 11 only', '--min-os', '10.0.22000')).code).toBe(0);
    expect((await run('restrictions', 'assign', 'platform', 'Windows 11 only', '--group', 'engineering')).code).toBe(0);
    const frank = JSON.parse((await run('explain', 'frank@contoso.com', '--os-version', '10.0.19045', '--json')).stdout);
    expect(frank).toMatchObject({ outcome: 'refused', errorType: 'DeviceNotSupported', policies: { platform: 'Windows 11 only' } });
    expect(frank.reasons.at(-1)).toContain('older than 10.0.22000');
    const human = await run('explain', 'frank@contoso.com', '--os-version', '10.0.26100');
    expect(human.stdout).toContain('frank@contoso.com: MDM enrollment, personal');

    const scope = await run('scope', 'set', '--mdm', 'all', '--mam', 'some', '--mam-group', 'engineering');
    expect(scope.stdout).toMatch(/WARNING: .* in both the MDM and the MAM scope/);
    const auto = JSON.parse(
      (await run('explain', 'frank@contoso.com', '--method', 'automatic', '--os-version', '10.0.26100', '--json')).stdout,
    );
    expect(auto.outcome).toBe('mam');
    expect((await run('restrictions', 'list')).stdout).toMatch(/platform\s+1\s+Windows 11 only\s+Windows MDM allow, min 10\.0\.22000/);
    expect((await run('settings', 'show')).stdout).toMatch(
      /MDM discovery URL\s+https:\/\/localhost:8443\/EnrollmentServer\/Discovery\.svc \(default\)/,
    );
    await rm(own, { recursive: true, force: true });
  });

  it('serves an admin-supplied TLS certificate instead of making its own', async () => {
    const adminDir = await mkdtemp(path.join(tmpdir(), 'winroll-cli-tls-'));
    try {
      const now = new Date();
      const root = await createRootCa({ commonName: 'Contoso Public-ish CA', validityYears: 1, now, keyBits: 2048 });
      const leaf = await new CertificateAuthority(root).issueServerCertificate({
        dnsNames: ['localhost', 'enterpriseenrollment.contoso.com'],
        notBefore: now,
        notAfter: new Date(now.getTime() + 86400_000),
      });
      await writeFile(path.join(adminDir, 'cert.pem'), leaf.certPem);
      await writeFile(path.join(adminDir, 'key.pem'), leaf.keyPem as string, { mode: 0o600 });
      const { proc, port, output } = await serve([
        '--data-dir',
        adminDir,
        '--tls-cert',
        path.join(adminDir, 'cert.pem'),
        '--tls-key',
        path.join(adminDir, 'key.pem'),
      ]);
      try {
        expect(await tlsAltNames(port, 'localhost', root.certPem)).toBe('DNS:localhost, DNS:enterpriseenrollment.contoso.com');
        expect(output()).not.toContain('must trust the TLS root');
      } finally {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      const half = await winroll(['serve', '--data-dir', adminDir, '--tls-cert', path.join(adminDir, 'cert.pem')]);
      expect(half.stderr.trim()).toBe('winroll: --tls-cert and --tls-key must be given together');
    } finally {
      await rm(adminDir, { recursive: true, force: true });
    }
  });

  it('runs on PostgreSQL when given a database URL', async (ctx) => {
    const db = await withPostgresDatabase();
    if (!db) return ctx.skip();
    const pgDir = await mkdtemp(path.join(tmpdir(), 'winroll-cli-pg-'));
    try {
      const env = { WINROLL_DATABASE_URL: db.url };
      expect((await winroll(['domains', 'add', 'contoso.com', '--data-dir', pgDir], env)).code).toBe(0);
      expect((await winroll(['users', 'add', 'alice@contoso.com', '--password', 'correct horse', '--data-dir', pgDir], env)).code).toBe(0);
      expect((await winroll(['licenses', 'assign', 'alice@contoso.com', '--data-dir', pgDir], env)).code).toBe(0);
      const { proc, port } = await serve(['--data-dir', pgDir, '--database-url', db.url]);
      try {
        const sim = await winroll([
          'simulate',
          '--upn',
          'alice@contoso.com',
          '--password',
          'correct horse',
          '--server',
          `https://localhost:${port}`,
          '--data-dir',
          pgDir,
        ]);
        expect(sim.code).toBe(0);
        const devices = JSON.parse((await winroll(['devices', 'list', '--json', '--data-dir', pgDir], env)).stdout) as unknown[];
        expect(devices).toHaveLength(1);
      } finally {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
    } finally {
      await db.drop();
      await rm(pgDir, { recursive: true, force: true });
    }
  });
});
