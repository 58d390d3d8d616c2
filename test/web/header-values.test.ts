/** The header value encoders (issue 15 item 7): what they write parses back to exactly the input, or is refused. */
import { describe, expect, it } from 'vitest';
import { parseMediaType } from '../../src/web/dicomweb/media-types.js';
import { checkedHeaderValue, contentDisposition, HeaderValueError, mediaType, parameterValue, pathOf, warningValue } from '../../src/web/header-values.js';

describe('header value encoders', () => {
  it('media type parameters: tokens as they are, anything else quoted, and parsed back unchanged', () => {
    expect(mediaType('application/dicom', { 'transfer-syntax': '1.2.840.10008.1.2.1' })).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
    expect(mediaType('multipart/related', { type: 'application/dicom', boundary: 'b-1' })).toBe('multipart/related; type="application/dicom"; boundary=b-1');
    for (const value of ['1.2"x', '1.2; x-evil=1', 'a\\b', 'with space', '']) {
      const parsed = parseMediaType(mediaType('application/dicom', { 'transfer-syntax': value }))!;
      expect([...parsed.params.entries()], value).toEqual([['transfer-syntax', value]]);
    }
  });

  it('refuses what no header can carry: line breaks, control and non-ASCII characters', () => {
    for (const value of ['1.2\r\nX-Evil: 1', '1.2\n', 'nul\0', 'é', 'ł']) {
      expect(() => parameterValue(value), JSON.stringify(value)).toThrow(HeaderValueError);
      expect(() => checkedHeaderValue(value), JSON.stringify(value)).toThrow(HeaderValueError);
    }
    expect(() => mediaType('text/plain\r\nX: 1')).toThrow(HeaderValueError);
    expect(() => mediaType('text/plain', { 'bad name': 'x' })).toThrow(HeaderValueError);
  });

  it('Content-Disposition: an ASCII fallback and the exact name in RFC 8187 form', () => {
    expect(contentDisposition('1.2.3.zip')).toBe(`attachment; filename="1.2.3.zip"; filename*=UTF-8''1.2.3.zip`);
    expect(contentDisposition('Müller "x"\r\n.zip')).toBe(`attachment; filename="M_ller _x___.zip"; filename*=UTF-8''M%C3%BCller%20%22x%22%0D%0A.zip`);
    expect(checkedHeaderValue(contentDisposition('ł\\é(1).zip'))).toBe(`attachment; filename="___(1).zip"; filename*=UTF-8''%C5%82%5C%C3%A9%281%29.zip`);
  });

  it('Warning: quotes and backslashes escaped, other characters as ?, cut to its length', () => {
    expect(warningValue('a "b" \\ c\r\nX-Evil: ł')).toBe('299 open-pacs: "a \\"b\\" \\\\ c??X-Evil: ?"');
    expect(warningValue('x'.repeat(300)).length).toBeLessThan(230);
  });

  it('URL paths: each segment percent-encoded', () => {
    expect(pathOf('studies', '1.2.3', 'series', '1.2"x/../y')).toBe('/studies/1.2.3/series/1.2%22x%2F..%2Fy');
  });
});
