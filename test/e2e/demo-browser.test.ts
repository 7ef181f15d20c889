import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserSkip, buildWebApp, screenshot, useChromium } from '../support/browser.js';
import { registerUser, uniqueEmail, PASSWORD } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const skip = browserSkip();
const kind = process.env['DATABASE_URL'] ? 'postgres' : 'pglite';
const STEP_MS = 20_000;

/** framesDecoded of the current call's inbound video, read in the page through the SDK. */
function framesDecoded(page: Page): Promise<number> {
  return page.evaluate(async () => {
    type Report = { forEach(each: (stat: { type: string; kind?: string; framesDecoded?: number }) => void): void };
    const app = (globalThis as unknown as { callApp: { currentCall(): { getStats(): Promise<Report> | undefined } | undefined } }).callApp;
    const report = await app.currentCall()?.getStats();
    let frames = 0;
    report?.forEach((stat) => {
      if (stat.type === 'inbound-rtp' && stat.kind === 'video') frames += stat.framesDecoded ?? 0;
    });
    return frames;
  });
}

describe(`demo web app in chromium (${kind})`, { skip, timeout: 240_000 }, () => {
  let demoDir = '';
  before(async () => {
    demoDir = await buildWebApp('demo');
  });
  const server = useTestApp(kind, () => ({ DEMO_DIR: demoDir }));
  const chromium = useChromium();
  after(async () => {
    if (demoDir) await rm(demoDir, { recursive: true, force: true });
  });

  const openDemo = (viewport: { width: number; height: number }) =>
    chromium.open(`${server.baseUrl}/demo/`, { viewport, permissions: ['camera', 'microphone'], stepMs: STEP_MS });

  async function register(page: Page, name: string): Promise<void> {
    await page.getByPlaceholder('Your name').fill(name);
    await page.getByPlaceholder('Email').fill(uniqueEmail(name.toLowerCase().replace(/\W+/g, '-')));
    await page.getByPlaceholder(/^Password/).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('me').filter({ hasText: name }).waitFor();
  }

  async function findAndPick(page: Page, name: string): Promise<void> {
    await page.getByTestId('people-search').fill(name);
    await page.getByRole('listitem').filter({ hasText: name }).getByTestId('pick').check();
  }

  // Names of their own: the database may hold other tests' Alices and Bobs.
  const tag = Math.random().toString(36).replace(/[^a-z]/g, '').slice(0, 6);
  const ALICE = `Alice ${tag}`;
  const BOB = `Bob ${tag}`;

  test('two people register, chat, make a group with a third, video-call and see it in history', async () => {
    const alice = await openDemo({ width: 1200, height: 800 });
    // Bob is on a phone-sized screen.
    const bob = await openDemo({ width: 390, height: 844 });
    const carol = await registerUser(server.baseUrl, `Carol ${tag}`);
    await screenshot(alice, '01-register');
    await register(alice, ALICE);
    await register(bob, BOB);
    await screenshot(alice, '02-signed-in');

    // Alice finds Bob and writes to him.
    await alice.getByTestId('tab-people').click();
    await alice.getByTestId('people-search').fill(BOB);
    await alice.getByRole('listitem').filter({ hasText: BOB }).getByTestId('message-person').click();
    await alice.getByTestId('composer').fill('Hi Bob!');
    await alice.getByTestId('send').click();
    await alice.getByTestId('message').filter({ hasText: 'Hi Bob!' }).waitFor();
    await screenshot(alice, '03-alice-wrote');

    // Bob sees the conversation with one unread message, opens it: Alice sees it read.
    await bob.getByTestId('conversation').filter({ hasText: ALICE }).getByTestId('unread').filter({ hasText: '1' }).waitFor();
    await screenshot(bob, '04-bob-unread');
    await bob.getByTestId('conversation').filter({ hasText: ALICE }).click();
    await bob.getByTestId('message').filter({ hasText: 'Hi Bob!' }).waitFor();
    await alice.getByTestId('receipt').filter({ hasText: 'Read' }).waitFor();
    await screenshot(alice, '05-alice-read-receipt');

    // Bob types: Alice sees it; then he answers.
    await bob.getByTestId('composer').pressSequentially('Hello Alice', { delay: 30 });
    await alice.getByTestId('typing').filter({ hasText: `${BOB} is typing` }).waitFor();
    await screenshot(alice, '06-alice-sees-typing');
    await screenshot(bob, '07-bob-chat');
    await bob.getByTestId('send').click();
    await alice.getByTestId('message').filter({ hasText: 'Hello Alice' }).waitFor();

    // Alice makes a group with Bob and Carol; Bob sees it and writes in it.
    await alice.getByTestId('tab-people').click();
    await findAndPick(alice, BOB);
    await findAndPick(alice, carol.user.name);
    await alice.getByTestId('group-title').fill('Weekend trip');
    await screenshot(alice, '08-new-group');
    await alice.getByTestId('create-group').click();
    await alice.getByTestId('chat-title').filter({ hasText: 'Weekend trip' }).waitFor();
    await bob.getByRole('button', { name: '‹' }).click();
    await bob.getByTestId('conversation').filter({ hasText: 'Weekend trip' }).click();
    await bob.getByTestId('composer').fill('Count me in');
    await bob.getByTestId('send').click();
    await alice.getByTestId('message').filter({ hasText: 'Count me in' }).waitFor();
    await screenshot(alice, '09-group-chat');
    await screenshot(bob, '10-bob-group-chat');

    // A video call from Alice to Bob.
    await alice.getByTestId('conversation').filter({ hasText: BOB }).filter({ hasNotText: 'Weekend' }).click();
    await alice.getByTestId('video-call').click();
    await bob.getByTestId('incoming-call').waitFor();
    await screenshot(bob, '11-bob-ringing');
    await bob.getByTestId('accept').click();
    await alice.getByTestId('call-state').filter({ hasText: 'Connected' }).waitFor();
    await bob.getByTestId('call-state').filter({ hasText: 'Connected' }).waitFor();
    for (const page of [alice, bob]) {
      const deadline = Date.now() + STEP_MS;
      while ((await framesDecoded(page)) === 0) {
        assert.ok(Date.now() < deadline, 'no remote video frame was decoded');
        await page.waitForTimeout(250);
      }
    }
    await screenshot(alice, '12-alice-in-call');
    await screenshot(bob, '13-bob-in-call');

    await alice.getByTestId('hang-up').click();
    await bob.getByTestId('call').waitFor({ state: 'detached' });
    await bob.getByRole('button', { name: '‹' }).click();
    await bob.getByTestId('tab-calls').click();
    await bob.getByTestId('call-entry').filter({ hasText: ALICE }).filter({ hasText: 'ended' }).waitFor();
    await screenshot(bob, '14-bob-call-history');
    await alice.getByTestId('tab-calls').click();
    await alice.getByTestId('call-entry').filter({ hasText: 'Outgoing video' }).waitFor();
    await screenshot(alice, '15-alice-call-history');

    for (const page of [alice, bob]) assert.deepEqual(page.problems, [], 'no errors in the page console');
  });
});
