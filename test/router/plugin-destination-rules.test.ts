/** Rules naming an add-in's own kind of destination (`@NAME`, docs/plugins.md). */
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, defaultRegistry } from '../../src/config/index.js';
import { isPluginDestination, validateRule } from '../../src/router/rules.js';

const issues = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigValidationError) return e.issues;
    throw e;
  }
  return [];
};

describe('add-in destinations in router rules', () => {
  const registry = defaultRegistry();

  it('accepts @NAME beside registered AEs, without an AE of that title', () => {
    const rule = validateRule({ name: 'r', condition: 'true', destinations: ['@collector', 'WORKSTATION'] }, registry);
    expect(rule.destinations).toEqual(['@collector', 'WORKSTATION']);
    expect(isPluginDestination('@collector')).toBe(true);
    expect(isPluginDestination('WORKSTATION')).toBe(false);
  });

  it('refuses a name that cannot be an add-in and attribute changes on an add-in destination', () => {
    expect(issues(() => validateRule({ name: 'r', condition: 'true', destinations: ['@Bad_Name'] }, registry))).toEqual([
      { field: 'destinations[0]', message: '"@Bad_Name": an add-in destination is @ and the add-in\'s name' },
    ]);
    expect(issues(() => validateRule({ name: 'r', condition: 'true', destinations: ['@collector'], changes: { PatientName: 'X' } }, registry))).toEqual([
      { field: 'changes', message: 'attribute changes are not applied for add-in destinations (@collector): send it with a rule of its own' },
    ]);
  });
});
