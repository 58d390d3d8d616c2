import { describe, expect, it } from 'vitest';
import { decodePduBody, encodePdu, PduDecodeError, type Pdv } from '../../src/net/index.js';
import { PduFramer } from '../../src/net/pdu-framer.js';

// mulberry32: seeded, so a failure replays exactly.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function split(body: Buffer, rand: () => number): Buffer[] {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < body.length) {
    const n = 1 + Math.floor(rand() * Math.min(body.length - pos, 40));
    parts.push(body.subarray(pos, pos + n));
    pos += n;
  }
  return parts.length ? parts : [body];
}

/** A P-DATA-TF body fed to a framer in the given chunks (after its 6-byte header): the PDV pieces nextData() gives. */
function streamed(body: Buffer, chunks: Buffer[]): Pdv[] {
  const framer = new PduFramer({ maxPduLength: 0 });
  const header = Buffer.from([0x04, 0, 0, 0, 0, 0]);
  header.writeUInt32BE(body.length, 2);
  const pdvs: Pdv[] = [];
  for (const c of [header, ...chunks]) {
    framer.push(c);
    for (let f = framer.nextData(); f; f = framer.nextData()) {
      if (f.kind !== 'pdata') throw new Error('not P-DATA-TF');
      pdvs.push(...f.pdvs);
    }
  }
  return pdvs;
}

/** Joins the pieces of each PDV (all but the final piece carry not-last; the PDVs here are all last). */
function joinPieces(pdvs: Pdv[]): Pdv[] {
  const out: Pdv[] = [];
  let cur: Pdv | undefined;
  for (const p of pdvs) {
    if (cur) cur = { ...cur, data: Buffer.concat([cur.data, p.data]), isLast: p.isLast };
    else cur = { ...p, data: Buffer.from(p.data) };
    if (p.isLast) {
      out.push(cur);
      cur = undefined;
    }
  }
  if (cur) out.push(cur);
  return out;
}

describe('P-DATA-TF streamed by the framer from several socket chunks', () => {
  it('gives the same PDVs as the whole body, in pieces that are views of the chunks', () => {
    const rand = prng(42);
    for (let round = 0; round < 500; round++) {
      const pdvs: Pdv[] = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => ({
        contextId: 1 + 2 * Math.floor(rand() * 10),
        isCommand: rand() < 0.5,
        isLast: true, // one piece per PDV item here, so joining is unambiguous
        data: Buffer.from(Array.from({ length: Math.floor(rand() * 100) }, () => Math.floor(rand() * 256))),
      }));
      const body = encodePdu({ type: 'P-DATA-TF', pdvs }).subarray(6);
      const whole = decodePduBody(0x04, body);
      const parts = split(body, rand);
      const got = streamed(body, parts);
      if (whole.type !== 'P-DATA-TF') throw new Error('not P-DATA-TF');
      expect(joinPieces(got)).toEqual(whole.pdvs.map((p) => ({ ...p, data: Buffer.from(p.data) })));
      for (const piece of got) {
        if (piece.data.length) expect(parts.some((p) => p.buffer === piece.data.buffer)).toBe(true);
      }
    }
  });

  it('marks only the final piece of a PDV as last', () => {
    const data = Buffer.alloc(100, 7);
    const body = encodePdu({ type: 'P-DATA-TF', pdvs: [{ contextId: 3, isCommand: false, isLast: true, data }] }).subarray(6);
    const got = streamed(body, [body.subarray(0, 10), body.subarray(10, 60), body.subarray(60)]);
    expect(got.map((p) => [p.data.length, p.isLast])).toEqual([
      [4, false],
      [50, false],
      [46, true],
    ]);
  });

  it('fails exactly where the whole-body decoder fails, with PduDecodeError only (seeded fuzz)', () => {
    const rand = prng(7);
    for (let round = 0; round < 3000; round++) {
      const pdvs: Pdv[] = [{ contextId: 1, isCommand: false, isLast: rand() < 0.5, data: Buffer.alloc(Math.floor(rand() * 64), 1) }];
      const body = Buffer.from(encodePdu({ type: 'P-DATA-TF', pdvs }).subarray(6));
      for (let i = 0; i < 1 + rand() * 3; i++) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? body.subarray(0, Math.floor(rand() * body.length)) : body;
      let wholeError: unknown;
      try {
        decodePduBody(0x04, cut);
      } catch (e) {
        wholeError = e;
      }
      let partsError: unknown;
      try {
        streamed(cut, split(cut, rand));
      } catch (e) {
        partsError = e;
      }
      if (wholeError) expect(partsError).toBeInstanceOf(PduDecodeError);
      else expect(partsError).toBeUndefined();
    }
  });
});
