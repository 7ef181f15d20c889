import type { CallAcceptedEvent, IceCandidateEvent, IncomingCallEvent } from '../../src/protocol/call-events.js';
import type { IceServersResponse } from '../../src/protocol/calls.js';
import { callEventOk } from './calls.js';
import { request } from './http.js';
import { emitAck, nextEvent, type ClientSocket } from './sockets.js';
import { WebRtcPeer, type IceCandidate, type WebRtcPeerOptions } from './webrtc-peer.js';

const SIGNALING_TIMEOUT_MS = 10_000;

/** The ICE servers the app hands this user, as a client fetches them before a call. */
export async function iceServersFor(baseUrl: string, token: string): Promise<IceServersResponse> {
  const result = await request<IceServersResponse>(baseUrl, 'GET', '/api/call/ice-servers', { token });
  if (result.status !== 200) throw new Error(`ice-servers: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/**
 * One side of a call as an app drives it: a WebRTC peer whose signaling goes only through the server's
 * call events on `socket`. Candidates gathered before the call id is known wait for it; candidates
 * from the other side go into the peer. Refused signaling is kept in `errors`.
 */
class SignaledPeer {
  readonly peer: WebRtcPeer;
  readonly errors: string[] = [];
  private callId: string | undefined;
  private readonly waiting: IceCandidate[] = [];

  constructor(
    private readonly socket: ClientSocket,
    options: Omit<WebRtcPeerOptions, 'onIceCandidate'>,
  ) {
    this.peer = new WebRtcPeer({ ...options, onIceCandidate: (candidate) => this.trickle(candidate) });
    socket.on('ICE_CANDIDATE', (event: IceCandidateEvent) => {
      if (event.callId === this.callId) void this.peer.addRemoteCandidate(event.candidate);
    });
  }

  joined(callId: string): void {
    this.callId = callId;
    for (const candidate of this.waiting.splice(0)) this.trickle(candidate);
  }

  private trickle(candidate: IceCandidate): void {
    if (this.callId === undefined) {
      this.waiting.push(candidate);
      return;
    }
    void emitAck(this.socket, 'ICE_CANDIDATE', { callId: this.callId, candidate }).then((ack) => {
      if (!ack.ok) this.errors.push(`ICE_CANDIDATE refused: ${JSON.stringify(ack.error)}`);
    });
  }
}

export interface SignaledCall {
  callId: string;
  caller: SignaledPeer;
  callee: SignaledPeer;
}

/**
 * The caller offers in CALL_REQUEST, the callee's device answers in CALL_ACCEPT, and both trickle
 * candidates with ICE_CANDIDATE: the whole setup through the server, nothing passed in-process.
 */
export async function callThroughServer(
  callerSocket: ClientSocket,
  calleeSocket: ClientSocket,
  calleeId: string,
  options: { caller: Omit<WebRtcPeerOptions, 'onIceCandidate'>; callee: Omit<WebRtcPeerOptions, 'onIceCandidate'> },
): Promise<SignaledCall> {
  const caller = new SignaledPeer(callerSocket, options.caller);
  const callee = new SignaledPeer(calleeSocket, options.callee);
  const offer = await caller.peer.createOffer();
  const ringing = nextEvent<IncomingCallEvent>(calleeSocket, 'CALL_REQUEST', SIGNALING_TIMEOUT_MS);
  const call = await callEventOk(callerSocket, 'CALL_REQUEST', { to: calleeId, type: 'video', offer });
  caller.joined(call.id);

  const incoming = await ringing;
  if (!incoming.offer) throw new Error('CALL_REQUEST came without the offer');
  callee.joined(incoming.call.id);
  const answer = await callee.peer.acceptOffer(incoming.offer);
  const answered = nextEvent<CallAcceptedEvent>(callerSocket, 'CALL_ACCEPT', SIGNALING_TIMEOUT_MS);
  await callEventOk(calleeSocket, 'CALL_ACCEPT', { callId: call.id, answer });
  const accepted = await answered;
  if (!accepted.answer) throw new Error('CALL_ACCEPT came without the answer');
  await caller.peer.applyAnswer(accepted.answer);
  return { callId: call.id, caller, callee };
}
