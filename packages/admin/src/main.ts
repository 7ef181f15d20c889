import {
  ApiError,
  createClient,
  type AdminUserDetailResponse,
  type AdminUserDto,
  type AuditEntry,
  type AuditEventType,
  type AuditFilter,
  type LiveFiguresResponse,
  type UserDto,
} from '@call-app/client';
// The demo's DOM helpers: both apps build plain DOM the same way.
import { fill, h, time } from '../../demo/src/dom.js';
import { color, SeriesChart } from './charts.js';

/**
 * The session lives in this page's memory only (the SDK's default token store), never in localStorage
 * or sessionStorage: an admin's tokens are the most powerful there are, and /demo is served from the
 * same origin, so any script of that origin could read a stored one. A reload asks to sign in again.
 */
const client = createClient({ baseUrl: location.origin, deviceName: 'Admin dashboard' });
const root = document.getElementById('app')!;

const LIVE_EVERY_MS = 3000;
/** Samples the live chart keeps: the last 10 minutes at one every 3 s. */
const LIVE_SAMPLES = 200;
const ADMINS_ONLY = 'This dashboard is for admins only: sign in with an admin account.';
const AUDIT_TYPES: AuditEventType[] = [
  'login.succeeded',
  'login.failed',
  'refresh_token.reused',
  'session.logged_out',
  'session.revoked',
  'user.status_changed',
  'user.role_changed',
  'push_token.added',
  'push_token.removed',
  'group.owner_changed',
];

