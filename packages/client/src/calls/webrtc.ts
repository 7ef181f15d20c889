import type { IceServer } from '../protocol.js';

/** A session description as browsers serialise it. */
export interface DescriptionLike {
  type: string;
  sdp?: string | undefined;
}

export interface CandidateLike {
  candidate: string;
  sdpMid?: string | null | undefined;
  sdpMLineIndex?: number | null | undefined;
  usernameFragment?: string | null | undefined;
  toJSON?(): object;
}

export interface TrackLike {
  kind: string;
}

/** A MediaStream (the browser's, react-native-webrtc's, or anything holding tracks). */
export interface MediaStreamLike {
  getTracks(): TrackLike[];
}

/**
 * What the call helper needs of an RTCPeerConnection: the browser's, react-native-webrtc's and
 * werift's all have it. Parameters are loose on purpose: each platform has its own track types.
 */
export interface PeerConnectionLike {
  readonly connectionState: string;
  readonly iceConnectionState: string;
  readonly signalingState: string;
  addTrack(track: TrackLike, ...streams: MediaStreamLike[]): unknown;
  addTransceiver(kind: 'audio' | 'video', init?: { direction?: 'sendrecv' | 'recvonly' | 'sendonly' }): unknown;
  createOffer(options?: { iceRestart?: boolean }): Promise<DescriptionLike>;
  createAnswer(): Promise<DescriptionLike>;
  setLocalDescription(description: DescriptionLike): Promise<unknown>;
  setRemoteDescription(description: DescriptionLike): Promise<unknown>;
  addIceCandidate(candidate: CandidateLike): Promise<unknown>;
  getStats(): Promise<unknown>;
  close(): unknown;
  addEventListener(type: string, listener: (event: PeerEvent) => void): unknown;
}

/** The fields of the events the helper listens to (icecandidate, track). */
export interface PeerEvent {
  candidate?: CandidateLike | null;
  track?: TrackLike;
  streams?: readonly MediaStreamLike[];
}

/**
 * The platform's WebRTC: `{ createPeerConnection: (config) => new RTCPeerConnection(config) }` with
 * the browser's or react-native-webrtc's class (werift's in Node).
 */
export interface WebRtc {
  createPeerConnection(config: { iceServers: IceServer[] }): PeerConnectionLike;
}
