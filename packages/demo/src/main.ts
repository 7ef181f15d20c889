import {
  ApiError,
  createClient,
  keyValueTokenStore,
  type CallAppClient,
  type CallDto,
  type CallSession,
  type ConversationDto,
  type GroupCallDto,
  type GroupCallSession,
  type MessageDto,
  type PersonDto,
} from '@call-app/client';
import { fill, h, time } from './dom.js';

// sessionStorage, not localStorage: two tabs sharing one refresh token would rotate it twice (the
// server then revokes the session as stolen).
const client: CallAppClient = createClient({
  baseUrl: location.origin,
  tokenStore: keyValueTokenStore(sessionStorage),
  deviceName: 'Demo web app',
  webrtc: { createPeerConnection: (config) => new RTCPeerConnection(config) as never },
});
// For the console (and the browser test): the client and the call on screen.
(window as unknown as { callApp: unknown }).callApp = { client, currentCall: () => client.calls.current };

type Tab = 'chats' | 'people' | 'calls';
const ui = {
  tab: 'chats' as Tab,
  open: undefined as { conversationId: string } | { person: PersonDto } | undefined,
  query: '',
  people: [] as PersonDto[],
  groupTitle: '',
  drafts: new Map<string, string>(),
  picked: new Set<string>(),
  calls: [] as (CallDto | GroupCallDto)[],
  error: '',
  incoming: undefined as CallSession | GroupCallSession | undefined,
  localStream: undefined as MediaStream | undefined,
};
const root = document.getElementById('app')!;

const names = new Map<string, string>();
const nameOf = (userId: string) => (userId === client.user?.id ? 'You' : (names.get(userId) ?? 'Someone'));

function titleOf(conversation: ConversationDto): string {
  if (conversation.title) return conversation.title;
  const other = conversation.peer?.name ?? conversation.members.find((m) => m.userId !== client.user?.id)?.name;
  return other ?? 'Conversation';
}

function remember(conversations: ConversationDto[]): void {
  for (const c of conversations) {
    for (const m of c.members) names.set(m.userId, m.name);
    if (c.peer) names.set(c.peer.id, c.peer.name);
  }
}

// ---- rendering ------------------------------------------------------------------------------------------

let scheduled = false;
function render(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    void draw();
  });
}

async function draw(): Promise<void> {
  if (!client.user) {
    fill(root, authView());
    return;
  }
  const conversations = await client.chat.conversations();
  remember(conversations);
  const conversation = ui.open && 'conversationId' in ui.open ? conversations.find((c) => c.id === (ui.open as { conversationId: string }).conversationId) : undefined;
  const main = ui.open ? await chatView(conversation) : h('section', { class: 'empty' }, 'Pick a conversation, or find people to talk to.');
  const focused = document.activeElement instanceof HTMLInputElement ? document.activeElement : undefined;
  const keep = focused ? { id: focused.id, value: focused.value, start: focused.selectionStart } : undefined;
  fill(root,
    h('div', { class: `shell ${ui.open ? 'has-open' : ''}` },
      h('aside', { class: 'sidebar' }, header(), tabs(), ui.tab === 'chats' ? conversationList(conversations) : ui.tab === 'people' ? peopleView() : callHistoryView()),
      h('main', { class: 'main' }, main),
    ),
    callOverlay(),
  );
  if (keep?.id) {
    const input = document.getElementById(keep.id) as HTMLInputElement | null;
    if (input) {
      input.value = keep.value;
      input.focus();
      if (keep.start !== null) input.setSelectionRange(keep.start, keep.start);
    }
  }
  const log = root.querySelector('.messages');
  if (log) log.scrollTop = log.scrollHeight;
}

