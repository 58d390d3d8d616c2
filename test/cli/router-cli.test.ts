/** `pacs router rules list|add|rm|test FILE` and `pacs router queue` on a data directory. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
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
  const ok = await pacs('router', 'rules', 'add', 'ct', 'Modality == "CT" && callingAE == "CT_1"', '--dest', 'PACS', '--set', 'InstitutionName=Routed', '--position', '1', ...data);
  expect(ok.status, ok.stderr).toBe(0);
  expect((await pacs('router', 'rules', 'list', ...data)).stdout.split('\n')[0]).toBe('1. ct: Modality == "CT" && callingAE == "CT_1" -> PACS [InstitutionName=Routed]');

  const file = join(dir, 'ct.dcm');
  writeFileSync(file, Buffer.concat([buildMetaHeader({ sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3.4', transferSyntaxUid: EXPLICIT_LE }), datasetBytes({ sopInstanceUid: '1.2.3.4' })]));
  const t = await pacs('router', 'rules', 'test', file, '--calling', 'CT_1', ...data);
  expect(t.stdout).toBe('MATCH ct\n      everything to the workstation (stopped)\n-> PACS (rule "ct")\n');
  expect((await pacs('router', 'rules', 'test', file, ...data)).stdout).toContain('-> WORKSTATION (rule "everything to the workstation")');

  expect((await pacs('router', 'rules', 'rm', 'ct', ...data)).status).toBe(0);
  expect((await pacs('router', 'rules', 'rm', 'ct', ...data)).stderr).toContain('no rule named "ct"');
  const q = await pacs('router', 'queue', ...data);
  expect(q.status, q.stderr).toBe(0);
  expect(q.stdout).toBe('destination\tpending\tfailed\tdead\tlast error\n');
});
