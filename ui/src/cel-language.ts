// Syntax highlighting for router conditions (CEL) in CodeMirror: a small stream tokenizer.
import { StreamLanguage, type StreamParser } from '@codemirror/language';

const KEYWORDS = new Set(['true', 'false', 'null', 'in']);
/** What the router binds besides DICOM keywords (src/router/condition.ts). */
export const CONTEXT_VARIABLES = new Set(['callingAE', 'calledAE', 'peerAddress', 'tags']);

interface CelState {
  /** After a `.`: the next identifier is a field or method (StudyDescription.matches). */
  member: boolean;
}

const cel: StreamParser<CelState> = {
  name: 'cel',
  startState: () => ({ member: false }),
  token(stream, state) {
    if (stream.eatSpace()) return null;
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'comment';
    }
    // Strings, with the raw/bytes prefixes; escapes skipped so \" does not end them.
    if (stream.match(/^[rRbB]{0,2}(?=["'])/)) {
      const quote = stream.next()!;
      let escaped = false;
      while (!stream.eol()) {
        const c = stream.next();
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === quote) break;
      }
      state.member = false;
      return 'string';
    }
    if (stream.match(/^0x[0-9a-fA-F]+u?/) || stream.match(/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?u?/)) {
      state.member = false;
      return 'number';
    }
    if (stream.match(/^(==|!=|<=|>=|&&|\|\||[-+*/%<>!?:])/)) {
      state.member = false;
      return 'operator';
    }
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      const wasMember = state.member;
      state.member = false;
      if (wasMember) return 'propertyName';
      if (KEYWORDS.has(w)) return 'keyword';
      if (CONTEXT_VARIABLES.has(w)) return 'variableName.special';
      return 'variableName';
    }
    const c = stream.next();
    state.member = c === '.';
    return c && '()[]{}'.includes(c) ? 'bracket' : 'punctuation';
  },
};

export const celLanguage = StreamLanguage.define(cel);
