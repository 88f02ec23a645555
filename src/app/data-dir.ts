/**
 * The data folder: database (SQLite default), the enrollment CA, the local TLS CA and server certificate,
 * and the token secret. Private keys and secrets are written 0600 inside 0700 folders, atomically (write
 * to a temp file, then rename) so a crash never leaves half a key.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface DataPaths {
  root: string;
  enrollmentCaCert: string;
  enrollmentCaKey: string;
  tlsCaCert: string;
  tlsCaKey: string;
  tlsServerCert: string;
  tlsServerKey: string;
  tokenSecret: string;
  /** Master secret for the second factor: seals TOTP secrets at rest and signs the sign-in page's code step. */
  mfaKey: string;
}

export function dataPaths(root: string): DataPaths {
  return {
    root,
    enrollmentCaCert: path.join(root, 'ca', 'root-ca.pem'),
    enrollmentCaKey: path.join(root, 'ca', 'root-ca.key'),
    tlsCaCert: path.join(root, 'tls', 'root-ca.pem'),
    tlsCaKey: path.join(root, 'tls', 'root-ca.key'),
    tlsServerCert: path.join(root, 'tls', 'server.pem'),
    tlsServerKey: path.join(root, 'tls', 'server.key'),
    tokenSecret: path.join(root, 'secrets', 'token.key'),
    mfaKey: path.join(root, 'secrets', 'mfa.key'),
  };
}

export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
}

export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes atomically; `secret` files get mode 0600. */
export async function writeFileAtomic(file: string, content: string | Buffer, secret: boolean): Promise<void> {
  await ensureDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, content, { mode: secret ? 0o600 : 0o644 });
  await fs.rename(tmp, file);
}

/**
 * Creates a pair of files exactly once, even when two processes race (the CLI and the server starting
 * together): the key file is claimed with O_EXCL, and the loser waits for the winner's certificate.
 */
export async function loadOrCreatePair(
  certFile: string,
  keyFile: string,
  create: () => Promise<{ certPem: string; keyPem: string }>,
): Promise<{ certPem: string; keyPem: string; created: boolean }> {
  const existing = await readPair(certFile, keyFile);
  if (existing) return { ...existing, created: false };
  await ensureDir(path.dirname(keyFile));
  const lock = `${keyFile}.lock`;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(lock, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (!handle) {
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const pair = await readPair(certFile, keyFile);
      if (pair) return { ...pair, created: false };
    }
    throw new Error(`${lock} exists but no certificate appeared; remove the lock file if no other Winroll is starting`);
  }
  try {
    const pair = await create();
    await writeFileAtomic(keyFile, pair.keyPem, true);
    await writeFileAtomic(certFile, pair.certPem, false);
    return { ...pair, created: true };
  } finally {
    await handle.close();
    await fs.rm(lock, { force: true });
  }
}

async function readPair(certFile: string, keyFile: string): Promise<{ certPem: string; keyPem: string } | undefined> {
  const [certPem, keyPem] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)]);
  if (certPem && keyPem) return { certPem, keyPem };
  if (certPem || keyPem) {
    throw new Error(`only one of ${certFile} and ${keyFile} exists; restore the missing file or remove both to start a new CA`);
  }
  return undefined;
}

export async function loadOrCreateSecret(file: string, bytes = 32): Promise<Buffer> {
  const existing = await readIfExists(file);
  if (existing) return Buffer.from(existing.trim(), 'base64');
  const secret = randomBytes(bytes);
  await ensureDir(path.dirname(file));
  try {
    await fs.writeFile(file, secret.toString('base64'), { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from((await fs.readFile(file, 'utf8')).trim(), 'base64');
    throw err;
  }
}
