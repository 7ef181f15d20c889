import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { chatUser, device, sendOk, type ChatUser, type SendAck } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { conversationMessages, createGroup, sendTo, setRole, settle, syncAll, syncHead } from '../support/groups.js';
import { deleteMessage, DeviceState, edit, react, shown } from '../support/message-actions.js';
import { connectSocket, type ClientSocket } from '../support/sockets.js';
import { BUDGETS_OUT_OF_THE_WAY, useTestApp } from '../support/test-app.js';

const SEED = Number(process.env['PROPERTY_SEED'] ?? 20261215);
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 15);
const EMOJI = ['👍', '❤️', '😂', '🎉'] as const;
/** MESSAGE_REACTIONS_PER_USER as configured below: with four emoji, a fifth reaction is refused sometimes. */
const REACTIONS_PER_USER = 3;

/**
 * Users 0 and 1 have two devices each. The group's owner is user 0 and user 1 is an admin; the direct
 * conversation is users 0 and 2's.
 */
const DEVICES = [2, 2, 1, 1];
type Where = 'group' | 'direct';
const membersOf = (where: Where) => (where === 'group' ? [0, 1, 2, 3] : [0, 2]);
const manages = (where: Where, user: number) => where === 'group' && (user === 0 || user === 1);

/** One device of a user: its socket (replaced when it reconnects), what it shows, and where its sync stands. */
interface Device {
  socket: ClientSocket;
  state: DeviceState;
  cursor: string;
}

interface Message {
  id: string;
  where: Where;
  from: number;
  deleted: boolean;
  hiddenBy: Set<number>;
  /** Each user's emoji on it. */
  reactions: Map<number, Set<string>>;
}

interface Model {
  messages: Message[];
  edits: number;
}

interface Real {
  baseUrl: string;
  people: ChatUser[];
  devices: Device[][];
  conversations: Record<Where, string>;
}

type Command = fc.AsyncCommand<Model, Real>;

/** A member of the conversation, picked among its members; a device of theirs. */
interface Actor {
  where: Where;
  pick: number;
  device: number;
}

const userOf = (actor: Actor) => membersOf(actor.where)[actor.pick % membersOf(actor.where).length]!;
const deviceOf = (real: Real, user: number, index: number) => real.devices[user]![index % DEVICES[user]!]!;
const messageIn = (model: Readonly<Model>, where: Where, pick: number) => {
  const candidates = model.messages.filter((message) => message.where === where);
  return candidates[pick % Math.max(candidates.length, 1)];
};
const describeActor = (actor: Actor) => `${actor.where}#${actor.pick}/${actor.device}`;

/** What an ack says, in the model's terms. */
const outcome = (ack: { ok: boolean; error?: { code: string } }) => (ack.ok ? 'ok' : ack.error!.code);

class Send implements Command {
  constructor(readonly actor: Actor, readonly replyPick: number | null) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const user = userOf(this.actor);
    const target = this.replyPick === null ? undefined : messageIn(model, this.actor.where, this.replyPick);
    const quotable = target && !target.deleted && !target.hiddenBy.has(user);
    const own = deviceOf(real, user, this.actor.device);
    const ack: SendAck = await sendTo(own.socket, {
      conversationId: real.conversations[this.actor.where],
      text: `message ${model.messages.length}`,
      ...(target ? { replyTo: target.id } : {}),
    });
    assert.equal(outcome(ack), !target || quotable ? 'ok' : 'VALIDATION_FAILED', `${this}`);
    if (!ack.ok) return;
    own.state.upsert(ack.message);
    model.messages.push({ id: ack.message.id, where: this.actor.where, from: user, deleted: false, hiddenBy: new Set(), reactions: new Map() });
  }
  toString = () => `send(${describeActor(this.actor)}${this.replyPick === null ? '' : `, reply to #${this.replyPick}`})`;
}

class Edit implements Command {
  constructor(readonly actor: Actor, readonly pick: number) {}
  check = (model: Readonly<Model>) => messageIn(model, this.actor.where, this.pick) !== undefined;
  async run(model: Model, real: Real) {
    const user = userOf(this.actor);
    const message = messageIn(model, this.actor.where, this.pick)!;
    model.edits += 1;
    const own = deviceOf(real, user, this.actor.device);
    const ack = await edit(own.socket, message.id, `edit ${model.edits}${'!'.repeat(model.edits * 7)}`);
    assert.equal(outcome(ack), message.from !== user ? 'FORBIDDEN' : message.deleted ? 'INVALID_STATE' : 'ok', `${this}`);
    if (ack.ok) own.state.upsert(ack.message);
  }
  toString = () => `edit(${describeActor(this.actor)}, #${this.pick})`;
}

