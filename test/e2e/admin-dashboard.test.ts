import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkip, buildWebApp, screenshot, useChromium } from '../support/browser.js';
import { ANSWER, callEventOk, callUser, device, ringingCall } from '../support/calls.js';
import { registerUser } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const skip = browserSkip();
const kind = process.env['DATABASE_URL'] ? 'postgres' : 'pglite';
const STEP_MS = 20_000;

/** Waits until the page's element `testId` reads at least `min` (its text, or one of its attributes). */
const waitForAtLeast = (page: Page, testId: string, min: number, attribute?: string) =>
  page.waitForFunction(
    ({ testId, min, attribute }) => {
      const element = (globalThis as unknown as { document: { querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null } }).document.querySelector(`[data-testid="${testId}"]`);
      return Number(attribute ? element?.getAttribute(attribute) : element?.textContent) >= min;
    },
    { testId, min, attribute },
  );

/** The SDK's connection state in the demo page (its client is on window.callApp). */
const socketState = (page: Page) => page.evaluate(() => (globalThis as unknown as { callApp: { client: { realtime: { state: string } } } }).callApp.client.realtime.state);

type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };

/** How many pixels of a canvas are painted (not transparent). */
const paintedPixels = (page: Page, testId: string) =>
  page.getByTestId(testId).evaluate((element) => {
    const canvas = element as unknown as Canvas;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha]! > 0) painted += 1;
    return painted;
  });

