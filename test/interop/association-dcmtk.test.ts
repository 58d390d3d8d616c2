// Interop with DCMTK: echoscu against our acceptor, our requestor against storescp.
import { execFile, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, negotiatePresentationContexts, type Acceptor, type Association, type Pdv } from '../../src/net/index.js';
import { IMPLICIT_LE, VERIFICATION, startAcceptor } from '../net/helpers.js';

const ENV = { ...process.env, TCP_NODELAY: '1' };

/** Implicit VR little endian command set with (0000,0000) group length first. */
function commandSet(elements: [number, Buffer][]): Buffer {
  const parts = elements.map(([elem, value]) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0x0000, 0);
    h.writeUInt16LE(elem, 2);
    h.writeUInt32LE(value.length, 4);
    return Buffer.concat([h, value]);
  });
  const body = Buffer.concat(parts);
  const gl = Buffer.alloc(12);
  gl.writeUInt32LE(4, 4);
  gl.writeUInt32LE(body.length, 8);
  return Buffer.concat([gl, body]);
}
const us = (n: number) => Buffer.from([n & 0xff, n >> 8]);
const ui = (s: string) => Buffer.from(s.length % 2 ? s + '\0' : s, 'latin1');

function readUs(cmd: Buffer, elem: number): number | undefined {
  for (let p = 0; p + 8 <= cmd.length;) {
    const e = cmd.readUInt16LE(p + 2);
    const len = cmd.readUInt32LE(p + 4);
    if (e === elem) return cmd.readUInt16LE(p + 8);
    p += 8 + len;
  }
  return undefined;
}

/** Collect command PDVs until the last fragment. */
function onCommand(assoc: Association, handler: (contextId: number, cmd: Buffer) => void): void {
  let parts: Buffer[] = [];
  assoc.on('pdv', (pdvs: Pdv[]) => {
    for (const p of pdvs) {
      if (!p.isCommand) continue;
      parts.push(p.data);
      if (p.isLast) {
        handler(p.contextId, Buffer.concat(parts));
        parts = [];
      }
    }
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: ENV, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

describe('DCMTK interop', () => {
  const acceptors: Acceptor[] = [];
  afterAll(() => Promise.all(acceptors.map((a) => a.close())));

  it('echoscu associates, gets a C-ECHO-RSP and releases', async () => {
    const closed: string[] = [];
    const { acceptor, port } = await startAcceptor({
      maxPduLength: 16384,
      onAssociationRequest: (rq) => ({ accept: { contexts: negotiatePresentationContexts(rq.presentationContexts, (as) => as === VERIFICATION) } }),
      onAssociation: (assoc) => {
        assoc.on('closed', (info) => closed.push(info.reason));
        onCommand(assoc, (contextId, cmd) => {
          const rsp = commandSet([
            [0x0002, ui(VERIFICATION)],
            [0x0100, us(0x8030)],
            [0x0120, us(readUs(cmd, 0x0110) ?? 0)],
            [0x0800, us(0x0101)],
            [0x0900, us(0)],
          ]);
          void assoc.sendPdv(contextId, true, rsp, true);
        });
      },
    });
    acceptors.push(acceptor);
    const { code, out } = await run('echoscu', ['-v', '--repeat', '3', '127.0.0.1', String(port)]);
    expect(out).toMatch(/Association Accepted/);
    expect(out.match(/Received Echo Response \(Success\)/g)?.length).toBe(3);
    expect(out).toMatch(/Releasing Association/);
    expect(code).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toEqual(['released']);
  });

  it('echoscu is rejected as the callback decides', async () => {
    const { acceptor, port } = await startAcceptor({ onAssociationRequest: () => ({ reject: { result: 1, source: 1, reason: 7 } }) });
    acceptors.push(acceptor);
    const { code, out } = await run('echoscu', ['-v', '-aec', 'NOBODY', '127.0.0.1', String(port)]);
    expect(code).not.toBe(0);
    expect(out).toMatch(/Called AE Title Not Recognized/i);
  });

  it('our requestor sends a C-ECHO-RQ to storescp and releases', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const scp = spawn('storescp', ['-d', '--aetitle', 'STORESCP', String(port)], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    scp.stdout.on('data', (c: Buffer) => (log += c.toString()));
    scp.stderr.on('data', (c: Buffer) => (log += c.toString()));
    try {
      let assoc: Association | undefined;
      for (let i = 0; i < 50 && !assoc; i++) {
        assoc = await connect({
          host: '127.0.0.1',
          port,
          callingAeTitle: 'OURSCU',
          calledAeTitle: 'STORESCP',
          maxPduLength: 8192,
          presentationContexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
        }).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)));
      }
      expect(assoc).toBeDefined();
      const a = assoc!;
      expect(a.contexts.get(1)?.transferSyntax).toBe(IMPLICIT_LE);
      const rsp = new Promise<Buffer>((resolve) => onCommand(a, (_id, cmd) => resolve(cmd)));
      await a.sendPdv(
        1,
        true,
        commandSet([
          [0x0002, ui(VERIFICATION)],
          [0x0100, us(0x0030)],
          [0x0110, us(7)],
          [0x0800, us(0x0101)],
        ]),
        true,
      );
      const cmd = await rsp;
      expect(readUs(cmd, 0x0100)).toBe(0x8030);
      expect(readUs(cmd, 0x0120)).toBe(7);
      expect(readUs(cmd, 0x0900)).toBe(0);
      await a.release();
      // storescp may answer A-RELEASE-RP before its log line reaches the pipe.
      for (let i = 0; i < 100 && !/Association Release/i.test(log); i++) await new Promise((r) => setTimeout(r, 50));
      expect(log).toMatch(/Association Release/i);
    } finally {
      scp.kill();
    }
  });
});
