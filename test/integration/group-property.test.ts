import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ChatMessageEvent, MessageReadEvent, TypingEvent } from '../../src/protocol/chat.js';
import type { ConversationUpdatedEvent, MemberRole } from '../../src/protocol/conversations.js';
import { chatUser, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import {
  allMembers,
  createGroup,
  eventLog,
  getConversation,
  listConversations,
  sendTo,
  settle,
  sorted,
  syncAll,
  syncHead,
  type EventLog,
} from '../support/groups.js';
import { request } from '../support/http.js';
import { emitAck } from '../support/sockets.js';
import { BUDGETS_OUT_OF_THE_WAY, useTestApp } from '../support/test-app.js';

const USERS = 6;
const SEED = Number(process.env['PROPERTY_SEED'] ?? 20261210);
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 25);

/** One of the test's users, with an event log on each of their devices. */
interface Person extends ChatUser {
  index: number;
  logs: EventLog[];
}

/** What the group should be: its members by user index, and what was sent while who was in it. */
interface Model {
  members: Map<number, MemberRole>;
  /** Members from the creation on who never left: they must get every message, also through sync. */
  steady: Set<number>;
  messages: { id: string; from: number; members: Set<number>; socketId: string }[];
  typing: { event: 'CHAT_TYPING' | 'CHAT_STOP_TYPING'; from: number; recipients: Set<number> }[];
  reads: { messageId: string; reader: number; socketId: string; members: Set<number> }[];
  /** The change types of CONVERSATION_UPDATED each user's devices must get, in order. */
  updates: string[][];
  renames: number;
}

interface Real {
  baseUrl: string;
  people: Person[];
  conversationId: string;
  /** Each user's sync position from before the group existed. */
  cursors: string[];
}

type Command = fc.AsyncCommand<Model, Real>;

const isMember = (model: Readonly<Model>, user: number) => model.members.has(user);
const memberSet = (model: Readonly<Model>) => new Set(model.members.keys());

/**
 * Whom a command is about, picked among the users who are that now (so that owners and admins act often
 * enough, whoever they are by then): the owner or an admin, any member, or a user outside the group.
 */
interface Who {
  kind: 'manager' | 'member' | 'outsider';
  pick: number;
}

function resolve(model: Readonly<Model>, who: Who): number | undefined {
  const candidates = Array.from({ length: USERS }, (_, user) => user).filter((user) => {
    const role = model.members.get(user);
    if (who.kind === 'manager') return role === 'owner' || role === 'admin';
    return who.kind === 'member' ? role !== undefined : role === undefined;
  });
  return candidates[who.pick % Math.max(candidates.length, 1)];
}

async function expectStatus(real: Real, person: Person, method: string, path: string, body: unknown, status: number, what: string) {
  const result = await request(real.baseUrl, method, path, { token: person.token, ...(body !== undefined ? { body } : {}) });
  assert.equal(result.status, status, `${what}: expected ${status}, got ${result.status} ${JSON.stringify(result.body)}`);
  return result;
}

function expectUpdate(model: Model, users: Iterable<number>, type: string): void {
  for (const user of users) model.updates[user]!.push(type);
}

/** The socket answer a member gets (ok) and a non-member gets (NOT_FOUND). */
function assertMemberAnswer(ack: { ok: boolean; error?: { code: string } }, member: boolean, what: string): void {
  if (member) assert.equal(ack.ok, true, `${what} by a member: ${JSON.stringify(ack)}`);
  else assert.equal(ack.error?.code, 'NOT_FOUND', `${what} by a non-member: ${JSON.stringify(ack)}`);
}

const describeWho = (who: Who) => `${who.kind}#${who.pick}`;

class Send implements Command {
  constructor(readonly who: Who, readonly deviceIndex: number) {}
  check = (model: Readonly<Model>) => resolve(model, this.who) !== undefined;
  async run(model: Model, real: Real) {
    const user = resolve(model, this.who)!;
    const person = real.people[user]!;
    const socket = person.devices[this.deviceIndex % person.devices.length]!;
    const ack = await sendTo(socket, { conversationId: real.conversationId, text: `from ${person.name}` });
    assertMemberAnswer(ack, isMember(model, user), `send by ${user}`);
    if (ack.ok) model.messages.push({ id: ack.message.id, from: user, members: memberSet(model), socketId: socket.id! });
  }
  toString = () => `send(${describeWho(this.who)}, device ${this.deviceIndex})`;
}