describe(`admin dashboard in chromium (${kind})`, { skip, timeout: 240_000 }, () => {
  const dirs = { demo: '', admin: '' };
  before(async () => {
    [dirs.demo, dirs.admin] = await Promise.all([buildWebApp('demo'), buildWebApp('admin')]);
  });
  const server = useTestApp(kind, () => ({ DEMO_DIR: dirs.demo, ADMIN_DIR: dirs.admin }));
  const chromium = useChromium();
  after(async () => {
    for (const dir of Object.values(dirs)) if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A page of its own; failed requests are not its problems: the panels whose endpoints answer an error show it. */
  const open = (path: string) => chromium.open(`${server.baseUrl}${path}`, { viewport: { width: 1280, height: 900 }, ignoreFailedRequests: true, stepMs: STEP_MS });

  async function signInToDashboard(page: Page, account: { email: string; password: string }): Promise<void> {
    await page.getByPlaceholder('Email').fill(account.email);
    await page.getByPlaceholder('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const tag = Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6);

  test('an admin bans a connected user (their page loses its socket), changes a role, sees live figures charted', async () => {
    const admin = await registerUser(server.baseUrl, `Admin ${tag}`);
    await server.app.storage.users.setRole(admin.user.id, 'admin');
    const dana = await registerUser(server.baseUrl, `Dana ${tag}`);
    const erin = await registerUser(server.baseUrl, `Erin ${tag}`);
    // A call today whose parties reported its quality: the call-quality charts have a day to draw.
    const [caller, callee] = await Promise.all([callUser(server.baseUrl, `Caller ${tag}`), callUser(server.baseUrl, `Callee ${tag}`)]);
    const call = await ringingCall(caller, callee);
    await callEventOk(device(callee), 'CALL_ACCEPT', { callId: call.id, answer: ANSWER });
    for (const [party, rttMs] of [[caller, 40], [callee, 60]] as const) {
      await callEventOk(device(party), 'CALL_STATS', { callId: call.id, setupMs: 300, stats: { rttMs, jitterMs: 4, packetLossPct: 0.5, relayed: false } });
    }

    // Dana signs in to the demo in a browser of her own: a live socket.
    const demo = await open('/demo/');
    await demo.getByRole('button', { name: 'I have an account: sign in' }).click();
    await demo.getByPlaceholder('Email').fill(dana.email);
    await demo.getByPlaceholder(/^Password/).fill(dana.password);
    await demo.getByRole('button', { name: 'Sign in' }).click();
    await demo.getByTestId('me').filter({ hasText: dana.user.name }).waitFor();
    await demo.waitForFunction(() => (globalThis as unknown as { callApp: { client: { realtime: { state: string } } } }).callApp.client.realtime.state === 'connected');

    const dashboard = await open('/admin/');
    await screenshot(dashboard, 'admin-01-sign-in');
    await signInToDashboard(dashboard, admin);
    await dashboard.getByTestId('me').filter({ hasText: admin.email }).waitFor();
    // Dana's socket is counted (this process holds every socket of the test app).
    await waitForAtLeast(dashboard, 'live-connectedUsers', 1);
    assert.ok(Number(await dashboard.getByTestId('live-connectedSockets').textContent()) >= 1);
    // A second sample, so the live chart draws lines, not points only.
    await waitForAtLeast(dashboard, 'live-chart', 8, 'data-points');
    assert.ok((await paintedPixels(dashboard, 'live-chart')) > 500, 'the live chart painted its canvas');
    // Today's call, with its quality and setup time, on the call-quality charts.
    for (const chart of ['quality-calls', 'quality-mos', 'quality-setup']) {
      await waitForAtLeast(dashboard, chart, 1, 'data-points');
      assert.ok((await paintedPixels(dashboard, chart)) > 500, `${chart} painted its canvas`);
    }
    await screenshot(dashboard, 'admin-02-dashboard', { fullPage: true });

    // The admin finds Dana, sees her online with her session, and bans her.
    await dashboard.getByTestId('user-search').fill(`dana ${tag}`);
    await dashboard.getByTestId('user-search-submit').click();
    const row = dashboard.getByTestId('user-row').filter({ hasText: dana.email });
    await row.waitFor();
    assert.equal(await dashboard.getByTestId('user-row').count(), 1);
    await row.click();
    const detail = dashboard.getByTestId('user-detail');
    await detail.getByText(dana.user.name).first().waitFor();
    assert.equal(await detail.getByTestId('user-status').textContent(), 'active');
    assert.ok((await detail.getByTestId('sessions').locator('li').count()) >= 2, 'her registration and the demo sign-in');
    await screenshot(dashboard, 'admin-03-user-detail', { fullPage: true });
    await detail.getByTestId('ban').click();
    await detail.getByTestId('user-status').filter({ hasText: 'banned' }).waitFor();
    await detail.getByText('No live sessions.').waitFor();

    // Dana's page is disconnected at once and back at the sign-in form.
    await demo.getByTestId('auth').waitFor();
    assert.equal(await socketState(demo), 'disconnected');
    await screenshot(demo, 'admin-04-banned-user-signed-out');
    await screenshot(dashboard, 'admin-05-banned', { fullPage: true });

    // Erin is made an admin; unbanning Dana shows too.
    await dashboard.getByTestId('user-search').fill(erin.email.slice(0, 12));
    await dashboard.getByTestId('user-search-submit').click();
    await dashboard.getByTestId('user-row').filter({ hasText: erin.email }).click();
    await detail.getByTestId('make-admin').click();
    await detail.getByTestId('user-role').filter({ hasText: 'admin' }).waitFor();
    await dashboard.getByTestId('user-row').filter({ hasText: erin.email }).filter({ hasText: 'admin' }).waitFor();
    assert.equal((await server.app.storage.users.findById(erin.user.id))?.role, 'admin');
    await screenshot(dashboard, 'admin-06-role-changed', { fullPage: true });

    // The audit log shows the ban, by this admin, filtered to Dana's entries of that type.
    const audit = dashboard.getByTestId('audit');
    await audit.getByTestId('audit-user').fill(dana.user.id);
    await audit.getByTestId('audit-type').selectOption('user.status_changed');
    await audit.getByRole('button', { name: 'Filter' }).click();
    const banEntry = audit.getByTestId('audit-row').filter({ hasText: 'user.status_changed' }).filter({ hasText: '"to":"banned"' });
    await banEntry.filter({ hasText: admin.user.id }).waitFor();
    assert.equal(await audit.getByTestId('audit-row').count(), 1, 'only the entry the filters ask for');
    await screenshot(dashboard, 'admin-07-audit-log', { fullPage: true });

    for (const page of [dashboard, demo]) assert.deepEqual(page.problems, [], 'no errors in the page console (CSP refusals included)');
  });

  test('/admin and /demo are served with the same strict CSP; only the demo may use camera and microphone', async () => {
    const [admin, demo] = await Promise.all([fetch(`${server.baseUrl}/admin/`), fetch(`${server.baseUrl}/demo/`)]);
    for (const response of [admin, demo]) {
      assert.equal(response.status, 200);
      const csp = response.headers.get('content-security-policy') ?? '';
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
        assert.ok(csp.includes(directive), `${directive} in ${csp}`);
      }
      assert.ok(!csp.includes('unsafe'), csp);
    }
    assert.equal(admin.headers.get('permissions-policy'), 'camera=(), microphone=(), geolocation=()');
    assert.equal(demo.headers.get('permissions-policy'), 'camera=(self), microphone=(self), geolocation=()');
    assert.ok(!(admin.headers.get('content-security-policy') ?? '').includes('media-src'), 'the dashboard plays no media');
  });

  test('a non-admin who signs in is told the dashboard is for admins only, and signed out', async () => {
    const plain = await registerUser(server.baseUrl, `Plain ${tag}`);
    const page = await open('/admin/');
    await signInToDashboard(page, plain);
    await page.getByTestId('login-error').filter({ hasText: 'admins only' }).waitFor();
    assert.equal(await page.getByTestId('me').count(), 0);
    await screenshot(page, 'admin-08-not-an-admin');
    // The session it opened was ended on the way out.
    const sessions = await server.app.storage.sessions.listActiveByUser(plain.user.id, new Date());
    assert.equal(sessions.length, 1, 'only the registration session is left');
    assert.deepEqual(page.problems, []);
  });
});
