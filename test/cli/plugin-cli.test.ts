/** `pacs config plugin add|list|rm`: the registry's add-in list, each refusal naming what is wrong. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../src/config/index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs, type PacsRun } from './run-pacs.js';

let data: string;
const pacs = (...args: string[]): Promise<PacsRun> => runPacs(...args, '--data', data);

beforeAll(async () => {
  data = join(await makeTempDir('pacs-cli-plugin-'), 'data');
});
afterAll(removeTempDirs);

describe('pacs config plugin', () => {
  it('lists, refuses bad entries with a clear message, and removes', async () => {
    const added = await pacs('config', 'plugin', 'add', '/opt/addins/webhook.mjs', '--options', '{"url":"http://127.0.0.1:9/h"}', '--timeout', '5');
    expect(added.status, added.stderr).toBe(0);
    expect(added.stdout).toBe('add-in /opt/addins/webhook.mjs listed; it is loaded at the next start of pacs serve\n');
    const again = await pacs('config', 'plugin', 'add', '/opt/addins/webhook.mjs');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('an add-in "/opt/addins/webhook.mjs" is already listed (give it another --name)');
    const badJson = await pacs('config', 'plugin', 'add', './x.mjs', '--options', '{url');
    expect(badJson.status).toBe(1);
    expect(badJson.stderr).toContain('--options: not JSON');
    const badName = await pacs('config', 'plugin', 'add', './x.mjs', '--name', 'Bad Name');
    expect(badName.status).toBe(1);
    expect(badName.stderr).toContain('a plug-in name is 1-32 lower-case letters, digits and hyphens, starting with a letter');
    const second = await pacs('config', 'plugin', 'add', '/opt/addins/webhook.mjs', '--name', 'hook2', '--disabled');
    expect(second.status, second.stderr).toBe(0);

    const config = await ConfigStore.open(data);
    expect(config.current.plugins).toEqual([
      { module: '/opt/addins/webhook.mjs', options: { url: 'http://127.0.0.1:9/h' }, timeoutSeconds: 5, enabled: true },
      { module: '/opt/addins/webhook.mjs', name: 'hook2', options: {}, enabled: false },
    ]);
    config.close();
    const list = await pacs('config', 'plugin', 'list');
    expect(list.stdout).toMatch(/\/opt\/addins\/webhook\.mjs\s+\/opt\/addins\/webhook\.mjs\s+yes\s+\{"url":"http:\/\/127\.0\.0\.1:9\/h"\}/);
    expect(list.stdout).toMatch(/hook2\s+\/opt\/addins\/webhook\.mjs\s+no\s+\{\}/);

    expect((await pacs('config', 'plugin', 'rm', 'hook2')).status).toBe(0);
    const missing = await pacs('config', 'plugin', 'rm', 'hook2');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no add-in "hook2" in the registry');
  });
});
