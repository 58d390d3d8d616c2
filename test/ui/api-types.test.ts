// The shared API types (src/api-types, compiled by the web app too) against the server's
// own types: a field added to, removed from or retyped in a zod schema or a response makes
// `npx tsc -p tsconfig.json` fail here, and once the shared type follows, the app's
// compile (`npx tsc -p ui/tsconfig.json`) names every place that has to change.
import { describe, expectTypeOf, expect, it } from 'vitest';
import type * as Api from '../../src/api-types/index.js';
import { AE_ROLES, HELD_STATES as API_HELD_STATES, PERMISSIONS, SERVER_ROLES, USER_ROLES } from '../../src/api-types/index.js';
import { aeSchema, permissionSchema, type AccessPolicy, type Ae, type AeEntry, type Connection, type FieldIssue } from '../../src/config/index.js';
import type { EchoResult } from '../../src/roles/echo-peer.js';
import type { RoleStatus } from '../../src/roles/pacs-roles.js';
import type { ConditionProblem } from '../../src/router/condition.js';
import { HELD_STATES, type QueueEntry } from '../../src/archive/forward-queue.js';
import type { QueueItem, QueueStatus } from '../../src/router/router.js';
import type { QueuePolicy, Rule, RouterSettings, RuleMatch } from '../../src/router/rules.js';
import type { RemoteFindResult } from '../../src/services/remote-qr.js';
import type { Job } from '../../src/services/jobs.js';
import type { WorklistEntry } from '../../src/archive/worklist-store.js';
import type { MppsRecord } from '../../src/archive/mpps-store.js';
import type { CommitmentRecord } from '../../src/archive/commitment-store.js';
import type { Problem } from '../../src/web/problem.js';
import { ROLES, type UserInfo } from '../../src/web/users.js';
import { hangingProtocolsSchema } from '../../src/web/hanging-protocols.js';
import type { z } from 'zod';

describe('shared API types', () => {
  it("are the workflow stores' records", () => {
    expectTypeOf<Api.WorklistEntry>().toEqualTypeOf<WorklistEntry>();
    // The step's DICOM JSON is the server's full DicomJsonObject; the app reads it as the shared, looser DicomJson.
    expectTypeOf<Omit<Api.MppsRecord, 'json'>>().toEqualTypeOf<Omit<MppsRecord, 'json'>>();
    expectTypeOf<MppsRecord['json']>().toExtend<Api.MppsRecord['json']>();
    expectTypeOf<Api.CommitmentRecord>().toEqualTypeOf<CommitmentRecord>();
  });

  it('are the registry schema parsed', () => {
    expectTypeOf<Api.Connection>().toEqualTypeOf<Connection>();
    expectTypeOf<Api.AccessPolicy>().toEqualTypeOf<AccessPolicy>();
    expectTypeOf<Api.Ae>().toEqualTypeOf<Ae>();
    expectTypeOf<Api.AeEntry>().toEqualTypeOf<AeEntry>();
    expectTypeOf<Api.EchoResult>().toEqualTypeOf<EchoResult>();
    // The schema's own lists are the shared ones (one definition, config/schema.ts imports it).
    expect(permissionSchema.options).toEqual([...PERMISSIONS]);
    expect(aeSchema.shape.role.unwrap().options).toEqual([...AE_ROLES]);
    expect(SERVER_ROLES.every((r) => (AE_ROLES as readonly string[]).includes(r))).toBe(true);
  });

  it('are the router settings schema parsed and the router queue rows', () => {
    expectTypeOf<Api.Rule>().toEqualTypeOf<Rule>();
    expectTypeOf<Api.QueuePolicy>().toEqualTypeOf<QueuePolicy>();
    expectTypeOf<Api.RouterSettings>().toEqualTypeOf<RouterSettings>();
    expectTypeOf<Api.ConditionProblem>().toEqualTypeOf<ConditionProblem>();
    expectTypeOf<Api.RuleMatch>().toEqualTypeOf<RuleMatch>();
    expectTypeOf<Api.QueueEntry>().toEqualTypeOf<QueueEntry>();
    expectTypeOf<Api.QueueItem>().toEqualTypeOf<QueueItem>();
    // The REST API sends nextAttemptAt as ISO 8601 text, the rest as the router has it.
    expectTypeOf<Omit<Api.DestinationStatus, 'nextAttemptAt'>>().toEqualTypeOf<Omit<QueueStatus, 'nextAttemptAt'>>();
    expect([...API_HELD_STATES]).toEqual([...HELD_STATES]);
  });

  it('are the web server responses', () => {
    expectTypeOf<Api.FieldIssue>().toEqualTypeOf<FieldIssue>();
    expectTypeOf<Api.Problem>().toEqualTypeOf<Problem>();
    expectTypeOf<Api.Job>().toEqualTypeOf<Job>();
    expectTypeOf<Api.UserInfo>().toEqualTypeOf<UserInfo>();
    expectTypeOf<Omit<Api.RoleStatus, 'instancesStored'>>().toEqualTypeOf<RoleStatus>();
    // The server's DICOM JSON values are typed; the app reads them as unknown.
    expectTypeOf<RemoteFindResult>().toExtend<Api.RemoteFindResult>();
    expect([...USER_ROLES]).toEqual([...ROLES]);
    // What PUT /api/hanging-protocols accepts is what the viewer reads.
    expectTypeOf<Api.HangingProtocolsBody>().toEqualTypeOf<z.infer<typeof hangingProtocolsSchema>>();
  });
});