function authView(): HTMLElement {
  let mode: 'login' | 'register' = 'register';
  const form = h('form', { class: 'auth', 'data-testid': 'auth' });
  const draw = () => {
    fill(form,
      h('h1', {}, 'Call app demo'),
      h('p', { class: 'muted' }, mode === 'register' ? 'Create an account to chat and call.' : 'Welcome back.'),
      mode === 'register' ? h('input', { name: 'name', placeholder: 'Your name', autocomplete: 'name', required: true }) : null,
      h('input', { name: 'email', type: 'email', placeholder: 'Email', autocomplete: 'email', required: true }),
      h('input', { name: 'password', type: 'password', placeholder: 'Password (8 characters or more)', autocomplete: mode === 'register' ? 'new-password' : 'current-password', required: true, minlength: '8' }),
      ui.error ? h('p', { class: 'error', role: 'alert' }, ui.error) : null,
      h('button', { type: 'submit', class: 'primary' }, mode === 'register' ? 'Create account' : 'Sign in'),
      h('button', { type: 'button', class: 'link', onclick: () => { mode = mode === 'register' ? 'login' : 'register'; ui.error = ''; draw(); } },
        mode === 'register' ? 'I have an account: sign in' : 'New here? Create an account'),
    );
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const email = String(data.get('email'));
    const password = String(data.get('password'));
    try {
      if (mode === 'register') await client.auth.register({ email, password, name: String(data.get('name')) });
      else await client.auth.login({ email, password });
      ui.error = '';
      start();
    } catch (error) {
      ui.error = describe(error);
      draw();
    }
  });
  draw();
  return form;
}

function header(): HTMLElement {
  return h('header', { class: 'bar' },
    h('strong', { 'data-testid': 'me' }, client.user!.name),
    h('span', { class: `dot ${client.realtime.connected ? 'on' : ''}`, title: client.realtime.state }),
    h('button', { class: 'link', onclick: () => void client.logout().then(render) }, 'Sign out'),
  );
}

function tabs(): HTMLElement {
  const tab = (id: Tab, label: string) =>
    h('button', { class: ui.tab === id ? 'tab active' : 'tab', 'data-testid': `tab-${id}`, onclick: () => { ui.tab = id; if (id === 'calls') void loadCalls(); render(); } }, label);
  return h('nav', { class: 'tabs' }, tab('chats', 'Chats'), tab('people', 'People'), tab('calls', 'Calls'));
}

function conversationList(conversations: ConversationDto[]): HTMLElement {
  if (conversations.length === 0) return h('p', { class: 'muted pad' }, 'No conversations yet. Find someone under People.');
  return h('ul', { class: 'list' }, conversations.map((c) =>
    h('li', {},
      h('button', { class: `row ${ui.open && 'conversationId' in ui.open && ui.open.conversationId === c.id ? 'selected' : ''}`, 'data-testid': 'conversation', onclick: () => openConversation(c.id) },
        h('span', { class: 'avatar' }, titleOf(c).slice(0, 1).toUpperCase()),
        h('span', { class: 'grow' },
          h('span', { class: 'title' }, titleOf(c), c.type === 'group' ? h('small', { class: 'muted' }, ` · ${c.memberCount}`) : null),
          h('span', { class: 'preview muted' }, c.lastMessage ? `${c.type === 'group' ? `${nameOf(c.lastMessage.from)}: ` : ''}${c.lastMessage.text}` : 'No messages yet'),
        ),
        c.unreadCount > 0 ? h('span', { class: 'badge', 'data-testid': 'unread' }, String(c.unreadCount)) : null,
      ),
    ),
  ));
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;

function peopleView(): HTMLElement {
  const search = h('input', { id: 'people-search', type: 'search', placeholder: 'Search people by name', 'data-testid': 'people-search', value: ui.query });
  search.addEventListener('input', () => {
    ui.query = search.value;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const query = ui.query.trim();
      ui.people = query ? await client.chat.searchPeople(query).catch(() => []) : [];
      render();
    }, 250);
  });
  const groupTitle = h('input', { id: 'group-title', placeholder: 'Group name', 'data-testid': 'group-title', value: ui.groupTitle });
  groupTitle.addEventListener('input', () => (ui.groupTitle = groupTitle.value));
  return h('div', { class: 'pad' },
    search,
    h('ul', { class: 'list' }, ui.people.map((person) =>
      h('li', { class: 'row' },
        h('input', { type: 'checkbox', title: 'Add to a new group', 'data-testid': 'pick', checked: ui.picked.has(person.id), onchange: (e) => { const on = (e.target as HTMLInputElement).checked; if (on) ui.picked.add(person.id); else ui.picked.delete(person.id); names.set(person.id, person.name); render(); } }),
        h('span', { class: 'grow title' }, person.name, person.online ? h('span', { class: 'dot on' }) : null),
        h('button', { class: 'small', 'data-testid': 'message-person', onclick: () => void openPerson(person) }, 'Message'),
      ),
    )),
    ui.picked.size > 0
      ? h('form', { class: 'group-form', onsubmit: (e) => { e.preventDefault(); void createGroup(groupTitle.value); } },
          h('p', { class: 'muted' }, `New group with ${[...ui.picked].map(nameOf).join(', ')}`),
          groupTitle,
          h('button', { class: 'primary', type: 'submit', 'data-testid': 'create-group' }, 'Create group'))
      : h('p', { class: 'muted' }, 'Tick people to start a group.'),
  );
}