class Type implements Command {
  constructor(readonly who: Who, readonly stop: boolean) {}
  check = (model: Readonly<Model>) => resolve(model, this.who) !== undefined;
  async run(model: Model, real: Real) {
    const user = resolve(model, this.who)!;
    const event = this.stop ? 'CHAT_STOP_TYPING' : 'CHAT_TYPING';
    const ack = await emitAck(real.people[user]!.devices[0]!, event, { conversationId: real.conversationId });
    assertMemberAnswer(ack, isMember(model, user), `${event} by ${user}`);
    if (ack.ok) model.typing.push({ event, from: user, recipients: new Set([...model.members.keys()].filter((other) => other !== user)) });
  }
  toString = () => `${this.stop ? 'stopTyping' : 'type'}(${describeWho(this.who)})`;
}

class MarkRead implements Command {
  constructor(readonly who: Who, readonly pick: number) {}
  /** A member reads what others sent them while they were in the group; anyone else tries any message. */
  private target(model: Readonly<Model>): { user: number; messageId: string } | undefined {
    const user = resolve(model, this.who);
    if (user === undefined) return undefined;
    const readable = isMember(model, user) ? model.messages.filter((m) => m.from !== user && m.members.has(user)) : model.messages;
    const message = readable[this.pick % Math.max(readable.length, 1)];
    return message && { user, messageId: message.id };
  }
  check = (model: Readonly<Model>) => this.target(model) !== undefined;
  async run(model: Model, real: Real) {
    const { user, messageId } = this.target(model)!;
    const socket = real.people[user]!.devices[0]!;
    const ack = await emitAck(socket, 'MESSAGE_READ', { messageId });
    assertMemberAnswer(ack, isMember(model, user), `markRead by ${user}`);
    if (ack.ok) model.reads.push({ messageId, reader: user, socketId: socket.id!, members: memberSet(model) });
  }
  toString = () => `markRead(${describeWho(this.who)}, message #${this.pick})`;
}

class Add implements Command {
  constructor(readonly who: Who, readonly targets: number[]) {}
  private newcomers(model: Readonly<Model>, actor: number) {
    return this.targets.filter((user) => user !== actor && !isMember(model, user));
  }
  check(model: Readonly<Model>) {
    const actor = resolve(model, this.who);
    if (actor === undefined) return false;
    const role = model.members.get(actor);
    // An add of nobody new changes nothing: left out, so that every successful add is one event.
    return role === undefined || role === 'member' || this.newcomers(model, actor).length > 0;
  }
  async run(model: Model, real: Real) {
    const actor = resolve(model, this.who)!;
    const role = model.members.get(actor);
    const userIds = this.targets.map((user) => real.people[user]!.id);
    const status = role === undefined ? 404 : role === 'member' ? 403 : 200;
    await expectStatus(real, real.people[actor]!, 'POST', `/api/chat/groups/${real.conversationId}/members`, { userIds }, status, `${actor} adds ${this.targets}`);
    if (status !== 200) return;
    for (const user of this.newcomers(model, actor)) {
      model.members.set(user, 'member');
      model.steady.delete(user);
    }
    expectUpdate(model, model.members.keys(), 'membersAdded');
  }
  toString = () => `add(${describeWho(this.who)} adds ${this.targets.join(',')})`;
}

