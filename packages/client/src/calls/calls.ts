import type { Api } from '../api.js';
import { Emitter } from '../emitter.js';
import type { CallDto, CallHistoryResponse, CallQualityDto, CallStatsBody, CallStatsResult, GroupCallResult, IceCandidate, IceServer, IceServersResponse } from '../protocol.js';
import type { Realtime } from '../realtime.js';
import { CallSession, type CallUiState } from './call-session.js';
import { GroupCallSession } from './group-call-session.js';
import { PeerLink, type MediaKind } from './peer-link.js';
import type { MediaStreamLike, WebRtc } from './webrtc.js';

type CallsEvents = {
  /** A call rings on this device: show it, then accept() / reject() (join() / decline() for a group call). */
  incoming: (call: CallSession | GroupCallSession) => void;
  /** The current call changed (started, answered, ended): for a call screen. */
  current: (call: CallSession | GroupCallSession | undefined) => void;
};

const kindsOf = (type: 'audio' | 'video'): MediaKind[] => (type === 'video' ? ['audio', 'video'] : ['audio']);

/**
 * Calls on this device, wired to the platform's WebRTC: 1:1 calls (offer in CALL_REQUEST, answer in
 * CALL_ACCEPT, trickle ICE, ICE restarts on CALL_SIGNAL) and mesh group calls. One call at a time, as
 * the server allows.
 */
export class Calls extends Emitter<CallsEvents> {
  private readonly sessions = new Map<string, CallSession | GroupCallSession>();
  private iceServers: { list: IceServer[]; until: number } | undefined;
  current: CallSession | GroupCallSession | undefined;

  constructor(
    private readonly api: Api,
    private readonly realtime: Realtime,
    private readonly webrtc: WebRtc | undefined,
  ) {
    super();
    this.listen();
  }

  /** Calls a user. Resolves once the call rings (or is `busy`: then it has ended with that reason). */
  async start(userId: string, type: 'audio' | 'video', localStream?: MediaStreamLike): Promise<CallSession> {
    // Candidates are held until ready(), by when the call has its id.
    let callId = '';
    const link = this.linkWith(await this.loadIceServers(), localStream, kindsOf(type), (candidate) => this.realtime.send('ICE_CANDIDATE', { callId, candidate }));
    const offer = await link.offer();
    let call: CallDto;
    try {
      ({ call } = await this.realtime.request('CALL_REQUEST', { to: userId, type, offer }) as { call: CallDto });
    } catch (error) {
      link.close();
      throw error;
    }
    callId = call.id;
    const session = new CallSession(this.realtime, call, { id: userId, name: '' }, 'outgoing', () => link, { link });
    this.track(session);
    if (call.status === 'busy') session.finish('busy');
    else link.ready();
    return session;
  }

  /** Starts a call in a group: the other members' devices ring; the others offer as they join. */
  async startGroup(conversationId: string, type: 'audio' | 'video', localStream?: MediaStreamLike): Promise<GroupCallSession> {
    const iceServers = await this.loadIceServers();
    const result = (await this.realtime.request('CALL_REQUEST', { conversationId, type })) as GroupCallResult;
    const session = new GroupCallSession(this.realtime, result.call, { id: conversationId, title: '' }, { id: result.you.userId, name: '' }, (stream, send) => this.linkWith(iceServers, stream, kindsOf(type), send), 'outgoing');
    this.track(session);
    await session.started(result, localStream);
    return session;
  }

  /** Call history, newest first (1:1 and group calls). */
  history(options: { before?: string; limit?: number } = {}): Promise<CallHistoryResponse> {
    return this.api.get<CallHistoryResponse>('/api/call/history', { before: options.before, limit: options.limit ?? 50 });
  }

  /** Reports this device's stats of a call (statsFromReport builds `stats` from getStats()); answers the MOS estimate. */
  reportStats(callId: string, report: CallStatsBody): Promise<CallStatsResult> {
    return this.realtime.request('CALL_STATS', { callId, ...report });
  }

  /** Each participant's quality summary of a call of this user's. */
  quality(callId: string): Promise<CallQualityDto> {
    return this.api.get<CallQualityDto>(`/api/call/${encodeURIComponent(callId)}/quality`);
  }

  /** Tell the helper the network changed (NetInfo, the browser's `online`): the current call restarts ICE. */
  networkChanged(): void {
    void this.current?.restartIce().catch(() => undefined);
  }