class Delete implements Command {
  constructor(readonly actor: Actor, readonly pick: number, readonly scope: 'everyone' | 'me') {}
  check = (model: Readonly<Model>) => messageIn(model, this.actor.where, this.pick) !== undefined;
  async run(model: Model, real: Real) {
    const user = userOf(this.actor);
    const message = messageIn(model, this.actor.where, this.pick)!;
    const own = deviceOf(real, user, this.actor.device);
    const ack = await deleteMessage(own.socket, message.id, this.scope);
    const allowed = this.scope === 'me' || message.deleted || message.from === user || manages(this.actor.where, user);
    assert.equal(outcome(ack), allowed ? 'ok' : 'FORBIDDEN', `${this}`);
    if (!ack.ok) return;
    if (this.scope === 'me') {
      message.hiddenBy.add(user);
      own.state.hide(message.id);
      return;
    }
    message.deleted = true;
    message.reactions.clear();
    own.state.upsert(ack.message!);
  }
  toString = () => `delete(${describeActor(this.actor)}, #${this.pick}, ${this.scope})`;
}

class React implements Command {
  constructor(readonly actor: Actor, readonly pick: number, readonly emoji: string, readonly action: 'add' | 'remove') {}
  check = (model: Readonly<Model>) => messageIn(model, this.actor.where, this.pick) !== undefined;
  async run(model: Model, real: Real) {
    const user = userOf(this.actor);
    const message = messageIn(model, this.actor.where, this.pick)!;
    const mine = message.reactions.get(user) ?? new Set<string>();
    const full = this.action === 'add' && !mine.has(this.emoji) && mine.size >= REACTIONS_PER_USER;
    const own = deviceOf(real, user, this.actor.device);
    const ack = await react(own.socket, message.id, this.emoji, this.action);
    assert.equal(outcome(ack), message.deleted ? 'INVALID_STATE' : full ? 'VALIDATION_FAILED' : 'ok', `${this}`);
    if (!ack.ok) return;
    if (this.action === 'add') mine.add(this.emoji);
    else mine.delete(this.emoji);
    message.reactions.set(user, mine);
    own.state.reacted(ack);
    const expected = EMOJI.map((emoji) => [emoji, [...message.reactions].filter(([, set]) => set.has(emoji)).length] as const).filter(([, n]) => n > 0);
    assert.deepEqual(
      ack.reactions.map((reaction) => [reaction.emoji, reaction.count]).sort(),
      [...expected].sort(),
      `${this}: the counts`,
    );
  }
  toString = () => `react(${describeActor(this.actor)}, #${this.pick}, ${this.action} ${this.emoji})`;
}

/** A device drops and connects again: what it missed meanwhile only comes through its sync at the end. */
class Reconnect implements Command {
  constructor(readonly user: number, readonly device: number) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    const own = deviceOf(real, this.user, this.device);
    own.socket.disconnect();
    own.socket = await connectSocket(real.baseUrl, real.people[this.user]!.token);
    own.state.follow(own.socket);
  }
  toString = () => `reconnect(user ${this.user}, device ${this.device})`;
}

const actor: fc.Arbitrary<Actor> = fc.record({ where: fc.constantFrom<Where>('group', 'group', 'direct'), pick: fc.nat(), device: fc.nat({ max: 1 }) });
const weighted = (weight: number, arbitrary: fc.Arbitrary<Command>) => ({ weight, arbitrary });
const commands = fc.commands(
  [
    fc.oneof(
      weighted(4, fc.tuple(actor, fc.option(fc.nat(), { nil: null, freq: 3 })).map(([who, reply]) => new Send(who, reply))),
      weighted(3, fc.tuple(actor, fc.nat()).map(([who, pick]) => new Edit(who, pick))),
      weighted(2, fc.tuple(actor, fc.nat(), fc.constantFrom('everyone' as const, 'me' as const)).map(([who, pick, scope]) => new Delete(who, pick, scope))),
      weighted(5, fc.tuple(actor, fc.nat(), fc.constantFrom(...EMOJI), fc.constantFrom('add' as const, 'remove' as const)).map(([who, pick, e, a]) => new React(who, pick, e, a))),
      weighted(1, fc.tuple(fc.nat({ max: DEVICES.length - 1 }), fc.nat({ max: 1 })).map(([user, d]) => new Reconnect(user, d))),
    ),
  ],
  { maxCommands: 40, size: 'max' },
);

