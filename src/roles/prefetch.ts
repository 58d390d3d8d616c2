/**
 * Prefetch of priors into the Workstation Server (registry `prefetch`): before a study is
 * read, the same patient's most recent other studies are brought from the source AE (the
 * Main Server unless configured) into the Workstation, each as a job the web app lists.
 *
 * Two triggers:
 *   - a worklist step scheduled on the Main Server: found by polling the worklist for steps
 *     created since the last poll, so steps made by the REST API, the command line (another
 *     process) or HL7 are all seen;
 *   - a study arriving at the Workstation Server (after its index commit).
 * A patient is prefetched at most once per `PATIENT_QUIET_MS` (the priors it moves in
 * arrive at the Workstation too and would trigger again), and a prior already in the
 * Workstation is not moved again.
 */
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import type { WorklistEntry, WorklistStore } from '../archive/worklist-store.js';
import { serverAe, type PrefetchSettings, type Registry } from '../config/index.js';
import type { DicomJsonObject } from '../dicom/dataset-json.js';
import { Status, statusHex } from '../dicom/status.js';
import type { JobRegistry } from '../services/jobs.js';
import { remoteFind, remoteMove } from '../services/remote-qr.js';
import { targetOf } from './remote-target.js';

export const DEFAULT_PRIORS = 3;
const POLL_MS = 2000;
const PATIENT_QUIET_MS = 10 * 60_000;
/** Bounded memory: the steps and patients remembered. */
const MAX_REMEMBERED = 10_000;

export interface PrefetcherDeps {
  registry: () => Registry;
  dataDir: string;
  jobs: JobRegistry;
  logger: Logger;
  /** The Main Server's worklist (absent while the Main Server is not running). */
  worklist: () => WorklistStore | undefined;
  /** The Workstation Server's archive (absent while it is not running). */
  workstation: () => Archive | undefined;
}

/** Why a prefetch ran, for the job's label. */
export type PrefetchReason = { kind: 'worklist'; spsId: string } | { kind: 'arrival'; studyUid: string };

/** A study found at the source, as C-FIND answered it. */
interface FoundStudy {
  uid: string;
  date: string;
  time: string;
  modalities: string[];
}

const text = (m: DicomJsonObject, tag: string): string => {
  const v = m[tag]?.Value?.[0];
  return typeof v === 'string' ? v : '';
};

function foundStudy(m: DicomJsonObject): FoundStudy {
  const modalities = (m['00080061']?.Value ?? []).filter((v): v is string => typeof v === 'string');
  return { uid: text(m, '0020000D'), date: text(m, '00080020'), time: text(m, '00080030'), modalities };
}

/** The `priors` most recent studies other than `current`, with one of `modalities` when given. */
export function choosePriors(
  found: readonly FoundStudy[],
  current: string | undefined,
  settings: Pick<PrefetchSettings, 'priors' | 'modalities'>,
): FoundStudy[] {
  const wanted = settings.modalities?.length ? new Set(settings.modalities) : undefined;
  return found
    .filter((s) => s.uid && s.uid !== current && (!wanted || s.modalities.some((m) => wanted.has(m))))
    .sort((a, b) => (b.date + b.time).localeCompare(a.date + a.time) || a.uid.localeCompare(b.uid))
    .slice(0, settings.priors ?? DEFAULT_PRIORS);
}

/** Remembers keys up to a bound, oldest forgotten first. */
class Recent<V> {
  private readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > MAX_REMEMBERED) this.map.delete(this.map.keys().next().value!);
  }
}

