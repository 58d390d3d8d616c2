/**
 * The administrators' hanging protocols for the 2D viewer, kept in
 * `<data>/hanging-protocols.json` (written atomically under a lock, like users.json), or
 * with several nodes on PostgreSQL in its `shared_documents` table, and their REST API:
 *   GET /api/hanging-protocols   {protocols: [...]} (any logged-in user: the viewer reads them)
 *   PUT /api/hanging-protocols   {protocols: [...]}: replaces them (admins)  200
 * A body that is not a valid list is refused with 422 naming the first bad field, as the
 * rest of the API refuses a bad field (ConfigValidationError, problem.ts). The
 * viewer tries these before its built-in protocols (ui/src/viewer/hanging.ts), which is
 * also where the patterns are matched: here they are only checked for length and
 * characters (the matcher is linear, so no pattern can make it slow).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { VIEWER_MAX_COLS, VIEWER_MAX_ROWS, type HangingProtocol, type HangingProtocolsBody } from '../api-types/web.js';
import { ConfigValidationError, parseOrThrow, withFileLock, writeFileAtomic } from '../config/index.js';
import type { SharedDocuments } from '../archive/shared-documents.js';
import type { ActivityRecorder } from '../services/activity-log.js';
import { webAction } from './activity-api.js';
import { errorHandler } from './problem.js';
import { access } from './route-access.js';

export const HANGING_PROTOCOLS_FILE = 'hanging-protocols.json';
/** Their row in `shared_documents` when several nodes share PostgreSQL. */
const DOCUMENT = 'hanging-protocols';
export const MAX_PROTOCOLS = 50;
const MAX_PATTERN = 128;

const pattern = z
  .string()
  .min(1, 'a pattern is not empty (leave the field out to match anything)')
  .max(MAX_PATTERN, `a pattern has at most ${MAX_PATTERN} characters`)
  .refine((s) => ![...s].some((c) => c < ' ' || c === '\u007f'), 'a pattern has no control characters');

const seriesMatch = z.strictObject({
  description: pattern.optional(),
  modality: pattern.optional(),
  bodyPart: pattern.optional(),
  excludeDescription: pattern.optional(),
});

const viewport = z.strictObject({
  study: z.enum(['current', 'prior'], "study is 'current' or 'prior'").optional(),
  series: seriesMatch.optional(),
  sameAsViewport: z.number().int('sameAsViewport is a viewport number (0-based)').min(0, 'sameAsViewport is a viewport number (0-based)').optional(),
});

const protocol = z.strictObject({
  name: z.string().trim().min(1, 'a protocol needs a name').max(64, 'a protocol name has at most 64 characters'),
  match: z.strictObject({
    modality: pattern.optional(),
    bodyPart: pattern.optional(),
    studyDescription: pattern.optional(),
    seriesDescription: pattern.optional(),
  }),
  rows: z.number().int('rows is a whole number').min(1, 'rows is at least 1').max(VIEWER_MAX_ROWS, `rows is at most ${VIEWER_MAX_ROWS}`),
  cols: z.number().int('cols is a whole number').min(1, 'cols is at least 1').max(VIEWER_MAX_COLS, `cols is at most ${VIEWER_MAX_COLS}`),
  viewports: z.array(viewport).min(1, 'a protocol places at least one viewport'),
});

export const hangingProtocolsSchema = z.strictObject({
  protocols: z.array(protocol).max(MAX_PROTOCOLS, `at most ${MAX_PROTOCOLS} protocols`),
});