function callHistoryView(): HTMLElement {
  if (ui.calls.length === 0) return h('p', { class: 'muted pad' }, 'No calls yet.');
  return h('ul', { class: 'list', 'data-testid': 'call-history' }, ui.calls.map((call) => {
    const outgoing = call.callerId === client.user?.id;
    const other = 'conversationId' in call ? 'Group call' : nameOf(outgoing ? call.calleeId : call.callerId);
    const duration = call.durationSeconds !== null ? ` · ${Math.floor(call.durationSeconds / 60)}:${String(call.durationSeconds % 60).padStart(2, '0')}` : '';
    return h('li', { class: 'row', 'data-testid': 'call-entry' },
      h('span', { class: 'avatar' }, other.slice(0, 1).toUpperCase()),
      h('span', { class: 'grow' }, h('span', { class: 'title' }, other), h('span', { class: 'preview muted' }, `${outgoing ? 'Outgoing' : 'Incoming'} ${call.type} · ${call.status}${duration}`)),
      h('small', { class: 'muted' }, time(call.createdAt)),
    );
  }));
}

async function chatView(conversation: ConversationDto | undefined): Promise<HTMLElement> {
  const person = ui.open && 'person' in ui.open ? ui.open.person : undefined;
  const title = conversation ? titleOf(conversation) : (person?.name ?? '');
  const messages = conversation ? await client.chat.messages(conversation.id) : [];
  const pending = client.chat.pending().filter((p) => (conversation && 'conversationId' in p.target && p.target.conversationId === conversation.id) || (person && 'to' in p.target && p.target.to === person.id));
  const typing = conversation ? client.chat.typingIn(conversation.id).map(nameOf) : [];
  const target = conversation ? { conversationId: conversation.id } : { to: person!.id };
  const peerId = conversation?.type === 'direct' ? (conversation.peer?.id ?? conversation.members.find((m) => m.userId !== client.user?.id)?.userId) : person?.id;
  const draftKey = conversation?.id ?? person!.id;
  const input = h('input', { id: 'composer', placeholder: 'Message', autocomplete: 'off', 'data-testid': 'composer', maxlength: '4000', value: ui.drafts.get(draftKey) ?? '' });
  input.addEventListener('input', () => {
    ui.drafts.set(draftKey, input.value);
    client.chat.typing(target);
  });
  const lastMine = [...messages].reverse().find((m) => m.from === client.user?.id);
  return h('section', { class: 'chat' },
    h('header', { class: 'bar' },
      h('button', { class: 'link back', onclick: () => { ui.open = undefined; render(); } }, '‹'),
      h('strong', { class: 'grow', 'data-testid': 'chat-title' }, title),
      conversation?.type === 'group'
        ? h('button', { class: 'small', 'data-testid': 'group-call', onclick: () => void startGroupCall(conversation.id) }, 'Call')
        : peerId ? [h('button', { class: 'small', 'data-testid': 'audio-call', onclick: () => void startCall(peerId, 'audio') }, 'Audio'), h('button', { class: 'small', 'data-testid': 'video-call', onclick: () => void startCall(peerId, 'video') }, 'Video')] : null,
    ),
    h('ol', { class: 'messages', 'data-testid': 'messages' },
      messages.map((m) => messageItem(m, conversation, m === lastMine)),
      pending.map((p) => h('li', { class: `message mine ${p.status}` }, h('span', { class: 'text' }, p.text), h('small', { class: 'meta' }, p.status === 'failed' ? h('button', { class: 'link', onclick: () => void client.chat.retry(p.clientMessageId) }, `Not sent (${describe(p.error)}): retry`) : 'Sending…'))),
    ),
    h('p', { class: 'typing muted', 'data-testid': 'typing' }, typing.length ? `${typing.join(', ')} ${typing.length > 1 ? 'are' : 'is'} typing…` : ''),
    h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); const text = input.value.trim(); if (!text) return; input.value = ''; ui.drafts.delete(draftKey); void send(target, text); } },
      input, h('button', { class: 'primary', type: 'submit', 'data-testid': 'send' }, 'Send')),
  );
}