export class Prefetcher {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Created-at of the newest step seen; steps created before the start are not prefetched for. */
  private watermark = new Date().toISOString();
  private readonly seenSteps = new Recent<true>();
  private readonly lastPrefetch = new Recent<number>();
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly deps: PrefetcherDeps) {}

  private settings(): PrefetchSettings | undefined {
    const s = this.deps.registry().prefetch;
    return s?.enabled ? s : undefined;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.running]);
  }

  /** One look at the worklist for steps scheduled since the last. */
  async poll(): Promise<void> {
    const settings = this.settings();
    const store = this.deps.worklist();
    if (this.polling || this.closed || !settings || settings.onWorklist === false || !store) return;
    this.polling = true;
    try {
      const steps = await store.scheduledSince(this.watermark);
      for (const step of steps) {
        if (step.createdAt > this.watermark) this.watermark = step.createdAt;
        if (this.seenSteps.get(step.spsId)) continue;
        this.seenSteps.set(step.spsId, true);
        this.forPatient(step.patientId, step.studyInstanceUid, { kind: 'worklist', spsId: step.spsId }, step);
      }
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'prefetch: the worklist could not be read');
    } finally {
      this.polling = false;
    }
  }

  /** A study stored in the Workstation Server (called after its commit). */
  arrived(patientId: string | null | undefined, studyUid: string): void {
    const settings = this.settings();
    if (!settings || settings.onArrival === false || !patientId) return;
    this.forPatient(patientId, studyUid, { kind: 'arrival', studyUid });
  }

  /** Starts the prefetch job of one patient, unless one ran for the patient lately. */
  private forPatient(patientId: string, current: string | undefined, reason: PrefetchReason, step?: WorklistEntry): void {
    const settings = this.settings();
    if (!settings || this.closed) return;
    const last = this.lastPrefetch.get(patientId);
    if (last !== undefined && Date.now() - last < PATIENT_QUIET_MS) return;
    this.lastPrefetch.set(patientId, Date.now());
    const reg = this.deps.registry();
    const source = settings.source ?? serverAe(reg, 'main')?.aeTitle;
    const destination = serverAe(reg, 'workstation')?.aeTitle;
    const why = reason.kind === 'worklist' ? `step ${reason.spsId}${step ? ` (${step.modality} ${step.startDate})` : ''}` : `study ${reason.studyUid} arrived`;
    if (!source || !destination) return;
    const job = this.deps.jobs.start('prefetch', `priors of patient ${patientId} from ${source} to ${destination}: ${why}`, async (c) => {
      const archive = this.deps.workstation();
      if (!archive) return { ok: false, message: 'the Workstation Server is not running' };
      const target = targetOf(reg, this.deps.dataDir, source, 'prefetch.source', 'workstation');
      const found = await remoteFind(target, 'STUDY', { PatientID: patientId });
      if (found.status !== Status.Success && found.status !== Status.Cancel) {
        return {
          ok: false,
          message: `C-FIND at ${source}: status ${statusHex(found.status)}${found.errorComment ? ` (${found.errorComment})` : ''}`,
        };
      }
      const priors = choosePriors(found.matches.map(foundStudy), current, settings);
      const missing: FoundStudy[] = [];
      for (const p of priors) if ((await archive.index.listSeries(p.uid)).length === 0) missing.push(p);
      c.setTotal(missing.length);
      let done = 0;
      let failed = 0;
      for (const p of missing) {
        try {
          const r = await remoteMove(target, destination, { studyUid: p.uid }, () => undefined);
          if (r.status === Status.Success) done++;
          else {
            failed++;
            c.fail(`C-MOVE status ${statusHex(r.status)}${r.errorComment ? ` (${r.errorComment})` : ''}`, p.uid);
          }
        } catch (err) {
          failed++;
          c.fail((err as Error).message, p.uid);
        }
        c.progress(done + failed, failed);
      }
      const have = priors.length - missing.length;
      return {
        ok: failed === 0,
        message: `${priors.length} prior(s) of ${found.matches.length} stud${found.matches.length === 1 ? 'y' : 'ies'} at ${source}: ${done} moved, ${have} already here, ${failed} failed`,
      };
    });
    this.deps.logger.info({ job: job.id, patientId, source, reason: reason.kind }, 'prefetch of priors started');
  }
}
