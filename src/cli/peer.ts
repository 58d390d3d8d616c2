/**
 * The peer of a client command (echo, store, find, move, get, worklist, mpps, commit):
 * `[HOST PORT]` first as with DCMTK's tools, the AE titles, and how to secure the call.
 *
 * The called AE title (--aec) is looked up in the AE registry of --data (read only;
 * nothing is created). When it is registered:
 *   - without HOST PORT (and --host/--port), its registered address is called;
 *   - it is called with TLS when its connection is marked TLS (--tls / --no-tls override),
 *     with its tlsVerifyHost setting.
 * An AE not in the registry is called at HOST PORT (default 127.0.0.1:11112), with TLS
 * when --tls (or a --tls-* file) is given. TLS trusts `<data>/tls/ca.pem` and presents
 * `<data>/tls/client.pem` unless --tls-ca / --tls-cert + --tls-key name other files.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { clientTlsOptions } from '../config/tls-client.js';
import { parseAeTitle, parsePort } from './options.js';

export interface PeerOptions {
  aet: string;
  aec: string;
  host?: string;
  port?: number;
  data: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export interface Peer {
  host: string;
  port: number;
  /** node:tls options when the call is secured. */
  tls?: ConnectionOptions;
  /** The positional arguments after HOST PORT. */
  rest: string[];
}

export function peerOptions(cmd: Command): Command {
  return cmd
    .option('--aet <title>', 'our (calling) AE title', parseAeTitle, 'PACS_CLIENT')
    .option('--aec <title>', "the peer's (called) AE title", parseAeTitle, 'PACS')
    .option('--host <host>', 'peer host (or give HOST PORT first)')
    .option('--port <port>', 'peer port', parsePort)
    .option('--data <dir>', 'data directory: its AE registry (address, TLS of --aec) and tls/ certificates', process.env.PACS_DATA_DIR ?? './data')
    .option('--tls', 'call with TLS (default: as the registry marks --aec)')
    .option('--no-tls', 'call without TLS, whatever the registry says')
    .option('--tls-ca <file>', 'trust this CA certificate (PEM) instead of <data>/tls/ca.pem; implies --tls')
    .option('--tls-cert <file>', 'present this client certificate (PEM) instead of <data>/tls/client.pem; implies --tls')
    .option('--tls-key <file>', 'the key of --tls-cert (PEM)');
}

/** `[HOST PORT]` may lead the positional arguments. */
export function splitHostPort(args: string[]): { host?: string; port?: number; rest: string[] } {
  if (args.length >= 2 && /^\d+$/.test(args[1]) && !existsSync(args[0])) return { host: args[0], port: parsePort(args[1]), rest: args.slice(2) };
  return { rest: args };
}

export async function resolvePeer(args: string[], o: PeerOptions): Promise<Peer> {
  const given = splitHostPort(args);
  const dataDir = resolve(o.data);
  // The registry (and zod, which validates it) is loaded only when there is one to read:
  // `pacs echo HOST PORT` elsewhere starts without it.
  const config = existsSync(dataDir) ? await import('../config/index.js') : undefined;
  const registry = config && (await config.readRegistryFile(dataDir));
  const ae = registry && config.findAe(registry, o.aec);
  const registered = ae?.connection.port !== undefined && given.host === undefined && o.host === undefined && o.port === undefined;
  const host = given.host ?? o.host ?? (registered ? config!.reachableHost(ae.connection.host) : '127.0.0.1');
  const port = given.port ?? o.port ?? (registered ? ae.connection.port! : 11112);
  const files = { ca: o.tlsCa, cert: o.tlsCert, key: o.tlsKey };
  const useTls = o.tls ?? (files.ca || files.cert || files.key ? true : (ae?.connection.tls ?? false));
  const tls = clientTlsOptions({ aeTitle: o.aec, connection: { host, tls: useTls, tlsVerifyHost: ae?.connection.tlsVerifyHost } }, dataDir, files);
  return { host, port, ...(tls ? { tls } : {}), rest: given.rest };
}