function messageItem(message: MessageDto, conversation: ConversationDto | undefined, isLastMine: boolean): HTMLElement {
  const mine = message.from === client.user?.id;
  let receipt = '';
  if (mine && isLastMine && conversation) {
    const readers = client.chat.readBy(conversation, message);
    receipt = conversation.type === 'direct' ? (message.readAt ? 'Read' : message.deliveredAt ? 'Delivered' : 'Sent') : readers.length ? `Read by ${readers.map((r) => r.name).join(', ')}` : message.deliveredAt ? 'Delivered' : 'Sent';
  }
  return h('li', { class: `message ${mine ? 'mine' : ''}`, 'data-testid': 'message' },
    !mine && conversation?.type === 'group' ? h('small', { class: 'author' }, nameOf(message.from)) : null,
    h('span', { class: 'text' }, message.deletedAt ? 'This message was deleted' : message.text),
    h('small', { class: 'meta' }, time(message.createdAt), receipt ? h('span', { 'data-testid': 'receipt' }, ` · ${receipt}`) : null),
  );
}

function callOverlay(): HTMLElement | null {
  const ringing = ui.incoming && ui.incoming.state === 'incoming' ? ui.incoming : undefined;
  const current = client.calls.current;
  if (ringing) {
    const from = 'conversation' in ringing ? `${ringing.from.name} in ${ringing.conversation.title}` : ringing.peer.name;
    return h('div', { class: 'overlay', 'data-testid': 'incoming-call' },
      h('div', { class: 'card' },
        h('p', { class: 'muted' }, `Incoming ${ringing.call.type} call`),
        h('h2', {}, from),
        h('div', { class: 'actions' },
          h('button', { class: 'danger', 'data-testid': 'reject', onclick: () => void reject(ringing) }, 'Decline'),
          h('button', { class: 'accept', 'data-testid': 'accept', onclick: () => void accept(ringing) }, 'Accept'))));
  }
  if (!current) return null;
  const label = { outgoing: 'Ringing…', incoming: 'Incoming', connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', ended: 'Call ended' }[current.state];
  const videos = h('div', { class: 'videos' });
  const streams = 'participants' in current && !('peer' in current) ? current.participants.map((p) => p.stream) : [(current as CallSession).remoteStream];
  for (const stream of streams) {
    if (!stream) continue;
    const video = h('video', { autoplay: true, playsinline: true, 'data-testid': 'remote-video' });
    video.srcObject = stream as MediaStream;
    videos.append(video);
  }
  if (ui.localStream && current.call.type === 'video') {
    const self = h('video', { autoplay: true, playsinline: true, class: 'self' });
    self.muted = true;
    self.srcObject = ui.localStream;
    videos.append(self);
  }
  const who = 'peer' in current ? current.peer.name || nameOf(current.peer.id) : 'Group call';
  return h('div', { class: 'overlay call', 'data-testid': 'call' },
    h('div', { class: 'card wide' },
      h('h2', {}, who),
      h('p', { class: 'muted', 'data-testid': 'call-state' }, label),
      videos,
      h('div', { class: 'actions' }, h('button', { class: 'danger', 'data-testid': 'hang-up', onclick: () => void hangUp() }, 'Hang up'))));
}

// ---- actions ----------------------------------------------------------------------------------------------

function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : 'Something went wrong';
}

async function openConversation(conversationId: string): Promise<void> {
  ui.open = { conversationId };
  render();
  await client.chat.loadHistory(conversationId).catch(() => null);
  await client.chat.markRead(conversationId).catch(() => undefined);
}

