import type { AckResponse } from '../../src/protocol/ack.js';
import type { GroupCallResult, IncomingGroupCallEvent } from '../../src/protocol/call-events.js';
import type { GroupCallDto } from '../../src/protocol/calls.js';
import { callHistory, callUser, device, type CallUser } from './calls.js';
import { createGroup } from './groups.js';
import { emitAck, nextEvent, type ClientSocket } from './sockets.js';

/** A group and its members, each a CallUser; the first one created the group. */
export interface CallGroup {
  id: string;
  members: CallUser[];
}

/** A group of new users named `names`; with several base URLs (server processes), member i's device connects to the i-th. */
export async function callGroup(baseUrls: string | readonly string[], names: readonly string[]): Promise<CallGroup> {
  const urls = typeof baseUrls === 'string' ? [baseUrls] : baseUrls;
  const members = await Promise.all(names.map((name, index) => callUser(urls[index % urls.length]!, name)));
  const [owner, ...others] = members;
  if (!owner) throw new Error('a group needs a member');
  const group = await createGroup(urls[0]!, owner.tokens[0]!, `${names.join(', ')}`, others.map((member) => member.id));
  return { id: group.id, members };
}

/** Sends a group-call event that answers GroupCallResult (CALL_REQUEST with conversationId, CALL_JOIN) and insists on success. */
export async function groupCallOk(socket: ClientSocket, event: 'CALL_REQUEST' | 'CALL_JOIN', payload: unknown): Promise<GroupCallResult> {
  const ack = await emitAck<AckResponse<GroupCallResult>>(socket, event, payload);
  if (!ack.ok) throw new Error(`${event} refused: ${JSON.stringify(ack.error)}`);
  return ack;
}

/** `starter` starts an audio call in `group` and waits until every other member's device rings. */
export async function ringingGroupCall(group: CallGroup, starter = group.members[0]!): Promise<GroupCallResult> {
  const others = group.members.filter((member) => member !== starter);
  const rings = others.flatMap((member) => member.devices.map((socket) => nextEvent<IncomingGroupCallEvent>(socket, 'CALL_REQUEST')));
  const started = await groupCallOk(device(starter), 'CALL_REQUEST', { conversationId: group.id, type: 'audio' });
  await Promise.all(rings);
  return started;
}

/** The stored group call `callId` as the member `token` sees it in history. */
export async function storedGroupCall(baseUrl: string, token: string, callId: string): Promise<GroupCallDto> {
  const { calls } = await callHistory(baseUrl, token, '?limit=100');
  const call = calls.find((candidate) => candidate.id === callId);
  if (!call || !('conversationId' in call)) throw new Error(`group call ${callId} is not in history`);
  return call;
}
