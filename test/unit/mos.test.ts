import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bandOf, estimateQuality, mosOf, rFactor } from '../../src/call-quality/mos.js';

describe('MOS estimate (E-model, simplified)', () => {
  it('rates a perfect network about 4.4, good', () => {
    const { mos, band } = estimateQuality({ rttMs: 0, jitterMs: 0, packetLossPct: 0 });
    assert.ok(mos > 4.35 && mos <= 4.45, `mos ${mos}`);
    assert.equal(band, 'good');
    assert.deepEqual(estimateQuality({}), { mos, band });
  });

  it('lowers it for 400 ms of round trip, more past the 177.3 ms one-way knee', () => {
    const near = estimateQuality({ rttMs: 40 }).mos;
    const far = estimateQuality({ rttMs: 400 }).mos;
    const farther = estimateQuality({ rttMs: 800 }).mos;
    assert.ok(far < near && farther < far - 0.3, `${near} ${far} ${farther}`);
  });

  it('lowers it for 5 % loss to poor', () => {
    const lossy = estimateQuality({ rttMs: 40, packetLossPct: 5 });
    assert.ok(lossy.mos < 3.6, `mos ${lossy.mos}`);
    assert.equal(lossy.band, 'poor');
  });

  it('clamps to [1, 4.5] and bands at 4.0 and 3.6', () => {
    assert.equal(mosOf(rFactor({ rttMs: 10_000, jitterMs: 10_000, packetLossPct: 100 })), 1);
    assert.equal(mosOf(120), 4.5);
    assert.equal(mosOf(-50), 1);
    assert.deepEqual([bandOf(4), bandOf(3.99), bandOf(3.6), bandOf(3.59)], ['good', 'fair', 'fair', 'poor']);
  });
});
