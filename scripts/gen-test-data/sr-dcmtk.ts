// Structured reports made by DCMTK: the document written as DCMTK's SR XML (dsr2xml's
// format) and converted to DICOM by xml2dsr, so the viewer reads an SR that another
// toolkit encoded. Content is built with the small helpers below.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { newUid } from './uids.js';

const run = promisify(execFile);

export interface SrCode {
  value: string;
  scheme: string;
  meaning: string;
}

export type SrItem =
  | { type: 'container'; rel?: string; concept?: SrCode; children: SrItem[] }
  | { type: 'text'; rel: string; concept: SrCode; value: string; children?: SrItem[] }
  | { type: 'code'; rel: string; concept: SrCode; value: SrCode; children?: SrItem[] }
  | { type: 'num'; rel: string; concept: SrCode; value: string; unit: SrCode; children?: SrItem[] };

export type SrKind = 'Basic Text SR' | 'Enhanced SR' | 'Comprehensive SR';

const SOP: Record<SrKind, [string, string]> = {
  'Basic Text SR': ['1.2.840.10008.5.1.4.1.1.88.11', 'BasicTextSRStorage'],
  'Enhanced SR': ['1.2.840.10008.5.1.4.1.1.88.22', 'EnhancedSRStorage'],
  'Comprehensive SR': ['1.2.840.10008.5.1.4.1.1.88.33', 'ComprehensiveSRStorage'],
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const code = (tag: string, c: SrCode) =>
  `<${tag}><value>${esc(c.value)}</value><scheme><designator>${esc(c.scheme)}</designator></scheme><meaning>${esc(c.meaning)}</meaning></${tag}>`;

function itemXml(i: SrItem): string {
  const rel = 'rel' in i && i.rel ? `<relationship>${esc(i.rel)}</relationship>` : '';
  const concept = i.concept ? code('concept', i.concept) : '';
  const children = (i.children ?? []).map(itemXml).join('');
  switch (i.type) {
    case 'container':
      return `<container flag="SEPARATE">${rel}${concept}${children}</container>`;
    case 'text':
      return `<text>${rel}${concept}${children}<value>${esc(i.value)}</value></text>`;
    case 'code':
      return `<code>${rel}${concept}${children}<value>${esc(i.value.value)}</value><scheme><designator>${esc(i.value.scheme)}</designator></scheme><meaning>${esc(i.value.meaning)}</meaning></code>`;
    case 'num':
      return `<num>${rel}${concept}${children}<value>${esc(i.value)}</value>${code('unit', i.unit)}</num>`;
  }
}

export interface SrDocumentOptions {
  file: string;
  kind: SrKind;
  studyUid: string;
  patientId: string;
  patientName: { last: string; first?: string };
  seriesNumber: number;
  seriesDescription: string;
  title: SrCode;
  content: SrItem[];
}

/** Writes the XML, runs xml2dsr on it, and resolves with the DICOM file's path and its UIDs. */
export async function writeSrWithXml2dsr(o: SrDocumentOptions): Promise<{ file: string; seriesUid: string; sopInstanceUid: string }> {
  const [sopClass, sopName] = SOP[o.kind];
  const seriesUid = newUid();
  const sopInstanceUid = newUid();
  const xml = [
    '<?xml version="1.0" encoding="ISO-8859-1"?>',
    `<report type="${o.kind}">`,
    `<sopclass uid="${sopClass}">${sopName}</sopclass>`,
    '<charset>ISO_IR 100</charset>',
    '<modality>SR</modality>',
    `<patient><id>${esc(o.patientId)}</id><name><first>${esc(o.patientName.first ?? '')}</first><last>${esc(o.patientName.last)}</last></name></patient>`,
    `<study uid="${o.studyUid}"></study>`,
    `<series uid="${seriesUid}"><number>${o.seriesNumber}</number><description>${esc(o.seriesDescription)}</description></series>`,
    `<instance uid="${sopInstanceUid}"><number>1</number></instance>`,
    '<document>',
    '<completion flag="COMPLETE"></completion>',
    '<verification flag="UNVERIFIED"></verification>',
    '<content>',
    '<date>2026-01-02</date>',
    '<time>03:04:05</time>',
    `<container flag="SEPARATE">${code('concept', o.title)}${o.content.map(itemXml).join('')}</container>`,
    '</content>',
    '</document>',
    '</report>',
  ].join('\n');
  const xmlFile = `${o.file}.xml`;
  fs.writeFileSync(xmlFile, xml, 'latin1');
  await run('xml2dsr', [xmlFile, o.file], { maxBuffer: 16 << 20 });
  return { file: o.file, seriesUid, sopInstanceUid };
}