class Remove implements Command {
  constructor(readonly who: Who, readonly whom: Who) {}
  check(model: Readonly<Model>) {
    const actor = resolve(model, this.who);
    const target = resolve(model, this.whom);
    if (actor === undefined || target === undefined || actor === target) return false;
    const actorRole = model.members.get(actor);
    const targetRole = model.members.get(target);
    // Left out as the contract leaves them open: a member naming a non-member, an admin removing an admin.
    if (actorRole === 'member') return targetRole !== undefined;
    return actorRole !== 'admin' || targetRole !== 'admin';
  }
  async run(model: Model, real: Real) {
    const actor = resolve(model, this.who)!;
    const target = resolve(model, this.whom)!;
    const actorRole = model.members.get(actor);
    const targetRole = model.members.get(target);
    // Nobody but the owner removes the owner: it only passes on when the owner leaves.
    const forbidden = actorRole === 'member' || (actorRole === 'admin' && targetRole === 'owner');
    const status = actorRole === undefined ? 404 : forbidden ? 403 : targetRole ? 200 : 404;
    const path = `/api/chat/groups/${real.conversationId}/members/${real.people[target]!.id}`;
    await expectStatus(real, real.people[actor]!, 'DELETE', path, undefined, status, `${actor} removes ${target}`);
    if (status !== 200) return;
    expectUpdate(model, model.members.keys(), 'membersRemoved');
    model.members.delete(target);
    model.steady.delete(target);
  }
  toString = () => `remove(${describeWho(this.who)} removes ${describeWho(this.whom)})`;
}

class Leave implements Command {
  constructor(readonly who: Who) {}
  check = (model: Readonly<Model>) => resolve(model, this.who) !== undefined;
  async run(model: Model, real: Real) {
    const user = resolve(model, this.who)!;
    const role = model.members.get(user);
    const person = real.people[user]!;
    await expectStatus(real, person, 'DELETE', `/api/chat/groups/${real.conversationId}/members/${person.id}`, undefined, role ? 204 : 404, `${user} leaves`);
    if (!role) return;
    expectUpdate(model, model.members.keys(), 'membersRemoved');
    model.members.delete(user);
    model.steady.delete(user);
    const [someone] = model.members.keys();
    if (role !== 'owner' || someone === undefined) return;
    // Ownership passes to an admin if there is one, else to a member.
    const admins = [...model.members].filter(([, memberRole]) => memberRole === 'admin').map(([index]) => index);
    const group = await getConversation(real.baseUrl, real.people[someone]!.token, real.conversationId);
    const owners = group.members.filter((member) => member.role === 'owner').map((member) => real.people.findIndex((p) => p.id === member.userId));
    assert.equal(owners.length, 1, `one owner after ${user} left: ${JSON.stringify(group.members)}`);
    const heir = owners[0]!;
    assert.ok(admins.length === 0 ? isMember(model, heir) : admins.includes(heir), `${heir} took over from ${user}; the admins were ${admins}`);
    model.members.set(heir, 'owner');
  }
  toString = () => `leave(${describeWho(this.who)})`;
}

class SetRole implements Command {
  constructor(readonly who: Who, readonly whom: Who, readonly role: 'admin' | 'member') {}
  check(model: Readonly<Model>) {
    const actor = resolve(model, this.who);
    const target = resolve(model, this.whom);
    if (actor === undefined || target === undefined || actor === target) return false;
    const actorRole = model.members.get(actor);
    const targetRole = model.members.get(target);
    if (actorRole === undefined) return true;
    // Left out as the contract leaves them open: a non-owner naming a non-member, a role a member already has.
    if (actorRole !== 'owner') return targetRole !== undefined;
    return targetRole !== this.role;
  }
  async run(model: Model, real: Real) {
    const actor = resolve(model, this.who)!;
    const target = resolve(model, this.whom)!;
    const actorRole = model.members.get(actor);
    const status = actorRole === undefined ? 404 : actorRole !== 'owner' ? 403 : isMember(model, target) ? 200 : 404;
    const path = `/api/chat/groups/${real.conversationId}/members/${real.people[target]!.id}`;
    await expectStatus(real, real.people[actor]!, 'PATCH', path, { role: this.role }, status, `${actor} makes ${target} ${this.role}`);
    if (status !== 200) return;
    model.members.set(target, this.role);
    expectUpdate(model, model.members.keys(), 'roleChanged');
  }
  toString = () => `setRole(${describeWho(this.who)} makes ${describeWho(this.whom)} ${this.role})`;
}

class Rename implements Command {
  constructor(readonly who: Who) {}
  check = (model: Readonly<Model>) => resolve(model, this.who) !== undefined;
  async run(model: Model, real: Real) {
    const actor = resolve(model, this.who)!;
    const role = model.members.get(actor);
    const status = role === undefined ? 404 : role === 'member' ? 403 : 200;
    model.renames += 1;
    const body = { title: `Title ${model.renames}` };
    await expectStatus(real, real.people[actor]!, 'PATCH', `/api/chat/groups/${real.conversationId}`, body, status, `${actor} renames`);
    if (status === 200) expectUpdate(model, model.members.keys(), 'titleChanged');
  }
  toString = () => `rename(${describeWho(this.who)})`;
}

