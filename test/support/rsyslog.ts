/**
 * A real syslog daemon as the audit repository of a test: Debian's rsyslogd in the
 * foreground (-n) with its own configuration, receiving RFC 5424 over UDP (imudp) and over
 * TLS (imtcp with the gtls driver of rsyslog-gnutls, octet-counted framing), writing each
 * message as one line to a file. Stopped and started again to play an unreachable
 * repository.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, startProcess, waitForPort, type Peer } from './peers.js';
import { until } from './until.js';

export const RSYSLOGD = process.env.RSYSLOGD_BIN ?? '/usr/sbin/rsyslogd';

/** One message as rsyslog parsed it. */
export interface ReceivedMessage {
  pri: string;
  appName: string;
  msgId: string;
  hostname: string;
  /** MSG: the XML, without the byte order mark. */
  xml: string;
}

export interface RsyslogRepository {
  udpPort: number;
  tlsPort: number;
  output: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  messages(): Promise<ReceivedMessage[]>;
  /** Resolves with the messages once at least `n` were written. */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
}

/** `tls`: PEM files of the server certificate, its key and the CA (the project's `pacs tls init` output). */
export async function startRsyslog(o: { dir: string; tls: { ca: string; cert: string; key: string } }): Promise<RsyslogRepository> {
  await mkdir(o.dir, { recursive: true });
  const udpPort = await freePort();
  const tlsPort = await freePort();
  const output = join(o.dir, 'audit.log');
  const conf = join(o.dir, 'rsyslog.conf');
  // ' ~|~ ' separates the fields: no header field can hold a space, and the tests' XML holds no such text.
  await writeFile(
    conf,
    [
      `global(workDirectory="${o.dir}" maxMessageSize="64k"`,
      `  defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${o.tls.ca}"`,
      `  defaultNetstreamDriverCertFile="${o.tls.cert}" defaultNetstreamDriverKeyFile="${o.tls.key}")`,
      'module(load="imudp")',
      `input(type="imudp" address="127.0.0.1" port="${udpPort}")`,
      'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")',
      `input(type="imtcp" address="127.0.0.1" port="${tlsPort}")`,
      'template(name="fields" type="string" string="%pri% ~|~ %app-name% ~|~ %msgid% ~|~ %hostname% ~|~ %msg%\\n")',
      `action(type="omfile" file="${output}" template="fields")`,
      '',
    ].join('\n'),
  );
  await checkConfig(conf);
  let peer: Peer | undefined;
  let runs = 0;
  const repo: RsyslogRepository = {
    udpPort,
    tlsPort,
    output,
    async start() {
      const p = startProcess({ name: `rsyslogd-${++runs}`, command: RSYSLOGD, args: ['-n', '-f', conf, '-i', join(o.dir, 'rsyslogd.pid')], dir: o.dir });
      peer = p;
      await waitForPort(tlsPort, { peer: p });
    },
    async stop() {
      await peer?.stop();
      peer = undefined;
    },
    async messages() {
      const text = await readFile(output, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => {
          const [pri, appName, msgId, hostname, msg] = l.split(' ~|~ ');
          return { pri, appName, msgId, hostname, xml: msg.replace(/^\uFEFF/, '') };
        });
    },
    waitFor: (n, timeoutMs = 20_000) =>
      until(
        `${n} messages in ${output}`,
        async () => {
          const m = await repo.messages();
          return m.length >= n ? m : undefined;
        },
        timeoutMs,
      ),
  };
  await repo.start();
  return repo;
}

/** rsyslogd -N1: the configuration is checked before the daemon runs, so a mistake in it names itself. */
async function checkConfig(conf: string): Promise<void> {
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(RSYSLOGD, ['-N1', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('close', (code) => resolve({ code, text }));
  });
  if (out.code !== 0) throw new Error(`rsyslogd rejects ${conf}:\n${out.text}`);
}
