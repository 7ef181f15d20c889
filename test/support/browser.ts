import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const inCi = process.env['CI'] === 'true';

/** Debian's chromium (.ci/run installs it); undefined when it is not installed here. */
export function chromiumPath(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Why the browser tests cannot run here; in CI a missing chromium is an error, not a skip. */
export function browserSkip(): string | undefined {
  if (chromiumPath()) return undefined;
  if (inCi) throw new Error('CI=true but chromium is not installed: the browser tests cannot run');
  return 'chromium is not installed (apt-get install chromium): browser tests skipped';
}

/**
 * Headless chromium with fake camera and microphone. Playwright starts it on a fresh temporary
 * profile (its own --user-data-dir, removed on close) and refuses one in `args`.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath()!,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS_DIR = path.join(ROOT, 'test-artifacts');

/**
 * Builds a web app of packages/ (demo, admin) with Vite into a fresh directory and returns it (for
 * DEMO_DIR, ADMIN_DIR). Builds started together run side by side.
 */
export async function buildWebApp(app: 'demo' | 'admin'): Promise<string> {
  const outDir = await mkdtemp(path.join(tmpdir(), `call-app-${app}-`));
  const { build } = await import('vite');
  await build({ configFile: path.join(ROOT, `packages/${app}/vite.config.ts`), build: { outDir, emptyOutDir: true } });
  return outDir;
}

/** A screenshot of the page's current state (the whole page with `fullPage`), test-artifacts/<name>.png. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), ...options });
}