/** What the schema cannot say: viewports that fit the grid, references to viewports that exist, unique names. */
function crossFieldProblem(protocols: HangingProtocol[]): { field: string; message: string } | undefined {
  const names = new Set<string>();
  for (const [i, p] of protocols.entries()) {
    const at = `protocols[${i}]`;
    const key = p.name.trim().toLowerCase();
    if (names.has(key)) return { field: `${at}.name`, message: `two protocols are named "${p.name.trim()}"` };
    names.add(key);
    if (p.viewports.length > p.rows * p.cols)
      return { field: `${at}.viewports`, message: `${p.viewports.length} viewports do not fit a ${p.rows}x${p.cols} layout` };
    for (const [j, v] of p.viewports.entries()) {
      if (v.sameAsViewport === undefined) continue;
      const field = `${at}.viewports[${j}].sameAsViewport`;
      if (v.study !== 'prior') return { field, message: 'sameAsViewport is for a prior study\u2019s viewport (study: "prior")' };
      const ref = p.viewports[v.sameAsViewport];
      if (!ref) return { field, message: `viewport ${v.sameAsViewport} does not exist (the protocol places ${p.viewports.length})` };
      if (ref.study === 'prior') return { field, message: `viewport ${v.sameAsViewport} shows the prior study, not the current one` };
    }
  }
  return undefined;
}

/** The body checked, or a 422 naming the first bad field (its path, e.g. `protocols[0].rows`). */
export function parseHangingProtocols(body: unknown): HangingProtocolsBody {
  const parsed = parseOrThrow(hangingProtocolsSchema, body);
  const protocols = parsed.protocols.map((p) => ({ ...p, name: p.name.trim() }));
  const problem = crossFieldProblem(protocols);
  if (problem) throw new ConfigValidationError([problem]);
  return { protocols };
}

/** Where the hanging protocols are kept: the data directory's file, or a row in PostgreSQL shared by several nodes. */
export class HangingProtocolStore {
  private constructor(
    private readonly file: string,
    private readonly shared?: Pick<SharedDocuments, 'getChecked' | 'put'>,
  ) {}

  static forDataDir(dataDir: string): HangingProtocolStore {
    return new HangingProtocolStore(join(dataDir, HANGING_PROTOCOLS_FILE));
  }

  /**
   * The protocols in PostgreSQL (`shared_documents`), for several nodes on one database;
   * the first use on an empty database takes the data directory's file, if any.
   */
  static shared(dataDir: string, documents: Pick<SharedDocuments, 'getChecked' | 'put'>): HangingProtocolStore {
    return new HangingProtocolStore(join(dataDir, HANGING_PROTOCOLS_FILE), documents);
  }

  async list(): Promise<HangingProtocol[]> {
    const stored = await this.shared?.getChecked(DOCUMENT, hangingProtocolsSchema, 'hanging protocols');
    return stored ? stored.protocols : this.readFile();
  }

  private async readFile(): Promise<HangingProtocol[]> {
    try {
      return hangingProtocolsSchema.parse(JSON.parse(await readFile(this.file, 'utf8'))).protocols;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`${this.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  async replace(protocols: HangingProtocol[]): Promise<void> {
    if (this.shared) return this.shared.put(DOCUMENT, { protocols });
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await withFileLock(this.file, () => writeFileAtomic(this.file, `${JSON.stringify({ protocols }, null, 2)}\n`));
  }
}

export async function registerHangingProtocolsApi(
  app: FastifyInstance,
  deps: { dataDir: string; store?: HangingProtocolStore; activity?: ActivityRecorder },
): Promise<void> {
  const store = deps.store ?? HangingProtocolStore.forDataDir(deps.dataDir);
  await app.register(async (scope) => {
    scope.setErrorHandler(errorHandler);
    scope.get('/api/hanging-protocols', access('read'), async (): Promise<HangingProtocolsBody> => ({ protocols: await store.list() }));
    // Checked here rather than by a route schema: the cross-field checks name their field too.
    scope.put('/api/hanging-protocols', access('admin'), async (req): Promise<HangingProtocolsBody> => {
      const body = parseHangingProtocols(req.body);
      await store.replace(body.protocols);
      req.log.info({ by: req.identity?.name, protocols: body.protocols.length }, 'hanging protocols replaced');
      deps.activity?.record(webAction(req, 'config', `replaced the viewer's hanging protocols (${body.protocols.length})`));
      return body;
    });
  });
}