  private listen(): void {
    const socket = this.realtime.socket;
    socket.on('CALL_REQUEST', (event) => {
      if (this.sessions.has(event.call.id)) return; // a repeated ring after a reconnect
      if ('conversationId' in event.call) {
        const group = event as Extract<typeof event, { conversation: unknown }>;
        const call = group.call;
        const session = new GroupCallSession(this.realtime, call, group.conversation, group.from, (stream, send) => this.groupLink(call.type, stream, send), 'incoming');
        this.track(session);
        void this.loadIceServers().catch(() => undefined);
        this.emit('incoming', session);
        return;
      }
      const direct = event as Extract<typeof event, { call: CallDto }>;
      const session: CallSession = new CallSession(
        this.realtime,
        direct.call,
        direct.from,
        'incoming',
        (_s, stream) => this.linkWith(this.iceServers?.list ?? [], stream, kindsOf(direct.call.type), (candidate) => this.realtime.send('ICE_CANDIDATE', { callId: direct.call.id, candidate })),
        { offer: direct.offer },
      );
      this.track(session);
      // The ICE servers are fetched while it rings, so accepting does not wait for them.
      void this.loadIceServers().catch(() => undefined);
      this.emit('incoming', session);
    });
    socket.on('CALL_ACCEPT', ({ callId, answer }) => void this.direct(callId)?.onAccepted(answer));
    socket.on('CALL_REJECT', (event) => {
      const session = this.sessions.get(event.callId);
      if (session instanceof CallSession) session.finish('rejected');
    });
    socket.on('CALL_BUSY', ({ callId }) => this.direct(callId)?.finish('busy'));
    socket.on('CALL_TIMEOUT', ({ callId }) => {
      const session = this.sessions.get(callId);
      // In a group call someone joined: only the ring stopped, for those still rung.
      if (session instanceof GroupCallSession && session.state !== 'incoming' && session.state !== 'outgoing') return;
      session?.finish('timeout');
    });
    socket.on('CALL_ENDED', ({ callId, reason }) => this.sessions.get(callId)?.finish(reason));
    socket.on('ICE_CANDIDATE', (event) => {
      const session = this.sessions.get(event.callId);
      if (session instanceof GroupCallSession) {
        if (event.fromDevice) session.onCandidate(event.fromDevice, event.candidate);
      } else void session?.onCandidate(event.candidate);
    });
    socket.on('CALL_SIGNAL', (event) => {
      const session = this.sessions.get(event.callId);
      if (session instanceof GroupCallSession) {
        if ('fromDevice' in event && event.fromDevice) void session.onSignal(event.fromDevice, event.description).catch(() => undefined);
      } else void session?.onSignal(event.description).catch(() => undefined);
    });
    socket.on('CALL_PARTICIPANT_JOINED', ({ callId, participant }) => this.group(callId)?.participantJoined(participant));
    socket.on('CALL_PARTICIPANT_LEFT', ({ callId, deviceId }) => this.group(callId)?.participantLeft(deviceId));
    socket.on('CALL_PARTICIPANT_STATE', ({ callId, participant }) => this.group(callId)?.participantState(participant));
    socket.on('CALL_STATE', (event) => {
      // This device came back within the grace: its path has changed, so it restarts ICE.
      const session = this.sessions.get(event.call.id);
      if (session instanceof GroupCallSession && 'you' in event) void session.resumed(event).catch(() => undefined);
      else if (session instanceof CallSession) void session.restartIce().catch(() => undefined);
    });
  }

  private track(session: CallSession | GroupCallSession): void {
    this.sessions.set(session.id, session);
    if (session.state !== 'incoming') this.setCurrent(session);
    const onState = (listener: (state: CallUiState) => void) => (session instanceof CallSession ? session.on('state', listener) : session.on('state', listener));
    onState((state) => {
      if (state === 'ended') {
        this.sessions.delete(session.id);
        if (this.current === session) this.setCurrent(undefined);
      } else if (state === 'connecting') this.setCurrent(session);
    });
  }

  private setCurrent(session: CallSession | GroupCallSession | undefined): void {
    this.current = session;
    this.emit('current', session);
  }

  private direct(callId: string): CallSession | undefined {
    const session = this.sessions.get(callId);
    return session instanceof CallSession ? session : undefined;
  }

  private group(callId: string): GroupCallSession | undefined {
    const session = this.sessions.get(callId);
    return session instanceof GroupCallSession ? session : undefined;
  }

  private groupLink(type: 'audio' | 'video', stream: MediaStreamLike | undefined, send: (candidate: IceCandidate) => void): PeerLink {
    return this.linkWith(this.iceServers?.list ?? [], stream, kindsOf(type), send);
  }

  private linkWith(iceServers: IceServer[], localStream: MediaStreamLike | undefined, kinds: MediaKind[], sendCandidate: (candidate: IceCandidate) => void): PeerLink {
    if (!this.webrtc) throw new Error('Calls need the platform WebRTC: pass `webrtc` to createClient');
    return new PeerLink(this.webrtc.createPeerConnection({ iceServers }), { sendCandidate, localStream, kinds });
  }

  /** STUN/TURN for new connections, fetched again once their credentials' time is up. */
  private async loadIceServers(): Promise<IceServer[]> {
    if (this.iceServers && this.iceServers.until > Date.now()) return this.iceServers.list;
    const answer = await this.api.get<IceServersResponse>('/api/call/ice-servers');
    this.iceServers = { list: answer.iceServers, until: Date.now() + answer.ttlSeconds * 500 };
    return answer.iceServers;
  }
}
