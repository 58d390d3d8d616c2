// Headless chromium for browser tests: Debian's package through playwright-core (never a downloaded browser).
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** `env`: the browser's environment (e.g. a HOME whose NSS database trusts a test CA). */
export function launchChromium(env?: Record<string, string>): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    ...(env ? { env } : {}),
  });
}

const WEBGL_ARGS = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Headless chromium with software WebGL (SwiftShader), which the viewer's Cornerstone3D renders with. */
export function launchChromiumWithWebGL(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: WEBGL_ARGS });
}

/**
 * The same, with its profile (HTTP cache included) in `userDataDir`: a later launch on the
 * same directory starts with the cache warm, in a fresh browser (and GPU process).
 */
export function launchPersistentChromiumWithWebGL(userDataDir: string, viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: WEBGL_ARGS, viewport });
}
