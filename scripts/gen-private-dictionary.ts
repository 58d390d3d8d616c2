/**
 * Generates src/dicom/generated/private-dictionary-data.ts: the VRs of private data
 * elements, by private creator, for reading Implicit VR data sets (an implicit private
 * element would otherwise be UN, and a retrieve converting to Explicit VR would write
 * Siemens' CSA headers as UN where DCMTK, pydicom and dcm4che write OB); and
 * private-dictionary-names.ts: their names (the web app's tag browser), whatever the VR.
 *
 *   npx tsx scripts/gen-private-dictionary.ts [/usr/share/libdcmtk17/private.dic]
 *
 * Source: DCMTK's private tag dictionary (Debian package libdcmtk17, a dependency of
 * dcmtk, which the test set-up installs). The output is committed; re-run this script
 * after upgrading DCMTK. Entries whose VR is UN or not a single VR are left out: they
 * decide nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isVr } from '../src/dicom/vr.js';

const source = process.argv[2] ?? '/usr/share/libdcmtk17/private.dic';
const generated = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'dicom', 'generated');
const out = join(generated, 'private-dictionary-data.ts');
const namesOut = join(generated, 'private-dictionary-names.ts');

// (gggg,"creator",ee) or (gggg,"creator",xxee) or (gggg-o-hhhh,"creator",ee), then VR.
const LINE = /^\(([0-9A-Fa-f]{4})(?:-o-([0-9A-Fa-f]{4}))?,"([^"]*)",([0-9A-Fa-f]{2}|[0-9A-Fa-f]{4})\)\t([A-Za-z]{2})\t([^\t]*)\t/;

// Rows: [first group, last group (odd groups between), creator, element (2 hex digits: any block; 4: exact), VR]
const rows: [string, string, string, string, string][] = [];
const seen = new Map<string, string>();
// Rows: [first group, last group, creator, element, name]; the first name given wins.
const names: [string, string, string, string, string][] = [];
const named = new Set<string>();
let skipped = 0;
for (const line of readFileSync(source, 'latin1').split('\n')) {
  const m = LINE.exec(line);
  if (!m) continue;
  const [, from, to, creator, element, vr, name] = m;
  const nameKey = `${from.toLowerCase()}-${(to ?? from).toLowerCase()}|${creator}|${element.toLowerCase()}`;
  if (name && name !== 'Unknown' && !named.has(nameKey)) {
    named.add(nameKey);
    names.push([from.toLowerCase(), (to ?? from).toLowerCase(), creator, element.toLowerCase(), name]);
  }
  if (!isVr(vr) || vr === 'UN') {
    skipped++;
    continue;
  }
  // Two digits: the element's low byte in whatever block the creator reserved (PS3.5 7.8.1).
  // Four digits: that element exactly (DCMTK looks these up first, then the flexible ones).
  const ee = element.toLowerCase();
  const row: [string, string, string, string, string] = [from.toLowerCase(), (to ?? from).toLowerCase(), creator, ee, vr];
  const key = `${row[0]}-${row[1]}|${creator}|${ee}`;
  if (seen.has(key)) {
    if (seen.get(key) !== vr) throw new Error(`${source}: ${key} given as ${seen.get(key)} and ${vr}`);
    continue;
  }
  seen.set(key, vr);
  rows.push(row);
}
rows.sort((a, b) => (a.join('|') < b.join('|') ? -1 : 1));

writeFileSync(
  out,
  `// GENERATED FILE - do not edit. Private data element VRs from DCMTK's private.dic.\n` +
    `// Regenerate with: npx tsx scripts/gen-private-dictionary.ts\n` +
    `// Rows: first group, last group (the odd groups between), private creator, element (2 hex digits:\n` +
    `// its low byte in any block; 4: that element exactly), VR.\n` +
    `export const PRIVATE_DICTIONARY_ROWS: readonly (readonly [string, string, string, string, string])[] = ${JSON.stringify(rows)};\n`,
);
names.sort((a, b) => (a.join('|') < b.join('|') ? -1 : 1));
writeFileSync(
  namesOut,
  `// GENERATED FILE - do not edit. Private data element names from DCMTK's private.dic.\n` +
    `// Regenerate with: npx tsx scripts/gen-private-dictionary.ts\n` +
    `// Rows: first group, last group (the odd groups between), private creator, element (2 hex digits:\n` +
    `// its low byte in any block; 4: that element exactly), name (DCMTK's keyword).\n` +
    `export const PRIVATE_DICTIONARY_NAMES: readonly (readonly [string, string, string, string, string])[] = ${JSON.stringify(names)};\n`,
);
console.log(`${names.length} private element names written to ${namesOut}`);
console.log(`${rows.length} private elements written to ${out} (${skipped} without a usable VR left out)`);
