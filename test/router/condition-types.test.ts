/** The type check of rule conditions when saved, and the warning for rules after a catch-all. */
import { afterAll, describe, expect, it } from 'vitest';
import { lookupKeyword } from '../../src/dicom/index.js';
import { compileCondition, ConditionError } from '../../src/router/condition.js';
import { attributeType, typeName } from '../../src/router/condition-types.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { catchAllRule, unreachableRules, validateRule, validateSettings, type Rule } from '../../src/router/rules.js';
import { ConfigValidationError } from '../../src/config/index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(() => removeTempDirs());

/** The type error of a condition (line:column: message), or '' when it passes. */
function typeError(source: string): string {
  try {
    compileCondition(source, { checkTypes: true });
    return '';
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    return e.message;
  }
}

describe('attribute types from the dictionary', () => {
  it('are numbers for numeric VRs, strings otherwise, lists by the value multiplicity', () => {
    const typeOf = (kw: string) => typeName(attributeType(lookupKeyword(kw)!));
    expect(typeOf('SliceThickness')).toBe('number'); // DS, VM 1
    expect(typeOf('Rows')).toBe('number'); // US
    expect(typeOf('Modality')).toBe('string'); // CS
    expect(typeOf('PatientName')).toBe('string'); // PN
    expect(typeOf('ImageType')).toBe('list of strings'); // CS, VM 2-n
    expect(typeOf('PixelSpacing')).toBe('list of numbers'); // DS, VM 2
    expect(typeOf('WindowCenter')).toBe('number or list of numbers'); // DS, VM 1-n
    expect(typeOf('ReferencedImageSequence')).toBe('list of items'); // SQ
    expect(typeOf('PixelData')).toBe('null'); // OB or OW: no Value in DICOM JSON
  });
});