function describe(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.status ? `${error.status} ` : ''}${error.code})`;
  return error instanceof Error ? error.message : 'Something went wrong';
}

/** A refusal that means this session may not use the dashboard (no longer an admin, or signed out). */
async function refused(error: unknown): Promise<boolean> {
  if (!(error instanceof ApiError) || error.code !== 'FORBIDDEN' || error.status !== 403) return false;
  await signOut(ADMINS_ONLY);
  return true;
}

// ---- sign-in ----------------------------------------------------------------------------------------------

function loginView(message: string): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'login-error' }, message);
  const form = h('form', { class: 'auth', 'data-testid': 'login' },
    h('h1', {}, 'Call app admin'),
    h('p', { class: 'muted' }, 'Sign in with an admin account.'),
    h('input', { name: 'email', type: 'email', placeholder: 'Email', autocomplete: 'username', required: true }),
    h('input', { name: 'password', type: 'password', placeholder: 'Password', autocomplete: 'current-password', required: true }),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const user = await client.auth.login({ email: String(data.get('email')), password: String(data.get('password')) });
      if (user.role !== 'admin') return await signOut(ADMINS_ONLY);
      showDashboard(user);
    } catch (failure) {
      error.textContent = describe(failure);
    }
  });
  return form;
}

let stopDashboard: (() => void) | undefined;

/** Ends the session here and on the server and shows the sign-in form with `message`. */
async function signOut(message = ''): Promise<void> {
  stopDashboard?.();
  stopDashboard = undefined;
  await client.logout();
  fill(root, loginView(message));
}

// ---- the dashboard ----------------------------------------------------------------------------------------

function showDashboard(me: UserDto): void {
  const sections = [liveSection(), usersSection(me), qualitySection(), auditSection()];
  fill(root,
    h('div', { class: 'page' },
      h('header', { class: 'bar' },
        h('strong', { class: 'grow' }, 'Call app admin'),
        h('span', { class: 'muted', 'data-testid': 'me' }, me.email),
        h('button', { class: 'link', onclick: () => void signOut() }, 'Sign out')),
      ...sections.map((section) => section.element)));
  stopDashboard = () => sections.forEach((section) => section.stop?.());
}

interface Section {
  element: HTMLElement;
  stop?: () => void;
}

const chartBox = (canvas: HTMLCanvasElement, title: string) => h('figure', { class: 'chart' }, h('figcaption', {}, title), h('div', { class: 'canvas' }, canvas));

function liveSection(): Section {
  const labels: Record<keyof LiveFiguresResponse, string> = {
    connectedUsers: 'Connected users',
    connectedSockets: 'Sockets (this process)',
    callsInProgress: 'Calls in progress',
    groupCallsInProgress: 'Group calls in progress',
    messagesPerMinute: 'Messages per minute',
  };
  const keys = Object.keys(labels) as (keyof LiveFiguresResponse)[];
  const values = new Map(keys.map((key) => [key, h('strong', { 'data-testid': `live-${key}` }, '…')]));
  const error = h('p', { class: 'error', 'data-testid': 'live-error' });
  const canvas = h('canvas', { 'data-testid': 'live-chart' });
  const chart = new SeriesChart(canvas, 'line');
  const samples: { at: string; figures: LiveFiguresResponse }[] = [];
  const charted: (keyof LiveFiguresResponse)[] = ['connectedUsers', 'connectedSockets', 'callsInProgress', 'messagesPerMinute'];

  async function poll(): Promise<void> {
    try {
      const figures = await client.admin.live();
      for (const key of keys) values.get(key)!.textContent = String(figures[key]);
      samples.push({ at: new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }), figures });
      if (samples.length > LIVE_SAMPLES) samples.shift();
      chart.show(samples.map((sample) => sample.at), charted.map((key, index) => ({ label: labels[key], values: samples.map((sample) => sample.figures[key]), color: color(index) })));
      error.textContent = '';
    } catch (failure) {
      if (!(await refused(failure))) error.textContent = `Live figures: ${describe(failure)}`;
    }
  }
  const timer = setInterval(() => void poll(), LIVE_EVERY_MS);
  void poll();
  return {
    element: h('section', { class: 'panel', 'data-testid': 'live' },
      h('h2', {}, 'Now'),
      h('div', { class: 'tiles' }, keys.map((key) => h('div', { class: 'tile' }, values.get(key)!, h('span', { class: 'muted' }, labels[key])))),
      error,
      chartBox(canvas, 'Since this page opened')),
    stop: () => {
      clearInterval(timer);
      chart.destroy();
    },
  };
}

function usersSection(me: UserDto): Section {
  const state = { query: '', status: '', users: [] as AdminUserDto[], nextCursor: null as string | null };
  const query = h('input', { type: 'search', placeholder: 'Name or email starts with…', 'data-testid': 'user-search' });
  const status = h('select', { 'data-testid': 'user-status-filter' }, h('option', { value: '' }, 'Any status'), ['active', 'banned', 'deleted'].map((s) => h('option', { value: s }, s)));
  const list = h('tbody', {});
  const more = h('button', { type: 'button', class: 'small', hidden: true, onclick: () => void load(true) }, 'More');
  const error = h('p', { class: 'error', 'data-testid': 'users-error' });
  const detail = h('div', { class: 'detail', 'data-testid': 'user-detail' }, h('p', { class: 'muted' }, 'Pick a user to see their sessions and act on the account.'));

  const row = (user: AdminUserDto) =>
    h('tr', { 'data-testid': 'user-row', 'data-user-id': user.id, class: 'clickable', onclick: () => void open(user.id) },
      h('td', {}, user.online ? h('span', { class: 'dot on', title: 'online' }) : h('span', { class: 'dot', title: 'offline' }), user.name),
      h('td', {}, user.email),
      h('td', {}, user.role),
      h('td', {}, h('span', { class: `badge ${user.status}` }, user.status)),
      h('td', { class: 'muted' }, user.lastSeenAt ? time(user.lastSeenAt) : user.online ? 'now' : 'never'));

  async function load(next = false): Promise<void> {
    try {
      const page = await client.admin.users({
        ...(state.query ? { query: state.query } : {}),
        ...(state.status ? { status: state.status as AdminUserDto['status'] } : {}),
        ...(next && state.nextCursor ? { after: state.nextCursor } : {}),
      });
      state.users = next ? [...state.users, ...page.users] : page.users;
      state.nextCursor = page.nextCursor;
      fill(list, ...(state.users.length ? state.users.map(row) : [h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'Nobody matches.'))]));
      more.hidden = !state.nextCursor;
      error.textContent = '';
    } catch (failure) {
      if (!(await refused(failure))) error.textContent = `Users: ${describe(failure)}`;
    }
  }

  async function open(userId: string): Promise<void> {
    try {
      showDetail(await client.admin.user(userId));
    } catch (failure) {
      if (!(await refused(failure))) error.textContent = `User: ${describe(failure)}`;
    }
  }

  async function change(user: AdminUserDto, update: { status?: AdminUserDto['status']; role?: AdminUserDto['role'] }): Promise<void> {
    try {
      await client.admin.updateUser(user.id, update);
      await Promise.all([open(user.id), load()]);
    } catch (failure) {
      if (!(await refused(failure))) error.textContent = `Change: ${describe(failure)}`;
    }
  }

  function showDetail({ user, sessions }: AdminUserDetailResponse): void {
    const self = user.id === me.id;
    fill(detail,
      h('h3', {}, user.name, ' ', user.online ? h('span', { class: 'dot on', title: 'online' }) : null),
      h('p', { class: 'muted' }, user.email, ' · joined ', time(user.createdAt)),
      h('p', {}, 'Status ', h('span', { class: `badge ${user.status}`, 'data-testid': 'user-status' }, user.status), ' · role ', h('strong', { 'data-testid': 'user-role' }, user.role)),
      self
        ? h('p', { class: 'muted' }, 'This is you: another admin changes your own account.')
        : h('div', { class: 'actions' },
            user.status === 'active'
              ? h('button', { class: 'danger', 'data-testid': 'ban', onclick: () => void change(user, { status: 'banned' }) }, 'Ban')
              : h('button', { 'data-testid': 'unban', onclick: () => void change(user, { status: 'active' }) }, user.status === 'banned' ? 'Unban' : 'Reactivate'),
            user.role === 'user'
              ? h('button', { 'data-testid': 'make-admin', onclick: () => void change(user, { role: 'admin' }) }, 'Make admin')
              : h('button', { 'data-testid': 'make-user', onclick: () => void change(user, { role: 'user' }) }, 'Make user')),
      h('h4', {}, `Sessions (${sessions.length})`),
      sessions.length
        ? h('ul', { class: 'sessions', 'data-testid': 'sessions' }, sessions.map((session) =>
            h('li', {}, h('strong', {}, session.deviceName ?? 'Unnamed device'), h('span', { class: 'muted' }, ` · ${session.ip ?? 'no IP'} · last used ${time(session.lastUsedAt)}`), h('div', { class: 'muted small' }, session.userAgent ?? ''))))
        : h('p', { class: 'muted' }, 'No live sessions.'));
  }

  const form = h('form', { class: 'filters', onsubmit: (event) => { event.preventDefault(); state.query = query.value.trim(); state.status = status.value; void load(); } },
    query, status, h('button', { type: 'submit', class: 'primary', 'data-testid': 'user-search-submit' }, 'Search'));
  void load();
  return {
    element: h('section', { class: 'panel', 'data-testid': 'users' },
      h('h2', {}, 'Users'),
      form,
      error,
      h('div', { class: 'split' },
        h('div', {},
          h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Status', 'Last seen'].map((title) => h('th', {}, title)))), list),
          more),
        detail)),
  };
}

/** A day `days` before today (UTC), `YYYY-MM-DD`. */
const dayOffset = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

function qualitySection(): Section {
  const from = h('input', { type: 'date', value: dayOffset(29), 'data-testid': 'quality-from' });
  const to = h('input', { type: 'date', value: dayOffset(0), 'data-testid': 'quality-to' });
  const error = h('p', { class: 'error', 'data-testid': 'quality-error' });
  const canvases = { calls: h('canvas', { 'data-testid': 'quality-calls' }), mos: h('canvas', { 'data-testid': 'quality-mos' }), shares: h('canvas', { 'data-testid': 'quality-shares' }), setup: h('canvas', { 'data-testid': 'quality-setup' }) };
  const charts = {
    calls: new SeriesChart(canvases.calls, 'bar'),
    mos: new SeriesChart(canvases.mos, 'line', { yMax: 5 }),
    shares: new SeriesChart(canvases.shares, 'line', { yMax: 1, percent: true }),
    setup: new SeriesChart(canvases.setup, 'line'),
  };

  async function load(): Promise<void> {
    try {
      const { days } = await client.admin.callQuality({ from: from.value, to: to.value });
      const labels = days.map((day) => day.day);
      const series = (label: string, values: (number | null)[], index: number) => ({ label, values, color: color(index) });
      charts.calls.show(labels, [series('Calls', days.map((d) => d.calls), 0), series('With a quality report', days.map((d) => d.reportedCalls), 2)]);
      charts.mos.show(labels, [series('MOS (average)', days.map((d) => d.mosAvg), 0)]);
      charts.shares.show(labels, [series('Poor calls', days.map((d) => d.poorShare), 1), series('Relayed (TURN)', days.map((d) => d.relayShare), 3)]);
      charts.setup.show(labels, [series('Setup p50 (ms)', days.map((d) => d.setupMsP50), 0), series('Setup p95 (ms)', days.map((d) => d.setupMsP95), 1)]);
      error.textContent = '';
    } catch (failure) {
      if (!(await refused(failure))) error.textContent = `Call quality is not available: ${describe(failure)}`;
    }
  }
  void load();
  return {
    element: h('section', { class: 'panel', 'data-testid': 'quality' },
      h('h2', {}, 'Call quality'),
      h('form', { class: 'filters', onsubmit: (event) => { event.preventDefault(); void load(); } }, h('label', {}, 'From ', from), h('label', {}, 'to ', to), h('button', { type: 'submit', class: 'primary' }, 'Show')),
      error,
      h('div', { class: 'charts' },
        chartBox(canvases.calls, 'Calls per day'),
        chartBox(canvases.mos, 'Mean opinion score'),
        chartBox(canvases.shares, 'Poor and relayed calls'),
        chartBox(canvases.setup, 'Call setup time'))),
    stop: () => Object.values(charts).forEach((chart) => chart.destroy()),
  };
}

function auditSection(): Section {
  const userId = h('input', { placeholder: 'User id', 'data-testid': 'audit-user' });
  const type = h('select', { 'data-testid': 'audit-type' }, h('option', { value: '' }, 'Any event'), AUDIT_TYPES.map((t) => h('option', { value: t }, t)));
  const from = h('input', { type: 'date', 'data-testid': 'audit-from' });
  const to = h('input', { type: 'date', 'data-testid': 'audit-to' });
  const list = h('tbody', {});
  const error = h('p', { class: 'error', 'data-testid': 'audit-error' });
  const older = h('button', { type: 'button', class: 'small', hidden: true, onclick: () => void load(true) }, 'Older');
  let filter: AuditFilter = {};
  let entries: AuditEntry[] = [];
  let nextCursor: string | null = null;

  const row = (entry: AuditEntry) =>
    h('tr', { 'data-testid': 'audit-row' },
      h('td', { class: 'muted' }, new Date(entry.at).toLocaleString()),
      h('td', {}, entry.type),
      h('td', { class: 'id' }, entry.actorId ?? ''),
      h('td', { class: 'id' }, entry.targetUserId ?? ''),
      h('td', {}, entry.ip ?? ''),
      h('td', { class: 'details' }, entry.details ? JSON.stringify(entry.details) : ''));

  async function load(next = false): Promise<void> {
    try {
      const page = await client.admin.audit({ ...filter, ...(next && nextCursor ? { before: nextCursor } : {}) });
      entries = next ? [...entries, ...page.entries] : page.entries;
      nextCursor = page.nextCursor;
      fill(list, ...(entries.length ? entries.map(row) : [h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No entries.'))]));
      older.hidden = !nextCursor;
      error.textContent = '';
    } catch (failure) {
      if (!(await refused(failure))) error.textContent = `The audit log is not available: ${describe(failure)}`;
    }
  }

  const form = h('form', { class: 'filters', onsubmit: (event) => {
    event.preventDefault();
    filter = {
      ...(userId.value.trim() ? { userId: userId.value.trim() } : {}),
      ...(type.value ? { type: type.value as AuditEventType } : {}),
      // Whole days, in UTC: from the start of the first to the end of the last.
      ...(from.value ? { from: `${from.value}T00:00:00.000Z` } : {}),
      ...(to.value ? { to: `${to.value}T23:59:59.999Z` } : {}),
    };
    void load();
  } }, userId, type, h('label', {}, 'From ', from), h('label', {}, 'to ', to), h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  void load();
  return {
    element: h('section', { class: 'panel', 'data-testid': 'audit' },
      h('h2', {}, 'Audit log'),
      form,
      error,
      h('table', {}, h('thead', {}, h('tr', {}, ['When', 'Event', 'By', 'Account', 'IP', 'Details'].map((title) => h('th', {}, title)))), list),
      older),
  };
}

// ---- wiring -------------------------------------------------------------------------------------------

client.auth.on('signedOut', (reason) => {
  if (reason === 'signed_out') return;
  stopDashboard?.();
  stopDashboard = undefined;
  fill(root, loginView('Your session ended: sign in again.'));
});
fill(root, loginView(''));
