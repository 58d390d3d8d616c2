/**
 * Generates src/dicom/generated/{dictionary-data,uid-data}.ts.
 *
 *   npx tsx scripts/gen-dictionary.ts
 *
 * Sources: the data element dictionary of dcmjs (DicomMetaDictionary.nameMap) and the
 * UID dictionary of pydicom (Debian python3-pydicom, run through /usr/bin/python3).
 * The output is committed; re-run this script after upgrading either source.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error dcmjs ships no type declarations
import dcmjs from 'dcmjs';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'dicom', 'generated');
mkdirSync(outDir, { recursive: true });

interface NameMapEntry {
  tag: string;
  vr: string;
  vm: string;
  name: string;
}
const nameMap = (dcmjs as unknown as { data: { DicomMetaDictionary: { nameMap: Record<string, NameMapEntry> } } }).data.DicomMetaDictionary.nameMap;

// dcmjs lists repeating groups by their first group (5000, 6000, 7F00); PS3.6 defines them
// as 50xx / 60xx / 7Fxx (even groups base..base+0x1E). Those become masks.
const REPEATING_BASES = new Set([0x5000, 0x6000, 0x7f00]);

// Each row: [tag hex8 (with 'xx' for repeating groups), vr, vm, keyword, retired 0|1]
const rows: [string, string, string, string, number][] = [];
for (const e of Object.values(nameMap)) {
  const m = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/.exec(e.tag);
  if (!m) throw new Error(`unexpected tag ${e.tag}`);
  const group = parseInt(m[1], 16);
  const retired = e.name.startsWith('RETIRED_');
  const keyword = retired ? e.name.slice('RETIRED_'.length) : e.name;
  const hex = REPEATING_BASES.has(group) ? `${m[1].slice(0, 2)}xx${m[2]}` : `${m[1]}${m[2]}`;
  rows.push([hex, e.vr, e.vm, keyword, retired ? 1 : 0]);
}
rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

const header = (what: string) => `// GENERATED FILE - do not edit. ${what}\n// Regenerate with: npx tsx scripts/gen-dictionary.ts\n`;

writeFileSync(
  join(outDir, 'dictionary-data.ts'),
  header('Data element dictionary (PS3.6) from dcmjs DicomMetaDictionary.nameMap.') +
    `// Rows: tag (hex, 'xx' = repeating group), VR (dcmjs codes: ox = OB or OW, xs = US or SS,\n` +
    `// lt = US or OW, up = UL offset, na = no VR), VM, keyword, retired (1).\n` +
    `export const DICTIONARY_ROWS: readonly (readonly [string, string, string, string, number])[] = ${JSON.stringify(rows)};\n`,
);

// ---- UIDs ----
const py = `from pydicom._uid_dict import UID_dictionary; import json; print(json.dumps(UID_dictionary))`;
const uidDict = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' })) as Record<string, [string, string, string, string, string]>;
// Rows: [uid, name, type, retired 0|1, keyword]
const uidRows = Object.entries(uidDict)
  .map(([uid, [name, type, , retired, keyword]]) => [uid, name, type, retired === 'Retired' ? 1 : 0, keyword] as const)
  .sort((a, b) => (a[0] < b[0] ? -1 : 1));

/** PS3.4 Annex B storage SOP classes (images and other composite objects). */
function isStorageSopClass(name: string, type: string): boolean {
  if (type !== 'SOP Class') return false;
  if (!/Storage/.test(name)) return false;
  if (/Storage Commitment|Storage Management|Retrieve|Find|Move|Query|Get\b/i.test(name)) return false;
  return true;
}
const storage = uidRows.filter(([, name, type]) => isStorageSopClass(name, type)).map(([uid]) => uid);

writeFileSync(
  join(outDir, 'uid-data.ts'),
  header('UID dictionary (PS3.6 Annex A) from pydicom._uid_dict.UID_dictionary.') +
    `// Rows: uid, name, type, retired (1), keyword.\n` +
    `export const UID_ROWS: readonly (readonly [string, string, string, number, string])[] = ${JSON.stringify(uidRows)};\n\n` +
    `/** Every storage SOP class of PS3.4 Annex B (name contains 'Storage', excluding Storage Commitment\n * and the query/retrieve models), retired ones included. */\n` +
    `export const STORAGE_SOP_CLASS_UIDS: readonly string[] = ${JSON.stringify(storage, null, 0).replace(/","/g, '",\n  "').replace('["', '[\n  "').replace(/"\]$/, '",\n]')};\n`,
);
console.log(`dictionary: ${rows.length} rows; uids: ${uidRows.length}; storage SOP classes: ${storage.length}`);
