import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

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

/** A page whose `problems` gathered its uncaught errors and console errors (CSP refusals included). */
export type WatchedPage = Page & { problems: string[] };

export interface PageOptions {
  viewport: { width: number; height: number };
  /** Permissions granted to the page's origin (e.g. camera, microphone). */
  permissions?: string[];
  /** Failed requests are not problems (for a page that shows them itself). */
  ignoreFailedRequests?: boolean;
  /** How long each step (click, wait) may take. */
  stepMs: number;
}

/**
 * Chromium for the enclosing describe(): launched in its `before`, every context and the browser closed
 * in its `after`. `open` gives a page in a browser context of its own, at `url`.
 */
export function useChromium(): { open(url: string, options: PageOptions): Promise<WatchedPage> } {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
  });
  return {
    async open(url, options) {
      if (!browser) throw new Error('chromium is not running (open pages in a hook or test)');
      const context = await browser.newContext({ viewport: options.viewport });
      contexts.push(context);
      if (options.permissions) await context.grantPermissions(options.permissions, { origin: new URL(url).origin });
      const page = Object.assign(await context.newPage(), { problems: [] as string[] });
      page.setDefaultTimeout(options.stepMs);
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        if (options.ignoreFailedRequests && message.text().startsWith('Failed to load resource')) return;
        page.problems.push(message.text());
      });
      page.on('pageerror', (error) => page.problems.push(error.message));
      await page.goto(url);
      return page;
    },
  };
}
