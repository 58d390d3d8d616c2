/**
 * Example add-in: a webhook. Once a study is stable (no new instance of it for
 * `stableSeconds`), POSTs a JSON summary of what arrived to `url`.
 *
 * Registry entry:
 *   { "module": "/path/to/plugins/webhook/index.ts",
 *     "options": { "url": "https://ris.example.org/hooks/pacs", "stableSeconds": 60,
 *                  "roles": ["main"], "attempts": 3, "requestTimeoutSeconds": 10 } }
 *
 * What a summary holds: the study's identifiers and patient, and per series what arrived
 * since the last notification of that study (a study that receives more later is notified
 * again, with the new instances). Pending studies live in memory: a restart forgets the ones
 * not yet notified. At most MAX_PENDING studies wait; beyond, the oldest is notified early.
 * GET /api/plugins/webhook (read access) shows what waits and what was sent.
 */
import type { PluginHost, PluginModule, StoredInstance } from '../../src/roles/plugin-api.js';

const MAX_PENDING = 10_000;
const ROLES = ['main', 'workstation', 'router'] as const;
type Role = (typeof ROLES)[number];

interface Options {
  url: string;
  stableSeconds: number;
  roles: Role[];
  attempts: number;
  requestTimeoutSeconds: number;
}

/** The options, checked: a clear message naming the field, else they are used as given. */
export function parseOptions(o: Readonly<Record<string, unknown>>): Options {
  const num = (field: string, dflt: number, min: number, max: number): number => {
    const v = o[field] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new Error(`options.${field} must be a number from ${min} to ${max}`);
    return v;
  };
  let url: URL;
  try {
    url = new URL(String(o.url));
  } catch {
    throw new Error('options.url must be an http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('options.url must be an http or https URL');
  const roles = o.roles ?? ['main'];
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => (ROLES as readonly unknown[]).includes(r)))
    throw new Error(`options.roles must be a non-empty list of ${ROLES.join(', ')}`);
  return {
    url: url.href,
    stableSeconds: num('stableSeconds', 60, 0.1, 86_400),
    roles: roles as Role[],
    attempts: Math.floor(num('attempts', 3, 1, 20)),
    requestTimeoutSeconds: num('requestTimeoutSeconds', 10, 0.1, 600),
  };
}

interface SeriesState {
  seriesInstanceUid: string;
  modality: string | null;
  seriesNumber: number | null;
  instances: number;
}

interface StudyState {
  studyInstanceUid: string;
  patientId: string | null;
  patientName: string | null;
  studyDate: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  roles: Set<string>;
  callingAeTitles: Set<string>;
  series: Map<string, SeriesState>;
  instances: number;
  bytes: number;
  firstReceivedAt: string;
  lastReceivedAt: string;
  timer?: NodeJS.Timeout;
}

/** The JSON body POSTed for a stable study (docs/plugins.md). */
export interface StudyStableNotification {
  event: 'study.stable';
  studyInstanceUid: string;
  patientId: string | null;
  patientName: string | null;
  studyDate: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  modalities: string[];
  numberOfSeries: number;
  numberOfInstances: number;
  totalBytes: number;
  roles: string[];
  callingAeTitles: string[];
  firstReceivedAt: string;
  lastReceivedAt: string;
  stableSeconds: number;
  series: { seriesInstanceUid: string; modality: string | null; seriesNumber: number | null; numberOfInstances: number }[];
}

function summary(s: StudyState, stableSeconds: number): StudyStableNotification {
  const series = [...s.series.values()].map((x) => ({
    seriesInstanceUid: x.seriesInstanceUid,
    modality: x.modality,
    seriesNumber: x.seriesNumber,
    numberOfInstances: x.instances,
  }));
  return {
    event: 'study.stable',
    studyInstanceUid: s.studyInstanceUid,
    patientId: s.patientId,
    patientName: s.patientName,
    studyDate: s.studyDate,
    accessionNumber: s.accessionNumber,
    studyDescription: s.studyDescription,
    modalities: [...new Set(series.map((x) => x.modality).filter((m): m is string => m !== null))].sort(),
    numberOfSeries: series.length,
    numberOfInstances: s.instances,
    totalBytes: s.bytes,
    roles: [...s.roles].sort(),
    callingAeTitles: [...s.callingAeTitles].sort(),
    firstReceivedAt: s.firstReceivedAt,
    lastReceivedAt: s.lastReceivedAt,
    stableSeconds,
    series,
  };
}

