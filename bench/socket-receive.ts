// What Node's socket receive path costs per 512 KB instance, apart from DICOM: a child
// process sends --count messages of --size bytes over loopback, each after a 1-byte answer
// to the previous one (as storescu waits for each C-STORE response), and this process
// receives them three ways, printing its CPU per message (process.cpuUsage), socket reads
// per message and minor page faults per message:
//   data    'data' events: Node reads into a new 64 KiB buffer each time (net.Server offers
//           nothing else for accepted sockets in Node 20; src/net/receive-buffer.ts works around it)
//   reused  `onread` into one reused 1 MiB buffer (a client socket option), consumed at once
//   fresh   `onread` into a new buffer for every read (slices of 1 MiB slabs), kept as a
//           server that writes later must keep them
//   copied  `onread` into one reused 256 KiB buffer, each read copied into 1 MiB slabs that
//           are used again (what the server does since issue 16's ninth round)
//
//   npx tsx bench/socket-receive.ts [--count 2000] [--size 524288] [--runs 3]
import { fork } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    size: { type: 'string', default: String(512 * 1024) },
    runs: { type: 'string', default: '3' },
    sender: { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
const size = Number(values.size);

type Mode = 'data' | 'reused' | 'fresh' | 'copied';

if (values.sender) {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    const message = Buffer.alloc(size, 7);
    let sent = 1;
    s.on('data', () => {
      if (sent++ < count) s.write(message);
      else s.end();
    });
    s.write(message);
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as net.AddressInfo).port));
} else {
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const mode of ['data', 'reused', 'fresh', 'copied'] as const) {
      const r = await receive(mode);
      console.log(
        `run ${run} ${mode.padEnd(6)} ${r.cpuUs.toFixed(0)} us CPU per message, ${r.reads.toFixed(1)} reads, ${r.faults.toFixed(1)} minor faults per message`,
      );
    }
  }
}

async function receive(mode: Mode): Promise<{ cpuUs: number; reads: number; faults: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--sender', '--count', String(count), '--size', String(size)], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(Number(m))));
  let pending = 0;
  let reads = 0;
  const kept: Buffer[] = [];
  let socket: net.Socket;
  const onBytes = (n: number): void => {
    reads++;
    pending += n;
    if (pending >= size) {
      pending -= size;
      socket.write('k');
    }
  };
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  await new Promise<void>((resolve) => {
    if (mode === 'data') {
      socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
      socket.on('data', (chunk: Buffer) => onBytes(chunk.length));
    } else if (mode === 'reused') {
      const buffer = Buffer.allocUnsafe(1 << 20);
      const callback = (n: number) => {
        onBytes(n);
        return true;
      };
      socket = net.connect({ port, host: '127.0.0.1', noDelay: true, onread: { buffer, callback } });
    } else if (mode === 'copied') {
      const buffer = Buffer.allocUnsafe(256 * 1024);
      const free = [Buffer.allocUnsafeSlow(1 << 20), Buffer.allocUnsafeSlow(1 << 20)];
      let slab = free.pop()!;
      let used = 0;
      const callback = (n: number) => {
        let p = 0;
        while (p < n) {
          const k = Math.min(n - p, slab.length - used);
          buffer.copy(slab, used, p, p + k);
          used += k;
          p += k;
          if (used === slab.length) {
            free.unshift(slab); // written and given back
            slab = free.pop()!;
            used = 0;
          }
        }
        onBytes(n);
        return true;
      };
      socket = net.connect({ port, host: '127.0.0.1', noDelay: true, onread: { buffer, callback } });
    } else {
      let slab = Buffer.allocUnsafeSlow(1 << 20);
      let used = 0;
      const next = () => {
        if (slab.length - used < 64 * 1024) {
          slab = Buffer.allocUnsafeSlow(1 << 20);
          used = 0;
        }
        return slab.subarray(used);
      };
      const callback = (n: number, buf: Uint8Array) => {
        used += n;
        kept.push(Buffer.from(buf.buffer, buf.byteOffset, n)); // held as a queued file write holds it
        if (kept.length > 32) kept.shift();
        onBytes(n);
        return true;
      };
      socket = net.connect({ port, host: '127.0.0.1', noDelay: true, onread: { buffer: next, callback } });
    }
    socket.on('close', () => resolve());
  });
  const cpu = process.cpuUsage(cpu0);
  const faults = process.resourceUsage().minorPageFault - faults0;
  child.kill();
  return { cpuUs: (cpu.user + cpu.system) / count, reads: reads / count, faults: faults / count };
}
