/** Service-user commands: echo, store. */
import type { Command } from 'commander';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { cEcho } from '../dimse/scu.js';
import { connect } from '../net/index.js';
import { parsePositiveInt } from './options.js';
import { peerOptions, resolvePeer, type PeerOptions } from './peer.js';
import { COMMANDS } from './commands.js';

const VERIFICATION = '1.2.840.10008.1.1';

export function registerClientCommands(program: Command): void {
  peerOptions(program.command('echo').description(COMMANDS.echo).argument('[peer...]', 'HOST PORT'))
    .option('--repeat <n>', 'number of C-ECHOs', parsePositiveInt, 1)
    .action(async (args: string[], o: PeerOptions & { repeat: number }) => {
      const { host, port, tls, rest } = await resolvePeer(args, o);
      if (rest.length) throw new Error(`unexpected arguments: ${rest.join(' ')}`);
      const started = performance.now();
      const assoc = await connect({
        host,
        port,
        tls,
        callingAeTitle: o.aet,
        calledAeTitle: o.aec,
        presentationContexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] }],
      });
      const conn = new DimseConnection(assoc);
      try {
        for (let i = 0; i < o.repeat; i++) await cEcho(conn);
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
      const ms = performance.now() - started;
      process.stdout.write(`C-ECHO ${o.aec}@${host}:${port}${tls ? ' (TLS)' : ''}: success (${ms.toFixed(1)} ms)\n`);
    });

  peerOptions(program.command('store').description(COMMANDS.store).argument('<paths...>'))
    .option('-j, --parallel <n>', 'parallel associations', parsePositiveInt, 1)
    .action(async (args: string[], o: PeerOptions & { parallel: number }) => {
      const { host, port, tls, rest } = await resolvePeer(args, o);
      if (rest.length === 0) throw new Error('no files or folders given');
      // Loaded here, not at the top: `pacs echo` does not need the dataset code.
      const [{ expandPaths, inspectFiles, storeFiles }, { progress }] = await Promise.all([import('../services/storage-scu.js'), import('./progress.js')]);
      const { files, skipped } = await inspectFiles(await expandPaths(rest));
      for (const s of skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
      if (files.length === 0) throw new Error('no DICOM Part 10 files to send');
      const bar = progress(`C-STORE to ${o.aec}`, files.length);
      const started = performance.now();
      const summary = await storeFiles({ host, port, tls, callingAeTitle: o.aet, calledAeTitle: o.aec }, files, {
        parallel: o.parallel,
        onProgress: (p) => bar.tick(p.ok),
      });
      bar.stop();
      const s = (performance.now() - started) / 1000;
      reportFailures(summary.failed);
      process.stdout.write(
        `stored ${summary.sent} of ${files.length} files (${(summary.bytes / 1e6).toFixed(1)} MB) in ${s.toFixed(2)} s, ${summary.failed.length} failed, ${skipped.length} skipped\n`,
      );
      if (summary.failed.length) process.exitCode = 1;
    });
}

/** One line per failed file, but a reason shared by many files (a refused connection) is said once. */
function reportFailures(failed: { path: string; error: string }[], perReason = 5): void {
  const byReason = new Map<string, string[]>();
  for (const f of failed) byReason.set(f.error, [...(byReason.get(f.error) ?? []), f.path]);
  for (const [reason, paths] of byReason) {
    for (const p of paths.slice(0, perReason)) process.stderr.write(`failed ${p}: ${reason}\n`);
    if (paths.length > perReason) process.stderr.write(`failed ${paths.length - perReason} more files: ${reason}\n`);
  }
}
