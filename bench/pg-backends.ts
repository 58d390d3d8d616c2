// The PostgreSQL server processes (backends) that serve given client processes, so that a
// bench can add the database's CPU time to a server's: each backend's client_port in
// pg_stat_activity is matched with the local ports of the TCP sockets the clients hold
// (/proc/<pid>/fd -> socket inodes -> /proc/net/tcp{,6}). Linux, PostgreSQL on this
// machine and reached over TCP (a Unix socket has no port to match).
import * as fs from 'node:fs';
import pg from 'pg';

/** Inodes of the sockets the processes hold open. */
function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/** Local ports of the TCP sockets (IPv4 and IPv6) with these inodes connected to remotePort. */
function localPorts(inodes: Set<string>, remotePort: number): Set<number> {
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length > 9 && inodes.has(f[9]) && parseInt(f[2].split(':')[1], 16) === remotePort) ports.add(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** Pids of the backends whose client is one of these processes (or their threads: fds are per process). */
export async function backendsOf(databaseUrl: string, clientPids: number[]): Promise<number[]> {
  const ports = localPorts(socketInodes(clientPids), Number(new URL(databaseUrl).port || 5432));
  if (ports.size === 0) return [];
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND client_addr IS NOT NULL AND pid <> pg_backend_pid()`,
      [[...ports]],
    );
    return r.rows.map((row) => Number(row.pid));
  } finally {
    await c.end();
  }
}
