/**
 * The check-in benchmark's baseline server: bare `node:https` with Winroll's own TLS key and certificate
 * chain, asking for client certificates against the enrollment CA exactly as the management listener does
 * (requestCert, rejectUnauthorized false, the same keep-alive timeout), that reads each request body and
 * answers every POST with one fixed reply: the bytes Winroll answered for an empty session. It is what a
 * session costs with no parsing, no authentication, no storage and no SyncML work: the HTTPS floor.
 *
 *   node dist/bench/bare-https.js '<json: keyFile, certFile, clientCaFile, bodyFile, contentType>'
 *
 * Listens on 127.0.0.1 (a free port) and prints `bare-https: listening on 127.0.0.1:<port>`.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

interface Options {
  keyFile: string;
  certFile: string;
  clientCaFile: string;
  bodyFile: string;
  contentType: string;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;
const body = readFileSync(opts.bodyFile);
const headers = { 'content-type': opts.contentType, 'content-length': String(body.length) };

const server = https.createServer(
  {
    key: readFileSync(opts.keyFile, 'utf8'),
    cert: readFileSync(opts.certFile, 'utf8'),
    ca: readFileSync(opts.clientCaFile, 'utf8'),
    requestCert: true,
    rejectUnauthorized: false,
  },
  (req, res) => {
    // Read the whole request, as any real handler must, then answer.
    req.on('data', () => {});
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405, { 'content-length': '0' }).end();
        return;
      }
      res.writeHead(200, headers).end(body);
    });
  },
);
// The management listener's keep-alive (src/http/server.ts).
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`bare-https: listening on 127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
// Nothing to flush: stop at once, kept-alive client sockets included.
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