type ProbeKind = 'get' | 'members' | 'messages' | 'list' | 'sync';

/** A user reads the group every way there is: members see it, nobody else sees anything of it. */
async function probe(model: Model, real: Real, user: number, kind: ProbeKind): Promise<void> {
  const person = real.people[user]!;
  const member = isMember(model, user);
  const what = `${kind} by ${user} (${member ? 'member' : 'non-member'})`;
  const base = `/api/chat/conversations/${real.conversationId}`;
  const expectedIds = sorted([...model.members.keys()].map((index) => real.people[index]!.id));
  if (kind === 'get' || kind === 'members' || kind === 'messages') {
    if (!member) {
      const path = kind === 'get' ? base : `${base}/${kind}`;
      await expectStatus(real, person, 'GET', path, undefined, 404, what);
      return;
    }
    if (kind === 'messages') {
      await expectStatus(real, person, 'GET', `${base}/messages`, undefined, 200, what);
      return;
    }
    const members =
      kind === 'get'
        ? (await getConversation(real.baseUrl, person.token, real.conversationId)).members
        : (await allMembers(real.baseUrl, person.token, real.conversationId, 2)).members;
    assert.deepEqual(sorted(members.map((m) => m.userId)), expectedIds, what);
    for (const m of members) assert.equal(m.role, model.members.get(real.people.findIndex((p) => p.id === m.userId)), `${what}: role of ${m.name}`);
    return;
  }
  if (kind === 'list') {
    const listed = (await listConversations(real.baseUrl, person.token, '?limit=100')).conversations.some((c) => c.id === real.conversationId);
    assert.equal(listed, member, what);
    return;
  }
  const synced = (await syncAll(real.baseUrl, person.token, real.cursors[user]!)).messages
    .filter((m) => m.conversationId === real.conversationId)
    .map((m) => m.id);
  assert.equal(new Set(synced).size, synced.length, `${what}: a message twice`);
  if (model.steady.has(user)) {
    assert.deepEqual(synced, model.messages.map((m) => m.id), `${what}: every message, in order`);
  } else if (!member) {
    const allowed = new Set(model.messages.filter((m) => m.members.has(user)).map((m) => m.id));
    assert.deepEqual(synced.filter((id) => !allowed.has(id)), [], `${what}: messages sent while they were not a member`);
  }
}

class Probe implements Command {
  constructor(readonly user: number, readonly kind: ProbeKind) {}
  check = () => true;
  run = (model: Model, real: Real) => probe(model, real, this.user, this.kind);
  toString = () => `probe(${this.user}, ${this.kind})`;
}

const user = fc.nat({ max: USERS - 1 });
const whoOf = (weights: Record<Who['kind'], number>): fc.Arbitrary<Who> =>
  fc.record({
    kind: fc.oneof(...Object.entries(weights).map(([kind, weight]) => ({ weight, arbitrary: fc.constant(kind as Who['kind']) }))),
    pick: fc.nat(),
  });
const actor = whoOf({ manager: 3, member: 2, outsider: 1 });
const talker = whoOf({ manager: 1, member: 4, outsider: 1 });
const subject = whoOf({ manager: 1, member: 3, outsider: 1 });
const weighted = (weight: number, arbitrary: fc.Arbitrary<Command>) => ({ weight, arbitrary });
const commands = fc.commands(
  [
    fc.oneof(
      weighted(4, fc.tuple(talker, fc.nat({ max: 1 })).map(([who, d]) => new Send(who, d))),
      weighted(1, fc.tuple(talker, fc.boolean()).map(([who, stop]) => new Type(who, stop))),
      weighted(2, fc.tuple(talker, fc.nat()).map(([who, pick]) => new MarkRead(who, pick))),
      weighted(3, fc.tuple(actor, fc.uniqueArray(user, { minLength: 1, maxLength: 3 })).map(([who, targets]) => new Add(who, targets))),
      weighted(2, fc.tuple(actor, subject).map(([who, whom]) => new Remove(who, whom))),
      weighted(1, subject.map((who) => new Leave(who))),
      weighted(2, fc.tuple(actor, subject, fc.constantFrom('admin' as const, 'member' as const)).map(([who, whom, role]) => new SetRole(who, whom, role))),
      weighted(1, actor.map((who) => new Rename(who))),
      weighted(2, fc.tuple(user, fc.constantFrom<ProbeKind>('get', 'members', 'messages', 'list', 'sync')).map(([u, kind]) => new Probe(u, kind))),
    ),
  ],
  { maxCommands: 30, size: 'max' },
);