/**
 * After the run: every device, from what it had live and then its sync, shows each message of the run
 * exactly as its user's history does (hidden ones left out); so does a device that only syncs. A device
 * that never dropped shows it from live events alone.
 */
async function checkDevices(model: Model, real: Real, dropped: Set<Device>): Promise<void> {
  const runIds = new Set(model.messages.map((message) => message.id));
  await settle(real.devices.flat().map((own) => own.socket));
  for (const [user, person] of real.people.entries()) {
    for (const where of ['group', 'direct'] as const) {
      if (!membersOf(where).includes(user)) continue;
      const conversationId = real.conversations[where];
      const history = (await conversationMessages(real.baseUrl, person.token, conversationId, '?limit=100')).messages.filter((m) => runIds.has(m.id)).map(shown);
      const visible = model.messages.filter((m) => m.where === where && !m.hiddenBy.has(user)).map((m) => m.id).reverse();
      assert.deepEqual(history.map((m) => m.id), visible, `${person.name}'s ${where} history: every message of the run but those they hid`);
      const onlySynced = new DeviceState();
      for (const [index, own] of real.devices[user]!.entries()) {
        const what = `${person.name}'s device ${index} in the ${where} conversation`;
        const shows = () => own.state.of(conversationId).filter((m) => runIds.has(m.id));
        if (!dropped.has(own)) assert.deepEqual(shows(), history, `${what}, live`);
        const synced = await syncAll(real.baseUrl, person.token, own.cursor);
        own.state.sync(synced);
        assert.deepEqual(shows(), history, `${what}, live and then sync`);
        if (index === 0) onlySynced.sync(synced);
      }
      assert.deepEqual(onlySynced.of(conversationId).filter((m) => runIds.has(m.id)), history, `${person.name}, sync alone`);
    }
  }
}

for (const target of databaseTargets()) {
  describe(`message action properties (${target.kind})`, { skip: target.skip }, () => {
    const server = useTestApp(target.kind, { ...BUDGETS_OUT_OF_THE_WAY, MESSAGE_REACTIONS_PER_USER: String(REACTIONS_PER_USER) });

    test('random edits, deletes, hides, replies and reactions leave every device (live and through sync) with what history shows', async () => {
      const people = await Promise.all(DEVICES.map((count, index) => chatUser(server.baseUrl, `User${index}`, count)));
      // The direct conversation lasts over the runs; each run checks its own messages.
      const direct = (await sendOk(device(people[0]!), { to: people[2]!.id, text: 'hello' })).message.conversationId;
      const sockets = people.map((person) => [...person.devices]);

      await fc.assert(
        fc.asyncProperty(commands, async (run) => {
          const group = await createGroup(server.baseUrl, people[0]!.token, 'Property', people.slice(1).map((person) => person.id));
          await setRole(server.baseUrl, people[0]!.token, group.id, people[1]!.id, 'admin');
          const devices: Device[][] = await Promise.all(
            people.map((person, user) =>
              Promise.all(
                sockets[user]!.map(async (socket) => ({ socket, state: new DeviceState().follow(socket), cursor: await syncHead(server.baseUrl, person.token) })),
              ),
            ),
          );
          const initial = new Map(devices.flat().map((own) => [own, own.socket]));
          const real: Real = { baseUrl: server.baseUrl, people, devices, conversations: { group: group.id, direct } };
          const model: Model = { messages: [], edits: 0 };
          try {
            await fc.asyncModelRun(() => ({ model, real }), run);
            await checkDevices(model, real, new Set(devices.flat().filter((own) => own.socket !== initial.get(own))));
          } finally {
            for (const [user, owns] of devices.entries()) {
              owns.forEach((own, index) => {
                own.state.stop();
                sockets[user]![index] = own.socket;
              });
            }
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    });
  });
}
