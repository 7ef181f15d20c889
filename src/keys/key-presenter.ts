import type { DeviceDto, OwnDeviceDto, PreKeyBundleDto, SignedPreKeyDto } from '../protocol/keys.js';
import type { ClaimedBundle, DeviceKeysRecord, SignedPreKeyRecord } from '../storage/ports.js';

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const presentSigned = (key: SignedPreKeyRecord): SignedPreKeyDto => ({ keyId: key.keyId, publicKey: base64(key.publicKey), signature: base64(key.signature) });

export function presentDevice(device: DeviceKeysRecord): DeviceDto {
  return {
    userId: device.userId,
    deviceId: device.deviceId,
    registrationId: device.registrationId,
    identityKey: { algorithm: device.identityAlgorithm, publicKey: base64(device.identityKey) },
    createdAt: device.createdAt.toISOString(),
    updatedAt: device.updatedAt.toISOString(),
  };
}

export function presentOwnDevice(device: DeviceKeysRecord, oneTimePreKeyCount: number): OwnDeviceDto {
  return {
    ...presentDevice(device),
    signedPreKey: presentSigned(device.signedPreKey),
    kyberPreKey: device.kyberPreKey && presentSigned(device.kyberPreKey),
    lastResortPreKey: device.lastResortPreKey && presentSigned(device.lastResortPreKey),
    oneTimePreKeyCount,
  };
}

export function presentBundle(bundle: ClaimedBundle): PreKeyBundleDto {
  const { device, oneTimePreKey } = bundle;
  return {
    ...presentDevice(device),
    signedPreKey: presentSigned(device.signedPreKey),
    kyberPreKey: device.kyberPreKey && { ...presentSigned(device.kyberPreKey), lastResort: true },
    oneTimePreKey: oneTimePreKey && {
      keyId: oneTimePreKey.keyId,
      publicKey: base64(oneTimePreKey.publicKey),
      signature: oneTimePreKey.signature && base64(oneTimePreKey.signature),
      lastResort: oneTimePreKey.lastResort,
    },
  };
}
