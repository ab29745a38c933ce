import { describe, expect, it } from 'vitest';
import { extractFrames, formatHostStatus, healthyStatus, isIdle, parseHostStatus, readiness } from '../../../src/labels/host-status.js';

// A ~HS answer as the ZPL II manual lays it out (paper out and pause set, 2 formats in the buffer,
// head open, 5 labels remaining).
const SAMPLE =
  '\x02030,1,1,1218,002,0,0,0,000,0,0,0\x03\r\n' +
  '\x02001,0,1,0,1,2,6,0,00000005,1,000\x03\r\n' +
  '\x021234,0\x03\r\n';

describe('~HS parsing', () => {
  it('parses the three strings of the manual', () => {
    const { frames, rest } = extractFrames(Buffer.from(SAMPLE, 'latin1'));
    expect(frames).toHaveLength(3);
    expect(rest.length).toBe(0);
    const s = parseHostStatus(frames)!;
    expect(s).toMatchObject({
      paperOut: true,
      paused: true,
      labelLengthDots: 1218,
      formatsInBuffer: 2,
      bufferFull: false,
      headOpen: true,
      ribbonOut: false,
      thermalTransfer: true,
      labelsRemaining: 5,
      formatWhilePrinting: true,
    });
    expect(isIdle(s)).toBe(false);
    const r = readiness(s);
    expect(r.ready).toBe(false);
    expect(r.condition).toBe('head_open');
    expect(r.code).toBe('LG_ERR_PRINTER_HEAD_OPEN');
    expect(r.faults).toEqual(['head_open', 'paper_out', 'paused']);
  });

  it('keeps a partial frame for the next chunk', () => {
    const buf = Buffer.from(SAMPLE, 'latin1');
    const a = extractFrames(buf.subarray(0, 50));
    expect(a.frames).toHaveLength(1);
    const b = extractFrames(Buffer.concat([a.rest, buf.subarray(50)]));
    expect(b.frames).toHaveLength(2);
    expect(parseHostStatus([...a.frames, ...b.frames])?.labelsRemaining).toBe(5);
  });

  it('treats no answer and garbage as not ready', () => {
    expect(readiness(null)).toMatchObject({ ready: false, condition: 'no_answer', code: 'LG_ERR_PRINTER_OFFLINE' });
    expect(parseHostStatus([])).toBeNull();
    expect(parseHostStatus(['hello', 'world', 'x'])).toBeNull();
    expect(parseHostStatus(['030,0,0,1218,000,0,0,0,000,0,0', '000,0,0,0,0,2,6,0,00000000,1,000', '1234,0'])).toBeNull(); // 11 fields
  });

  it('round-trips every fault through the simulator format', () => {
    for (const k of ['paperOut', 'paused', 'bufferFull', 'headOpen', 'ribbonOut'] as const) {
      const s = healthyStatus();
      s[k] = true;
      const parsed = parseHostStatus(extractFrames(formatHostStatus(s)).frames)!;
      expect(parsed[k]).toBe(true);
      expect(readiness(parsed).ready).toBe(false);
    }
    const ok = parseHostStatus(extractFrames(formatHostStatus(healthyStatus())).frames)!;
    expect(readiness(ok)).toMatchObject({ ready: true, code: null });
    expect(isIdle(ok)).toBe(true);
  });
});