async function openPerson(person: PersonDto): Promise<void> {
  names.set(person.id, person.name);
  const existing = await client.chat.directWith(person.id);
  if (existing) return openConversation(existing.id);
  ui.open = { person };
  ui.tab = 'chats';
  render();
}

async function send(target: { to: string } | { conversationId: string }, text: string): Promise<void> {
  try {
    const message = await client.chat.send(target, text);
    if ('to' in target) ui.open = { conversationId: message.conversationId };
  } catch {
    // Shown as a failed pending message with a retry button.
  }
  render();
}

async function createGroup(title: string): Promise<void> {
  try {
    const group = await client.chat.createGroup(title.trim() || 'New group', [...ui.picked]);
    ui.picked.clear();
    ui.groupTitle = '';
    ui.tab = 'chats';
    await openConversation(group.id);
  } catch (error) {
    alert(describe(error));
  }
}

async function media(type: 'audio' | 'video'): Promise<MediaStream | undefined> {
  try {
    ui.localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: type === 'video' });
  } catch {
    ui.localStream = undefined; // no camera or microphone: the call still receives
  }
  return ui.localStream;
}

function stopMedia(): void {
  for (const track of ui.localStream?.getTracks() ?? []) track.stop();
  ui.localStream = undefined;
}

async function startCall(userId: string, type: 'audio' | 'video'): Promise<void> {
  try {
    const call = await client.calls.start(userId, type, await media(type));
    watchCall(call);
  } catch (error) {
    stopMedia();
    alert(describe(error));
  }
  render();
}

async function startGroupCall(conversationId: string): Promise<void> {
  try {
    watchCall(await client.calls.startGroup(conversationId, 'video', await media('video')));
  } catch (error) {
    stopMedia();
    alert(describe(error));
  }
  render();
}

async function accept(call: CallSession | GroupCallSession): Promise<void> {
  const stream = await media(call.call.type);
  ui.incoming = undefined;
  watchCall(call);
  try {
    if ('accept' in call) await call.accept(stream);
    else await call.join(stream);
  } catch (error) {
    alert(describe(error));
  }
  render();
}

async function reject(call: CallSession | GroupCallSession): Promise<void> {
  ui.incoming = undefined;
  await ('reject' in call ? call.reject() : call.decline()).catch(() => undefined);
  render();
}

async function hangUp(): Promise<void> {
  const current = client.calls.current;
  if (current) await ('hangUp' in current ? current.hangUp() : current.leave()).catch(() => undefined);
  render();
}

function watchCall(call: CallSession | GroupCallSession): void {
  const changed = () => {
    if (call.state === 'ended') {
      stopMedia();
      void loadCalls();
    }
    render();
  };
  if ('hangUp' in call) {
    call.on('state', changed);
    call.on('remoteStream', render);
  } else {
    call.on('state', changed);
    call.on('participants', render);
  }
}

async function loadCalls(): Promise<void> {
  ui.calls = (await client.calls.history().catch(() => ({ calls: [] }))).calls;
  render();
}

// ---- wiring -------------------------------------------------------------------------------------------

let started = false;
function start(): void {
  render();
  if (started) return client.connect();
  started = true;
  client.chat.on('change', (conversationId) => {
    render();
    // What arrives in the open conversation is read at once.
    if (conversationId && ui.open && 'conversationId' in ui.open && ui.open.conversationId === conversationId && document.visibilityState === 'visible') {
      void client.chat.markRead(conversationId).catch(() => undefined);
    }
  });
  client.chat.on('typing', render);
  client.chat.on('pending', render);
  client.realtime.on('state', render);
  client.calls.on('current', render);
  client.calls.on('incoming', (call) => {
    ui.incoming = call;
    (call as CallSession).on('state', (state) => {
      if (state === 'ended' && ui.incoming === call) ui.incoming = undefined;
      render();
    });
    render();
  });
  client.auth.on('signedOut', () => {
    ui.open = undefined;
    render();
  });
  window.addEventListener('online', () => client.calls.networkChanged());
  client.connect();
}

void client.auth.restore().then((user) => (user ? start() : render()));
