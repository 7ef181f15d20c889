import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseTopology, type CallTopology } from '../../src/calls/call-topology.js';
import { MeshTopology } from '../../src/calls/mesh-topology.js';

const mesh = new MeshTopology({ toSockets: () => undefined }, 4);
const sfu = { kind: 'sfu', maxParticipants: 50 } as CallTopology;

describe('group call topology', () => {
  it('is the mesh while the group fits it, the SFU beyond when there is one, the SFU for every call when told', () => {
    assert.equal(chooseTopology({ mesh }, 12).kind, 'mesh', 'no SFU: a mesh, which fills up');
    assert.equal(chooseTopology({ mesh, sfu }, 4).kind, 'mesh');
    assert.equal(chooseTopology({ mesh, sfu }, 5).kind, 'sfu');
    assert.equal(chooseTopology({ mesh, sfu, sfuForEveryCall: true }, 2).kind, 'sfu');
  });
});
