import { describe, expect, it } from 'vitest';
import { decodeText } from '../../src/dicom/charset.js';

const ESC = 0x1b;
const b = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));
const JIS = (...bytes: number[]) => [ESC, 0x24, 0x42, ...bytes, ESC, 0x28, 0x42]; // ESC $ B ... ESC ( B

describe('Specific Character Set decoding', () => {
  it('PS3.5 H.3.1: Japanese, ISO 2022 IR 87 (JIS X 0208), with ^ (0x5E) inside a 2-byte run', () => {
    const v = b(
      'Yamada^Tarou=',
      JIS(0x3b, 0x33, 0x45, 0x44),
      '^',
      JIS(0x42, 0x40, 0x4f, 0x3a),
      '=',
      JIS(0x24, 0x64, 0x24, 0x5e, 0x24, 0x40),
      '^',
      JIS(0x24, 0x3f, 0x24, 0x6d, 0x24, 0x26),
    );
    expect(decodeText(v, 'PN', ['', 'ISO 2022 IR 87'])).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('PS3.5 H.3.2: Japanese with JIS X 0201 katakana (ISO 2022 IR 13 \\ ISO 2022 IR 87)', () => {
    const v = b(
      [0xd4, 0xcf, 0xc0, 0xde],
      '^',
      [0xc0, 0xdb, 0xb3],
      '=',
      JIS(0x3b, 0x33, 0x45, 0x44),
      '^',
      JIS(0x42, 0x40, 0x4f, 0x3a),
      '=',
      JIS(0x24, 0x64, 0x24, 0x5e, 0x24, 0x40),
      '^',
      JIS(0x24, 0x3f, 0x24, 0x6d, 0x24, 0x26),
    );
    expect(decodeText(v, 'PN', ['ISO 2022 IR 13', 'ISO 2022 IR 87'])).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  it('PS3.5 I.2: Korean, ISO 2022 IR 149 (KS X 1001 in G1)', () => {
    const KS = [ESC, 0x24, 0x29, 0x43]; // ESC $ ) C
    const v = b('Hong^Gildong=', KS, [0xfb, 0xf3], '^', KS, [0xd1, 0xce, 0xd4, 0xd7], '=', KS, [0xc8, 0xab], '^', KS, [0xb1, 0xe6, 0xb5, 0xbf]);
    expect(decodeText(v, 'PN', ['', 'ISO 2022 IR 149'])).toBe('Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('PS3.5 J: Chinese, GB18030', () => {
    const v = b('Wang^XiaoDong=', [0xcd, 0xf5], '^', [0xd0, 0xa1, 0x96, 0x7c], '=');
    expect(decodeText(v, 'PN', ['GB18030'])).toBe('Wang^XiaoDong=王^小東=');
  });

  it('PS3.5 K: Chinese, ISO 2022 IR 58 (GB 2312 in G1)', () => {
    const GB = [ESC, 0x24, 0x29, 0x41]; // ESC $ ) A
    const v = b('Wang^XiaoDong=', GB, [0xcd, 0xf5], '^', GB, [0xd0, 0xa1, 0xb6, 0xab], '=');
    expect(decodeText(v, 'PN', ['', 'ISO 2022 IR 58'])).toBe('Wang^XiaoDong=王^小东=');
  });

  it('single-byte sets, UTF-8, and VRs that never use the character set', () => {
    expect(decodeText(b([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), 'PN', ['ISO_IR 100'])).toBe('Müller');
    expect(decodeText(b([0xb1]), 'LO', ['ISO_IR 101'])).toBe('ą');
    expect(decodeText(b([0xb4, 0xe5]), 'LO', ['ISO_IR 144'])).toBe('Дх');
    expect(decodeText(b([0xe1]), 'LO', ['ISO_IR 126'])).toBe('α');
    expect(decodeText(b([0xf9]), 'LO', ['ISO_IR 138'])).toBe('ש');
    expect(decodeText(b([0xc7]), 'LO', ['ISO_IR 127'])).toBe('ا');
    expect(decodeText(b([0xfd]), 'LO', ['ISO_IR 148'])).toBe('ı');
    expect(decodeText(b([0xa1]), 'LO', ['ISO_IR 166'])).toBe('ก');
    expect(decodeText(Buffer.from('Ünïcödé ✓', 'utf8'), 'UT', ['ISO_IR 192'])).toBe('Ünïcödé ✓');
    expect(decodeText(b([0xc4, 0xe3]), 'SH', ['GBK'])).toBe('你');
    expect(decodeText(Buffer.from('1.2.3', 'latin1'), 'UI', ['ISO_IR 192'])).toBe('1.2.3');
  });

  it('ISO 2022 with an 8-bit G1 set switched by escape (IR 100 then IR 144)', () => {
    const v = b([0xe9], [ESC, 0x2d, 0x4c], [0xb4], '\\', [0xe9]);
    expect(decodeText(v, 'LO', ['ISO 2022 IR 100', 'ISO 2022 IR 144'])).toBe('éД\\é');
  });
});
