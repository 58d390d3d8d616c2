/**
 * The size cap of the Workstation Server's archive (`limits.workstation.maxBytes`): the
 * Workstation is a cache of what is being read (the Main Server keeps the archive), so when
 * its stored files exceed the cap the studies received or viewed longest ago are deleted,
 * one whole study at a time, until it is under again. A study received or read in the last
 * `inUseSeconds` counts as being received or open in a viewer and is kept (then the archive
 * may stay over the cap until the next check, which says so in the server log).
 *
 * When it checks: after stores (only once the bytes stored since the last measure could
 * take it over the cap), when the registry changes, and every minute (the measure is one
 * SUM over the index; deletes through the web app are counted there). Each clean-up is one
 * `delete` event in the activity log (role workstation, the studies deleted) and one line
 * in the server log.
 *
 * When a study was last viewed is kept in memory (a restart forgets it; then what counts
 * is when it was received).
 */
import type { Logger } from 'pino';
import type { WorkstationUsage } from '../api-types/index.js';
import type { Archive } from '../archive/archive.js';
import { archiveUsage, studyUsage, type StudyUsage } from '../archive/study-usage.js';
import type { ActivityRecorder } from '../services/activity-log.js';

export interface WorkstationCapOptions {
  archive: Archive;
  /** limits.workstation, read at every check. */
  limits: () => { maxBytes: number; inUseSeconds: number };
  activity?: ActivityRecorder;
  logger: Logger;
  /** Time source (ms), for ordering and the in-use window. */
  now?: () => number;
  /** Period of the background check; default 60 s. */
  checkIntervalMs?: number;
}

/** What one clean-up did. */
export interface CapCleanUp {
  maxBytes: number;
  bytesBefore: number;
  bytesAfter: number;
  deleted: StudyUsage[];
  /** Studies that would have gone next but were in use (received or read within inUseSeconds). */
  keptInUse: number;
}

/** How many studies' last use is remembered (a flood of reads of unknown UIDs cannot grow it further). */
const MAX_REMEMBERED = 100_000;
/** After a store, the check waits this long so a burst of stores leads to one. */
const AFTER_STORE_DELAY_MS = 1000;

const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;

