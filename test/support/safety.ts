import assert from 'node:assert/strict';
import type { BlockDto, BlocksResponse } from '../../src/protocol/safety.js';
import { request } from './http.js';

/** Blocks `userId` for the owner of `token`; 201 for a new block, 200 for one that existed. */
export async function block(baseUrl: string, token: string, userId: string, status = 201): Promise<BlockDto> {
  const result = await request<{ block: BlockDto }>(baseUrl, 'POST', '/api/blocks', { token, body: { userId } });
  assert.equal(result.status, status, `block: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.block;
}

export async function unblock(baseUrl: string, token: string, userId: string): Promise<void> {
  const result = await request(baseUrl, 'DELETE', `/api/blocks/${userId}`, { token });
  assert.equal(result.status, 204, `unblock: ${result.status} ${JSON.stringify(result.body)}`);
}

export async function listBlocks(baseUrl: string, token: string, query = ''): Promise<BlocksResponse> {
  const result = await request<BlocksResponse>(baseUrl, 'GET', `/api/blocks${query}`, { token });
  assert.equal(result.status, 200, `list blocks: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}