describe('type check', () => {
  it('refuses a number compared with a string, naming the attribute, its VR and both types', () => {
    expect(typeError('SliceThickness > "3"')).toBe('1:16: > cannot compare SliceThickness (number, VR DS) with "3" (string): write 3 without quotes');
    expect(typeError('Modality == "CT" || SliceThickness == "3"')).toBe(
      '1:36: cannot compare SliceThickness (number, VR DS) with "3" (string): write 3 without quotes',
    );
    expect(typeError('Modality > 3')).toBe('1:10: > cannot compare Modality (string, VR CS) with 3 (int)');
    expect(typeError('StudyDate > 20240101')).toBe('1:11: > cannot compare StudyDate (string, VR DA) with 20240101 (int)');
  });

  it('refuses what would fail for every instance at run time: int arithmetic on a number, string methods on a number, a list as a string', () => {
    expect(typeError('SliceThickness + 1 > 2')).toBe(
      '1:16: cannot apply + to SliceThickness (number, VR DS) and 1 (int): CEL does not mix int and number in arithmetic; write 1.0',
    );
    expect(typeError('SliceThickness.startsWith("1")')).toBe('1:15: no startsWith() for SliceThickness (number, VR DS) with "1" (string)');
    expect(typeError('ImageType == "LOCALIZER"')).toBe('1:11: cannot compare ImageType (list of strings, VR CS) with "LOCALIZER" (string)');
    expect(typeError('SliceThickness in ["1", "2"]')).toBe('1:16: cannot look for SliceThickness (number, VR DS) in ["1", "2"] (list of strings)');
    expect(typeError('Rows')).toBe('1:1: the condition gives Rows (number, VR US), not true or false');
    expect(typeError('lower(Modality) == "ct"')).toBe('1:1: unknown function lower()');
  });

  it('accepts what can work: numbers with numbers, lists through macros and in, either shape of a VM 1-n attribute, null, tags, items', () => {
    for (const ok of [
      'true',
      'SliceThickness > 3',
      'SliceThickness + 1.0 > 2.5',
      'Rows >= 512u',
      'int(SliceThickness) == 5',
      'Modality == "CT" && callingAE.startsWith("CT_") && peerAddress != null',
      'Modality == null',
      '"LOCALIZER" in ImageType',
      'ImageType.exists(t, t == "LOCALIZER")',
      'ImageType[0] == "ORIGINAL"',
      'WindowCenter > 40',
      'WindowCenter.exists(w, w > 40.0)',
      'PatientName.matches("^DOE")',
      'size(StudyDescription) > 3',
      'tags["00080060"] == "CT"',
      'ReferencedImageSequence.exists(i, i.ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.2")',
      'Modality in ["CT", "MR"] ? true : false',
    ])
      expect(typeError(ok), ok).toBe('');
  });

  it('is run when a rule is saved (validateRule, a changed condition in the settings), not on conditions already saved', () => {
    const rule = { name: 'thin', condition: 'SliceThickness > "3"', destinations: ['WORKSTATION'] };
    expect(() => validateRule(rule)).toThrow(ConfigValidationError);
    try {
      validateRule(rule);
    } catch (e) {
      expect((e as ConfigValidationError).issues).toEqual([
        {
          field: 'condition',
          message: '1:16: > cannot compare SliceThickness (number, VR DS) with "3" (string): write 3 without quotes',
          line: 1,
          column: 16,
        },
      ]);
    }
    // A file read as it is (a rule saved before the check) still loads; saving it again unchanged is allowed, a new one is not.
    const saved = validateSettings({ rules: [rule] });
    expect(saved.rules[0].condition).toBe('SliceThickness > "3"');
    expect(validateSettings({ rules: [{ ...rule, name: 'renamed' }] }, undefined, saved).rules[0].name).toBe('renamed');
    expect(() => validateSettings({ rules: [rule, { ...rule, name: 'other', condition: 'Modality > 3' }] }, undefined, saved)).toThrow(
      /rules\[1\]\.condition: 1:10: > cannot compare Modality/,
    );
  });

  it('refuses a type error through the rules file store (what the REST API and the CLI call)', async () => {
    const store = await RuleStore.open(await makeTempDir('pacs-rule-types-'));
    await expect(store.add({ name: 'thin', condition: 'SliceThickness > "3"', destinations: ['WORKSTATION'] })).rejects.toThrow(ConfigValidationError);
    await expect(store.replace('everything to the workstation', { name: 'x', condition: 'Modality == 1', destinations: ['WORKSTATION'] })).rejects.toThrow(
      /cannot compare Modality \(string, VR CS\) with 1 \(int\)/,
    );
    expect(store.current.rules.map((r) => r.name)).toEqual(['everything to the workstation']);
    store.close();
  });
});

describe('rules that can never match', () => {
  const r = (name: string, condition: string, more: Partial<Rule> = {}): Rule => ({
    name,
    condition,
    destinations: ['A'],
    changes: {},
    continue: false,
    enabled: true,
    ...more,
  });

  it('are those after an enabled catch-all `true` rule that stops the evaluation', () => {
    const rules = [r('ct', 'Modality == "CT"'), r('all', ' (true) '), r('mr', 'Modality == "MR"'), r('off', 'true', { enabled: false })];
    expect(catchAllRule(rules)?.name).toBe('all');
    expect(unreachableRules(rules)).toEqual([
      {
        rule: 'mr',
        message: 'rule "mr" can never match: the earlier rule "all" matches everything (condition true) and stops the evaluation; move "mr" before it',
      },
    ]);
  });

  it('are none when the catch-all continues, is disabled, or is last; a discarding catch-all stops too', () => {
    expect(unreachableRules([r('all', 'true', { continue: true }), r('mr', 'Modality == "MR"')])).toEqual([]);
    expect(unreachableRules([r('all', 'true', { enabled: false }), r('mr', 'Modality == "MR"')])).toEqual([]);
    expect(unreachableRules([r('mr', 'Modality == "MR"'), r('all', 'true')])).toEqual([]);
    expect(unreachableRules([r('drop', 'true', { discard: true, destinations: [], continue: true }), r('mr', 'Modality == "MR"')]).map((w) => w.rule)).toEqual([
      'mr',
    ]);
    expect(unreachableRules([r('t', 'true == true'), r('mr', 'Modality == "MR"')])).toEqual([]); // only the constant true is recognised
  });
});