/** After the run: what every device received of the group is exactly what its user was a member for. */
async function checkDeliveries(model: Model, real: Real): Promise<void> {
  await settle(real.people.flatMap((person) => person.devices));
  for (const person of real.people) {
    for (const log of person.logs) {
      const where = `${person.name}'s device ${log.socket.id}`;
      const messages = log.of<ChatMessageEvent>('CHAT_MESSAGE', real.conversationId).map((event) => event.message.id);
      const expected = model.messages.filter((m) => m.members.has(person.index) && m.socketId !== log.socket.id).map((m) => m.id);
      assert.deepEqual(messages, expected, `${where}: CHAT_MESSAGE while a member, once each, never on the sending socket`);
      for (const event of ['CHAT_TYPING', 'CHAT_STOP_TYPING'] as const) {
        const typing = log.of<TypingEvent>(event, real.conversationId).map((payload) => payload.from);
        const expectedTyping = model.typing.filter((op) => op.event === event && op.recipients.has(person.index)).map((op) => real.people[op.from]!.id);
        assert.deepEqual(typing, expectedTyping, `${where}: ${event}`);
      }
      for (const read of log.of<MessageReadEvent>('MESSAGE_READ', real.conversationId)) {
        const matching = model.reads.filter(
          (op) => op.messageId === read.messageId && real.people[op.reader]!.id === read.readerId && op.members.has(person.index) && op.socketId !== log.socket.id,
        );
        assert.ok(matching.length > 0, `${where}: MESSAGE_READ ${JSON.stringify(read)} while not a member`);
      }
      const updates = log.of<ConversationUpdatedEvent>('CONVERSATION_UPDATED', real.conversationId).map((event) => event.change.type);
      assert.deepEqual(updates, model.updates[person.index], `${where}: CONVERSATION_UPDATED`);
    }
  }
  for (const person of real.people) for (const kind of ['get', 'members', 'messages', 'list', 'sync'] as const) await probe(model, real, person.index, kind);
}

for (const target of databaseTargets()) {
  describe(`group membership properties (${target.kind})`, { skip: target.skip }, () => {
    // Budgets out of the way: the runs make many groups, messages and changes with the same few users.
    const server = useTestApp(target.kind, BUDGETS_OUT_OF_THE_WAY);

    test('random membership changes and messages never let a non-member receive or read the group', async () => {
      const people: Person[] = [];
      for (let index = 0; index < USERS; index += 1) {
        const user = await chatUser(server.baseUrl, `User${index}`, index < 2 ? 2 : 1);
        people.push({ ...user, index, logs: user.devices.map(eventLog) });
      }

      await fc.assert(
        fc.asyncProperty(user, fc.uniqueArray(user, { minLength: 1, maxLength: USERS - 1 }), commands, async (owner, invited, run) => {
          const initial = invited.filter((index) => index !== owner);
          fc.pre(initial.length > 0);
          const cursors = await Promise.all(people.map((person) => syncHead(server.baseUrl, person.token)));
          const group = await createGroup(server.baseUrl, people[owner]!.token, 'Property group', initial.map((index) => people[index]!.id));
          const members = new Map<number, MemberRole>([[owner, 'owner'], ...initial.map((index) => [index, 'member'] as [number, MemberRole])]);
          const model: Model = {
            members,
            steady: new Set(members.keys()),
            messages: [],
            typing: [],
            reads: [],
            updates: people.map((person) => (members.has(person.index) ? ['created'] : [])),
            renames: 0,
          };
          const real: Real = { baseUrl: server.baseUrl, people, conversationId: group.id, cursors };
          await fc.asyncModelRun(() => ({ model, real }), run);
          await checkDeliveries(model, real);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    });
  });
}
