/**
 * The Router pages in headless chromium against `pacs serve`: an invalid condition typed
 * in the editor shows its error with line and column, and saving it is refused; the
 * fixed rule is saved; a dry run with an uploaded CT file lists the CT rule as matching
 * and the MR rule as not; dragging a rule (and the keyboard Down button) reorders the
 * rules on the server; saving one rule leaves the other open editors as they were (same
 * editor, unsaved edit, undo history); a condition with a type error (a number compared
 * with a string) is shown at the rule and refused; the Queue page lists a destination on a
 * closed port after storescu sent an instance to ROUTER, its failed entry by patient, study
 * and series, retried by its Retry button and by Retry failed (both in the activity log),
 * and Purge all empties it; an instance no rule forwards is listed as unrouted and purged
 * from the page; a rule saved with Discard; a rule after a catch-all `true` rule is marked
 * as never reached, and a new rule is saved before the catch-all.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { freePort, REPO_ROOT, runDcmtk, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

let browser: Browser;
let page: Page;
let webUrl: string;
let routerPort: number;
let ctFile: string;
let usFile: string;
const auth = { authorization: `Basic ${Buffer.from('admin:e2e-password').toString('base64')}` };

async function rest<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(new URL(path, webUrl), {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const ruleNames = async (): Promise<string[]> => (await rest<{ rules: { name: string }[] }>('GET', '/api/router/rules')).rules.map((r) => r.name);

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-router-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  ctFile = (await writeCtSeries({ dir: join(dir, 'ct'), count: 1, rows: 64, cols: 64 })).files[0];
  // The same image as another modality and instance: no rule of this test forwards a US.
  usFile = join(dir, 'us.dcm');
  copyFileSync(ctFile, usFile);
  const m = await runDcmtk('dcmodify', ['-nb', '-m', '(0008,0060)=US', '-m', '(0008,0018)=1.2.826.0.1.3680043.10.79.1', usFile]);
  expect(m.code, m.stderr).toBe(0);
  const closed = await freePort();
  const served = await startPacsServe(join(dir, 'pacs'), 'e2e-password');
  routerPort = served.routerPort;
  webUrl = `${served.base}/`;
  // A destination registered on a port nobody listens on, and one rule that will not match a CT.
  await rest('POST', '/api/aes', { aeTitle: 'UNREACHABLE', connection: { host: '127.0.0.1', port: closed } });
  // A retry an hour later: a failed entry stays failed until a person retries it.
  await rest('PUT', '/api/router/rules', {
    rules: [{ name: 'mr only', condition: 'Modality == "MR"', destinations: ['WORKSTATION'] }],
    queue: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
  });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(webUrl);
  await page.fill('#login-password', 'e2e-password');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('a[data-page="router-rules"]', { state: 'visible' });
});

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe('Router rules page', () => {
  it('shows an invalid condition with its position as you type, refuses to save it, saves it fixed', async () => {
    await page.click('a[data-page="router-rules"]');
    await page.waitForSelector('#rule-list li[data-rule="mr only"]');
    await page.click('#rule-new');
    const editor = '#rule-list li.new';
    await page.fill(`${editor} .rule-name`, 'ct to unreachable');
    await page.fill(`${editor} .rule-condition .cm-content`, 'Modality = "CT"');
    await expect.poll(() => page.textContent(`${editor} .condition-problems`), { timeout: 10_000 }).toMatch(/^line 1, column 10: /);
    // Underlined in the editor as well.
    await page.waitForSelector(`${editor} .cm-lintRange-error`);
    await page.check(`${editor} .rule-dest input[value="UNREACHABLE"]`);
    await page.click(`${editor} .rule-save`);
    await expect.poll(() => page.textContent(`${editor} .field-error[data-field="condition"]`)).toMatch(/condition: 1:10: /);
    expect(await ruleNames()).toEqual(['mr only']);

    await page.fill(`${editor} .rule-condition .cm-content`, 'Modality == "CT"');
    await expect.poll(() => page.textContent(`${editor} .condition-problems`)).toBe('');
    // CEL highlighting: the string, the operator and the keyword are tokens of their own, styled differently.
    const tokens = await page.locator(`${editor} .cm-line span`).evaluateAll((spans) => Object.fromEntries(spans.map((s) => [s.textContent, s.className])));
    expect(Object.keys(tokens)).toEqual(expect.arrayContaining(['Modality', '==', '"CT"']));
    expect(new Set([tokens.Modality, tokens['=='], tokens['"CT"']]).size).toBe(3);
    await page.click(`${editor} .rule-save`);
    await page.waitForSelector('#rule-list li[data-rule="ct to unreachable"]');
    expect(await page.textContent('#rules-status')).toBe('saved ct to unreachable');
    expect(await ruleNames()).toEqual(['mr only', 'ct to unreachable']);
    expect((await rest<{ rules: { destinations: string[] }[] }>('GET', '/api/router/rules')).rules[1].destinations).toEqual(['UNREACHABLE']);
  });

  it('shows a type error at the rule as you type and when saving: the attribute, its VR and both types', async () => {
    await page.click('#rule-new');
    const editor = '#rule-list li.new';
    await page.fill(`${editor} .rule-name`, 'thick slices');
    await page.fill(`${editor} .rule-condition .cm-content`, 'SliceThickness > "3"');
    await expect
      .poll(() => page.textContent(`${editor} .condition-problems`), { timeout: 10_000 })
      .toBe('line 1, column 16: > cannot compare SliceThickness (number, VR DS) with "3" (string): write 3 without quotes');
    await page.check(`${editor} .rule-dest input[value="WORKSTATION"]`);
    await page.click(`${editor} .rule-save`);
    await expect
      .poll(() => page.textContent(`${editor} .field-error[data-field="condition"]`))
      .toBe('condition: 1:16: > cannot compare SliceThickness (number, VR DS) with "3" (string): write 3 without quotes');
    expect(await ruleNames()).toEqual(['mr only', 'ct to unreachable']);
    await page.click(`${editor} .rule-delete`);
    await expect.poll(() => page.locator('#rule-list li.new').count()).toBe(0);
  });

  it('dry-runs an uploaded CT file: the CT rule matches, the MR rule does not', async () => {
    await page.setInputFiles('#dry-run-file', ctFile);
    await page.click('#dry-run-run');
    await page.waitForSelector('#dry-run-matches');
    expect(await page.getAttribute('#dry-run-matches tr[data-rule="ct to unreachable"]', 'class')).toBe('matched');
    expect(await page.getAttribute('#dry-run-matches tr[data-rule="mr only"]', 'class')).toBe('unmatched');
    expect(await page.textContent('#dry-run-matches tr[data-rule="ct to unreachable"] td:nth-child(2)')).toBe('matches');
    expect(await page.locator('#dry-run-sends li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-destination')))).toEqual(['UNREACHABLE']);
    expect(await page.textContent('#dry-run-stopped')).toBe('Evaluation stopped at "ct to unreachable".');
  });

  it('reorders by dragging a rule, and with the keyboard, and the order is saved', async () => {
    await page.dragAndDrop('#rule-list li[data-rule="ct to unreachable"] .rule-head', '#rule-list li[data-rule="mr only"]', {
      targetPosition: { x: 20, y: 3 },
    });
    await expect.poll(ruleNames).toEqual(['ct to unreachable', 'mr only']);
    await expect
      .poll(() => page.locator('#rule-list li.rule').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-rule'))))
      .toEqual(['ct to unreachable', 'mr only']);
    await page.focus('#rule-list li[data-rule="ct to unreachable"] .rule-down');
    await page.keyboard.press('Enter');
    await expect.poll(ruleNames).toEqual(['mr only', 'ct to unreachable']);
    await page.reload();
    await page.waitForSelector('#rule-list li.rule');
    expect(await page.locator('#rule-list li.rule').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-rule')))).toEqual([
      'mr only',
      'ct to unreachable',
    ]);
  });

  it('saving one rule keeps the other open editors: the same editor, its unsaved edit and its undo history', async () => {
    const mr = '#rule-list li[data-rule="mr only"]';
    const ct = '#rule-list li[data-rule="ct to unreachable"]';
    expect(await page.locator('#rule-list .rule-edit').allTextContents()).toEqual(['Edit', 'Edit']);
    await page.click(`${mr} .rule-edit`);
    await page.click(`${ct} .rule-edit`);
    expect(await page.locator('#rule-list .rule-edit').allTextContents()).toEqual(['Close', 'Close']);
    // An edit of the CT rule, not saved, typed as one undoable change.
    await page.click(`${ct} .rule-condition .cm-content`);
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText(' && true');
    expect(await page.textContent(`${ct} .rule-condition .cm-content`)).toBe('Modality == "CT" && true');
    await page.$eval(`${ct} .cm-editor`, (el) => el.setAttribute('data-e2e-mark', 'before'));
    // The MR rule edited and saved.
    await page.fill(`${mr} .rule-condition .cm-content`, 'Modality == "MR" || Modality == "MG"');
    await page.click(`${mr} .rule-save`);
    await expect.poll(() => page.textContent('#rules-status')).toBe('saved mr only');
    expect((await rest<{ rules: { name: string; condition: string }[] }>('GET', '/api/router/rules')).rules[0]).toMatchObject({
      name: 'mr only',
      condition: 'Modality == "MR" || Modality == "MG"',
    });
    // The CT rule's editor is the one it was (a rebuilt one would not carry the mark), with the edit...
    expect(await page.getAttribute(`${ct} .cm-editor`, 'data-e2e-mark')).toBe('before');
    expect(await page.textContent(`${ct} .rule-condition .cm-content`)).toBe('Modality == "CT" && true');
    // ...and its undo history: Ctrl+Z takes the edit back.
    await page.click(`${ct} .rule-condition .cm-content`);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.textContent(`${ct} .rule-condition .cm-content`)).toBe('Modality == "CT"');
  });
});

describe('Router queue page', () => {
  it('lists the unreachable destination after storescu sent an instance to ROUTER; Purge all empties it', async () => {
    const sent = await storescu({ port: routerPort, calledAet: 'ROUTER', files: [ctFile] });
    expect(sent.code, sent.stderr).toBe(0);
    await page.click('a[data-page="router-queue"]');
    const row = '#queue-destinations tr[data-destination="UNREACHABLE"]';
    await page.waitForSelector(row, { timeout: 15_000 });
    const queued = async () => {
      const cells = await page.locator(`${row} td`).allTextContents();
      return Number(cells[1]) + Number(cells[3]) + Number(cells[4]);
    };
    await expect.poll(queued).toBe(1);
    // The entry, failed once, as a person recognises it: patient, study, series, destination, rule, attempts, error.
    const entry = '#queue-entries tr[data-entry][data-state="failed"]';
    await page.waitForSelector(entry, { timeout: 15_000 });
    const cells = async () => (await page.locator(`${entry} td`).allTextContents()).slice(2, 8);
    const date = (await page.textContent(`${entry} .entry-study`))!.slice(0, 10);
    expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await cells()).toEqual([
      'PHANTOM CT \u00b7 PHANTOM-CT',
      `${date} \u00b7 Synthetic CT phantom`,
      'CT \u00b7 Water cylinder with bone rod',
      'UNREACHABLE',
      'ct to unreachable',
      '1',
    ]);
    expect(await page.textContent(`${entry} .entry-error`)).toMatch(/\S/);
    const id = await page.getAttribute(entry, 'data-entry');

    // Retry now, not in an hour: the entry is tried again (and fails again, the port is closed).
    await page.click(`${entry} .entry-retry`);
    await expect.poll(() => page.textContent('#queue-message')).toBe('1 entry retried');
    await expect.poll(() => page.textContent(`${entry} .entry-attempts`), { timeout: 15_000 }).toBe('2');
    await page.click(`${row} .queue-retry`);
    await expect.poll(() => page.textContent('#queue-message')).toBe('1 entry retried');
    await expect.poll(() => page.textContent(`${entry} .entry-attempts`), { timeout: 15_000 }).toBe('3');
    const events = (await rest<{ events: { message: string }[] }>('GET', '/api/activity?kind=rules')).events.map((e) => e.message);
    expect(events).toContain('admin: retried 1 failed and dead queue entry for UNREACHABLE');
    expect(events).toContainEqual(expect.stringMatching(new RegExp(`^admin: retried queue entry ${id} \\(\\S+, patient PHANTOM-CT\\) for UNREACHABLE$`)));

    await page.click(`${row} .queue-purge-all`);
    await page.click('#confirm-ok'); // the in-page confirmation
    await expect.poll(() => page.textContent('#queue-message')).toBe('1 entry purged');
    await expect.poll(queued).toBe(0);
    await expect.poll(() => page.locator('#queue-entries tr[data-entry]').count()).toBe(0);
    expect((await rest<{ entries: unknown[] }>('GET', '/api/router/queue/UNREACHABLE')).entries).toEqual([]);
  });

  it('lists an instance no rule forwards as unrouted; Purge removes it', async () => {
    const sent = await storescu({ port: routerPort, calledAet: 'ROUTER', files: [usFile] });
    expect(sent.code, sent.stderr).toBe(0);
    await page.click('a[data-page="router-queue"]');
    const row = '#unrouted-entries tr[data-uid="1.2.826.0.1.3680043.10.79.1"]';
    await page.waitForSelector(row, { timeout: 15_000 });
    expect(await page.getAttribute(row, 'data-state')).toBe('unrouted');
    expect(await page.textContent(`${row} td:nth-child(2)`)).toBe('unrouted');
    await expect.poll(() => page.textContent('#unrouted-counts')).toBe('(1 unrouted, 0 rule failed)');
    await page.click(`${row} .unrouted-purge`);
    await expect.poll(() => page.textContent('#queue-message')).toBe('1 entry purged');
    await expect.poll(() => page.locator(row).count()).toBe(0);
    expect((await rest<{ entries: unknown[] }>('GET', '/api/router/unrouted')).entries).toEqual([]);
  });

  it('saves a rule that discards from the rules page', async () => {
    await page.click('a[data-page="router-rules"]');
    await page.waitForSelector('#rule-list li[data-rule="mr only"]');
    await page.click('#rule-new');
    const editor = '#rule-list li.new';
    await page.fill(`${editor} .rule-name`, 'drop US');
    await page.fill(`${editor} .rule-condition .cm-content`, 'Modality == "US"');
    await page.check(`${editor} .rule-discard`);
    expect(await page.locator(`${editor} .rule-continue`).isDisabled()).toBe(true); // the forwarding fields do not apply
    await page.click(`${editor} .rule-save`);
    await page.waitForSelector('#rule-list li[data-rule="drop US"]');
    expect(await page.textContent('#rule-list li[data-rule="drop US"] .rule-summary')).toBe('Modality == "US" \u2192 (discard)');
    const saved = (await rest<{ rules: { name: string; discard?: boolean; destinations: string[] }[] }>('GET', '/api/router/rules')).rules.find(
      (r) => r.name === 'drop US',
    );
    expect(saved).toMatchObject({ discard: true, destinations: [] });
  });
});

describe('Router rules after a catch-all', () => {
  it('marks a rule after a catch-all `true` rule as never reached, and saves a new rule before the catch-all', async () => {
    const current = await rest<{ rules: object[] }>('GET', '/api/router/rules');
    await rest('PUT', '/api/router/rules', {
      rules: [
        ...current.rules,
        { name: 'catch-all', condition: 'true', destinations: ['WORKSTATION'] },
        { name: 'late SR', condition: 'Modality == "SR"', destinations: ['WORKSTATION'] },
      ],
    });
    await page.click('a[data-page="router-queue"]');
    await page.click('a[data-page="router-rules"]');
    await page.waitForSelector('#rule-list li[data-rule="late SR"]');
    expect(await page.isVisible('#rule-list li[data-rule="late SR"] .rule-warning')).toBe(true);
    expect(await page.textContent('#rule-list li[data-rule="late SR"] .rule-warning')).toBe(
      'rule "late SR" can never match: the earlier rule "catch-all" matches everything (condition true) and stops the evaluation; move "late SR" before it',
    );
    expect(await page.isVisible('#rule-list li[data-rule="mr only"] .rule-warning')).toBe(false);

    await page.click('#rule-new');
    const editor = '#rule-list li.new';
    await page.fill(`${editor} .rule-name`, 'CT to workstation');
    await page.fill(`${editor} .rule-condition .cm-content`, 'Modality == "CT"');
    await page.check(`${editor} .rule-dest input[value="WORKSTATION"]`);
    await page.click(`${editor} .rule-save`);
    await expect.poll(() => page.textContent('#rules-status')).toBe('saved CT to workstation before the catch-all rule "catch-all"');
    expect(await ruleNames()).toEqual(['mr only', 'ct to unreachable', 'drop US', 'CT to workstation', 'catch-all', 'late SR']);
    expect(await page.locator('#rule-list li.rule').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-rule')))).toEqual([
      'mr only',
      'ct to unreachable',
      'drop US',
      'CT to workstation',
      'catch-all',
      'late SR',
    ]);
    expect(await page.isVisible('#rule-list li[data-rule="CT to workstation"] .rule-warning')).toBe(false);

    // Moved before the catch-all, the late rule is reachable again: the warning goes.
    await page.dragAndDrop('#rule-list li[data-rule="late SR"] .rule-head', '#rule-list li[data-rule="catch-all"]', { targetPosition: { x: 20, y: 3 } });
    await expect.poll(ruleNames).toEqual(['mr only', 'ct to unreachable', 'drop US', 'CT to workstation', 'late SR', 'catch-all']);
    await expect.poll(() => page.isVisible('#rule-list li[data-rule="late SR"] .rule-warning')).toBe(false);
  });
});
