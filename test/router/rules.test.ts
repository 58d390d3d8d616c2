/** Rule conditions (CEL), rule validation and evaluation order, the rules file. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addAe, ConfigValidationError, defaultRegistry } from '../../src/config/index.js';
import { Dataset, datasetToJson, putString, type DicomJsonObject } from '../../src/dicom/index.js';
import { compileCondition, ConditionError, type RouteContext } from '../../src/router/condition.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { CompiledRules, defaultRouterSettings, routeOutcome, validateRule, validateSettings } from '../../src/router/rules.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(() => removeTempDirs());

function attrs(fill: (ds: Dataset) => void): DicomJsonObject {
  const ds = new Dataset();
  fill(ds);
  return datasetToJson(ds);
}

const CT_HEAD: RouteContext = {
  callingAE: 'CT_SCANNER_1',
  calledAE: 'ROUTER',
  peerAddress: '10.0.0.7',
  attributes: attrs((ds) => {
    putString(ds, 0x00080060, 'CS', 'CT');
    putString(ds, 0x00081030, 'LO', 'CT HEAD w/o contrast');
    putString(ds, 0x00100010, 'PN', 'Doe^Jane');
    putString(ds, 0x00080008, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
    putString(ds, 0x00280010, 'US', '512');
    putString(ds, 0x00200013, 'IS', '7');
  }),
};

const evalOn = (source: string, ctx: RouteContext = CT_HEAD): boolean => compileCondition(source).evaluate(ctx);

describe('conditions', () => {
  it('read the calling AE, called AE, peer address and attributes by keyword', () => {
    expect(evalOn('Modality == "CT" && callingAE == "CT_SCANNER_1"')).toBe(true);
    expect(evalOn('Modality == "MR" || callingAE == "OTHER"')).toBe(false);
    expect(evalOn('calledAE == "ROUTER" && peerAddress.startsWith("10.")')).toBe(true);
    expect(evalOn('PatientName == "Doe^Jane"')).toBe(true);
    expect(evalOn('InstanceNumber > 5 && InstanceNumber < 8')).toBe(true);
    expect(evalOn('"AXIAL" in ImageType')).toBe(true);
  });

  it('match regular expressions, case-insensitively with (?i)', () => {
    expect(evalOn('StudyDescription.matches("(?i)head")')).toBe(true);
    expect(evalOn('StudyDescription.matches("head")')).toBe(false);
  });

  it('read attributes by tag number', () => {
    expect(evalOn('tags["00080060"] == "CT"')).toBe(true);
    expect(evalOn('"00181030" in tags')).toBe(false);
  });

  it('see an absent attribute as null', () => {
    expect(evalOn('BodyPartExamined == "HEAD"')).toBe(false);
    expect(evalOn('BodyPartExamined == null')).toBe(true);
    expect(() => evalOn('BodyPartExamined.matches("x")')).toThrow();
  });

  it('report syntax errors with line and column', () => {
    try {
      compileCondition('Modality == "CT" &&\n  callingAE == ');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConditionError);
      expect((e as ConditionError).problem.line).toBe(2);
      expect((e as ConditionError).message).toMatch(/^2:\d+: /);
    }
  });

  it('refuse unknown names with their position, but accept comprehension variables', () => {
    try {
      compileCondition('Modality == "CT" &&\n Modalty == "MR"');
      expect.unreachable();
    } catch (e) {
      expect((e as ConditionError).problem).toMatchObject({ line: 2, column: 2 });
      expect((e as Error).message).toContain('unknown name "Modalty"');
    }
    expect(evalOn('ImageType.exists(t, t == "PRIMARY")')).toBe(true);
  });

  it('must give a bool', () => {
    expect(() => evalOn('Modality')).toThrow(/not a bool/);
  });
});

describe('rules', () => {
  const reg = addAe(defaultRegistry(), { aeTitle: 'STORESCP', connection: { host: '127.0.0.1', port: 4242 } });

  it('the default forwards everything to the workstation', () => {
    const s = defaultRouterSettings(reg);
    expect(s.rules).toMatchObject([{ condition: 'true', destinations: ['WORKSTATION'], continue: false, enabled: true }]);
    expect(new CompiledRules(s).decide(CT_HEAD).sends).toEqual([{ destination: 'WORKSTATION', rule: s.rules[0].name, changes: {} }]);
  });

  it('are evaluated in order; the first match stops unless it says continue; errors are no match', () => {
    const s = validateSettings(
      {
        rules: [
          { name: 'broken', condition: 'BodyPartExamined.matches("x")', destinations: ['PACS'] },
          { name: 'ct', condition: 'Modality == "CT"', destinations: ['STORESCP'], changes: { InstitutionName: 'Routed' }, continue: true },
          { name: 'off', condition: 'true', destinations: ['PACS'], enabled: false },
          { name: 'head', condition: 'StudyDescription.matches("(?i)head")', destinations: ['WORKSTATION', 'STORESCP'] },
          { name: 'never', condition: 'true', destinations: ['PACS'] },
        ],
      },
      reg,
    );
    const d = new CompiledRules(s).decide(CT_HEAD);
    expect(d.matches.map((m) => [m.rule, m.matched, m.skipped ?? (m.error ? 'error' : '')])).toEqual([
      ['broken', false, 'error'],
      ['ct', true, ''],
      ['off', false, 'disabled'],
      ['head', true, ''],
      ['never', false, 'stopped'],
    ]);
    expect(d.sends).toEqual([
      { destination: 'STORESCP', rule: 'ct', changes: { InstitutionName: 'Routed' } },
      { destination: 'WORKSTATION', rule: 'head', changes: {} },
    ]);
  });

  it('give an outcome: a failed rule holds the instance (nothing sent), no match keeps it unrouted, a discarding match drops it', () => {
    const decide = (rules: unknown[]) => routeOutcome(new CompiledRules(validateSettings({ rules }, reg)).decide(CT_HEAD));
    expect(
      decide([
        { name: 'broken', condition: 'BodyPartExamined.matches("x")', destinations: ['PACS'] },
        { name: 'all', condition: 'true', destinations: ['STORESCP'] },
      ]),
    ).toEqual({ kind: 'failed', rule: 'broken', error: expect.stringMatching(/^rule "broken": /) });
    expect(decide([{ name: 'mr', condition: 'Modality == "MR"', destinations: ['PACS'] }])).toEqual({ kind: 'unrouted' });
    expect(
      decide([
        { name: 'drop ct', condition: 'Modality == "CT"', discard: true },
        { name: 'all', condition: 'true', destinations: ['PACS'] },
      ]),
    ).toEqual({ kind: 'discard', rule: 'drop ct' });
    // A discarding rule stops; what an earlier continuing rule sends is still sent.
    expect(
      decide([
        { name: 'copy', condition: 'true', destinations: ['STORESCP'], continue: true },
        { name: 'drop ct', condition: 'Modality == "CT"', discard: true },
        { name: 'all', condition: 'true', destinations: ['PACS'] },
      ]),
    ).toEqual({ kind: 'send', sends: [{ destination: 'STORESCP', rule: 'copy', changes: {} }] });
  });

  it('are refused with the field: bad condition, unknown destination, bad change', () => {
    const fields = (v: unknown): string[] => {
      try {
        validateRule(v, reg);
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigValidationError);
        return (e as ConfigValidationError).issues.map((i) => `${i.field}: ${i.message}`);
      }
    };
    expect(fields({ name: 'a', condition: 'Modality ==', destinations: ['PACS'] })[0]).toMatch(/^condition: 1:\d+: /);
    expect(fields({ name: 'a', condition: 'true', destinations: ['NOWHERE'] })).toEqual(['destinations[0]: "NOWHERE" is not a registered AE']);
    expect(fields({ name: 'a', condition: 'true', destinations: ['PACS_CLIENT'] })[0]).toMatch(/^destinations\[0\]: .*client/);
    expect(fields({ name: 'a', condition: 'true', destinations: ['PACS'], changes: { PixelData: 'x' } })[0]).toMatch(/^changes\.PixelData: .*only text/);
    expect(fields({ name: 'a', condition: 'true', destinations: [] })[0]).toMatch(/^destinations: /);
    expect(fields({ name: 'a', condition: 'true', destinations: ['PACS'], changes: { InstitutionName: 'X', '00100010': null } })).toEqual([]);
  });
});

describe('the rules file', () => {
  it('is created with the default, changed atomically, validated, and followed across processes', async () => {
    const dir = await makeTempDir('pacs-rules-');
    const reg = defaultRegistry();
    const store = await RuleStore.open(dir, { registry: () => reg });
    expect(store.file).toBe(join(dir, 'router', 'rules.json'));
    expect(store.current.rules).toHaveLength(1);
    await store.add({ name: 'mr', condition: 'Modality == "MR"', destinations: ['PACS'] }, 0);
    expect(store.current.rules.map((r) => r.name)).toEqual(['mr', 'everything to the workstation']);
    await expect(store.add({ name: 'mr', condition: 'true', destinations: ['PACS'] })).rejects.toThrow(/already a rule/);
    await expect(store.add({ name: 'x', condition: 'Modality = "MR"', destinations: ['PACS'] })).rejects.toThrow(/condition: 1:/);
    await store.reorder(['everything to the workstation', 'mr']);
    await store.replace('mr', { name: 'mr2', condition: 'Modality == "MR"', destinations: ['WORKSTATION'] });
    const onDisk = JSON.parse(await readFile(store.file, 'utf8')) as { rules: { name: string }[] };
    expect(onDisk.rules.map((r) => r.name)).toEqual(['everything to the workstation', 'mr2']);

    // another process edits the file: reload() (what the watcher calls) picks it up
    const seen: number[] = [];
    store.onChange((s) => seen.push(s.rules.length));
    await writeFile(store.file, JSON.stringify({ rules: [] }));
    await store.reload();
    expect(store.current.rules).toEqual([]);
    expect(seen).toEqual([0]);
    await store.remove('mr2').catch((e: Error) => expect(e.message).toMatch(/no rule named/));
    store.close();
  });
});