export class WorkstationCap {
  /** Study UID -> ms of its last store or read, in order of use (the Map's order: oldest first). */
  private readonly lastUse = new Map<string, number>();
  /** Bytes measured at the last check plus those stored since. */
  private estimate = 0;
  private running?: Promise<CapCleanUp | undefined>;
  private timer?: NodeJS.Timeout;
  private readonly interval: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly opts: WorkstationCapOptions) {
    this.now = opts.now ?? Date.now;
    this.unsubscribe = opts.archive.onStored((r) => {
      this.use(r.studyInstanceUid);
      this.estimate += r.fileSize;
      if (this.estimate > opts.limits().maxBytes) this.schedule(AFTER_STORE_DELAY_MS);
    });
    this.interval = setInterval(() => this.schedule(0), opts.checkIntervalMs ?? 60_000);
    this.interval.unref();
    this.schedule(0);
  }

  /** A study was read (the viewer, DICOMweb): it is in use now. */
  opened(studyUid: string): void {
    this.use(studyUid);
  }

  /** Checks soon (coalesced with a check already due or running). */
  schedule(delayMs = 0): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check().catch((err: Error) => this.opts.logger.error({ err: err.message }, 'workstation clean-up failed'));
    }, delayMs);
    this.timer.unref();
  }

  /** The archive's bytes against the cap, measured now. */
  async usage(): Promise<WorkstationUsage> {
    const u = await archiveUsage(this.opts.archive.index);
    return { ...u, maxBytes: this.opts.limits().maxBytes };
  }

  /** Measures now and cleans up when over the cap; resolves with what it did (undefined: under the cap). One at a time. */
  async check(): Promise<CapCleanUp | undefined> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.cleanUp();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.interval);
    this.unsubscribe();
    await this.running?.catch(() => undefined);
  }

  private use(studyUid: string): void {
    this.lastUse.delete(studyUid);
    this.lastUse.set(studyUid, this.now());
    if (this.lastUse.size > MAX_REMEMBERED) this.lastUse.delete(this.lastUse.keys().next().value!);
  }

  private async cleanUp(): Promise<CapCleanUp | undefined> {
    const { archive, logger } = this.opts;
    const { maxBytes, inUseSeconds } = this.opts.limits();
    const before = (await archiveUsage(archive.index)).bytes;
    this.estimate = before;
    if (before <= maxBytes || this.closed) return undefined;

    const now = this.now();
    const studies = (await studyUsage(archive.index))
      .map((s) => ({ s, used: Math.max(Date.parse(s.lastReceivedAt) || 0, this.lastUse.get(s.studyInstanceUid) ?? 0) }))
      .sort((a, b) => a.used - b.used);
    let bytes = before;
    let keptInUse = 0;
    const deleted: StudyUsage[] = [];
    const patientIds = new Set<string>();
    for (const { s, used } of studies) {
      if (bytes <= maxBytes || this.closed) break;
      if (now - used < inUseSeconds * 1000) {
        keptInUse++;
        continue;
      }
      const patientId = await this.patientOf(s.studyInstanceUid);
      const freed = await this.deleteStudy(s.studyInstanceUid);
      if (freed === 0) continue;
      bytes -= freed;
      deleted.push({ ...s, bytes: freed });
      if (patientId) patientIds.add(patientId);
      this.lastUse.delete(s.studyInstanceUid);
    }
    const after = (await archiveUsage(archive.index)).bytes;
    this.estimate = after;
    const result: CapCleanUp = { maxBytes, bytesBefore: before, bytesAfter: after, deleted, keptInUse };
    const freed = deleted.reduce((n, d) => n + d.bytes, 0);
    const still = after > maxBytes ? `; still over the cap: ${keptInUse} stud(ies) in use kept` : '';
    const message = `Workstation clean-up: ${mib(before)} over the cap of ${mib(maxBytes)}, deleted ${deleted.length} stud(ies) received or viewed longest ago (${mib(freed)}), now ${mib(after)}${still}`;
    logger[after > maxBytes ? 'warn' : 'info'](
      { maxBytes, bytesBefore: before, bytesAfter: after, deleted: deleted.map((d) => d.studyInstanceUid), keptInUse },
      message,
    );
    if (deleted.length)
      this.opts.activity?.record({
        kind: 'delete',
        outcome: 'success',
        role: 'workstation',
        message,
        target: 'limits.workstation.maxBytes',
        studyUids: deleted.map((d) => d.studyInstanceUid),
        patientIds: [...patientIds],
      });
    return result;
  }

  /** Deletes every instance of a study; returns the bytes freed. */
  private async deleteStudy(studyUid: string): Promise<number> {
    const { archive } = this.opts;
    let freed = 0;
    for (const se of await archive.index.listSeries(studyUid)) {
      for (const i of await archive.index.listInstances(se.seriesInstanceUid)) {
        if (await archive.deleteInstance(i.sopInstanceUid)) freed += i.fileSize;
      }
    }
    return freed;
  }

  /** The study's Patient ID (from one of its instances), for the activity log's patient filter. */
  private async patientOf(studyUid: string): Promise<string | undefined> {
    const index = this.opts.archive.index;
    const series = await index.listSeries(studyUid);
    const first = series[0] && (await index.listInstances(series[0].seriesInstanceUid))[0];
    const row = first && (await index.getInstance(first.sopInstanceUid));
    if (!row) return undefined;
    try {
      const v = (JSON.parse(row.json) as Record<string, { Value?: unknown[] }>)['00100020']?.Value?.[0];
      return typeof v === 'string' && v !== '' ? v : undefined;
    } catch {
      return undefined;
    }
  }
}