const plugin: PluginModule = {
  apiVersion: 1,
  name: 'webhook',
  create(host: PluginHost, options) {
    const o = parseOptions(options);
    const pending = new Map<string, StudyState>();
    const sent = { notifications: 0, failures: 0, lastError: undefined as string | undefined, lastSentAt: undefined as string | undefined };
    let closed = false;
    const inFlight = new Set<Promise<void>>();

    const post = async (body: StudyStableNotification): Promise<void> => {
      const json = JSON.stringify(body);
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await fetch(o.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: json,
            signal: AbortSignal.timeout(o.requestTimeoutSeconds * 1000),
          });
          await res.body?.cancel();
          if (!res.ok) throw new Error(`${o.url} answered ${res.status}`);
          sent.notifications++;
          sent.lastSentAt = new Date().toISOString();
          host.log.info({ study: body.studyInstanceUid, instances: body.numberOfInstances }, 'study notified');
          return;
        } catch (err) {
          const message = (err as Error).message;
          if (attempt >= o.attempts || closed) {
            sent.failures++;
            sent.lastError = message;
            host.log.error({ study: body.studyInstanceUid, err: message, attempts: attempt }, 'study notification not delivered');
            return;
          }
          await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** (attempt - 1))));
        }
      }
    };

    const fire = (uid: string): void => {
      const s = pending.get(uid);
      if (!s) return;
      clearTimeout(s.timer);
      pending.delete(uid);
      const p = post(summary(s, o.stableSeconds));
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };

    host.onInstanceStored(
      (inst: StoredInstance) => {
        if (closed) return;
        let s = pending.get(inst.studyInstanceUid);
        if (!s) {
          if (pending.size >= MAX_PENDING) fire(pending.keys().next().value!);
          s = {
            studyInstanceUid: inst.studyInstanceUid,
            patientId: inst.patientId,
            patientName: inst.patientName,
            studyDate: inst.studyDate,
            accessionNumber: inst.accessionNumber,
            studyDescription: inst.studyDescription,
            roles: new Set(),
            callingAeTitles: new Set(),
            series: new Map(),
            instances: 0,
            bytes: 0,
            firstReceivedAt: inst.receivedAt,
            lastReceivedAt: inst.receivedAt,
          };
          pending.set(inst.studyInstanceUid, s);
        }
        s.roles.add(inst.role);
        s.callingAeTitles.add(inst.callingAeTitle);
        const series = s.series.get(inst.seriesInstanceUid) ?? {
          seriesInstanceUid: inst.seriesInstanceUid,
          modality: inst.modality,
          seriesNumber: inst.seriesNumber,
          instances: 0,
        };
        series.instances++;
        s.series.set(inst.seriesInstanceUid, series);
        s.instances++;
        s.bytes += inst.fileSize;
        s.lastReceivedAt = inst.receivedAt;
        // Stable = quiet for stableSeconds: every new instance starts the wait again.
        clearTimeout(s.timer);
        const uid = inst.studyInstanceUid;
        s.timer = setTimeout(() => fire(uid), o.stableSeconds * 1000);
      },
      { roles: o.roles },
    );

    host.routes.add({
      method: 'GET',
      path: '',
      access: 'read',
      handler: () => ({
        url: o.url,
        stableSeconds: o.stableSeconds,
        pending: [...pending.values()].map((s) => ({ studyInstanceUid: s.studyInstanceUid, instances: s.instances, lastReceivedAt: s.lastReceivedAt })),
        ...sent,
      }),
    });

    return {
      async close() {
        closed = true;
        for (const s of pending.values()) clearTimeout(s.timer);
        pending.clear();
        await Promise.allSettled([...inFlight]);
      },
    };
  },
};

export default plugin;
