import type { ClaimResponse, OwnDeviceResponse, PreKeyBundleDto } from '../../src/protocol/keys.js';
import { request, type HttpResult } from './http.js';

/** PUT /api/keys/device with any body (for refusals too). */
export function putDevice(baseUrl: string, token: string, body: unknown): Promise<HttpResult<OwnDeviceResponse>> {
  return request<OwnDeviceResponse>(baseUrl, 'PUT', '/api/keys/device', { token, body });
}

/** Registers the device and insists on success. */
export async function registerDevice(baseUrl: string, token: string, body: unknown): Promise<OwnDeviceResponse> {
  const result = await putDevice(baseUrl, token, body);
  if (result.status !== 200) throw new Error(`device registration failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** Claims a bundle for each of the user's devices (or those named) and insists on success. */
export async function claimBundles(baseUrl: string, token: string, userId: string, deviceIds?: string[]): Promise<PreKeyBundleDto[]> {
  const result = await request<ClaimResponse>(baseUrl, 'POST', `/api/keys/users/${userId}/claim`, { token, body: deviceIds ? { deviceIds } : {} });
  if (result.status !== 200) throw new Error(`claim failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.bundles;
}
