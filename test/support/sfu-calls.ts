import assert from 'node:assert/strict';
import { device, sleep, until } from './calls.js';
import type { CallGroup } from './group-calls.js';
import { SfuCallDevice } from './janus-peers.js';

export const MEDIA_TIMEOUT_MS = 20_000;
export const KINDS: ('audio' | 'video')[] = ['audio', 'video'];

/** Each member of `group` as a device of the call, sending RTP labelled with its name. */
export const devicesOf = (group: CallGroup) => group.members.map((member) => new SfuCallDevice(device(member), member.name));
export const namesBut = (devices: readonly SfuCallDevice[], but: SfuCallDevice) => devices.filter((other) => other !== but).map((other) => other.media.label);
/** The ICE username fragment of a description: a new one means an ICE restart. */
export const ufrag = (sdp: string) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
/** The local candidates of the ICE pairs `one`'s publish and subscribe connections run on (none while a restart checks). */
export const icePairs = (one: SfuCallDevice) => [one.media.publisher.selectedLocalCandidate, one.media.subscriber.selectedLocalCandidate];

/** Resolves once each of `devices` receives audio and video from every other one. */
export async function everyoneReceivesEveryone(devices: readonly SfuCallDevice[], kinds = KINDS): Promise<void> {
  await Promise.all(devices.map((one) => one.media.waitForMediaFrom(namesBut(devices, one), kinds, MEDIA_TIMEOUT_MS)));
}

/**
 * `one`, back after a drop (its subscribe offers answered as they come), publishes again with an ICE
 * restart: both its connections move to new ICE pairs (a restart gathers on new sockets), and media
 * keeps flowing from each of `others` to it and from it to them.
 */
export async function restartsMedia(one: SfuCallDevice, others: SfuCallDevice[], pairsBefore: (string | undefined)[]): Promise<void> {
  const label = one.media.label;
  assert.ok(pairsBefore.every((candidate) => candidate !== undefined), `${label} had ICE pairs before`);
  const publishedBefore = one.media.publisher.connection.localDescription!.sdp;
  await one.media.republish();
  assert.notEqual(ufrag(one.media.publisher.connection.localDescription!.sdp), ufrag(publishedBefore), `${label} offers an ICE restart`);
  await until(`new ICE pairs for both of ${label}'s connections`, async () => icePairs(one).every((candidate, index) => candidate !== undefined && candidate !== pairsBefore[index]));
  await one.media.waitForRtpFrom(others.map((other) => other.media.label), KINDS, MEDIA_TIMEOUT_MS);
  const counts = () =>
    KINDS.flatMap((kind) => others.flatMap((other) => [one.media.received.get(`${other.media.label}/${kind}`), other.media.received.get(`${label}/${kind}`)])).map((seen) => seen?.packets ?? 0);
  const restarted = counts();
  await sleep(1_000);
  const later = counts();
  assert.ok(later.every((packets, index) => packets > restarted[index]!), `RTP both ways after ${label}'s restarts: ${restarted.join(', ')} then ${later.join(', ')}`);
}

/** RTP `from` sent to each of `to` so far (audio packets). */
export const audioPackets = (to: readonly SfuCallDevice[], from: string) => to.map((one) => one.media.received.get(`${from}/audio`)?.packets ?? 0);
