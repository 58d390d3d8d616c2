/** `pacs router rules list|add|rm|test FILE` and `pacs router queue` on a data directory. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import { CT_IMAGE, datasetBytes, EXPLICIT_LE } from '../archive/helpers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs as pacs } from './run-pacs.js';

afterAll(() => removeTempDirs());

it('lists, adds (refusing bad input by field), tests a file, removes; shows the queue', async () => {
  const dir = await makeTempDir('pacs-router-cli-');
  const data = ['--data', join(dir, 'data')];
  expect((await pacs('router', 'rules', 'list', ...data)).stdout).toBe('1. everything to the workstation: true -> WORKSTATION\n');
  const bad = await pacs('router', 'rules', 'add', 'ct', 'Modality == "CT" &&', '--dest', 'PACS', ...data);
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/^pacs: condition: 1:\d+: /);
  expect((await pacs('router', 'rules', 'add', 'ct', 'true', '--dest', 'NOPE', ...data)).stderr).toContain('destinations[0]: "NOPE" is not a registered AE');
  const ok = await pacs(
    'router',
    'rules',
    'add',
    'ct',
    'Modality == "CT" && callingAE == "CT_1"',
    '--dest',
    'PACS',
    '--set',
    'InstitutionName=Routed',
    '--position',
    '1',
    ...data,
  );
  expect(ok.status, ok.stderr).toBe(0);
  expect((await pacs('router', 'rules', 'list', ...data)).stdout.split('\n')[0]).toBe(
    '1. ct: Modality == "CT" && callingAE == "CT_1" -> PACS [InstitutionName=Routed]',
  );

  const file = join(dir, 'ct.dcm');
  writeFileSync(
    file,
    Buffer.concat([
      buildMetaHeader({ sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3.4', transferSyntaxUid: EXPLICIT_LE }),
      datasetBytes({ sopInstanceUid: '1.2.3.4' }),
    ]),
  );
  const t = await pacs('router', 'rules', 'test', file, '--calling', 'CT_1', ...data);
  expect(t.stdout).toBe('MATCH ct\n      everything to the workstation (stopped)\n-> PACS (rule "ct")\n');
  expect((await pacs('router', 'rules', 'test', file, ...data)).stdout).toContain('-> WORKSTATION (rule "everything to the workstation")');

  expect((await pacs('router', 'rules', 'rm', 'ct', ...data)).status).toBe(0);
  expect((await pacs('router', 'rules', 'rm', 'ct', ...data)).stderr).toContain('no rule named "ct"');
  // No server has run here: no Router index, said as such (not an empty queue).
  const q = await pacs('router', 'queue', ...data);
  expect(q.status).toBe(1);
  expect(q.stderr).toContain(`no Router index in ${join(dir, 'data', 'router')}: has pacs serve run with --data`);

  // A type error is refused with the attribute and the types; a rule after the catch-all is saved with a warning.
  const typed = await pacs('router', 'rules', 'add', 'thin', 'SliceThickness > "3"', '--dest', 'WORKSTATION', '--position', '1', ...data);
  expect(typed.status).toBe(1);
  expect(typed.stderr).toBe('pacs: condition: 1:16: > cannot compare SliceThickness (number, VR DS) with "3" (string): write 3 without quotes\n');
  const late = await pacs('router', 'rules', 'add', 'mr', 'Modality == "MR"', '--dest', 'WORKSTATION', ...data);
  expect(late.status, late.stderr).toBe(0);
  expect(late.stderr).toBe(
    'warning: rule "mr" can never match: the earlier rule "everything to the workstation" matches everything (condition true) and stops the evaluation; move "mr" before it\n',
  );
  expect((await pacs('router', 'rules', 'list', ...data)).stdout).toBe(
    '1. everything to the workstation: true -> WORKSTATION\n2. mr: Modality == "MR" -> WORKSTATION (never reached: a catch-all rule precedes it)\n',
  );
}, 240_000);

it('adds a rule that discards; tests a file against it; lists and purges unrouted entries', async () => {
  const dir = await makeTempDir('pacs-router-cli-');
  const data = ['--data', join(dir, 'data')];
  const neither = await pacs('router', 'rules', 'add', 'x', 'true', ...data);
  expect(neither.status).toBe(1);
  expect(neither.stderr).toMatch(/--dest AE\.\.\. .* or --discard/);
  const both = await pacs('router', 'rules', 'add', 'x', 'true', '--discard', '--dest', 'PACS', ...data);
  expect(both.stderr).toContain('destinations: a rule that discards has no destinations');
  const ok = await pacs('router', 'rules', 'add', 'drop ct', 'Modality == "CT"', '--discard', '--position', '1', ...data);
  expect(ok.status, ok.stderr).toBe(0);
  expect((await pacs('router', 'rules', 'list', ...data)).stdout.split('\n')[0]).toBe('1. drop ct: Modality == "CT" -> (discard)');
  const file = join(dir, 'ct.dcm');
  writeFileSync(
    file,
    Buffer.concat([
      buildMetaHeader({ sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3.4', transferSyntaxUid: EXPLICIT_LE }),
      datasetBytes({ sopInstanceUid: '1.2.3.4' }),
    ]),
  );
  expect((await pacs('router', 'rules', 'test', file, ...data)).stdout).toBe(
    'MATCH drop ct\n      everything to the workstation (stopped)\n-> discarded (rule "drop ct")\n',
  );
  expect((await pacs('router', 'rules', 'rm', 'everything to the workstation', ...data)).status).toBe(0);
  expect((await pacs('router', 'rules', 'add', 'mr', 'Modality == "MR"', '--dest', 'WORKSTATION', ...data)).status).toBe(0);
  expect((await pacs('router', 'rules', 'rm', 'drop ct', ...data)).status).toBe(0);
  expect((await pacs('router', 'rules', 'test', file, ...data)).stdout).toMatch(/-> not forwarded: kept as unrouted until a user purges it\n$/);

  // Held rows as the running router writes them (in its ingest transaction).
  const index = await SqliteIndex.open(join(dir, 'data', 'router', 'index.sqlite'));
  try {
    await index.forwardQueue.ensureSchema();
    await index.write((tx) =>
      tx.forwardQueue.hold([
        { sopInstanceUid: '1.2.3.4', state: 'unrouted', rule: '', error: null },
        { sopInstanceUid: '1.2.3.5', state: 'rule-failed', rule: 'mr', error: 'rule "mr": no such overload' },
      ]),
    );
  } finally {
    await index.close();
  }
  expect((await pacs('router', 'queue', ...data)).stdout).toBe(
    'destination\tpending\tfailed\tdead\tdelivered\tlast error\nnot forwarded: 1 unrouted, 1 rule failed (pacs router queue --unrouted)\n',
  );
  const listed = await pacs('router', 'queue', '--unrouted', ...data);
  expect(listed.stdout).toMatch(/^\d+\tunrouted\t1\.2\.3\.4\t\S+\n\d+\trule-failed\t1\.2\.3\.5\t\S+\trule "mr": no such overload\n$/);
  expect((await pacs('router', 'queue', '--unrouted', '--purge', ...data)).stdout).toBe('2 unrouted entries deleted\n');
  expect((await pacs('router', 'queue', '--unrouted', ...data)).stdout).toBe('');
}, 240_000); // a dozen CLI processes, each a few seconds on a busy machine
